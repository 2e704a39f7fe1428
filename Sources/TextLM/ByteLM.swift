import CodecKit
import EntropyCoding
import Foundation
import Neural

/// M1, the byte-level language model of `lm-ac` and `eiw` (Codecs/eiw-m1): Neural's
/// `TransformerLM` on its deterministic kernels, fed a BOS token and then bytes, with a key/value
/// cache. Each next-byte distribution becomes 16-bit integer frequencies through EntropyCoding's
/// `FrequencyQuantizer` (every byte at least 1 of 65536), so the encoder and the decoder, which
/// feed the same bytes, code with identical frequencies on every machine.
public final class ByteLM: Sendable {
    /// On re-priming a full context, how many of the latest bytes are kept (after BOS).
    public static let slidingKeep = 256
    /// Frequencies sum to 2^precision.
    public static let precision = 16

    public let transformer: TransformerLM
    /// The input token that starts every context.
    public let bos: Int
    /// The weights (model id and hash), recorded in and checked against containers.
    public let identity: ModelIdentity
    public var context: Int { transformer.config.context }

    /// `transformer` must map 256 byte tokens and `bos` (all below its vocabulary) to 256 outputs.
    init(transformer: TransformerLM, bos: Int, identity: ModelIdentity) throws(CodecError) {
        let c = transformer.config
        guard c.outputSize == 256, c.vocabSize >= 256, (0..<c.vocabSize).contains(bos), bos >= 256, c.context >= 2 else {
            throw .corruptModel(modelID: identity.id, reason: "unsupported vocabulary (need 256 byte outputs, byte inputs 0...255 and a BOS input above them, and a context of 2 or more)")
        }
        self.transformer = transformer
        self.bos = bos
        self.identity = identity
    }

    /// codec.json's `architecture` (the other keys describe the model for people).
    struct Config: Decodable {
        struct Architecture: Decodable {
            var width, heads, layers, mlp, context, vocabIn, vocabOut, bos: Int
            var lnEps: Double?
        }
        var architecture: Architecture
    }

    /// Codecs/<modelID>/ from `store`, built once per process: codec.json `architecture` (width,
    /// heads, layers, mlp, context, vocab_in, vocab_out, bos, ln_eps; pre-LN, GELU tanh, learned
    /// positions, as Training/neuralcodecs/byte_lm.py builds it) and model.safetensors.
    public static func load(from store: ModelStore, modelID: String) throws(CodecError) -> ByteLM {
        try store.model(modelID) { (loaded) throws(CodecError) in
            let arch = try loaded.configuration(Config.self).architecture
            let sizes = [arch.width, arch.heads, arch.layers, arch.mlp, arch.context, arch.vocabIn, arch.vocabOut, arch.bos]
            guard sizes.allSatisfy({ (1...(1 << 16)).contains($0) }) else {
                throw .corruptModel(modelID: modelID, reason: "codec.json architecture has a size out of range (1...65536)")
            }
            // codec.json's "activation" of this model family is prose describing GELU tanh, so the
            // configuration is built here rather than by TransformerConfig(json:).
            let config = TransformerConfig(
                vocabSize: arch.vocabIn, outputSize: arch.vocabOut, dim: arch.width, heads: arch.heads,
                layers: arch.layers, mlpDim: arch.mlp, context: arch.context, activation: .geluTanh,
                normEps: Float(arch.lnEps ?? 1e-5))
            let transformer: TransformerLM
            do { transformer = try TransformerLM(weights: try SafeTensors(data: loaded.weights), config: config) } catch {
                throw .corruptModel(modelID: modelID, reason: "model.safetensors: \(error)")
            }
            return try ByteLM(transformer: transformer, bos: arch.bos, identity: loaded.identity)
        }
    }

    /// A fresh context (BOS only). `slidingKeep`: when the context is full, restart it from BOS
    /// and this many latest bytes.
    public func session(slidingKeep: Int = ByteLM.slidingKeep) -> Session {
        Session(model: self, keep: max(1, min(slidingKeep, context - 2)))
    }

