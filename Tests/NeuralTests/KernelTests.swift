import CKernels
import Testing
@testable import Neural

@Suite struct KernelTests {
    /// The blocked deterministic matmul must give exactly the bits of the naive loop that adds
    /// a[r, k]·b[k, j] in increasing k: that order is its contract. Sizes cover every remainder path.
    @Test(arguments: [(1, 1, 1), (3, 31, 5), (4, 32, 7), (9, 70, 13), (13, 100, 64)])
    func deterministicMatmulHasTheNaiveOrder(_ size: (Int, Int, Int)) {
        let (m, n, k) = size
        let a = (0..<m * k).map { Float(sin(Double($0) * 1.3)) * 3 }
        let b = (0..<k * n).map { Float(cos(Double($0) * 0.7)) / 3 }
        let c0 = (0..<m * n).map { Float($0 % 7) - 3 }
        for accumulate in [false, true] {
            var naive = accumulate ? c0 : [Float](repeating: 0, count: m * n)
            for r in 0..<m { for j in 0..<n { for kk in 0..<k { naive[r * n + j] = naive[r * n + j] + a[r * k + kk] * b[kk * n + j] } } }
            for threads in [1, 2] {
                var c = c0
                Kernels.matmul(a, b, &c, m: m, n: n, k: k, accumulate: accumulate, path: .deterministic(threads: threads))
                #expect(c.map(\.bitPattern) == naive.map(\.bitPattern), "\(size) accumulate \(accumulate) threads \(threads)")
                var f = c0
                Kernels.matmul(a, b, &f, m: m, n: n, k: k, accumulate: accumulate, path: .fast(threads: threads))
                #expect(zip(f, naive).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) }, "fast \(size)")
            }
        }
    }

    /// Every kernel path (portable Swift, CKernels' AVX2 and AVX-512F where this CPU has them)
    /// gives the naive loop's bits: odd sizes for every remainder (rows, 2-vector strips,
    /// 1-vector strips, scalar columns), k past CKernels' 256-deep blocks, strided b and c, a row
    /// range that does not start at 0, with and without accumulation.
    @Test(arguments: [(1, 1, 1), (5, 7, 3), (7, 47, 193), (9, 33, 300), (6, 95, 513), (48, 64, 192), (3, 17, 0)])
    func everyKernelPathHasTheNaiveOrder(_ size: (Int, Int, Int)) {
        let (m, n, k) = size
        let ldb = n + 3, ldc = n + 5, rows = (m > 2 ? 1 : 0)..<m
        let a = (0..<m * k).map { Float(sin(Double($0) * 1.7)) * 5 }
        let b = (0..<k * ldb).map { Float(cos(Double($0) * 0.37)) / 7 }
        let c0 = (0..<m * ldc).map { Float(sin(Double($0) * 0.11)) * 2 }
        var paths: [(String, (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Bool) -> Void)] = [
            ("portable", { Kernels.deterministicMatmulPortable($0, $1, $2, rows: rows, n: n, k: k, ldb: ldb, ldc: ldc, accumulate: $3) })]
        #if arch(x86_64)
        if SIMDLevel.current >= .avx2 {
            paths.append(("avx2", { ckernels_matmul_avx2($0, $1, $2, rows.lowerBound, rows.upperBound, n, k, ldb, ldc, $3 ? 1 : 0) }))
        }
        if SIMDLevel.current >= .avx512 {
            paths.append(("avx512", { ckernels_matmul_avx512($0, $1, $2, rows.lowerBound, rows.upperBound, n, k, ldb, ldc, $3 ? 1 : 0) }))
        }
        #endif
        for accumulate in [false, true] {
            var naive = c0
            for r in rows {
                for j in 0..<n {
                    var s: Float = accumulate ? c0[r * ldc + j] : 0
                    for kk in 0..<k { s = s + a[r * k + kk] * b[kk * ldb + j] }
                    naive[r * ldc + j] = s
                }
            }
            for (name, path) in paths {
                var c = c0
                path(a, b, &c, accumulate)
                #expect(c.map(\.bitPattern) == naive.map(\.bitPattern), "\(name) \(size) accumulate \(accumulate)")
            }
        }
    }

    @Test func dotMatchesDoubleReference() {
        for n in [0, 1, 31, 32, 33, 100, 257] {
            let a = (0..<n).map { Float(sin(Double($0))) }, b = (0..<n).map { Float(cos(Double($0) * 2)) }
            let exact = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            #expect(abs(Double(Kernels.dot(a, b, n)) - exact) <= 1e-5 * max(1, abs(exact)), "n = \(n)")
        }
    }

    @Test func mathFunctionsAreAccurate() {
        var x: Float = -87
        while x < 88 {
            let e = Double(DMath.exp(x)), ref = Foundation.exp(Double(x))
            #expect(abs(e - ref) <= 4e-7 * ref, "exp(\(x))")
            #expect(abs(Double(DMath.tanh(x)) - Foundation.tanh(Double(x))) <= 3e-7 * max(1e-3, abs(Foundation.tanh(Double(x)))), "tanh(\(x))")
            #expect(abs(Double(DMath.erfc(x)) - Foundation.erfc(Double(x))) <= 1e-6 * Foundation.erfc(Double(x)) || Foundation.erfc(Double(x)) < 1e-37, "erfc(\(x))")
            if x > 0 { #expect(abs(Double(DMath.log(x)) - Foundation.log(Double(x))) <= 3e-7 * max(1, abs(Foundation.log(Double(x)))), "log(\(x))") }
            x += 0.0137
        }
        #expect(DMath.exp(-Float.infinity) == 0 && DMath.exp(.infinity) == .infinity && DMath.exp(.nan).isNaN)
        #expect(DMath.log(0) == -.infinity && DMath.log(-1).isNaN && DMath.log(Float.leastNonzeroMagnitude) < -103)
        #expect(DMath.softmax([1, 2, 3]).reduce(0, +) > 0.999_999)
    }
}

import Foundation
