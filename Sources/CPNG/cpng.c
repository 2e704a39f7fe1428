#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include "cpng.h"

/* Everything a libpng callback or the setjmp landing pad needs. It lives on the heap behind a
 * pointer that is never reassigned, so fields changed between setjmp and longjmp keep their
 * values (C leaves non-volatile locals changed in that window indeterminate). */
typedef struct {
    const uint8_t *data;   /* reading: the whole file */
    size_t size, position;
    uint8_t *out;          /* writing: growable output buffer */
    size_t out_size, out_capacity;
    uint8_t *row;          /* writing 8-bit: one narrowed row, always freed */
    png_bytep *rows;       /* reading: row pointers into the caller's samples, always freed */
    cpng_status status;    /* what an error maps to; CPNG_CORRUPT unless set before png_error */
    char *message;
    size_t message_capacity;
} cpng_context;

static void set_message(char *message, size_t capacity, const char *text) {
    if (capacity == 0) return;
    strncpy(message, text, capacity - 1);
    message[capacity - 1] = '\0';
}

static cpng_context *new_context(char *message, size_t message_capacity) {
    cpng_context *c = calloc(1, sizeof *c);
    if (!c) {
        set_message(message, message_capacity, "out of memory");
        return NULL;
    }
    c->status = CPNG_CORRUPT;
    c->message = message;
    c->message_capacity = message_capacity;
    return c;
}

static void on_error(png_structp png, png_const_charp text) {
    cpng_context *c = (cpng_context *)png_get_error_ptr(png);
    set_message(c->message, c->message_capacity, text);
    png_longjmp(png, 1);
}

/* Warnings (bad ancillary CRCs, out-of-place optional chunks) do not make a file unreadable. */
static void on_warning(png_structp png, png_const_charp text) { (void)png; (void)text; }

static void read_from_memory(png_structp png, png_bytep into, size_t length) {
    cpng_context *c = (cpng_context *)png_get_io_ptr(png);
    if (length > c->size - c->position) png_error(png, "unexpected end of file (truncated)");
    memcpy(into, c->data + c->position, length);
    c->position += length;
}

static void write_to_memory(png_structp png, png_bytep from, size_t length) {
    cpng_context *c = (cpng_context *)png_get_io_ptr(png);
    if (length > c->out_capacity - c->out_size) {
        size_t capacity = c->out_capacity ? c->out_capacity : 4096;
        while (length > capacity - c->out_size) {
            if (capacity > SIZE_MAX / 2) png_error(png, "PNG output too large");
            capacity *= 2;
        }
        uint8_t *grown = realloc(c->out, capacity);
        if (!grown) {
            c->status = CPNG_OUT_OF_MEMORY;
            png_error(png, "out of memory");
        }
        c->out = grown;
        c->out_capacity = capacity;
    }
    memcpy(c->out + c->out_size, from, length);
    c->out_size += length;
}

static void flush_memory(png_structp png) { (void)png; }

static int host_is_little_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

/* Walks the chunk list up to IEND and checks that every chunk fits in the bytes present. libpng
 * 1.6.39 allocates an ancillary chunk's declared length before reading it (a 300-byte file can
 * declare a 2 GB zTXt), so this bounds every per-chunk allocation by the file's size. */
static const char *check_chunk_framing(const uint8_t *data, size_t size) {
    size_t at = 8;
    for (;;) {
        if (size - at < 12) return "unexpected end of file (truncated chunk header)";
        const uint32_t length = (uint32_t)data[at] << 24 | (uint32_t)data[at + 1] << 16 |
                                (uint32_t)data[at + 2] << 8 | data[at + 3];
        if (length > PNG_UINT_31_MAX) return "invalid chunk length";
        if (length > size - at - 12) return "unexpected end of file (a chunk is longer than the rest of the file)";
        if (memcmp(data + at + 4, "IEND", 4) == 0) return NULL;
        at += 12 + (size_t)length;
    }
}

/* A decode in progress: between cpng_decode_begin and cpng_decode_end. */
struct cpng_reader {
    cpng_context *c;
    png_structp png;
    png_infop info;
    uint32_t width, height;
    int channels, depth, palette;
    size_t read_row_bytes;
};

void cpng_decode_end(cpng_reader *r) {
    if (!r) return;
    png_destroy_read_struct(&r->png, &r->info, NULL);
    if (r->c) {
        free(r->c->rows);
        free(r->c);
    }
    free(r);
}

