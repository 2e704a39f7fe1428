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
    /// The models' rANS encoding constants, for the encoder's whole-message loop.
    let encodeTable: RANSEncodeTable<RANS64>
    let weights: [Int32]  // [channels, inputs]
    /// Whether every prediction sum is exact in Float (see `symbols`).
    let floatExact: Bool
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
        do { encodeTable = try RANSEncodeTable(models: models) } catch { throw corrupt("prior.frequencies: \(error)") }
        self.weights = weights.scalars.map { Int32($0) }
        // Every partial prediction sum is an integer of magnitude at most 2^11 + 127·Σ|w| (the
        // rounding term, then products of at most 127·|w|); below 2^24 each one is exactly a Float.
        floatExact = (0..<channels).allSatisfy { c in
            weights.scalars[(c * inputs)..<((c + 1) * inputs)].reduce(0) { $0 + abs(Double($1)) } * Double(Self.maxLatent)
                + Double(1 << (Self.shift - 1)) < Double(1 << 24)
        }
        self.inputs = inputs
        self.crossChannels = cross
        self.channels = channels
        // The activity's weights sum to 8 (2 + 2 + 1 + 1 + 2), each |e| ≤ 254. (This table once
        // stopped at 7·254/2, so a run of extreme residuals read past it: a garbage context.)
        let maxActivity = 8 * (2 * Self.maxLatent) / 2
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
        let (symbols, contexts) = symbols(latents, height: h, width: w)
        // Every symbol is in the alphabet and every context has a model, and every frequency is
        // at least 1 (checked at load): nothing can fail.
        return symbols.withUnsafeBufferPointer { s in
            contexts.withUnsafeBufferPointer { k in try! RANS64.encode(s, contexts: k, table: encodeTable, ways: Self.ways) }
        }
    }

    /// The symbol (residual + 254) and context of every latent, in coding order: what `scan`
    /// gives the decoder one latent at a time. The encoder knows every latent up front, so where
    /// the prior allows (`floatExact`, true of every released prior) it predicts a whole row at
    /// once, one vector sweep per nonzero weight, in Float: each partial sum is an integer below
    /// 2^24, so exact, and the predictions are the integer ones bit for bit in any order
    /// (`LatentCoderTests` checks them against `predictions`). Measured several times faster
    /// than `scan`, whose one-latent-at-a-time loop is what the decoder needs.
    func symbols(_ latents: [Int8], height h: Int, width w: Int) -> (symbols: [UInt16], contexts: [UInt8]) {
        var symbols = [UInt16](repeating: 0, count: latents.count), contexts = [UInt8](repeating: 0, count: latents.count)
        let offset = Int32(2 * Self.maxLatent)
        guard floatExact else {
            latents.withUnsafeBufferPointer { l in
                scan(height: h, width: w) { n, p, k in
                    let v = Int32(max(-Int8(Self.maxLatent), l[n]))  // −128 is outside the alphabet
                    symbols[n] = UInt16(v - p + offset)
                    contexts[n] = UInt8(k)
                    return v
                }
            }
            return (symbols, contexts)
        }
        let m = Self.border, pw = w + 2 * m, plane = (h + 2 * m) * pw
        // A channel's interior, from its first latent to its last, is one span of the plane; the
        // border columns inside it are computed too and ignored, so that each weight is one long
        // vector sweep per channel instead of one per row.
        let first = m * pw + m, span = (h - 1) * pw + w
        // Latents (as Floats) and |residuals| on zero-bordered planes, as in `scan`.
        let q = UnsafeMutablePointer<Float>.allocate(capacity: channels * plane)
        let e = UnsafeMutablePointer<Int32>.allocate(capacity: channels * plane)
        let acc = UnsafeMutablePointer<Float>.allocate(capacity: span)
        q.initialize(repeating: 0, count: channels * plane)
        e.initialize(repeating: 0, count: channels * plane)
        defer { q.deallocate(); e.deallocate(); acc.deallocate() }
        latents.withUnsafeBufferPointer { l in
            for c in 0..<channels {
                for y in 0..<h {
                    let row = q + c * plane + (y + m) * pw + m, src = l.baseAddress! + (c * h + y) * w
                    for x in 0..<w { row[x] = Float(max(-Int8(Self.maxLatent), src[x])) }
                }
            }
        }
        let round = Float(1 << (Self.shift - 1))
        // Input k of `scan`'s feature order as an offset from the latent's own index.
        let spatial = [-1, -pw, -pw - 1, -pw + 1, -2, -2 * pw], cross = [0, -1, -pw, 1, pw]
        var terms: [(weight: Float, offset: Int)] = []
        symbols.withUnsafeMutableBufferPointer { sym in
            contexts.withUnsafeMutableBufferPointer { ctx in
                contextOf.withUnsafeBufferPointer { contextOf in
                    var n = 0
                    for c in 0..<channels {
                        terms.removeAll(keepingCapacity: true)
                        // Zero weights add nothing and are skipped (a third to a half of them).
                        func add(_ k: Int, _ offset: Int) {
                            let weight = weights[c * inputs + k]
                            if weight != 0 { terms.append((Float(weight), offset)) }
                        }
                        for (k, o) in spatial.enumerated() { add(k, o) }
                        for j in stride(from: 1, through: min(crossChannels, c), by: 1) {
                            for (k, o) in cross.enumerated() { add(Self.spatialInputs + Self.crossInputs * (j - 1) + k, o - j * plane) }
                        }
                        let qc = q + c * plane + first, ec = e + c * plane + first
                        terms.withUnsafeBufferPointer { Self.predict(acc, from: qc, terms: $0, start: round, span) }
                        for y in 0..<h {
                            Self.residuals(acc + y * pw, qc + y * pw, ec + y * pw, sym.baseAddress! + n + y * w, w)
                        }
                        for y in 0..<h {
                            Self.contexts(ec + y * pw, rowStride: pw, previous: c > 0 ? ec + y * pw - plane : nil,
                                          table: contextOf.baseAddress!, into: ctx.baseAddress! + n + y * w, w)
                        }
                        n += h * w
                    }
                }
            }
        }
        return (symbols, contexts)
    }

    /// out[x] = start + Σ_t w_t·src[x + o_t] for every term (w_t, o_t), sixteen lanes at a time,
    /// the sum kept in registers across the terms. Exact in Float for `floatExact` priors (every
    /// partial sum is an integer below 2^24), so equal to the integer sum in any order.
    @inline(__always)
    static func predict(_ out: UnsafeMutablePointer<Float>, from src: UnsafePointer<Float>,
                        terms: UnsafeBufferPointer<(weight: Float, offset: Int)>, start: Float, _ count: Int) {
        typealias V = SIMD16<Float>
        let o = UnsafeMutableRawPointer(out), r = UnsafeRawPointer(src)
        var x = 0
        while x + 16 <= count {
            var a = V(repeating: start)
            for t in terms { a = a + V(repeating: t.weight) * r.loadUnaligned(fromByteOffset: 4 * (x + t.offset), as: V.self) }
            o.storeBytes(of: a, toByteOffset: 4 * x, as: V.self)
            x += 16
        }
        while x < count {
            var a = start
            for t in terms { a = a + t.weight * src[x + t.offset] }
            out[x] = a
            x += 1
        }
    }

    /// One row of `symbols`: the prediction P = clamp(acc >> 12, ±127) (acc an exact integer),
    /// the residual v − P as the symbol v − P + 254, and |v − P| into `e`; eight lanes at a time.
    /// Floats become integers by the 1.5·2^23 trick (exact below 2^22 in magnitude: acc is clamped
    /// first to the range that shifts to ±127, latents are within ±127), which SSE2 does in two
    /// instructions where a Float → Int32 conversion of a Swift vector goes lane by lane.
    @inline(__always)
    static func residuals(_ acc: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ e: UnsafeMutablePointer<Int32>,
                          _ symbols: UnsafeMutablePointer<UInt16>, _ count: Int) {
        typealias F = SIMD8<Float>
        typealias I = SIMD8<Int32>
        let scale = Float(1 << Self.shift), limit = Float(Self.maxLatent)
        let low = F(repeating: -limit * scale), high = F(repeating: (limit + 1) * scale - 1)
        let magic = F(repeating: 12_582_912), magicBits = I(repeating: 0x4B40_0000)
        let ra = UnsafeRawPointer(acc), rq = UnsafeRawPointer(q), re = UnsafeMutableRawPointer(e)
        var x = 0
        while x + 8 <= count {
            let a = ra.loadUnaligned(fromByteOffset: 4 * x, as: F.self).clamped(lowerBound: low, upperBound: high)
            let p = (unsafeBitCast(a + magic, to: I.self) &- magicBits) &>> Self.shift
            let v = unsafeBitCast(rq.loadUnaligned(fromByteOffset: 4 * x, as: F.self) + magic, to: I.self) &- magicBits
            let r = v &- p
            let sign = r &>> 31  // |r| without a vector comparison (Swift builds those masks lane by lane)
            re.storeBytes(of: (r ^ sign) &- sign, toByteOffset: 4 * x, as: I.self)
            let s = r &+ I(repeating: Int32(2 * Self.maxLatent))
            for k in 0..<8 { symbols[x + k] = UInt16(truncatingIfNeeded: s[k]) }
            x += 8
        }
        let lim = Int32(Self.maxLatent)
        while x < count {
            let p = min(lim, max(-lim, Int32(acc[x]) >> Self.shift)), v = Int32(q[x])
            e[x] = abs(v - p)
            symbols[x] = UInt16(v - p + 2 * lim)
            x += 1
        }
    }

    /// One row of contexts from the |residuals| `e` of this channel and `previous` (the last
    /// channel's, same position): activity (2|e_W| + 2|e_N| + |e_NW| + |e_NE| + 2|e(c−1)|) >> 1,
    /// summed eight lanes at a time, then looked up one by one.
    @inline(__always)
    static func contexts(_ e: UnsafePointer<Int32>, rowStride pw: Int, previous: UnsafePointer<Int32>?,
                         table: UnsafePointer<UInt8>, into out: UnsafeMutablePointer<UInt8>, _ count: Int) {
        typealias I = SIMD8<Int32>
        let r = UnsafeRawPointer(e), rp = UnsafeRawPointer(previous)
        @inline(__always) func at(_ offset: Int) -> I { r.loadUnaligned(fromByteOffset: 4 * offset, as: I.self) }
        var x = 0
        while x + 8 <= count {
            var a = 2 &* (at(x - 1) &+ at(x - pw)) &+ at(x - pw - 1) &+ at(x - pw + 1)
            if let rp { a = a &+ 2 &* rp.loadUnaligned(fromByteOffset: 4 * x, as: I.self) }
            a = a &>> 1
            for k in 0..<8 { out[x + k] = table[Int(a[k])] }
            x += 8
        }
        while x < count {
            var a = 2 * (e[x - 1] + e[x - pw]) + e[x - pw - 1] + e[x - pw + 1]
            if let previous { a += 2 * previous[x] }
            out[x] = table[Int(a >> 1)]
            x += 1
        }
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
