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
    static let lowScale = Float(2.0.squareRoot() / k)
    static let highScale = Float(k / 2.0.squareRoot())

    // MARK: 2-D

    /// `planes`: `channels` planes of `height`x`width`, row-major. Returns
    /// `channels·4^levels` planes of `(height, width) / 2^levels`.
    public static func forward2D(_ planes: [Float], channels: Int, height: Int, width: Int, levels: Int) -> [Float] {
        checkShape(planes.count, channels * height * width, [height, width], levels)
        var x = planes, c = channels, h = height, w = width
        for _ in 0..<levels {
            var out = [Float](repeating: 0, count: x.count)
            let plane = h * w, quarter = plane / 4
            var lo = [Float](repeating: 0, count: plane / 2), hi = lo
            x.withUnsafeBufferPointer { xb in
                out.withUnsafeMutableBufferPointer { ob in
                    lo.withUnsafeMutableBufferPointer { lb in
                        hi.withUnsafeMutableBufferPointer { hb in
                            for ch in 0..<c {
                                // Along the width (rows of length w), then along the height.
                                analysis(xb.baseAddress! + ch * plane, outer: h, n: w, inner: 1, low: lb.baseAddress!, high: hb.baseAddress!)
                                let dst = ob.baseAddress! + 4 * ch * quarter
                                analysis(lb.baseAddress!, outer: 1, n: h, inner: w / 2, low: dst, high: dst + quarter)
                                analysis(hb.baseAddress!, outer: 1, n: h, inner: w / 2, low: dst + 2 * quarter, high: dst + 3 * quarter)
                            }
                        }
                    }
                }
            }
            x = out; c *= 4; h /= 2; w /= 2
        }
        return x
    }

    /// The inverse of `forward2D`: `channels` is the count before the transform.
    public static func inverse2D(_ bands: [Float], channels: Int, height: Int, width: Int, levels: Int) -> [Float] {
        checkShape(bands.count, channels * height * width, [height, width], levels)
        var x = bands
        var c = channels << (2 * levels), h = height >> levels, w = width >> levels
        for _ in 0..<levels {
            var out = [Float](repeating: 0, count: x.count)
            let quarter = h * w
            var lo = [Float](repeating: 0, count: 2 * quarter), hi = lo
            x.withUnsafeBufferPointer { xb in
                out.withUnsafeMutableBufferPointer { ob in
                    lo.withUnsafeMutableBufferPointer { lb in
                        hi.withUnsafeMutableBufferPointer { hb in
                            for ch in 0..<(c / 4) {
                                let src = xb.baseAddress! + 4 * ch * quarter
                                synthesis(low: src, high: src + quarter, outer: 1, n: 2 * h, inner: w, into: lb.baseAddress!)
                                synthesis(low: src + 2 * quarter, high: src + 3 * quarter, outer: 1, n: 2 * h, inner: w, into: hb.baseAddress!)
                                synthesis(low: lb.baseAddress!, high: hb.baseAddress!, outer: 2 * h, n: 2 * w, inner: 1,
                                          into: ob.baseAddress! + ch * 4 * quarter)
                            }
                        }
                    }
                }
            }
            x = out; c /= 4; h *= 2; w *= 2
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
            var out = [Float](repeating: 0, count: x.count)
            x.withUnsafeBufferPointer { xb in
                out.withUnsafeMutableBufferPointer { ob in
                    for ch in 0..<c {
                        let dst = ob.baseAddress! + ch * n
                        analysis(xb.baseAddress! + ch * n, outer: 1, n: n, inner: 1, low: dst, high: dst + n / 2)
                    }
                }
            }
            x = out; c *= 2; n /= 2
        }
        return x
    }

    public static func inverse1D(_ bands: [Float], channels: Int, length: Int, levels: Int) -> [Float] {
        checkShape(bands.count, channels * length, [length], levels)
        var x = bands, c = channels << levels, n = length >> levels
        for _ in 0..<levels {
            var out = [Float](repeating: 0, count: x.count)
            x.withUnsafeBufferPointer { xb in
                out.withUnsafeMutableBufferPointer { ob in
                    for ch in 0..<(c / 2) {
                        let src = xb.baseAddress! + 2 * ch * n
                        synthesis(low: src, high: src + n, outer: 1, n: 2 * n, inner: 1, into: ob.baseAddress! + 2 * ch * n)
                    }
                }
            }
            x = out; c /= 2; n *= 2
        }
        return x
    }

    static func checkShape(_ count: Int, _ expected: Int, _ sides: [Int], _ levels: Int) {
        precondition(levels >= 0 && count == expected, "wavelet input holds \(count) values, not \(expected)")
        precondition(sides.allSatisfy { $0 > 0 && $0 % (1 << levels) == 0 }, "wavelet sides \(sides) are not multiples of 2^\(levels)")
    }

    // MARK: One lifting level

    /// `x` viewed as `[outer, n, inner]`; writes its low and high bands, each `[outer, n/2, inner]`.
    /// Loops run over `inner` innermost so the transform along the height is vectorized. The
    /// arithmetic is ordered as in the PyTorch twin: d + α(s[k] + s[k+1]), s + β(d[k−1] + d[k]).
    static func analysis(_ x: UnsafePointer<Float>, outer: Int, n: Int, inner: Int,
                         low: UnsafeMutablePointer<Float>, high: UnsafeMutablePointer<Float>) {
        let m = n / 2
        for o in 0..<outer {
            let src = x + o * n * inner, s = low + o * m * inner, d = high + o * m * inner
            if inner == 1 {
                for k in 0..<m { s[k] = src[2 * k]; d[k] = src[2 * k + 1] }
            } else {
                for k in 0..<m {
                    (s + k * inner).update(from: src + 2 * k * inner, count: inner)
                    (d + k * inner).update(from: src + (2 * k + 1) * inner, count: inner)
                }
            }
            predict(d, from: s, m: m, inner: inner, alpha)
            update(s, from: d, m: m, inner: inner, beta)
            predict(d, from: s, m: m, inner: inner, gamma)
            update(s, from: d, m: m, inner: inner, delta)
            for j in 0..<(m * inner) {
                s[j] *= lowScale
                d[j] *= highScale
            }
        }
    }

    /// The inverse of `analysis`: interleaves the bands back into `[outer, n, inner]`. The bands
    /// are copied first, so `low`/`high` are left unchanged.
    static func synthesis(low: UnsafePointer<Float>, high: UnsafePointer<Float>, outer: Int, n: Int, inner: Int,
                          into out: UnsafeMutablePointer<Float>) {
        let m = n / 2
        let s = UnsafeMutablePointer<Float>.allocate(capacity: m * inner), d = UnsafeMutablePointer<Float>.allocate(capacity: m * inner)
        defer { s.deallocate(); d.deallocate() }
        for o in 0..<outer {
            let ls = low + o * m * inner, hs = high + o * m * inner
            for j in 0..<(m * inner) {
                s[j] = ls[j] / lowScale
                d[j] = hs[j] / highScale
            }
            update(s, from: d, m: m, inner: inner, -delta)
            predict(d, from: s, m: m, inner: inner, -gamma)
            update(s, from: d, m: m, inner: inner, -beta)
            predict(d, from: s, m: m, inner: inner, -alpha)
            let dst = out + o * n * inner
            if inner == 1 {
                for k in 0..<m { dst[2 * k] = s[k]; dst[2 * k + 1] = d[k] }
            } else {
                for k in 0..<m {
                    (dst + 2 * k * inner).update(from: s + k * inner, count: inner)
                    (dst + (2 * k + 1) * inner).update(from: d + k * inner, count: inner)
                }
            }
        }
    }

    /// d[k] += c·(s[k] + s[k+1]), periodic. Rows of `inner` values; the interior rows run as plain
    /// pointer loops that the compiler vectorizes (element by element, so no reordering of sums).
    @inline(__always)
    static func predict(_ d: UnsafeMutablePointer<Float>, from s: UnsafeMutablePointer<Float>, m: Int, inner: Int, _ c: Float) {
        if inner == 1 {
            for k in 0..<(m - 1) { d[k] += c * (s[k] + s[k + 1]) }
        } else {
            for k in 0..<(m - 1) {
                let a = s + k * inner, b = a + inner, out = d + k * inner
                for i in 0..<inner { out[i] += c * (a[i] + b[i]) }
            }
        }
        let a = s + (m - 1) * inner, out = d + (m - 1) * inner
        for i in 0..<inner { out[i] += c * (a[i] + s[i]) }
    }

    /// s[k] += c·(d[k−1] + d[k]), periodic.
    @inline(__always)
    static func update(_ s: UnsafeMutablePointer<Float>, from d: UnsafeMutablePointer<Float>, m: Int, inner: Int, _ c: Float) {
        let last = d + (m - 1) * inner
        for i in 0..<inner { s[i] += c * (last[i] + d[i]) }
        if inner == 1 {
            for k in 1..<max(1, m) { s[k] += c * (d[k - 1] + d[k]) }
        } else {
            for k in 1..<max(1, m) {
                let a = d + (k - 1) * inner, b = a + inner, out = s + k * inner
                for i in 0..<inner { out[i] += c * (a[i] + b[i]) }
            }
        }
    }
}
