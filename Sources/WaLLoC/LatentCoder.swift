import CodecKit
import EntropyCoding
import Neural

/// Codes WaLLoC's 8-bit latents with interleaved rANS under a prior stored with the weights
/// (latent prior format 2; `Training/neuralcodecs/walloc_prior.py` is its reference and fits it
/// on training latents at export).
///
/// Latents q[c, y, x] (−127...127; audio has one row) are coded channel after channel, each in
/// raster order; values outside the grid count as 0.
/// - Prediction: P = clamp((Σ w[c, k]·f_k + 2^11) >> 12, −127, 127), all in integers. The inputs f
///   are, in channel c, the causal W, N, NW, NE, WW, NN neighbours, then for each of the K channels
///   c−1, c−2, ... already coded the co-located value and its W, N, E, S neighbours (complete
///   channels, so their "future" is known). Latents are linear maps of overlapping wavelet bands,
///   so neighbours and nearby channels predict most of a value.
/// - Residual e = q − P (−254...254) is coded as the symbol e + 254 under one of `contexts` tables,
///   chosen by the activity (2|e_W| + 2|e_N| + |e_NW| + |e_NE| + 2|e(c−1)|) >> 1: local prediction
///   errors say how wide the next one is likely to be.
/// Tensors: `prior.weights` [channels, 6 + 5K] (fixed point, 4096 = 1) and `prior.frequencies`
/// [contexts, 509] (integers ≥ 1 summing to 2^16 per row). Being in model.safetensors, both are
/// covered by the weights hash, so a file always decodes under the prior it was coded with.
///
/// Integer arithmetic only: the same symbols on every machine. Sums stay inside Int32 because the
/// loader bounds |w| by 2^16 (2^16 · 127 · 66 features < 2^31).
public struct LatentCoder: Sendable {
    public static let precision = 16
    public static let shift: Int32 = 12
    public static let maxLatent = 127
    public static let alphabet = 4 * maxLatent + 1
    public static let activityBounds = [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 18, 22, 27, 33, 40, 50, 64, 80, 100]
    public static var contexts: Int { activityBounds.count + 1 }
    static let spatialInputs = 6, crossInputs = 5
    public static let maxCrossChannels = 12
    public static let weightLimit: Float = 65536
    public static let ways = 4
    /// Grid border (zeros) on every side, so that neighbours need no bounds checks.
    static let border = 2

    let models: [CategoricalModel]  // per context
    let weights: [Int32]  // [channels, inputs]
    let inputs: Int
    let crossChannels: Int
    let contextOf: [UInt8]  // activity → context
    public let channels: Int

    /// `weights` [channels, 6 + 5K], `frequencies` [contexts, 509], as exported.
    init(weights: Tensor, frequencies: Tensor, channels: Int) throws(CodecError) {
        func corrupt(_ reason: String) -> CodecError { .corruptModel(modelID: "", reason: reason) }
        let n = Self.alphabet, b = Self.contexts
        guard frequencies.shape == [b, n] else {
            throw corrupt("prior.frequencies has shape \(frequencies.shape), not [\(b), \(n)] (latent prior format 2); "
                          + "a model exported before it must be exported again (Training/recipes/walloc_export.py)")
        }
        let inputs = weights.shape.count == 2 ? weights.shape[1] : 0
        let cross = (inputs - Self.spatialInputs) / Self.crossInputs
        guard weights.shape.count == 2, weights.shape[0] == channels, inputs >= Self.spatialInputs,
              (inputs - Self.spatialInputs) % Self.crossInputs == 0, cross <= min(channels - 1, Self.maxCrossChannels) else {
            throw corrupt("prior.weights has shape \(weights.shape), not [\(channels), 6 + 5K] with K < \(min(channels, Self.maxCrossChannels + 1))")
        }
        guard weights.scalars.allSatisfy({ abs($0) <= Self.weightLimit && $0.rounded() == $0 }) else {
            throw corrupt("prior.weights holds a value that is not an integer within ±2^16")
        }
        var models: [CategoricalModel] = []
        for t in 0..<b {
            let row = frequencies.scalars[(t * n)..<((t + 1) * n)]
            guard row.allSatisfy({ $0 >= 1 && $0 <= 65536 && $0.rounded() == $0 }) else {
                throw corrupt("prior.frequencies row \(t) holds a frequency outside 1...65536")
            }
            do { models.append(try CategoricalModel(frequencies: row.map { UInt32($0) }, precision: Self.precision)) } catch {
                throw corrupt("prior.frequencies row \(t): \(error)")
            }
        }
        self.models = models
        self.weights = weights.scalars.map { Int32($0) }
        self.inputs = inputs
        self.crossChannels = cross
        self.channels = channels
        let maxActivity = 7 * (2 * Self.maxLatent) / 2
        contextOf = (0...maxActivity).map { a in UInt8(Self.activityBounds.firstIndex { a < $0 } ?? Self.activityBounds.count) }
    }

