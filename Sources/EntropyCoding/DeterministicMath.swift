#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// exp and erfc built only from IEEE 754 basic operations (+, −, ×, ÷, round-to-integral) in a
/// fixed order, so every machine computes the same bits. The C
/// library's exp/erf differ between libc versions and must never feed a probability model.
///
/// Accuracy (checked against libm in the tests): relative error below 1e-14 for exp and below
/// 3e-12 for erfc on the ranges the parametric models use.
public enum DeterministicMath {
    // ln 2 split so that k · ln2High is exact for |k| < 2^11 (Cody–Waite range reduction).
    static let ln2High = 0.693147180369123816490      // 0x3FE62E42FEE00000
    static let ln2Low = 1.90821492927058770002e-10
    static let log2e = 1.4426950408889634074
    static let inverseSqrtPi = 0.56418958354775628695

    /// e^x. Reduces x = k·ln2 + r with |r| ≤ ln2/2, sums the Taylor series of e^r to degree 16
    /// (truncation error < 1e-17) by Horner's rule, and scales by 2^k exactly.
    public static func exp(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x > 709.78 { return .infinity }
        if x < -745.2 { return 0 }
        let k = (x * log2e).rounded(.toNearestOrEven)
        let r = (x - k * ln2High) - k * ln2Low
        var sum = 1.0
        var n = 16.0
        while n >= 1 {  // 1 + r/1 (1 + r/2 (1 + r/3 (...)))
            sum = 1 + r / n * sum
            n -= 1
        }
        // 2^k in two steps so that results in the subnormal range are reached without overflow.
        let k1 = Int(k) / 2, k2 = Int(k) - k1
        return sum * Double(sign: .plus, exponent: k1, significand: 1) * Double(sign: .plus, exponent: k2, significand: 1)
    }

    /// erfc(x) = 1 − erf(x). For |x| < 2.5 through the series
    /// erf(x) = 2/√π · e^(−x²) · Σ 2^n x^(2n+1) / (1·3·…·(2n+1)) (all terms positive, so no
    /// cancellation; 90 terms), for x ≥ 2.5 through the continued fraction
    /// erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))) evaluated bottom-up at depth 120.
    public static func erfc(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x < 0 { return 2 - erfc(-x) }
        if x > 27 { return 0 }
        let gaussian = exp(-(x * x))
        if x < 2.5 {
            var term = x, sum = x
            let twoX2 = 2 * x * x
            for n in 1...90 {
                term = term * twoX2 / Double(2 * n + 1)
                sum += term
            }
            return 1 - 2 * inverseSqrtPi * gaussian * sum
        }
        var tail = x
        var n = 120.0
        while n >= 1 {
            tail = x + (n / 2) / tail
            n -= 1
        }
        return inverseSqrtPi * gaussian / tail
    }
}

/// The C library's log2: only for measuring (ideal code lengths), never for a model.
@usableFromInline func log2Double(_ x: Double) -> Double { log2(x) }
