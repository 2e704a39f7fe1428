import CodecKit
import Foundation

/// The byte-level transformer M1 (Training/neuralcodecs/byte_lm.py), run one byte at a time with
/// a key/value cache on a deterministic float32 path: fixed summation order, no threads, and
/// its own exp (no libm), so the encoder and the decoder compute bit-identical probabilities on
/// every run. Those probabilities become 16-bit integer frequencies (`quantize`), every byte at
/// least 1 of 65536.
///
/// Local to TextLM until the Neural target's deterministic kernels are merged; the model's
/// arithmetic is the one documented in Codecs/eiw-m1/codec.json.
public final class ByteTransformer: Sendable {
    public struct Config: Sendable, Equatable {
        public var width = 256, heads = 4, layers = 3, mlp = 1024, context = 512
        public var vocabIn = 257, vocabOut = 256, bos = 256
        public var lnEps: Float = 1e-5
        public init() {}
    }

    struct Layer: Sendable {
        var ln1w, ln1b, qkvW, qkvB, projW, projB, ln2w, ln2b, fc1W, fc1B, fc2W, fc2B: [Float]
    }

    /// On re-priming a full context, how many of the latest bytes are kept (after BOS).
    public static let slidingKeep = 256

    public let config: Config
    public let weightsHash: UInt64
    let tokEmb: [Float], posEmb: [Float], layers: [Layer], lnfW: [Float], lnfB: [Float], headW: [Float]

    /// Builds the model from named tensors (the PyTorch state_dict names).
    init(config c: Config, tensors: [String: SafeTensors.Tensor], hash: UInt64) throws(CodecError) {
        func get(_ name: String, _ shape: [Int]) throws(CodecError) -> [Float] {
            guard let t = tensors[name] else { throw .corruptModel(modelID: "eiw-m1", reason: "tensor '\(name)' is missing") }
            guard t.shape == shape else {
                throw .corruptModel(modelID: "eiw-m1", reason: "tensor '\(name)' has shape \(t.shape), expected \(shape)")
            }
            return t.values
        }
        let d = c.width
        guard d % c.heads == 0, (d / c.heads) % 16 == 0, d % 16 == 0, c.mlp % 16 == 0 else {
            throw .corruptModel(modelID: "eiw-m1", reason: "unsupported dimensions (width and head size must be multiples of 16)")
        }
        config = c
        weightsHash = hash
        tokEmb = try get("tok_emb.weight", [c.vocabIn, d])
        posEmb = try get("pos_emb.weight", [c.context, d])
        var layers: [Layer] = []
        for i in 0..<c.layers {
            let p = "blocks.\(i)."
            layers.append(Layer(
                ln1w: try get(p + "ln1.weight", [d]), ln1b: try get(p + "ln1.bias", [d]),
                qkvW: try get(p + "attn.qkv.weight", [3 * d, d]), qkvB: try get(p + "attn.qkv.bias", [3 * d]),
                projW: try get(p + "attn.proj.weight", [d, d]), projB: try get(p + "attn.proj.bias", [d]),
                ln2w: try get(p + "ln2.weight", [d]), ln2b: try get(p + "ln2.bias", [d]),
                fc1W: try get(p + "mlp.fc1.weight", [c.mlp, d]), fc1B: try get(p + "mlp.fc1.bias", [c.mlp]),
                fc2W: try get(p + "mlp.fc2.weight", [d, c.mlp]), fc2B: try get(p + "mlp.fc2.bias", [d])))
        }
        self.layers = layers
        lnfW = try get("ln_f.weight", [d])
        lnfB = try get("ln_f.bias", [d])
        headW = try get("head.weight", [c.vocabOut, d])
    }

