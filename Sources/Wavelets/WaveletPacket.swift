/// The full wavelet packet transform WaLLoC runs on: CDF 9/7 by lifting, periodic extension.
///
/// CDF 9/7 is the biorthogonal 4.4 pair of JPEG 2000. Lifting (Daubechies & Sweldens) splits a
/// signal into even and odd samples and updates each from the other in four steps, so the inverse
/// is the same steps undone in reverse: exact up to float rounding for any even length, which a
/// filter bank with periodization only approaches. Both bands are scaled to keep the signal's
/// energy to within a few percent (the low band's DC gain is √2).
///
/// Layout (identical in `Training/neuralcodecs/wavelets.py`): every level splits every channel.
/// In 1-D channel c becomes channels 2c (low) and 2c + 1 (high); in 2-D channel c becomes 4c + b
/// with b = LL, LH, HL, HH, the first letter the band along the width and the second along the
/// height. J levels on C channels give C·2^J (1-D) or C·4^J (2-D) channels, 2^J times shorter
/// (narrower and lower) than the input. Lengths must be multiples of 2^J: callers pad.
public enum WaveletPacket {
    // Lifting coefficients of CDF 9/7 (JPEG 2000 part 1, irreversible path).
    static let alpha: Float = -1.586134342059924
    static let beta: Float = -0.052980118572961
    static let gamma: Float = 0.882911075530934
    static let delta: Float = 0.443506852043971
    static let k: Double = 1.230174104914001
    /// Float(√2 / k) and Float(k / √2), written out: a computed `static let` costs a
    /// `swift_once` check on every read, and these are read once per lifted row (measured ~13 %
    /// of an encode). `WaveletPacketTests` checks the literals against the formulas.
    static let lowScale: Float = 1.1496044397354126
    static let highScale: Float = 0.8698644638061523

    // MARK: 2-D

    /// `planes`: `channels` planes of `height`x`width`, row-major. Returns
    /// `channels·4^levels` planes of `(height, width) / 2^levels`.
    public static func forward2D(_ planes: [Float], channels: Int, height: Int, width: Int, levels: Int) -> [Float] {
        checkShape(planes.count, channels * height * width, [height, width], levels)
        return planes.withUnsafeBufferPointer { p in
            forward2D(channels: channels, height: height, width: width, levels: levels) { ch, y, _ in
                UnsafePointer(p.baseAddress! + (ch * height + y) * width)
            }
        }
    }

