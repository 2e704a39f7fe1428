import CodecKit
import Container
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
        let payload: [UInt8]
        if case .image(let image) = media {
            // Row by row into one deflate stream: the same bytes as deflating the whole layout,
            // without a copy of the image.
            let stream = try Deflate.Compressor(level: level)
            try SampleLayout.forEachRow(of: image) { (row) throws(CodecError) in try stream.add(row) }
            payload = try stream.finish()
        } else {
            payload = try Deflate.compress(SampleLayout.serialize(media), level: level)
        }
        return ContainerFile(codecID: Self.id, media: MediaDescriptor(media), payload: payload)
    }

    public func decode(_ file: ContainerFile) throws(CodecError) -> Media {
        let expected = file.media.rawByteCount
        if case .image(let w, let h, let c, let depth, let sbit) = file.media {
            // Inflated one row at a time straight into the image's samples.
            let stream = try Deflate.Decompressor(file.payload, expectedCount: expected)
            let image = try SampleLayout.image(width: w, height: h, channels: c, bitDepth: depth, significantBits: sbit) {
                (row) throws(CodecError) in try stream.read(into: row)
            }
            try stream.finish()
            return .image(image)
        }
        let raw = try Deflate.decompress(file.payload, expectedCount: expected)
        return try SampleLayout.deserialize(raw, as: file.media)
    }
}