    /// One context extended byte by byte or block by block: a block pass reads each weight once
    /// for all its positions, and gives the same numbers as single bytes (Neural's block step).
    public struct Session {
        let model: ByteLM
        let keep: Int
        private var state: TransformerLM.State
        private var recent: [UInt8] = []  // the bytes in the context, for re-priming
        /// The next byte's logits (for the golden-vector tests).
        private(set) var nextByteLogits: [Float]
        /// The next byte's distribution as 257 cumulative frequencies, 0 to 65536.
        private(set) var nextByteCumulative: [UInt32]
        private let afterBOS: (logits: [Float], cumulative: [UInt32])

        init(model: ByteLM, keep: Int) {
            self.model = model
            self.keep = keep
            state = model.transformer.makeState()
            let logits = Self.run(model, [model.bos], &state).scalars
            afterBOS = (logits, ByteLM.cumulativeFrequencies(logits[...]))
            (nextByteLogits, nextByteCumulative) = afterBOS
        }

        /// Starts over from BOS (whose keys and values stay in the cache).
        public mutating func reset() {
            state.truncate(to: 1)
            (nextByteLogits, nextByteCumulative) = afterBOS
            recent.removeAll(keepingCapacity: true)
        }

        public mutating func append(_ byte: UInt8) { _ = append(contentsOf: CollectionOfOne(byte), block: 1) }

        /// Appends `bytes`, up to `block` positions per pass; returns the next-byte distribution
        /// (cumulative frequencies) after each byte. When the context is full, it restarts from
        /// BOS and the latest `keep` bytes.
        @discardableResult
        public mutating func append(contentsOf bytes: some Collection<UInt8>, block: Int) -> [[UInt32]] {
            var result: [[UInt32]] = []
            result.reserveCapacity(bytes.count)
            var i = bytes.startIndex
            while i != bytes.endIndex {
                let chunk: [UInt8], reprimed: Bool
                if state.position == model.context {
                    recent.append(bytes[i])
                    recent = Array(recent.suffix(keep))
                    state.truncate(to: 1)
                    (chunk, reprimed) = (recent, true)
                    i = bytes.index(after: i)
                } else {
                    let n = min(max(1, block), model.context - state.position, bytes.distance(from: i, to: bytes.endIndex))
                    let end = bytes.index(i, offsetBy: n)
                    (chunk, reprimed) = (Array(bytes[i..<end]), false)
                    recent.append(contentsOf: chunk)
                    i = end
                }
                let logits = Self.run(model, chunk.map(Int.init), &state).scalars
                // After re-priming, only the last row predicts a byte the caller has not seen.
                for r in (reprimed ? chunk.count - 1 : 0)..<chunk.count {
                    result.append(ByteLM.cumulativeFrequencies(logits[(r * 256)..<((r + 1) * 256)]))
                }
                nextByteLogits = Array(logits[((chunk.count - 1) * 256)...])
                nextByteCumulative = result[result.count - 1]
            }
            if recent.count > 4 * model.context { recent.removeFirst(recent.count - model.context) }
            return result
        }

        /// Runs `tokens` at the next positions of `state`; their logits `[n, 256]`.
        private static func run(_ model: ByteLM, _ tokens: [Int], _ state: inout TransformerLM.State) -> Tensor {
            do { return try model.transformer.step(tokens, &state) } catch {
                // Unreachable: bytes and BOS are inside the vocabulary (checked at load), and
                // `append` never passes the context.
                preconditionFailure("M1 session: \(error)")
            }
        }
    }

    /// Frequencies from logits through Neural's shared glue (`LogitFrequencies`: deterministic
    /// softmax, then EntropyCoding's quantizer at 16 bits with every byte kept possible), as 257
    /// cumulative frequencies. (Logits that are not finite code with the uniform table, on both sides.)
    static func cumulativeFrequencies(_ logits: ArraySlice<Float>) -> [UInt32] {
        LogitFrequencies.cumulative(logits, precision: precision)
    }
}
