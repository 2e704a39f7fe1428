#ifndef CPNG_H
#define CPNG_H
/*
 * A small shim over libpng's low-level API for MediaIO.
 *
 * libpng reports errors by longjmp-ing out of the failing call; Swift cannot call setjmp, so every
 * libpng call happens here, inside a setjmp frame, and a corrupt or truncated file comes back as a
 * status code plus libpng's message instead of aborting the process. All I/O is in memory.
 */
#include <stddef.h>
#include <stdint.h>

typedef enum {
    CPNG_OK = 0,
    /* The bytes are not a valid PNG (truncated, bad CRC, bad zlib stream, invalid header, ...). */
    CPNG_CORRUPT = 1,
    /* A valid header whose size exceeds the caller's limits; nothing was allocated for pixels. */
    CPNG_TOO_LARGE = 2,
    /* malloc failed. */
    CPNG_OUT_OF_MEMORY = 3,
    /* Invalid arguments to cpng_encode (a caller bug, not bad input). */
    CPNG_INVALID_ARGUMENT = 4,
} cpng_status;

/* What a PNG holds, as cpng_decode_begin reports it: `height` rows of `width` pixels of
 * `channels` interleaved samples, delivered by cpng_decode_pixels as uint16_t in host order
 * whatever the depth. */
typedef struct {
    uint32_t width, height;
    int channels;          /* 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA */
    int bit_depth;         /* 8 or 16 */
    int significant_bits;  /* the largest sBIT value if below bit_depth, else 0 */
} cpng_image;

typedef struct cpng_reader cpng_reader;

/* Decoding a PNG held in memory, in two steps, so the caller allocates the one array the samples
 * go to once it knows the size (no copy of libpng's buffer): cpng_decode_begin reads the header,
 * cpng_decode_pixels fills `width * height * channels` uint16_t samples, and cpng_decode_end
 * releases the reader (after either, whatever they returned; NULL is fine).
 * Palettes are expanded to RGB, tRNS to an alpha channel, gray depths 1/2/4 to 8 bits; 16-bit
 * samples are kept; interlaced images are de-interlaced.
 * `max_dimension` bounds width and height, `max_pixels` bounds width*height; both are checked
 * after the header is read and before any pixel memory is allocated, and so is the file's size
 * against the least that deflate (at most about 1032:1) needs for the declared image.
 * `data` must stay valid until cpng_decode_end. On failure `message` holds a NUL-terminated
 * reason and `*reader` is NULL; on CPNG_TOO_LARGE `out->width` and `out->height` hold the
 * refused size. */
cpng_status cpng_decode_begin(const uint8_t *data, size_t size,
                              uint32_t max_dimension, uint64_t max_pixels,
                              cpng_image *out, cpng_reader **reader,
                              char *message, size_t message_capacity);
cpng_status cpng_decode_pixels(cpng_reader *reader, uint16_t *samples,
                               char *message, size_t message_capacity);
void cpng_decode_end(cpng_reader *reader);

/* Encodes `samples` (host-order uint16_t, `width * height * channels`, 8-bit values at most
 * 255; written row by row, no copy of the image) as a PNG at zlib `level` (0-9; 9 is smallest and
 * slowest). `significant_bits` > 0 and below `bit_depth` writes an sBIT chunk with that value
 * for every channel.
 * On success `*png` is malloc'd (release with cpng_free) and `*png_size` its length. */
cpng_status cpng_encode(const uint16_t *samples, uint32_t width, uint32_t height,
                        int channels, int bit_depth, int significant_bits, int level,
                        uint8_t **png, size_t *png_size,
                        char *message, size_t message_capacity);

void cpng_free(void *pointer);

#endif
