import CodecKit
import Container
import EntropyCoding
import MediaIO

/// `lm-ac`: the whole input as one arithmetic-coded bit stream, each bit predicted by the
/// context-mixing model (`ContextMixingModel`), into which the transformer M1's next-byte
/// distribution enters as one more input (option `lm=on`, the default when the model is
/// installed; `lm=off` codes with the adaptive context models alone).
///
/// Payload: one flags byte (bit 0: M1 used), then the coded bits. The byte count is the
/// container's media descriptor; M1's weights hash is the container's model hash.
public struct LMACCodec: Codec {
    public static let id = "lm-ac"
    public static let modelID = "eiw-m1"
    let store: ModelStore

    public init(store: ModelStore = ModelStore()) { self.store = store }

    public var info: CodecInfo {
        CodecInfo(id: Self.id, modelID: Self.modelID, modalities: [.bytes], lossless: true,
                  summary: "lossless text: context mixing + byte transformer M1, binary arithmetic coding",
                  parameters: [CodecParameter("lm", default: "on", help: "mix in the transformer M1 (on) or use the adaptive context models only (off)")])
    }

    public func encode(_ media: Media, options: CodecOptions) throws(CodecError) -> ContainerFile {
        try options.validate(against: info)
        guard case .bytes(let text) = media else {
            throw .unsupportedMedia(codec: Self.id, kind: media.kind, accepts: [.bytes])
        }
        let useLM = try options.string("lm", default: "on", oneOf: ["on", "off"]) == "on"
        var lm: ByteLM.Session? = nil
        var hash: UInt64 = 0
        if useLM {
            let model = try ByteLM.load(from: store, modelID: Self.modelID)
            lm = model.session(slidingKeep: ByteLM.slidingKeep)
            hash = model.identity.hash
        }
        var payload: [UInt8] = [useLM ? 1 : 0]
        payload += Self.code(text, lm: &lm)
        return ContainerFile(codecID: Self.id, modelID: useLM ? Self.modelID : "", modelHash: hash,
                             media: .bytes(count: text.count), payload: payload)
    }

    public func decode(_ file: ContainerFile) throws(CodecError) -> Media {
        guard case .bytes(let count) = file.media else {
            throw .corruptPayload("lm-ac holds bytes, but the header describes other media")
        }
        guard let flags = file.payload.first, flags <= 1 else { throw .corruptPayload("lm-ac: unknown flags") }
        try Self.checkCount(count, codedBytes: file.payload.count - 1)
        var lm: ByteLM.Session? = nil
        if flags == 1 {
            let model = try ByteLM.load(from: store, modelID: Self.modelID)
            try model.identity.check(file)
            lm = model.session(slidingKeep: ByteLM.slidingKeep)
        }
        let coded = Array(file.payload.dropFirst())
        return .bytes(try Self.decode(coded, count: count, lm: &lm))
    }

    static let lmBlock = 32

    /// The most bytes `codedBytes` of coded data can hold: 8192 x (codedBytes + 4).
    ///
    /// The model's P(1) is clamped to 16...65520 of 65536 (`ContextMixingModel.predict`), so
    /// either bit leaves at most (w − 1)(1 − 2^-12) + 1 ≤ w (1 − 2^-13) of the coder's interval
    /// width w (w ≥ 2 before every decision), and renormalising keeps w·2^-emitted. So every
    /// decision costs more than 2^-13 bits: n bytes emit more than 8n·2^-13 − 32 bits, while a
    /// valid stream is read at most 32 bits past its end (the decoder's check), so 8n·2^-13 − 32
    /// < 8·codedBytes. A header declaring more is refused before the model's tables (sized to
    /// the count, up to 512 MiB) are allocated; the bitstream is unchanged.
    static func maxCount(codedBytes: Int) -> Int { 8192 * (max(codedBytes, 0) + 4) }

    static func checkCount(_ count: Int, codedBytes: Int) throws(CodecError) {
        guard count <= maxCount(codedBytes: codedBytes) else {
            throw .corruptPayload("lm-ac: the header declares \(count) bytes, more than \(codedBytes) coded bytes can hold "
                + "(at most \(maxCount(codedBytes: codedBytes)))")
        }
    }

    /// The coded bits of `text` (no header).
    static func code(_ text: [UInt8], lm: inout ByteLM.Session?) -> [UInt8] {
        var model = ContextMixingModel(expectedLength: text.count, usesLanguageModel: lm != nil)
        var encoder = BinaryArithmeticEncoder()
        // The encoder knows every byte, so M1 runs a block of positions per pass (each weight
        // read once per block); the decoder's byte-by-byte passes compute the same numbers.
        var distributions: [[UInt32]] = lm.map { [$0.nextByteCumulative] } ?? []
        var start = 0
        while start < text.count {
            let end = min(text.count, start + lmBlock)
            if lm != nil { distributions = [distributions.last!] + lm!.append(contentsOf: text[start..<end], block: lmBlock) }
            for i in start..<end {
                if lm != nil { model.setNextByteDistribution(distributions[i - start]) }
                let byte = text[i]
                for k in stride(from: 7, through: 0, by: -1) {
                    let bit = Int(byte >> UInt8(k)) & 1
                    encoder.encode(bit, probabilityOfOne: model.predict())
                    model.update(bit)
                }
            }
            start = end
        }
        return encoder.finish().bytes
    }

    static func decode(_ coded: [UInt8], count: Int, lm: inout ByteLM.Session?) throws(CodecError) -> [UInt8] {
        var model = ContextMixingModel(expectedLength: count, usesLanguageModel: lm != nil)
        var decoder = BinaryArithmeticDecoder(BitStreamReader(coded))
        var text = [UInt8]()
        text.reserveCapacity(min(count, 1 << 20))  // the count is not trusted yet
        for _ in 0..<count {
            if lm != nil { model.setNextByteDistribution(lm!.nextByteCumulative) }
            var c = 0
            for _ in 0..<8 {
                let bit = decoder.decode(probabilityOfOne: model.predict())
                model.update(bit)
                c = c << 1 | bit
            }
            let byte = UInt8(c)
            text.append(byte)
            lm?.append(byte)
            // A valid stream ends with its shortest termination: the decoder never needs more
            // than the 32 bits of its initial fill beyond it.
            if decoder.bitsPastEnd > 32 { throw .corruptPayload("lm-ac: coded data ends before \(count) bytes") }
        }
        return text
    }
}
