import CodecKit
import Container
import MediaIO

/// How a lossless codec lays media out as bytes, and back: the part every lossless codec shares.
///
/// Images: samples row by row, each replaced by its difference from the sample one pixel to the
/// left in the same channel (mod 2^depth), 8-bit as one byte, 16-bit as two (big-endian).
/// Audio: integer PCM at its source depth (little-endian, the left-justified value shifted back),
/// float and double as their IEEE bit patterns. Bytes: as they are.
public enum SampleLayout {
    public static func serialize(_ media: Media) -> [UInt8] {
        switch media {
        case .image(let image):
            var out = [UInt8]()
            out.reserveCapacity(image.samples.count * image.bitDepth / 8)
            forEachRow(of: image) { row in out.append(contentsOf: row) }
            return out
        case .audio(let audio):
            var out = [UInt8]()
            switch audio.samples {
            case .integer(let bits, let s):
                out.reserveCapacity(s.count * bits / 8)
                for v in s {
                    let x = UInt32(bitPattern: v) >> UInt32(32 - bits)
                    for k in 0..<(bits / 8) { out.append(UInt8(truncatingIfNeeded: x >> UInt32(8 * k))) }
                }
            case .float(let s):
                out.reserveCapacity(s.count * 4)
                for v in s { for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: v.bitPattern >> UInt32(8 * k))) } }
            case .double(let s):
                out.reserveCapacity(s.count * 8)
                for v in s { for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: v.bitPattern >> UInt64(8 * k))) } }
            }
            return out
        case .bytes(let b):
            return b
        }
    }

    /// An image's bytes as `serialize` lays them out, one row at a time: `body` gets each row's
    /// bytes in a buffer reused for the next, so a streaming coder never holds a copy of the image.
    public static func forEachRow<E: Error>(of image: Image, _ body: (UnsafeBufferPointer<UInt8>) throws(E) -> Void) throws(E) {
        let c = image.channels, rowLength = image.width * c, mask = UInt16(image.maxValue)
        let step = image.bitDepth / 8
        var row = [UInt8](repeating: 0, count: rowLength * step)
        try image.samples.withUnsafeBufferPointer { (s) throws(E) in
            try row.withUnsafeMutableBufferPointer { (out) throws(E) in
                for y in 0..<image.height {
                    let base = y * rowLength
                    for i in 0..<rowLength {
                        let left = i >= c ? s[base + i - c] : 0
                        let d = (s[base + i] &- left) & mask
                        if step == 2 {
                            out[2 * i] = UInt8(d >> 8)
                            out[2 * i + 1] = UInt8(truncatingIfNeeded: d)
                        } else {
                            out[i] = UInt8(truncatingIfNeeded: d)
                        }
                    }
                    try body(UnsafeBufferPointer(out))
                }
            }
        }
    }

    /// Rebuilds an image from `serialize`'s bytes delivered one row at a time: `fill` writes each
    /// row's bytes into the buffer it is given (reused), which are undone into the image's
    /// samples, the only memory the size of the image.
    public static func image(width w: Int, height h: Int, channels c: Int, bitDepth depth: Int, significantBits sbit: Int,
                             rows fill: (UnsafeMutableBufferPointer<UInt8>) throws(CodecError) -> Void) throws(CodecError) -> Image {
        let rowLength = w * c, mask = UInt16((1 << depth) - 1), step = depth / 8
        var row = [UInt8](repeating: 0, count: rowLength * step)
        var failure: CodecError? = nil
        let samples = [UInt16](unsafeUninitializedCapacity: max(w * h * c, 1)) { s, initialized in
            row.withUnsafeMutableBufferPointer { b in
                for y in 0..<h {
                    do throws(CodecError) { try fill(b) } catch { failure = error; return }
                    let base = y * rowLength
                    for i in 0..<rowLength {
                        let d = step == 2 ? UInt16(b[2 * i]) << 8 | UInt16(b[2 * i + 1]) : UInt16(b[i])
                        let left = i >= c ? s[base + i - c] : 0
                        s[base + i] = (d &+ left) & mask
                    }
                }
            }
            initialized = failure == nil ? w * h * c : 0
        }
        if let failure { throw failure }
        return Image(width: w, height: h, channels: c, bitDepth: depth, samples: samples,
                     significantBits: sbit > 0 ? sbit : nil)
    }

    /// Rebuilds media from `serialize`'s bytes; `bytes.count` must be exactly what `media` implies.
    public static func deserialize(_ bytes: [UInt8], as media: MediaDescriptor) throws(CodecError) -> Media {
        try bytes.withUnsafeBufferPointer { (b) throws(CodecError) in try deserialize(b, as: media) }
    }

    /// The same from bytes in place (a payload after its format byte, say), without copying them first.
    public static func deserialize(_ bytes: UnsafeBufferPointer<UInt8>, as media: MediaDescriptor) throws(CodecError) -> Media {
        guard bytes.count == media.rawByteCount else {
            throw .corruptPayload("\(bytes.count) sample bytes where the header implies \(media.rawByteCount)")
        }
        switch media {
        case .image(let w, let h, let c, let depth, let sbit):
            var offset = 0
            return .image(try image(width: w, height: h, channels: c, bitDepth: depth, significantBits: sbit) { row in
                _ = row.update(fromContentsOf: bytes[offset..<offset + row.count])
                offset += row.count
            })
        case .audio(let rate, let channels, _, let format, _):
            let samples: Audio.Samples
            switch format {
            case -32:
                samples = .float(stride(from: 0, to: bytes.count, by: 4).map { k in
                    Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[k + $1]) << UInt32(8 * $1) })
                })
            case -64:
                samples = .double(stride(from: 0, to: bytes.count, by: 8).map { k in
                    Double(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[k + $1]) << UInt64(8 * $1) })
                })
            default:
                let step = format / 8
                samples = .integer(bits: format, stride(from: 0, to: bytes.count, by: step).map { k in
                    let x = (0..<step).reduce(UInt32(0)) { $0 | UInt32(bytes[k + $1]) << UInt32(8 * $1) }
                    return Int32(bitPattern: x << UInt32(32 - format))
                })
            }
            return .audio(Audio(sampleRate: rate, channels: channels, samples: samples, source: media.audioSource))
        case .bytes:
            return .bytes(Array(bytes))
        }
    }
}