    /// `forward2D` of planes read a row at a time: `row(channel, y, scratch)` gives row y of a
    /// channel (`width` values), as its own memory or as `scratch` (room for `width`) filled. The
    /// first level lifts each row as it comes, so a caller that converts samples (WaLLoC's colour
    /// planes) never writes and reads back the whole planes (~4 % of an image encode).
    public static func forward2D(channels: Int, height: Int, width: Int, levels: Int,
                                 row: (Int, Int, UnsafeMutablePointer<Float>) -> UnsafePointer<Float>) -> [Float] {
        let count = channels * height * width
        checkShape(count, count, [height, width], levels)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: width)
        defer { scratch.deallocate() }
        if levels == 0 {
            return uninitialized(count) { out in
                for ch in 0..<channels {
                    for y in 0..<height { (out + (ch * height + y) * width).update(from: row(ch, y, scratch), count: width) }
                }
            }
        }
        // Depth first: a channel's four bands go through the next level while they are still in
        // cache (one Kodak plane's are 1.5 MB), instead of each level streaming every channel
        // through memory. Channel c becomes 4c + b at every level either way, so band b of a
        // channel of h·w values owns the b-th quarter of that channel's h·w outputs, and every
        // value sees the same operations as level by level.
        let work = Workspace(width: width, height: height)
        let temps = (0..<(levels - 1)).map { l in UnsafeMutablePointer<Float>.allocate(capacity: (height >> l) * (width >> l)) }
        defer { work.free(); temps.forEach { $0.deallocate() } }
        func transform(level l: Int, h: Int, w: Int, into dst: UnsafeMutablePointer<Float>, row: (Int) -> UnsafePointer<Float>) {
            let quarter = h * w / 4, bands = l == levels - 1 ? dst : temps[l]
            // Along the width (rows of length w), then along the height.
            for y in 0..<h { analyzeRow(row(y), n: w, low: work.low + y * (w / 2), high: work.high + y * (w / 2)) }
            analyzeColumns(work.low, n: h, width: w / 2, low: bands, high: bands + quarter)
            analyzeColumns(work.high, n: h, width: w / 2, low: bands + 2 * quarter, high: bands + 3 * quarter)
            guard l < levels - 1 else { return }
            for b in 0..<4 {
                let band = bands + b * quarter
                transform(level: l + 1, h: h / 2, w: w / 2, into: dst + b * quarter) { UnsafePointer(band + $0 * (w / 2)) }
            }
        }
        return uninitialized(count) { out in
            for ch in 0..<channels {
                transform(level: 0, h: height, w: width, into: out + ch * height * width) { row(ch, $0, scratch) }
            }
        }
    }

    /// The inverse of `forward2D`: `channels` is the count before the transform.
    public static func inverse2D(_ bands: [Float], channels: Int, height: Int, width: Int, levels: Int) -> [Float] {
        checkShape(bands.count, channels * height * width, [height, width], levels)
        var x = bands
        var c = channels << (2 * levels), h = height >> levels, w = width >> levels
        let work = Workspace(width: width, height: height)
        defer { work.free() }
        for _ in 0..<levels {
            let quarter = h * w
            x = uninitialized(x.count) { out in
                x.withUnsafeBufferPointer { xb in
                    for ch in 0..<(c / 4) {
                        let src = xb.baseAddress! + 4 * ch * quarter
                        synthesizeColumns(low: src, high: src + quarter, n: 2 * h, width: w, into: work.low, work)
                        synthesizeColumns(low: src + 2 * quarter, high: src + 3 * quarter, n: 2 * h, width: w, into: work.high, work)
                        synthesizeRows(low: work.low, high: work.high, stride: w, rows: 2 * h, n: 2 * w, into: out + ch * 4 * quarter, work)
                    }
                }
            }
            c /= 4; h *= 2; w *= 2
        }
        return x
    }

    // MARK: 1-D

    /// `signals`: `channels` signals of `length` samples. Returns `channels·2^levels` signals of
    /// `length / 2^levels`.
    public static func forward1D(_ signals: [Float], channels: Int, length: Int, levels: Int) -> [Float] {
        checkShape(signals.count, channels * length, [length], levels)
        var x = signals, c = channels, n = length
        for _ in 0..<levels {
            // The c signals are the rows of a [c, n] matrix; signal ch becomes rows 2ch and 2ch + 1.
            x = uninitialized(x.count) { out in
                x.withUnsafeBufferPointer { xb in
                    analyzeRows(xb.baseAddress!, rows: c, n: n, low: out, high: out + n / 2, stride: n)
                }
            }
            c *= 2; n /= 2
        }
        return x
    }

    public static func inverse1D(_ bands: [Float], channels: Int, length: Int, levels: Int) -> [Float] {
        checkShape(bands.count, channels * length, [length], levels)
        var x = bands, c = channels << levels, n = length >> levels
        let work = Workspace(width: length, height: 1)
        defer { work.free() }
        for _ in 0..<levels {
            x = uninitialized(x.count) { out in
                x.withUnsafeBufferPointer { xb in
                    let src = xb.baseAddress!
                    synthesizeRows(low: src, high: src + n, stride: 2 * n, rows: c / 2, n: 2 * n, into: out, work)
                }
            }
            c /= 2; n *= 2
        }
        return x
    }

    static func checkShape(_ count: Int, _ expected: Int, _ sides: [Int], _ levels: Int) {
        precondition(levels >= 0 && count == expected, "wavelet input holds \(count) values, not \(expected)")
        precondition(sides.allSatisfy { $0 > 0 && $0 % (1 << levels) == 0 }, "wavelet sides \(sides) are not multiples of 2^\(levels)")
    }

    static func uninitialized(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { b, n in
            body(b.baseAddress!)
            n = count
        }
    }

    // MARK: One lifting level, cache-friendly
    //
    // The lifting steps run on a small scratch laid out [m, inner] with `inner` innermost, so every
    // step is one vectorized sweep over data that stays in L1: along the height `inner` is a strip
    // of up to `strip` columns; along the width a row is lifted on its own (it fits in L1). The
    // arithmetic of every element is the same as in the PyTorch twin (see `lift`), whatever the
    // blocking, so the bands are bit-identical to the plain column-by-column transform.

    static let strip = 64

    /// Scratch for one transform: the two half-planes of a level and the lifting tiles.
    struct Workspace {
        let low: UnsafeMutablePointer<Float>, high: UnsafeMutablePointer<Float>
        let s: UnsafeMutablePointer<Float>, d: UnsafeMutablePointer<Float>
        init(width: Int, height: Int) {
            let half = max(1, width * height / 2), tile = max(1, max(width, height * strip) / 2)
            low = .allocate(capacity: half); high = .allocate(capacity: half)
            s = .allocate(capacity: tile); d = .allocate(capacity: tile)
        }
        func free() { low.deallocate(); high.deallocate(); s.deallocate(); d.deallocate() }
    }

    /// Rows of `x` (`[rows, n]`) → their low and high halves, row r at `low + r·stride`.
    static func analyzeRows(_ x: UnsafePointer<Float>, rows: Int, n: Int, low: UnsafeMutablePointer<Float>,
                            high: UnsafeMutablePointer<Float>, stride: Int) {
        for r in 0..<rows { analyzeRow(x + r * n, n: n, low: low + r * stride, high: high + r * stride) }
    }

    /// One row of n samples → its n/2 low and n/2 high band values. A row fits in L1, so it is
    /// lifted in place in its output (`inner` = 1; measured faster than gathering blocks of rows
    /// transposed, whose strided copies cost more than they save).
    @inline(__always)
    static func analyzeRow(_ x: UnsafePointer<Float>, n: Int, low: UnsafeMutablePointer<Float>, high: UnsafeMutablePointer<Float>) {
        let m = n / 2
        deinterleave(x, even: low, odd: high, count: m)
        lift(low, high, m: m, inner: 1)
    }

    /// Columns of `x` (`[n, width]`) → low and high bands `[n/2, width]`, lifted in the output
    /// rows themselves: each lifting step is one sweep per row pair, the first two read the input's
    /// even and odd rows directly and the last applies the band scales as it writes, so nothing is
    /// copied in or out of a scratch (those copies measured ~15 % of an image encode). Per element,
    /// the operations are `lift`'s, in its order.
    static func analyzeColumns(_ x: UnsafePointer<Float>, n: Int, width w: Int, low: UnsafeMutablePointer<Float>,
                               high: UnsafeMutablePointer<Float>) {
        let m = n / 2
        @inline(__always) func even(_ k: Int) -> UnsafePointer<Float> { x + 2 * k * w }
        @inline(__always) func lo(_ k: Int) -> UnsafeMutablePointer<Float> { low + k * w }
        @inline(__always) func hi(_ k: Int) -> UnsafeMutablePointer<Float> { high + k * w }
        // d = odd + α(s[k] + s[k+1]); s = even + β(d[k−1] + d[k]); d += γ(s[k] + s[k+1]), periodic.
        for k in 0..<m { addScaledSum(hi(k), base: x + (2 * k + 1) * w, even(k), even(k + 1 == m ? 0 : k + 1), alpha, w) }
        for k in 0..<m { addScaledSum(lo(k), base: even(k), hi(k == 0 ? m - 1 : k - 1), hi(k), beta, w) }
        for k in 0..<m { addScaledSum(hi(k), base: hi(k), lo(k), lo(k + 1 == m ? 0 : k + 1), gamma, w) }
        // s = (s + δ(d[k−1] + d[k]))·lowScale, and d·highScale once no later s needs it (row m − 1
        // last: s[0] reads it).
        for k in 0..<m {
            addScaledSum(lo(k), base: lo(k), hi(k == 0 ? m - 1 : k - 1), hi(k), delta, w, then: lowScale)
            if k > 0 { scale(hi(k - 1), by: highScale, w) }
        }
        scale(hi(m - 1), by: highScale, w)
    }

    /// The inverse of `analyzeRows`: bands with row r at `low + r·stride` → rows `[rows, n]`.
    static func synthesizeRows(low: UnsafePointer<Float>, high: UnsafePointer<Float>, stride: Int, rows: Int, n: Int,
                               into out: UnsafeMutablePointer<Float>, _ work: Workspace) {
        let m = n / 2, s = work.s, d = work.d, (ls, hs) = (lowScale, highScale)
        for r in 0..<rows {
            let lo = low + r * stride, hi = high + r * stride, dst = out + r * n
            for k in 0..<m { s[k] = lo[k] / ls; d[k] = hi[k] / hs }
            unlift(s, d, m: m, inner: 1)
            interleave(even: s, odd: d, into: dst, count: m)
        }
    }

    /// The inverse of `analyzeColumns`.
    static func synthesizeColumns(low: UnsafePointer<Float>, high: UnsafePointer<Float>, n: Int, width: Int,
                                  into out: UnsafeMutablePointer<Float>, _ work: Workspace) {
        let m = n / 2, s = work.s, d = work.d, (lScale, hScale) = (lowScale, highScale)
        for j0 in Swift.stride(from: 0, to: width, by: strip) {
            let b = min(strip, width - j0)
            for k in 0..<m {
                let ls = low + k * width + j0, hs = high + k * width + j0, ss = s + k * b, ds = d + k * b
                for i in 0..<b { ss[i] = ls[i] / lScale; ds[i] = hs[i] / hScale }
            }
            unlift(s, d, m: m, inner: b)
            for k in 0..<m {
                (out + 2 * k * width + j0).update(from: s + k * b, count: b)
                (out + (2 * k + 1) * width + j0).update(from: d + k * b, count: b)
            }
        }
    }

    /// The four lifting steps and the band scaling on even (`s`) and odd (`d`) samples laid out
    /// `[m, inner]`, ordered as in the PyTorch twin: d + α(s[k] + s[k+1]), s + β(d[k−1] + d[k]).
    @inline(__always)
    static func lift(_ s: UnsafeMutablePointer<Float>, _ d: UnsafeMutablePointer<Float>, m: Int, inner: Int) {
        predict(d, from: s, m: m, inner: inner, alpha)
        update(s, from: d, m: m, inner: inner, beta)
        predict(d, from: s, m: m, inner: inner, gamma)
        update(s, from: d, m: m, inner: inner, delta, then: lowScale)  // the low band's scale in the same sweep
        scale(d, by: highScale, m * inner)
    }

    /// `lift` undone (the bands already divided by their scales).
    @inline(__always)
    static func unlift(_ s: UnsafeMutablePointer<Float>, _ d: UnsafeMutablePointer<Float>, m: Int, inner: Int) {
        update(s, from: d, m: m, inner: inner, -delta)
        predict(d, from: s, m: m, inner: inner, -gamma)
        update(s, from: d, m: m, inner: inner, -beta)
        predict(d, from: s, m: m, inner: inner, -alpha)
    }

    /// d[k] += c·(s[k] + s[k+1]), periodic: rows k and k + 1 of `[m, inner]` are `inner` apart, so
    /// the m − 1 interior rows are one contiguous sweep, then the last row wraps to the first.
    @inline(__always)
    static func predict(_ d: UnsafeMutablePointer<Float>, from s: UnsafeMutablePointer<Float>, m: Int, inner: Int, _ c: Float) {
        addScaledSum(d, base: d, s, s + inner, c, (m - 1) * inner)
        addScaledSum(d + (m - 1) * inner, base: d + (m - 1) * inner, s + (m - 1) * inner, s, c, inner)
    }

    /// s[k] += c·(d[k−1] + d[k]), periodic (row 0 reads the last row).
    @inline(__always)
    static func update(_ s: UnsafeMutablePointer<Float>, from d: UnsafeMutablePointer<Float>, m: Int, inner: Int, _ c: Float,
                       then scale: Float? = nil) {
        addScaledSum(s, base: s, d + (m - 1) * inner, d, c, inner, then: scale)
        addScaledSum(s + inner, base: s + inner, d, d + inner, c, (m - 1) * inner, then: scale)
    }

    // MARK: Vector loops
    //
    // Explicit SIMD loads and stores: the compiler cannot prove the pointers disjoint, so it left
    // the plain loops scalar (or behind run-time overlap checks). Every element still sees the
    // same operations in the same order as the scalar form (no fused multiply-add), so results
    // are bit-identical to it and to the PyTorch twin.

    typealias V = SIMD8<Float>

    /// out[i] = base[i] + c·(a[i] + b[i]), then ·scale when given (one rounding per operation,
    /// as written); `out` may be `base` (in place) and is disjoint from `a` and `b`.
    @inline(__always)
    static func addScaledSum(_ out: UnsafeMutablePointer<Float>, base: UnsafePointer<Float>, _ a: UnsafePointer<Float>,
                             _ b: UnsafePointer<Float>, _ c: Float, _ count: Int, then scale: Float? = nil) {
        let o = UnsafeMutableRawPointer(out), r = UnsafeRawPointer(base), ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        let cv = V(repeating: c), sv = V(repeating: scale ?? 1)
        var i = 0
        while i + 8 <= count {
            let sum = ra.loadUnaligned(fromByteOffset: 4 * i, as: V.self) + rb.loadUnaligned(fromByteOffset: 4 * i, as: V.self)
            var v = r.loadUnaligned(fromByteOffset: 4 * i, as: V.self) + cv * sum
            if scale != nil { v = v * sv }
            o.storeBytes(of: v, toByteOffset: 4 * i, as: V.self)
            i += 8
        }
        while i < count {
            var v = base[i] + c * (a[i] + b[i])
            if let scale { v = v * scale }
            out[i] = v
            i += 1
        }
    }

    /// x[i] = x[i]·c.
    @inline(__always)
    static func scale(_ x: UnsafeMutablePointer<Float>, by c: Float, _ count: Int) {
        let o = UnsafeMutableRawPointer(x), cv = V(repeating: c)
        var i = 0
        while i + 8 <= count {
            o.storeBytes(of: o.loadUnaligned(fromByteOffset: 4 * i, as: V.self) * cv, toByteOffset: 4 * i, as: V.self)
            i += 8
        }
        while i < count { x[i] *= c; i += 1 }
    }

    /// even[k] = x[2k], odd[k] = x[2k + 1] for k < count.
    @inline(__always)
    static func deinterleave(_ x: UnsafePointer<Float>, even: UnsafeMutablePointer<Float>, odd: UnsafeMutablePointer<Float>, count: Int) {
        let src = UnsafeRawPointer(x), e = UnsafeMutableRawPointer(even), o = UnsafeMutableRawPointer(odd)
        var k = 0
        while k + 4 <= count {
            let v = src.loadUnaligned(fromByteOffset: 8 * k, as: V.self)
            e.storeBytes(of: v.evenHalf, toByteOffset: 4 * k, as: SIMD4<Float>.self)
            o.storeBytes(of: v.oddHalf, toByteOffset: 4 * k, as: SIMD4<Float>.self)
            k += 4
        }
        while k < count { even[k] = x[2 * k]; odd[k] = x[2 * k + 1]; k += 1 }
    }

    /// The inverse of `deinterleave`.
    @inline(__always)
    static func interleave(even: UnsafePointer<Float>, odd: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, count: Int) {
        let dst = UnsafeMutableRawPointer(x), e = UnsafeRawPointer(even), o = UnsafeRawPointer(odd)
        var k = 0
        while k + 4 <= count {
            let a = e.loadUnaligned(fromByteOffset: 4 * k, as: SIMD4<Float>.self), b = o.loadUnaligned(fromByteOffset: 4 * k, as: SIMD4<Float>.self)
            dst.storeBytes(of: V(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3]), toByteOffset: 8 * k, as: V.self)
            k += 4
        }
        while k < count { x[2 * k] = even[k]; x[2 * k + 1] = odd[k]; k += 1 }
    }
}
