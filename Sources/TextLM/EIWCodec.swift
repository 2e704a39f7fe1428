import CodecKit
import Container
import EntropyCoding
import MediaIO

/// `eiw`: Equal-Info-Window coding with M1 alone (`EqualInfoWindows`); the payload is the token
/// stream: the windows' bits back to back, cut into `token`-bit tokens (the last one padded
/// with zeros).
///
/// Payload: window size in bytes (1...16), token size in bits (8 or 16), then the tokens, each
/// most significant bit first. The byte count is the container's media descriptor.
public struct EIWCodec: Codec {
    public static let id = "eiw"
    public static let modelID = "eiw-m1"
    let store: ModelStore

    public init(store: ModelStore = ModelStore()) { self.store = store }

    public var info: CodecInfo {
        CodecInfo(id: Self.id, modelID: Self.modelID, modalities: [.bytes], lossless: true,
                  summary: "lossless text: equal-information windows of W bits coded with the byte transformer M1",
                  parameters: [CodecParameter("window", default: "16", help: "bits per window, a multiple of 8 from 8 to 128"),
                               CodecParameter("token", default: "16", help: "bits per token of the stream: 8 or 16")],
                  inputForms: [InputForm("tokens", summary: "an eiw token stream as a NumPy .npy (from `codec tokens`)",
                                         recognizes: { EIWTokens.isTokenNPY($0) })],
                  exporters: [Exporter("tokens", summary: "the eiw token stream as a NumPy .npy of uint8 or uint16 tokens",
                                       fileExtension: "npy")])
    }

    /// A token .npy decodes as the container it was cut from.
    public func decode(_ bytes: [UInt8], form: String) throws(CodecError) -> Media {
        guard form == "tokens" else { throw .invalidOption("eiw decodes no '\(form)' input") }
        return try decodeChecked(try EIWTokens.container(fromNPY: bytes))
    }

    public func export(_ file: ContainerFile, as exporter: String) throws(CodecError) -> [UInt8] {
        guard exporter == "tokens" else { throw .invalidOption("eiw offers no '\(exporter)' export") }
        return try EIWTokens.npy(of: file)
    }

    public func encode(_ media: Media, options: CodecOptions) throws(CodecError) -> ContainerFile {
        try options.validate(against: info)
        guard case .bytes(let text) = media else {
            throw .unsupportedMedia(codec: Self.id, kind: media.kind, accepts: [.bytes])
        }
        let window = try options.integer("window", default: 16, in: 8...128)
        guard window % 8 == 0 else { throw .invalidOption("window must be a multiple of 8, not \(window)") }
        let token = try options.integer("token", default: 16, in: 8...16)
        guard token == 8 || token == 16 else { throw .invalidOption("token must be 8 or 16, not \(token)") }
        let model = try ByteLM.load(from: store, modelID: Self.modelID)
        let coder = EqualInfoWindows(model: model, windowBits: window)
        var bits = coder.encode(text).bits
        bits.write(0, count: (token - bits.count % token) % token)
        return ContainerFile(codecID: Self.id, modelID: Self.modelID, modelHash: model.identity.hash,
                             media: .bytes(count: text.count), payload: [UInt8(window / 8), UInt8(token)] + bits.bytes)
    }

    public func decode(_ file: ContainerFile) throws(CodecError) -> Media {
        guard case .bytes(let count) = file.media else {
            throw .corruptPayload("eiw holds bytes, but the header describes other media")
        }
        let window = try Self.header(file.payload).window
        let model = try ByteLM.load(from: store, modelID: Self.modelID)
        try model.identity.check(file)
        let coder = EqualInfoWindows(model: model, windowBits: window)
        return .bytes(try coder.decode(Array(file.payload.dropFirst(2)), start: 0, count: count))
    }

    static func header(_ payload: [UInt8]) throws(CodecError) -> (window: Int, token: Int) {
        guard payload.count >= 2, (1...16).contains(payload[0]), payload[1] == 8 || payload[1] == 16 else {
            throw .corruptPayload("eiw: bad window or token size in the payload header")
        }
        let window = Int(payload[0]) * 8, token = Int(payload[1])
        guard ((payload.count - 2) * 8) % token == 0 else { throw .corruptPayload("eiw: the stream is not a whole number of tokens") }
        return (window, token)
    }
}
