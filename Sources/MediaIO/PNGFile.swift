import CPNG

/// PNG through libpng; every libpng call runs inside the setjmp shim in Sources/CPNG.
///
/// Reading gives 1 to 4 channels at 8 or 16 bits: palettes become RGB, tRNS becomes an alpha
/// channel, gray at 1, 2 or 4 bits is scaled to 8 bits, interlaced files are de-interlaced, and
/// 16-bit samples are kept exactly. Writing takes any `Image` (not interlaced) at a zlib level, `defaultLevel` unless asked.
public enum PNGFile {
    /// Decodes a PNG. Its samples go straight into the image's array (libpng fills it row by row),
    /// so the samples are the only memory the size of the image; `maxSampleBytes` (2 bytes per
    /// sample) is checked with the pixel limits before they are allocated.
    public static func decode(_ data: [UInt8], maxSampleBytes: Int = MediaLimits.maxSampleBytes) throws(MediaError) -> Image {
        try data.withUnsafeBufferPointer { (bytes) throws(MediaError) in try decode(bytes, maxSampleBytes: maxSampleBytes) }
    }

    private static func decode(_ bytes: UnsafeBufferPointer<UInt8>, maxSampleBytes: Int) throws(MediaError) -> Image {
        var header = cpng_image()
        var reader: OpaquePointer? = nil
        var message = [CChar](repeating: 0, count: 256)
        let status = cpng_decode_begin(bytes.baseAddress, bytes.count, UInt32(MediaLimits.maxDimension),
                                       UInt64(MediaLimits.maxPixels), &header, &reader, &message, message.count)
        defer { cpng_decode_end(reader) }
        try check(status, header, message)
        let width = Int(header.width), height = Int(header.height), channels = Int(header.channels)
        let count = width * height * channels
        let colour = ["gray", "gray+alpha", "RGB", "RGBA"][channels - 1]
        try MediaLimits.checkSampleBytes(count, bytesPerSample: MemoryLayout<UInt16>.size,
                                         of: "a \(width) x \(height) \(colour) \(header.bit_depth)-bit PNG", limit: maxSampleBytes)
        var pixelStatus = CPNG_OK
        let samples = [UInt16](unsafeUninitializedCapacity: max(count, 1)) { buffer, initialized in
            pixelStatus = cpng_decode_pixels(reader, buffer.baseAddress, &message, message.count)
            initialized = pixelStatus == CPNG_OK ? count : 0
        }
        try check(pixelStatus, header, message)
        return Image(width: width, height: height, channels: channels, bitDepth: Int(header.bit_depth), samples: samples,
                     significantBits: header.significant_bits > 0 ? Int(header.significant_bits) : nil)
    }

    private static func check(_ status: cpng_status, _ header: cpng_image, _ message: [CChar]) throws(MediaError) {
        switch status {
        case CPNG_OK:
            return
        case CPNG_TOO_LARGE:
            throw .tooLarge("a \(header.width) x \(header.height) PNG is beyond the limit of "
                + "\(MediaLimits.maxPixels) pixels and \(MediaLimits.maxDimension) per side")
        case CPNG_OUT_OF_MEMORY:
            throw .tooLarge("out of memory decoding a \(header.width) x \(header.height) PNG")
        default:
            throw .corrupt(format: .png, reason: cString(message))
        }
    }

    /// The zlib level a PNG is written at unless asked. On Kodak photos level 3 writes about ten
    /// times as fast as level 9 for files 2% larger (level 6 is both slower and larger than 3).
    public static let defaultLevel = 3

    public static func encode(_ image: Image, level: Int = defaultLevel) throws(MediaError) -> [UInt8] {
        guard (0...9).contains(level) else { throw .cannotWrite("PNG zlib level \(level) is not in 0...9") }
        guard image.width > 0, image.height > 0 else {
            throw .cannotWrite("a PNG needs at least one pixel; this image is \(image.width) x \(image.height)")
        }
        guard image.width <= Int(Int32.max), image.height <= Int(Int32.max) else {
            throw .cannotWrite("PNG width and height must be below 2^31; this image is \(image.width) x \(image.height)")
        }
        if image.bitDepth == 8, let i = image.samples.firstIndex(where: { $0 > 255 }) {
            throw .cannotWrite("an 8-bit image holds the sample value \(image.samples[i]) (at index \(i)); 8-bit samples are 0...255")
        }
        return try image.samples.withUnsafeBufferPointer { samples in encode(samples, of: image, level: level) }.get()
    }

    /// Encodes the samples row by row (the shim narrows 8-bit rows one at a time: no copy of the image).
    private static func encode(_ samples: UnsafeBufferPointer<UInt16>, of image: Image, level: Int) -> Result<[UInt8], MediaError> {
        var png: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = cpng_encode(samples.baseAddress, UInt32(image.width), UInt32(image.height),
                                 Int32(image.channels), Int32(image.bitDepth), Int32(image.significantBits ?? 0), Int32(level),
                                 &png, &size, &message, message.count)
        defer { cpng_free(png) }
        guard status == CPNG_OK, let png else {
            return .failure(.cannotWrite("PNG encoding failed: \(cString(message))"))
        }
        return .success(Array(UnsafeBufferPointer(start: png, count: size)))
    }
}

/// The text of a NUL-terminated C buffer a shim filled in.
func cString(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