cpng_status cpng_decode_begin(const uint8_t *data, size_t size,
                              uint32_t max_dimension, uint64_t max_pixels,
                              cpng_image *out, cpng_reader **reader,
                              char *message, size_t message_capacity) {
    memset(out, 0, sizeof *out);
    *reader = NULL;
    if (message_capacity) message[0] = '\0';
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        set_message(message, message_capacity, "no PNG signature");
        return CPNG_CORRUPT;
    }
    const char *framing = check_chunk_framing(data, size);
    if (framing) {
        set_message(message, message_capacity, framing);
        return CPNG_CORRUPT;
    }
    cpng_reader *const r = calloc(1, sizeof *r);
    cpng_context *const c = r ? new_context(message, message_capacity) : NULL;
    if (!c) {
        free(r);
        set_message(message, message_capacity, "out of memory");
        return CPNG_OUT_OF_MEMORY;
    }
    r->c = c;
    c->data = data;
    c->size = size;

    r->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, c, on_error, on_warning);
    r->info = r->png ? png_create_info_struct(r->png) : NULL;
    if (!r->info) {
        cpng_decode_end(r);
        set_message(message, message_capacity, "out of memory");
        return CPNG_OUT_OF_MEMORY;
    }
    png_structp png = r->png;
    png_infop info = r->info;
    if (setjmp(png_jmpbuf(png))) {
        cpng_status status = c->status;
        cpng_decode_end(r);
        return status;
    }
    png_set_read_fn(png, c, read_from_memory);
    /* libpng's own width/height limit would report "Invalid IHDR data"; ours says why. */
    png_set_user_limits(png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    /* Ancillary chunks: at most 1000 kept, none over 8 MiB (libpng's defaults, made explicit so a
     * libpng built with other defaults cannot be talked into allocating more). */
    png_set_chunk_cache_max(png, 1000);
    png_set_chunk_malloc_max(png, 8u << 20);

    png_read_info(png, info);
    png_uint_32 width, height;
    int depth, color_type, interlace;
    png_get_IHDR(png, info, &width, &height, &depth, &color_type, &interlace, NULL, NULL);
    out->width = width;   /* reported even when the size is refused */
    out->height = height;
    if (width > max_dimension || height > max_dimension || (uint64_t)width * height > max_pixels) {
        c->status = CPNG_TOO_LARGE;
        png_error(png, "image dimensions beyond this reader's limits");
    }

    /* Deflate expands at most about 1032:1, so a file this small cannot hold this many pixels:
     * refuse it before allocating the image (a 60-byte file must not cost gigabytes). */
    const uint64_t filtered = (uint64_t)height * (1 + (uint64_t)png_get_rowbytes(png, info));
    if (filtered > (uint64_t)size * 1032)
        png_error(png, "the file is far too small for the image its header declares (truncated)");

    /* sBIT: keep the largest value, as readers that honour sBIT scale every channel by it. */
    int significant = 0;
    png_color_8p sbit;
    if (png_get_sBIT(png, info, &sbit)) {
        /* Only the fields the colour type stores: libpng fills the others with the depth. */
        const int color = color_type & PNG_COLOR_MASK_COLOR, alpha = color_type & PNG_COLOR_MASK_ALPHA;
        const png_byte values[] = {color ? sbit->red : 0, color ? sbit->green : 0, color ? sbit->blue : 0,
                                   color ? 0 : sbit->gray, alpha ? sbit->alpha : 0};
        for (size_t k = 0; k < sizeof values; k++)
            if (values[k] > significant) significant = values[k];
    }

    /* Palette images are read as one index per byte and expanded in cpng_decode_pixels, where
     * every index is checked against the palette: libpng would quietly turn an index beyond it
     * into black. */
    const int palette = color_type == PNG_COLOR_TYPE_PALETTE;
    if (palette && depth < 8) png_set_packing(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (!palette && png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (depth == 16 && host_is_little_endian()) png_set_swap(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    const int read_channels = png_get_channels(png, info);
    const int out_depth = png_get_bit_depth(png, info);
    const size_t read_row_bytes = png_get_rowbytes(png, info);
    if (read_channels < 1 || read_channels > 4 || (out_depth != 8 && out_depth != 16) ||
        read_row_bytes != (size_t)width * read_channels * (out_depth / 8) || (palette && read_channels != 1))
        png_error(png, "unexpected pixel layout after transforms");
    int trans_count = 0;
    if (palette) png_get_tRNS(png, info, NULL, &trans_count, NULL);
    const int channels = palette ? (trans_count > 0 ? 4 : 3) : read_channels;

    r->width = width;
    r->height = height;
    r->channels = channels;
    r->depth = out_depth;
    r->palette = palette;
    r->read_row_bytes = read_row_bytes;
    out->channels = channels;
    out->bit_depth = out_depth;
    out->significant_bits = significant > 0 && significant < out_depth ? significant : 0;
    *reader = r;
    return CPNG_OK;
}

/* libpng writes each row at the end of that row's place in `samples` (16-bit rows fill it), and
 * 8-bit samples and palette indices are then widened in place, front to back: sample i of a row
 * is written at bytes 2i and 2i+1 only after every byte it overwrites has been read. So the
 * caller's array is the only pixel memory, whatever the depth, palette or interlacing. */
cpng_status cpng_decode_pixels(cpng_reader *r, uint16_t *samples, char *message, size_t message_capacity) {
    cpng_context *const c = r->c;
    png_structp png = r->png;
    c->message = message;
    c->message_capacity = message_capacity;
    c->status = CPNG_CORRUPT;
    if (message_capacity) message[0] = '\0';
    if (setjmp(png_jmpbuf(png))) return c->status;
    const size_t width = r->width, height = r->height, channels = r->channels;
    const size_t slot_bytes = width * channels * 2;  /* one row of uint16 samples */
    c->rows = malloc(sizeof(png_bytep) * (height ? height : 1));
    if (!c->rows) {
        c->status = CPNG_OUT_OF_MEMORY;
        png_error(png, "out of memory");
    }
    for (size_t y = 0; y < height; y++)
        c->rows[y] = (png_bytep)samples + y * slot_bytes + (slot_bytes - r->read_row_bytes);
    png_read_image(png, c->rows);
    if (r->palette) {
        png_colorp entries = NULL;
        int entry_count = 0;
        png_bytep trans_alpha = NULL;
        int trans_count = 0;
        png_get_PLTE(png, r->info, &entries, &entry_count);
        png_get_tRNS(png, r->info, &trans_alpha, &trans_count, NULL);
        for (size_t y = 0; y < height; y++) {
            const png_bytep indices = c->rows[y];
            uint16_t *out = samples + y * width * channels;
            for (size_t x = 0; x < width; x++) {
                const int index = indices[x];
                if (index >= entry_count) png_error(png, "pixels use palette indices beyond the palette's entries");
                *out++ = entries[index].red;
                *out++ = entries[index].green;
                *out++ = entries[index].blue;
                if (channels == 4) *out++ = index < trans_count ? trans_alpha[index] : 255;
            }
        }
    } else if (r->depth == 8) {
        const size_t count = width * channels;
        for (size_t y = 0; y < height; y++) {
            const png_bytep bytes = c->rows[y];
            uint16_t *out = samples + y * count;
            for (size_t i = 0; i < count; i++) out[i] = bytes[i];
        }
    }
    png_read_end(png, NULL);
    return CPNG_OK;
}

cpng_status cpng_encode(const uint16_t *samples, uint32_t width, uint32_t height,
                        int channels, int bit_depth, int significant_bits, int level,
                        uint8_t **png_out, size_t *png_size,
                        char *message, size_t message_capacity) {
    static const int color_types[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                      PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    *png_out = NULL;
    *png_size = 0;
    if (message_capacity) message[0] = '\0';
    if (channels < 1 || channels > 4 || (bit_depth != 8 && bit_depth != 16) ||
        width == 0 || height == 0 || width > PNG_UINT_31_MAX || height > PNG_UINT_31_MAX ||
        level < 0 || level > 9) {
        set_message(message, message_capacity,
                    "PNG needs 1-4 channels, bit depth 8 or 16, width and height of at least 1, and a zlib level 0-9");
        return CPNG_INVALID_ARGUMENT;
    }
    cpng_context *const c = new_context(message, message_capacity);
    if (!c) return CPNG_OUT_OF_MEMORY;

    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, c, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        free(c);
        set_message(message, message_capacity, "out of memory");
        return CPNG_OUT_OF_MEMORY;
    }
    if (setjmp(png_jmpbuf(png))) {
        /* Our own pixels are well formed, so an error here is a resource or argument problem. */
        cpng_status status = c->status == CPNG_CORRUPT ? CPNG_INVALID_ARGUMENT : c->status;
        png_destroy_write_struct(&png, &info);
        free(c->row);
        free(c->out);
        free(c);
        return status;
    }
    png_set_write_fn(png, c, write_to_memory, flush_memory);
    png_set_user_limits(png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    png_set_compression_level(png, level);
    png_set_IHDR(png, info, width, height, bit_depth, color_types[channels],
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (significant_bits > 0 && significant_bits < bit_depth) {
        png_color_8 sbit;
        sbit.red = sbit.green = sbit.blue = sbit.gray = sbit.alpha = (png_byte)significant_bits;
        png_set_sBIT(png, info, &sbit);
    }
    png_write_info(png, info);
    if (bit_depth == 16 && host_is_little_endian()) png_set_swap(png);

    /* Row by row: 16-bit rows straight from `samples` (libpng copies each before swapping it),
     * 8-bit rows narrowed into one row buffer, so no copy of the image is made. */
    const size_t count = (size_t)width * channels;
    if (bit_depth == 8) {
        c->row = malloc(count);
        if (!c->row) {
            c->status = CPNG_OUT_OF_MEMORY;
            png_error(png, "out of memory");
        }
    }
    for (png_uint_32 y = 0; y < height; y++) {
        const uint16_t *row = samples + (size_t)y * count;
        if (bit_depth == 8) {
            for (size_t i = 0; i < count; i++) c->row[i] = (uint8_t)row[i];
            png_write_row(png, c->row);
        } else {
            png_write_row(png, (png_const_bytep)row);
        }
    }
    png_write_end(png, NULL);

    png_destroy_write_struct(&png, &info);
    *png_out = c->out;
    *png_size = c->out_size;
    free(c->row);
    free(c);
    return CPNG_OK;
}

void cpng_free(void *pointer) { free(pointer); }
