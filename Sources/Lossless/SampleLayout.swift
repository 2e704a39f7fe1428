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
            let c = image.channels, rowLength = image.width * c, mask = UInt16(image.maxValue)
            var out = [UInt8]()
            out.reserveCapacity(image.samples.count * image.bitDepth / 8)
            image.samples.withUnsafeBufferPointer { s in
                for y in 0..<image.height {
                    let row = y * rowLength
                    for i in 0..<rowLength {
                        let left = i >= c ? s[row + i - c] : 0
                        let d = (s[row + i] &- left) & mask
                        if image.bitDepth == 16 { out.append(UInt8(d >> 8)) }
                        out.append(UInt8(truncatingIfNeeded: d))
                    }
                }
            }
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

    /// Rebuilds media from `serialize`'s bytes; `bytes.count` must be exactly what `media` implies.
    public static func deserialize(_ bytes: [UInt8], as media: MediaDescriptor) throws(CodecError) -> Media {
        guard bytes.count == media.rawByteCount else {
            throw .corruptPayload("\(bytes.count) sample bytes where the header implies \(media.rawByteCount)")
        }
        switch media {
        case .image(let w, let h, let c, let depth, let sbit):
            let rowLength = w * c, mask = UInt16((1 << depth) - 1), step = depth / 8
            var samples = [UInt16](repeating: 0, count: w * h * c)
            samples.withUnsafeMutableBufferPointer { s in
                bytes.withUnsafeBufferPointer { b in
                    for y in 0..<h {
                        let row = y * rowLength
                        for i in 0..<rowLength {
                            let k = (row + i) * step
                            let d = step == 2 ? UInt16(b[k]) << 8 | UInt16(b[k + 1]) : UInt16(b[k])
                            let left = i >= c ? s[row + i - c] : 0
                            s[row + i] = (d &+ left) & mask
                        }
                    }
                }
            }
            return .image(Image(width: w, height: h, channels: c, bitDepth: depth, samples: samples,
                                significantBits: sbit > 0 ? sbit : nil))
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
            return .bytes(bytes)
        }
    }
}
