/// Elementary functions built only from IEEE-754 +, -, *, / and bit operations, so they return
/// the same bits on every machine, libc and compiler (Swift never contracts a*b+c into an FMA on
/// its own). The C library's expf/tanhf/erff differ between libc versions; anything that feeds a
/// probability model must not depend on them. Accuracy is a few ulp, ample for 1e-4 parity.
public enum DMath {
    /// 1.5 * 2^23: adding and subtracting it rounds a Float of magnitude < 2^22 to the nearest
    /// integer (ties to even) in the current IEEE rounding mode, with no libcall.
    @usableFromInline static let roundingMagic: Float = 12_582_912

    /// e^x. Cody–Waite reduction x = n·ln2 + r, |r| ≤ ln2/2, then a degree-7 Taylor polynomial
    /// (truncation error < 1e-8 relative on that interval) and scaling by 2^n through the exponent bits.
    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float {
        if !(x < 88.72283) { return x.isNaN ? x : .infinity }
        if x < -103.97208 { return 0 }
        let n = (x * 1.442_695_04 + roundingMagic) - roundingMagic
        let r = (x - n * 0.693_145_75) - n * 1.428_606_8e-6
        var p: Float = 1.0 / 5040
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        // Scale in two steps so that n down to -150 (subnormal results) and up to 128 stay exact.
        let k = Int32(n)
        let half = k / 2
        let s1 = Float(bitPattern: UInt32(bitPattern: (half + 127) << 23))
        let s2 = Float(bitPattern: UInt32(bitPattern: (k - half + 127) << 23))
        return p * s1 * s2
    }

    /// Natural logarithm for x > 0: x = m·2^e with m in [√½, √2), then log(m) from the series of
    /// atanh(s), s = (m-1)/(m+1), |s| < 0.1716.
    @inlinable
    public static func log(_ x: Float) -> Float {
        if x.isNaN || x < 0 { return .nan }
        if x == 0 { return -.infinity }
        if x == .infinity { return x }
        var bits = x.bitPattern
        var e = Int32(bitPattern: (bits >> 23) & 0xff) - 127
        if e == -127 { // subnormal: normalise by 2^23
            let y = x * 8_388_608
            bits = y.bitPattern
            e = Int32(bitPattern: (bits >> 23) & 0xff) - 127 - 23
        }
        var m = Float(bitPattern: (bits & 0x007f_ffff) | 0x3f80_0000)
        if m > 1.414_213_5 { m *= 0.5; e += 1 }
        let s = (m - 1) / (m + 1)
        let s2 = s * s
        var p: Float = 1.0 / 11
        p = p * s2 + 1.0 / 9
        p = p * s2 + 1.0 / 7
        p = p * s2 + 1.0 / 5
        p = p * s2 + 1.0 / 3
        p = p * s2 + 1
        let fe = Float(e)
        return (fe * 1.428_606_8e-6 + 2 * s * p) + fe * 0.693_145_75
    }

    /// tanh(x): an odd Taylor polynomial for |x| < 0.2 (avoids cancellation), otherwise
    /// 1 - 2/(e^{2|x|}+1).
    @inlinable @inline(__always)
    public static func tanh(_ x: Float) -> Float {
        let a = abs(x)
        if a < 0.2 {
            let x2 = x * x
            var p: Float = 62.0 / 2835
            p = p * x2 - 17.0 / 315
            p = p * x2 + 2.0 / 15
            p = p * x2 - 1.0 / 3
            return x + x * (x2 * p)
        }
        if a > 9.1 { return x > 0 ? 1 : -1 }
        let t = 1 - 2 / (exp(2 * a) + 1)
        return x > 0 ? t : -t
    }

    /// The logistic function 1/(1+e^{-x}).
    @inlinable @inline(__always)
    public static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    /// Complementary error function with small *relative* error in both tails (Numerical Recipes'
    /// erfcc Chebyshev fit, fractional error < 1.2e-7, evaluated in Float; ≤ 1e-6 measured).
    @inlinable @inline(__always)
    public static func erfc(_ x: Float) -> Float {
        let z = abs(x)
        let t = 1 / (1 + 0.5 * z)
        var p: Float = 0.170_872_77
        p = p * t - 0.822_152_23
        p = p * t + 1.488_515_87
        p = p * t - 1.135_203_98
        p = p * t + 0.278_868_07
        p = p * t - 0.186_288_06
        p = p * t + 0.096_784_18
        p = p * t + 0.374_091_96
        p = p * t + 1.000_023_68
        p = p * t - 1.265_512_23
        // e^{-z²} with z² split as s² + (z-s)(z+s), s = z cut to 11 mantissa bits so s² is exact:
        // rounding z² directly would cost ~z²·2^-24 relative error (1e-5 at z = 9).
        let s = Float(bitPattern: z.bitPattern & 0xffff_f000)
        let r = t * exp(-s * s) * exp(-(z - s) * (z + s) + p)
        return x >= 0 ? r : 2 - r
    }

    @inlinable @inline(__always)
    public static func erf(_ x: Float) -> Float { 1 - erfc(x) }

    /// Probabilities from logits: subtract the maximum, exponentiate, normalise; sums in index order.
    public static func softmax(_ logits: [Float]) -> [Float] {
        var out = logits
        softmaxInPlace(&out)
        return out
    }

    public static func softmaxInPlace(_ v: inout [Float]) {
        v.withUnsafeMutableBufferPointer { softmaxInPlace($0) }
    }

    @inlinable
    public static func softmaxInPlace(_ v: UnsafeMutableBufferPointer<Float>) {
        guard !v.isEmpty else { return }
        var m = v[0]
        for x in v where x > m { m = x }
        var sum: Float = 0
        for i in v.indices { let e = exp(v[i] - m); v[i] = e; sum += e }
        let inv = 1 / sum
        for i in v.indices { v[i] *= inv }
    }
}