    /// Loads Codecs/<modelID>/ (codec.json `architecture` + model.safetensors).
    public static func load(from store: ModelStore, modelID: String) throws(CodecError) -> ByteTransformer {
        let loaded = try store.load(modelID)
        guard let json = try? JSONSerialization.jsonObject(with: loaded.config) as? [String: Any],
              let arch = json["architecture"] as? [String: Any] else {
            throw .corruptModel(modelID: modelID, reason: "codec.json has no 'architecture' object")
        }
        var c = Config()
        func int(_ key: String) throws(CodecError) -> Int {
            guard let v = arch[key] as? Int, v > 0, v <= 1 << 16 else {
                throw .corruptModel(modelID: modelID, reason: "codec.json architecture.\(key) is missing or out of range")
            }
            return v
        }
        c.width = try int("width"); c.heads = try int("heads"); c.layers = try int("layers")
        c.mlp = try int("mlp"); c.context = try int("context"); c.vocabIn = try int("vocab_in")
        c.vocabOut = try int("vocab_out"); c.bos = try int("bos")
        c.lnEps = Float((arch["ln_eps"] as? Double) ?? 1e-5)
        guard c.vocabOut == 256, c.bos < c.vocabIn, c.layers <= 64 else {
            throw .corruptModel(modelID: modelID, reason: "unsupported vocabulary (need 256 byte outputs and a BOS input)")
        }
        let tensors: [String: SafeTensors.Tensor]
        do { tensors = try SafeTensors.read(loaded.weights) } catch {
            throw .corruptModel(modelID: modelID, reason: "model.safetensors: \(error.description)")
        }
        return try ByteTransformer(config: c, tensors: tensors, hash: loaded.hash)
    }

    /// A fresh context (BOS only). `slidingKeep`: when the context is full, restart it from BOS
    /// and this many latest bytes.
    public func session(slidingKeep: Int = ByteTransformer.slidingKeep) -> Session {
        Session(model: self, keep: min(slidingKeep, config.context - 2))
    }

    /// One context being extended byte by byte (or block by block, with identical arithmetic:
    /// every output element is computed by the same code in the same order either way).
    public struct Session {
        let model: ByteTransformer
        let keep: Int
        private var keys: [[Float]], values: [[Float]]  // per layer, [context, width]
        private var length = 0  // positions filled, BOS included
        private var recent: [UInt8] = []
        private var logits: [Float]  // the last position's
        private var scratch: Scratch
        private var afterBOS: (keys: [[Float]], values: [[Float]], logits: [Float])

        init(model: ByteTransformer, keep: Int) {
            let c = model.config
            self.model = model
            self.keep = keep
            keys = Array(repeating: [Float](repeating: 0, count: c.context * c.width), count: c.layers)
            values = keys
            logits = [Float](repeating: 0, count: c.vocabOut)
            scratch = Scratch(c, rows: c.context)
            afterBOS = ([], [], [])
            run([c.bos])
            afterBOS = (keys.map { Array($0.prefix(c.width)) }, values.map { Array($0.prefix(c.width)) }, logits)
        }

        /// Starts over from BOS (restoring the cached first position).
        mutating func reset() {
            let d = model.config.width
            for l in 0..<model.config.layers {
                keys[l].withUnsafeMutableBufferPointer { k in for i in 0..<d { k[i] = afterBOS.keys[l][i] } }
                values[l].withUnsafeMutableBufferPointer { v in for i in 0..<d { v[i] = afterBOS.values[l][i] } }
            }
            logits = afterBOS.logits
            length = 1
            recent.removeAll(keepingCapacity: true)
        }

        /// The next byte's distribution as 257 cumulative frequencies summing to 65536.
        func nextByteCumulative() -> [UInt32] { ByteTransformer.quantize(logits) }

        /// The next byte's logits (for the golden-vector tests).
        var nextByteLogits: [Float] { logits }

        mutating func append(_ byte: UInt8) { _ = append(contentsOf: CollectionOfOne(byte), block: 1) }

        /// Appends `bytes`, computing up to `block` positions per pass; returns the next-byte
        /// distribution after each byte. When the context is full, it restarts from BOS and the
        /// latest `keep` bytes.
        @discardableResult
        public mutating func append(contentsOf bytes: some Collection<UInt8>, block: Int) -> [[UInt32]] {
            let c = model.config
            var result: [[UInt32]] = []
            result.reserveCapacity(bytes.count)
            var i = bytes.startIndex
            while i != bytes.endIndex {
                if length == c.context {
                    recent.append(bytes[i])
                    let tail = Array(recent.suffix(keep))
                    recent = tail
                    length = 0
                    run([c.bos] + tail.map(Int.init))
                    result.append(ByteTransformer.quantize(logits))
                    i = bytes.index(after: i)
                    continue
                }
                let n = min(block, c.context - length, bytes.distance(from: i, to: bytes.endIndex))
                let end = bytes.index(i, offsetBy: n)
                let chunk = bytes[i..<end]
                recent.append(contentsOf: chunk)
                run(chunk.map(Int.init))
                for r in 0..<n {
                    result.append(ByteTransformer.quantize(Array(UnsafeBufferPointer(start: scratch.logits + r * 256, count: 256))))
                }
                i = end
            }
            if recent.count > 4 * c.context { recent.removeFirst(recent.count - c.context) }
            return result
        }