    /// Visits every latent in coding order with its prediction and context; `body(n, P, k)` gives
    /// back latent n's value (index into `[channels, h, w]`), which later predictions then use.
    /// The value must be in −127...127 (callers check what they decode).
    @inline(__always)
    func scan<E: Error>(height h: Int, width w: Int, _ body: (Int, Int32, Int) throws(E) -> Int32) throws(E) {
        let m = Self.border, pw = w + 2 * m, plane = (h + 2 * m) * pw
        // Latents and |residuals| on zero-bordered planes.
        let q = UnsafeMutablePointer<Int32>.allocate(capacity: channels * plane)
        let e = UnsafeMutablePointer<Int32>.allocate(capacity: channels * plane)
        q.initialize(repeating: 0, count: channels * plane)
        e.initialize(repeating: 0, count: channels * plane)
        defer { q.deallocate(); e.deallocate() }
        try weights.withUnsafeBufferPointer { (wb) throws(E) in
            try contextOf.withUnsafeBufferPointer { (ctx) throws(E) in
                let round: Int32 = 1 << (Self.shift - 1), limit = Int32(Self.maxLatent)
                var n = 0
                for c in 0..<channels {
                    let qc = q + c * plane, ec = e + c * plane, wc = wb.baseAddress! + c * inputs
                    let cross = min(crossChannels, c)
                    let previous: UnsafeMutablePointer<Int32>? = c > 0 ? e + (c - 1) * plane : nil
                    for y in 0..<h {
                        for x in 0..<w {
                            let i = (y + m) * pw + x + m
                            var s = round &+ wc[0] &* qc[i - 1] &+ wc[1] &* qc[i - pw] &+ wc[2] &* qc[i - pw - 1]
                            s = s &+ wc[3] &* qc[i - pw + 1] &+ wc[4] &* qc[i - 2] &+ wc[5] &* qc[i - 2 * pw]
                            var k = 6
                            for j in stride(from: 1, through: cross, by: 1) {
                                let qp = qc - j * plane
                                s = s &+ wc[k] &* qp[i] &+ wc[k + 1] &* qp[i - 1] &+ wc[k + 2] &* qp[i - pw]
                                s = s &+ wc[k + 3] &* qp[i + 1] &+ wc[k + 4] &* qp[i + pw]
                                k += 5
                            }
                            let p = min(limit, max(-limit, s >> Self.shift))
                            var a = 2 * (ec[i - 1] + ec[i - pw]) + ec[i - pw - 1] + ec[i - pw + 1]
                            if let previous { a += 2 * previous[i] }
                            let v = try body(n, p, Int(ctx[Int(a >> 1)]))
                            qc[i] = v
                            ec[i] = abs(v - p)
                            n += 1
                        }
                    }
                }
            }
        }
    }

    /// Latents `[channels, h, w]` → rANS stream.
    public func encode(_ latents: [Int8], height h: Int, width w: Int) -> [UInt8] {
        precondition(latents.count == channels * h * w, "latent count does not match the shape")
        var coded = [(symbol: Int32, context: Int32)](repeating: (0, 0), count: latents.count)
        latents.withUnsafeBufferPointer { l in
            scan(height: h, width: w) { n, p, k in
                let v = Int32(max(-Int8(Self.maxLatent), l[n]))  // −128 is outside the alphabet
                coded[n] = (v - p + 2 * Int32(Self.maxLatent), Int32(k))
                return v
            }
        }
        var encoder = try! RANSEncoder<RANS64>(ways: Self.ways)  // `ways` is a supported constant
        for (symbol, context) in coded.reversed() {
            // Every symbol has a frequency of at least 1 (checked on load), so this holds.
            encoder.push(models[Int(context)].interval(of: Int(symbol))!, precision: Self.precision)
        }
        return encoder.finish()
    }

    /// rANS stream → latents `[channels, h, w]`; fails on a stream that is not the encoder's.
    public func decode(_ stream: [UInt8], height h: Int, width w: Int) throws(CodecError) -> [Int8] {
        var out = [Int8](repeating: 0, count: channels * h * w)
        do {
            var decoder = try RANSDecoder<RANS64>(stream, ways: Self.ways)
            try out.withUnsafeMutableBufferPointer { (o) throws(EntropyCodingError) in
                try scan(height: h, width: w) { (n, p, k) throws(EntropyCodingError) in
                    let v = p + Int32(try decoder.decode(model: models[k])) - 2 * Int32(Self.maxLatent)
                    guard abs(v) <= Int32(Self.maxLatent) else { throw .corruptInput("latent \(v) out of range") }
                    o[n] = Int8(v)
                    return v
                }
            }
            try decoder.finish()
        } catch {
            throw .corruptPayload("walloc latent stream: \(error)")
        }
        return out
    }

    /// Predictions and contexts of known latents, in coding order (parity tests against Python).
    public func predictions(_ latents: [Int8], height h: Int, width w: Int) -> (prediction: [Int32], context: [Int]) {
        var p = [Int32](repeating: 0, count: latents.count), k = [Int](repeating: 0, count: latents.count)
        scan(height: h, width: w) { n, pn, kn in
            p[n] = pn; k[n] = kn
            return Int32(latents[n])
        }
        return (p, k)
    }
}
