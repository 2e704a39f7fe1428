import CKernels

/// Elementary functions built only from IEEE-754 +, -, *, / and bit operations, so they return
/// the same bits on every machine, libc and compiler (Swift never contracts a*b+c into an FMA on
/// its own). The C library's expf/tanhf/erff differ between libc versions; anything that feeds a
/// probability model must not depend on them. Accuracy is a few ulp, ample for 1e-4 parity.
///
/// Each function is written once, on `SIMD8<Float>` (lane-wise arithmetic, so every lane gets the
/// bits a scalar evaluation would); the scalar forms evaluate one lane of it.
public enum DMath {
    public typealias Vector = SIMD8<Float>

    /// 1.5 * 2^23: adding it rounds a Float of magnitude < 2^22 to an integer (ties to even) whose
    /// value sits in the low mantissa bits; subtracting it again gives that integer as a Float.
    @usableFromInline static let roundingMagic: Float = 12_582_912

    @usableFromInline typealias Bits = SIMD8<Int32>
    @inlinable @inline(__always) static func bits(_ v: Vector) -> Bits { unsafeBitCast(v, to: Bits.self) }
    @inlinable @inline(__always) static func float(_ b: Bits) -> Vector { unsafeBitCast(b, to: Vector.self) }

    /// e^x. Cody–Waite reduction x = n·ln2 + r, |r| ≤ ln2/2, a degree-7 Taylor polynomial
    /// (truncation error < 1e-8 relative), and 2^n applied through the exponent bits in two
    /// factors so that n from -150 (subnormal results) to 128 stays exact.
    @inlinable @inline(__always)
    public static func exp(_ x: Vector) -> Vector {
        let xc = x.replacing(with: -104, where: x .< -104).replacing(with: 89, where: x .> 89)
        let shifted = xc * 1.442_695_04 + roundingMagic
        let n = shifted - roundingMagic
        let k = bits(shifted) &- 0x4B40_0000
        let r = (xc - n * 0.693_145_75) - n * 1.428_606_8e-6
        var p = Vector(repeating: 1.0 / 5040)
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let half = k &>> 1
        let s1 = float((half &+ 127) &<< 23)
        let s2 = float((k &- half &+ 127) &<< 23)
        var y = p * s1 * s2
        y.replace(with: Float.infinity, where: x .>= 88.722_83)
        y.replace(with: 0, where: x .< -103.972_08)
        y.replace(with: x, where: x .!= x)  // NaN stays NaN
        return y
    }

    /// tanh(x): an odd Taylor polynomial for |x| < 0.2 (no cancellation), else 1 - 2/(e^{2|x|}+1).
    @inlinable @inline(__always)
    public static func tanh(_ x: Vector) -> Vector {
        let a = x.replacing(with: -x, where: x .< 0)
        let x2 = x * x
        var p = Vector(repeating: 62.0 / 2835)
        p = p * x2 - 17.0 / 315
        p = p * x2 + 2.0 / 15
        p = p * x2 - 1.0 / 3
        let small = x + x * (x2 * p)
        let t = 1 - 2 / (exp(2 * a) + 1)
        var y = t.replacing(with: -t, where: x .< 0)
        y.replace(with: small, where: a .< 0.2)
        return y
    }

    @inlinable @inline(__always)
    public static func sigmoid(_ x: Vector) -> Vector { 1 / (1 + exp(-x)) }

    /// Complementary error function with small *relative* error in both tails: Numerical Recipes'
    /// erfcc Chebyshev fit (fractional error < 1.2e-7), evaluated in Float; ≤ 1e-6 measured.
    @inlinable @inline(__always)
    public static func erfc(_ x: Vector) -> Vector {
        let z = x.replacing(with: -x, where: x .< 0)
        let t = 1 / (1 + 0.5 * z)
        var p = Vector(repeating: 0.170_872_77)
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
        let s = float(bits(z) & Bits(repeating: -4096))
        let d = (z - s) * (z + s)
        let r = t * exp(-s * s) * exp(p - d)
        return r.replacing(with: 2 - r, where: x .< 0)
    }

    @inlinable @inline(__always)
    public static func erf(_ x: Vector) -> Vector { 1 - erfc(x) }

    // Scalar forms: lane 0 of the vector forms, so scalar and vector callers agree bit for bit.
    @inlinable public static func exp(_ x: Float) -> Float { exp(Vector(repeating: x))[0] }
    @inlinable public static func tanh(_ x: Float) -> Float { tanh(Vector(repeating: x))[0] }
    @inlinable public static func sigmoid(_ x: Float) -> Float { sigmoid(Vector(repeating: x))[0] }
    @inlinable public static func erfc(_ x: Float) -> Float { erfc(Vector(repeating: x))[0] }
    @inlinable public static func erf(_ x: Float) -> Float { erf(Vector(repeating: x))[0] }

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

    /// Applies `f` to every element, 8 at a time (the tail padded with zeros).
    @inlinable @inline(__always)
    public static func map(_ v: UnsafeMutableBufferPointer<Float>, _ f: (Vector) -> Vector) {
        guard let base = v.baseAddress else { return }
        let raw = UnsafeMutableRawPointer(base)
        var i = 0
        while i + 8 <= v.count {
            raw.storeBytes(of: f(raw.loadUnaligned(fromByteOffset: 4 * i, as: Vector.self)), toByteOffset: 4 * i, as: Vector.self)
            i += 8
        }
        if i < v.count {
            var tail = Vector(repeating: 0)
            for j in i..<v.count { tail[j - i] = v[j] }
            let y = f(tail)
            for j in i..<v.count { v[j] = y[j - i] }
        }
    }

    /// Probabilities from logits: subtract the maximum, exponentiate, sum in index order, scale.
    public static func softmax(_ logits: [Float]) -> [Float] {
        var out = logits
        softmaxInPlace(&out)
        return out
    }

    public static func softmaxInPlace(_ v: inout [Float]) {
        v.withUnsafeMutableBufferPointer { softmaxInPlace($0) }
    }

    /// On AVX2 / AVX-512F machines CKernels runs these same lane-wise operations 16 lanes at a
    /// time (`SIMDLevel`): the same bits, `KernelTests` checks every path.
    public static func softmaxInPlace(_ v: UnsafeMutableBufferPointer<Float>) {
        guard let base = v.baseAddress, !v.isEmpty else { return }
        #if arch(x86_64)
        switch SIMDLevel.current {
        case .avx512: ckernels_softmax_avx512(base, v.count); return
        case .avx2: ckernels_softmax_avx2(base, v.count); return
        case .portable: break
        }
        #endif
        softmaxInPlacePortable(v)
    }

    /// `softmaxInPlace` in Swift on 8 lanes: the reference.
    static func softmaxInPlacePortable(_ v: UnsafeMutableBufferPointer<Float>) {
        guard !v.isEmpty else { return }
        var m = v[0]
        for x in v where x > m { m = x }
        let mv = Vector(repeating: m)
        map(v) { exp($0 - mv) }
        var sum: Float = 0
        for x in v { sum += x }
        let inv = 1 / sum
        for i in v.indices { v[i] *= inv }
    }
}