        /// Runs `tokens` at the next positions; their logits land in scratch.logits rows
        /// 0..<tokens.count, and `logits` becomes the last row.
        private mutating func run(_ tokens: [Int]) {
            let c = model.config
            let d = c.width, n = tokens.count, start = length
            let x = scratch.x, h = scratch.h, qkv = scratch.qkv, y = scratch.y, m = scratch.m
            for (r, token) in tokens.enumerated() {
                for i in 0..<d { x[r * d + i] = model.tokEmb[token * d + i] + model.posEmb[(start + r) * d + i] }
            }
            for (l, layer) in model.layers.enumerated() {
                for r in 0..<n { layerNorm(x + r * d, layer.ln1w, layer.ln1b, out: h + r * d, d, c.lnEps) }
                matMul(layer.qkvW, layer.qkvB, h, out: qkv, n: n, rows: 3 * d, cols: d)
                keys[l].withUnsafeMutableBufferPointer { k in
                    values[l].withUnsafeMutableBufferPointer { v in
                        for r in 0..<n {
                            for i in 0..<d {
                                k[(start + r) * d + i] = qkv[r * 3 * d + d + i]
                                v[(start + r) * d + i] = qkv[r * 3 * d + 2 * d + i]
                            }
                        }
                        for r in 0..<n {
                            attend(q: qkv + r * 3 * d, k: k.baseAddress!, v: v.baseAddress!, positions: start + r + 1,
                                   out: h + r * d, c, scores: scratch.scores)
                        }
                    }
                }
                matMul(layer.projW, layer.projB, h, out: y, n: n, rows: d, cols: d)
                for i in 0..<(n * d) { x[i] += y[i] }
                for r in 0..<n { layerNorm(x + r * d, layer.ln2w, layer.ln2b, out: h + r * d, d, c.lnEps) }
                matMul(layer.fc1W, layer.fc1B, h, out: m, n: n, rows: c.mlp, cols: d)
                for i in 0..<(n * c.mlp) { m[i] = gelu(m[i]) }
                matMul(layer.fc2W, layer.fc2B, m, out: y, n: n, rows: d, cols: c.mlp)
                for i in 0..<(n * d) { x[i] += y[i] }
            }
            for r in 0..<n { layerNorm(x + r * d, model.lnfW, model.lnfB, out: h + r * d, d, c.lnEps) }
            model.headW.withUnsafeBufferPointer { w in
                for o in 0..<c.vocabOut {
                    for r in 0..<n { scratch.logits[r * 256 + o] = dot(w.baseAddress! + o * d, h + r * d, d) }
                }
            }
            for o in 0..<256 { logits[o] = scratch.logits[(n - 1) * 256 + o] }
            length += n
        }
    }

    /// Frequencies from logits: softmax with `Deterministic.exp`, then 1 + floor(p * (65536 - 256))
    /// per byte, the remainder to the most probable byte (the first one on ties).
    static func quantize(_ logits: [Float]) -> [UInt32] {
        var maxLogit = logits[0], best = 0
        for i in 1..<256 where logits[i] > maxLogit { maxLogit = logits[i]; best = i }
        var e = [Float](repeating: 0, count: 256)
        var sum: Float = 0
        for i in 0..<256 { e[i] = Deterministic.exp(logits[i] - maxLogit); sum += e[i] }
        let scale = Float(65536 - 256) / sum
        var freq = [UInt32](repeating: 1, count: 256)
        var used: UInt32 = 256
        for i in 0..<256 {
            let f = UInt32(min(Float(65536 - 256), e[i] * scale))
            freq[i] += f
            used += f
        }
        freq[best] += 65536 - used
        var cum = [UInt32](repeating: 0, count: 257)
        for i in 0..<256 { cum[i + 1] = cum[i] + freq[i] }
        return cum
    }
}

/// Work buffers of one session, for up to `rows` positions per pass.
final class Scratch {
    let x, h, qkv, y, m, scores, logits: UnsafeMutablePointer<Float>
    init(_ c: ByteTransformer.Config, rows: Int) {
        func buffer(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: n); p.initialize(repeating: 0, count: n); return p
        }
        x = buffer(rows * c.width); h = buffer(rows * c.width); qkv = buffer(rows * 3 * c.width); y = buffer(rows * c.width)
        m = buffer(rows * c.mlp); scores = buffer(c.context); logits = buffer(rows * c.vocabOut)
    }
    deinit { for p in [x, h, qkv, y, m, scores, logits] { p.deallocate() } }
}

