import CodecKit
import Container
import CZlib
import MediaIO

/// `store`: lossless, for every media kind. The samples (`SampleLayout`) deflated with zlib.
///
/// The baseline every learned codec is measured against, and the codec that lets the whole
/// pipeline (media I/O, container, CLI) work end to end without any model.
public struct StoreCodec: Codec {
    public static let id = "store"

    public init() {}

    public var info: CodecInfo {
        CodecInfo(id: Self.id, modalities: MediaKind.allCases, lossless: true,
                  summary: "lossless: left-delta samples deflated with zlib",
                  parameters: [CodecParameter("level", default: "9", help: "zlib compression level, 1 (fast) to 9 (small)")])
    }

    public func encode(_ media: Media, options: CodecOptions) throws(CodecError) -> ContainerFile {
        try options.validate(against: info)
        let level = try options.integer("level", default: 9, in: 1...9)
        let payload = try Deflate.compress(SampleLayout.serialize(media), level: level)
        return ContainerFile(codecID: Self.id, media: MediaDescriptor(media), payload: payload)
    }

    public func decode(_ file: ContainerFile) throws(CodecError) -> Media {
        let expected = file.media.rawByteCount
        let raw = try Deflate.decompress(file.payload, expectedCount: expected)
        return try SampleLayout.deserialize(raw, as: file.media)
    }
}

/// zlib deflate with the checks a decoder of hostile input needs.
public enum Deflate {
    /// Deflate cannot expand data by more than about 1032:1, so a header that claims more output
    /// than that from the payload present is a lie, caught before anything is allocated.
    static let maxRatio = 1032

    public static func compress(_ input: [UInt8], level: Int) throws(CodecError) -> [UInt8] {
        var bound = compressBound(uLong(input.count))
        var out = [UInt8](repeating: 0, count: Int(bound))
        let status = out.withUnsafeMutableBufferPointer { o in
            (input.isEmpty ? [0] : input).withUnsafeBufferPointer { i in
                compress2(o.baseAddress, &bound, i.baseAddress, uLong(input.count), Int32(level))
            }
        }
        guard status == Z_OK else { throw .internalFailure("zlib compress2 returned \(status)") }
        out.removeSubrange(Int(bound)...)
        return out
    }

    public static func decompress(_ input: [UInt8], expectedCount: Int) throws(CodecError) -> [UInt8] {
        guard expectedCount <= input.count * maxRatio + 64 else {
            throw .corruptPayload("header claims \(expectedCount) bytes from a \(input.count)-byte deflate stream")
        }
        var out = [UInt8](repeating: 0, count: max(expectedCount, 1))
        var length = uLong(expectedCount)
        let status = out.withUnsafeMutableBufferPointer { o in
            (input.isEmpty ? [0] : input).withUnsafeBufferPointer { i in
                uncompress(o.baseAddress, &length, i.baseAddress, uLong(input.count))
            }
        }
        guard status == Z_OK else {
            throw .corruptPayload(status == Z_BUF_ERROR ? "deflate stream holds more or fewer bytes than the header says" : "deflate stream is damaged (zlib \(status))")
        }
        guard Int(length) == expectedCount else {
            throw .corruptPayload("deflate stream holds \(length) bytes, the header says \(expectedCount)")
        }
        out.removeSubrange(expectedCount...)
        return out
    }
}
