import CPNG

/// PNG through libpng; every libpng call runs inside the setjmp shim in Sources/CPNG.
///
/// Reading gives 1 to 4 channels at 8 or 16 bits: palettes become RGB, tRNS becomes an alpha
/// channel, gray at 1, 2 or 4 bits is scaled to 8 bits, interlaced files are de-interlaced, and
/// 16-bit samples are kept exactly. Writing takes any `Image` (not interlaced) at a zlib level, `defaultLevel` unless asked.
public enum PNGFile {
    public static func decode(_ data: [UInt8]) throws(MediaError) -> Image {
        var decoded = cpng_image()
        var message = [CChar](repeating: 0, count: 256)
        let status = data.withUnsafeBufferPointer { bytes in
            cpng_decode(bytes.baseAddress, bytes.count, UInt32(MediaLimits.maxDimension),
                        UInt64(MediaLimits.maxPixels), &decoded, &message, message.count)
        }
        defer { cpng_free(decoded.pixels) }
        switch status {
        case CPNG_OK:
            break
        case CPNG_TOO_LARGE:
            throw .tooLarge("a \(decoded.width) x \(decoded.height) PNG is beyond the limit of "
                + "\(MediaLimits.maxPixels) pixels and \(MediaLimits.maxDimension) per side")
        case CPNG_OUT_OF_MEMORY:
            throw .tooLarge("out of memory decoding a \(decoded.width) x \(decoded.height) PNG")
        default:
            throw .corrupt(format: .png, reason: cString(message))
        }
        let width = Int(decoded.width), height = Int(decoded.height)
        let count = width * height * Int(decoded.channels)
        let samples: [UInt16]
        if decoded.bit_depth == 16 {
            let source = decoded.pixels.assumingMemoryBound(to: UInt16.self)
            samples = Array(UnsafeBufferPointer(start: source, count: count))
        } else {
            let source = decoded.pixels.assumingMemoryBound(to: UInt8.self)
            samples = [UInt16](unsafeUninitializedCapacity: count) { out, initialized in
                for i in 0..<count { out[i] = UInt16(source[i]) }
                initialized = count
            }
        }
        return Image(width: width, height: height, channels: Int(decoded.channels),
                     bitDepth: Int(decoded.bit_depth), samples: samples,
                     significantBits: decoded.significant_bits > 0 ? Int(decoded.significant_bits) : nil)
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
        if image.bitDepth == 16 {
            return try image.samples.withUnsafeBytes { pixels in encode(pixels, of: image, level: level) }.get()
        }
        var bytes = [UInt8](repeating: 0, count: image.samples.count)
        for (i, v) in image.samples.enumerated() {
            guard v <= 255 else {
                throw .cannotWrite("an 8-bit image holds the sample value \(v) (at index \(i)); 8-bit samples are 0...255")
            }
            bytes[i] = UInt8(v)
        }
        return try bytes.withUnsafeBytes { pixels in encode(pixels, of: image, level: level) }.get()
    }

    /// Encodes `pixels`, laid out as cpng expects: bytes for 8 bits, host-order UInt16 for 16.
    private static func encode(_ pixels: UnsafeRawBufferPointer, of image: Image, level: Int) -> Result<[UInt8], MediaError> {
        var png: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = cpng_encode(pixels.baseAddress, UInt32(image.width), UInt32(image.height),
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