// MARK: - Deterministic kernels (fixed order; no FMA contraction, no libm)

/// Sum of a[i] * b[i], n a multiple of 16: two 8-lane accumulators over 16-float chunks, then
/// the lanes added in a fixed order.
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
    var i = 0
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
    while i < n {
        s0 += ra.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
        s1 += ra.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self)
        i += 16
    }
    let s = s0 + s1
    let q = s.lowHalf + s.highHalf
    return (q[0] + q[2]) + (q[1] + q[3])
}

/// out[i] = W x[i] + b for n input rows x[i] of `cols` and W [rows, cols] (PyTorch layout).
/// Each weight row is read once for all n inputs; each output is one `dot`, so the result does
/// not depend on n.
@inline(__always)
func matMul(_ w: [Float], _ b: [Float], _ x: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, n: Int, rows: Int, cols: Int) {
    w.withUnsafeBufferPointer { wp in
        b.withUnsafeBufferPointer { bp in
            for r in 0..<rows {
                let row = wp.baseAddress! + r * cols
                for i in 0..<n { out[i * rows + r] = dot(row, x + i * cols, cols) + bp[r] }
            }
        }
    }
}

@inline(__always)
func layerNorm(_ x: UnsafeMutablePointer<Float>, _ w: [Float], _ b: [Float], out: UnsafeMutablePointer<Float>, _ d: Int, _ eps: Float) {
    var mean: Float = 0
    for i in 0..<d { mean += x[i] }
    mean /= Float(d)
    var variance: Float = 0
    for i in 0..<d { let t = x[i] - mean; variance += t * t }
    variance /= Float(d)
    let inv = 1 / (variance + eps).squareRoot()
    for i in 0..<d { out[i] = (x[i] - mean) * inv * w[i] + b[i] }
}

/// Causal attention of the newest position over `positions` cached keys/values, all heads.
@inline(__always)
func attend(q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
            positions: Int, out: UnsafeMutablePointer<Float>, _ c: ByteTransformer.Config, scores: UnsafeMutablePointer<Float>) {
    let d = c.width, hd = d / c.heads
    let scale = 1 / Float(hd).squareRoot()
    for h in 0..<c.heads {
        var maxScore = -Float.infinity
        for j in 0..<positions {
            let s = dot(q + h * hd, k + j * d + h * hd, hd) * scale
            scores[j] = s
            if s > maxScore { maxScore = s }
        }
        var sum: Float = 0
        for j in 0..<positions { let e = Deterministic.exp(scores[j] - maxScore); scores[j] = e; sum += e }
        // out = (sum_j p_j v_j) / sum, 8 lanes at a time; each element sums over j in order.
        let o = UnsafeMutableRawPointer(out + h * hd)
        let inv = 1 / sum
        var i = 0
        while i < hd {
            var acc = SIMD8<Float>()
            for j in 0..<positions {
                acc += scores[j] * UnsafeRawPointer(v + j * d + h * hd).loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            }
            o.storeBytes(of: acc * inv, toByteOffset: 4 * i, as: SIMD8<Float>.self)
            i += 8
        }
    }
}

/// GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
@inline(__always)
func gelu(_ x: Float) -> Float {
    let u = 0.7978845608 * (x + 0.044715 * x * x * x)
    return 0.5 * x * (1 + Deterministic.tanh(u))
}

enum Deterministic {
    /// e^x from basic IEEE operations only: x = n ln2 + r, |r| <= ln2/2, a degree-7 polynomial
    /// for e^r, then the exponent bits. Relative error about 1e-7 (float32 rounding level).
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        if x < -87 { return 0 }
        let xc = min(x, 88)
        let n = (xc * 1.4426950409).rounded(.toNearestOrEven)
        let r = (xc - n * 0.693145751953125) - n * 1.428606765330187e-06
        var p: Float = 1.0 / 5040
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        return p * Float(bitPattern: UInt32(Int32(n) + 127) << 23)
    }

    /// tanh(u) = 1 - 2 / (e^(2u) + 1), the argument clamped where tanh is +-1 in float32.
    @inline(__always)
    static func tanh(_ u: Float) -> Float {
        let uc = max(-10, min(10, u))
        return 1 - 2 / (exp(2 * uc) + 1)
    }
}
