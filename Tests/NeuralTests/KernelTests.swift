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

    /// Every `dots` path (portable Swift, CKernels' AVX2 and AVX-512F tiles where this CPU has
    /// them) gives, element for element, the bits of one `dot` (+ bias): k below, at and past the
    /// 32-element steps (every tail length), rows and columns that leave partial tiles, strided
    /// inputs, weights and outputs, a column range that does not start at 0, with and without bias.
    @Test(arguments: [(1, 1, 0), (1, 3, 1), (3, 5, 31), (5, 7, 32), (9, 9, 33), (4, 2, 64), (7, 11, 100), (13, 5, 257), (64, 19, 128)])
    func everyDotsPathIsTheDotOfEachElement(_ size: (Int, Int, Int)) {
        let (m, n, k) = size
        let ldx = k + 3, ldw = k + 1, ldy = n + 2, columns = (n > 2 ? 1 : 0)..<n
        let x = (0..<m * ldx).map { Float(sin(Double($0) * 1.9)) * 4 }
        let w = (0..<n * ldw).map { Float(cos(Double($0) * 0.53)) / 5 }
        let bias = (0..<n).map { Float(sin(Double($0) * 0.3)) }
        let y0 = (0..<m * ldy).map { Float($0 % 5) - 2 }
        var paths: [(String, (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>?, UnsafeMutablePointer<Float>) -> Void)] = [
            ("portable", { Kernels.dotsPortable($0, ldx: ldx, $1, ldw: ldw, bias: $2, $3, ldy: ldy, m: m, columns: columns, k: k) }),
            ("dispatched", { Kernels.dots($0, ldx: ldx, $1, ldw: ldw, bias: $2, $3, ldy: ldy, m: m, columns: columns, k: k) })]
        #if arch(x86_64)
        if SIMDLevel.current >= .avx2 {
            paths.append(("avx2", { ckernels_dots_avx2($0, ldx, $1, ldw, $2, $3, ldy, m, columns.lowerBound, columns.upperBound, k) }))
        }
        if SIMDLevel.current >= .avx512 {
            paths.append(("avx512", { ckernels_dots_avx512($0, ldx, $1, ldw, $2, $3, ldy, m, columns.lowerBound, columns.upperBound, k) }))
        }
        #endif
        for withBias in [false, true] {
            var expected = y0
            for r in 0..<m {
                for c in columns {
                    var s = x.withUnsafeBufferPointer { xb in
                        w.withUnsafeBufferPointer { Kernels.dot(xb.baseAddress! + r * ldx, $0.baseAddress! + c * ldw, k) }
                    }
                    if withBias { s = s + bias[c] }
                    expected[r * ldy + c] = s
                }
            }
            for (name, path) in paths {
                var y = y0
                bias.withUnsafeBufferPointer { b in path(x, w, withBias ? b.baseAddress! : nil, &y) }
                #expect(y.map(\.bitPattern) == expected.map(\.bitPattern), "\(name) \(size) bias \(withBias)")
            }
        }
    }

    /// Attention on the batched kernels (`dots` for the scores, the deterministic matmul for the
    /// weighted values) keeps the bits of its definition evaluated one position, head and key at
    /// a time: q·kⱼ by `dot`, times 1/√headDim, DMath's softmax, then out += pⱼ·vⱼ in order j.
    @Test(arguments: [true, false])
    func attentionHasTheBitsOfItsPerPositionDefinition(causal: Bool) {
        let (t, d, heads) = (37, 96, 3)
        let hd = d / heads
        func values(_ count: Int, _ f: Double) -> [Float] { (0..<count).map { Float(sin(Double($0) * f)) / 3 } }
        let attention = MultiHeadSelfAttention(qkv: Linear(weight: Tensor(shape: [3 * d, d], scalars: values(3 * d * d, 0.71)),
                                                           bias: Tensor(shape: [3 * d], scalars: values(3 * d, 1.3))),
                                               proj: Linear(weight: Tensor(shape: [d, d], scalars: values(d * d, 0.37)), bias: nil),
                                               heads: heads)
        let x = Tensor(shape: [t, d], scalars: values(t * d, 2.1).map { $0 * 6 })
        let qkv = attention.qkv(x, path: .deterministic).scalars
        var mixed = [Float](repeating: 0, count: t * d)
        let scale = 1 / Float(hd).squareRoot()
        qkv.withUnsafeBufferPointer { q in
            let base = q.baseAddress!
            for i in 0..<t {
                for h in 0..<heads {
                    let length = causal ? i + 1 : t, o = h * hd
                    var p = (0..<length).map { j in Kernels.dot(base + i * 3 * d + o, base + j * 3 * d + d + o, hd) * scale }
                    DMath.softmaxInPlace(&p)
                    var out = [Float](repeating: 0, count: hd)
                    for j in 0..<length { for e in 0..<hd { out[e] = out[e] + p[j] * base[j * 3 * d + 2 * d + o + e] } }
                    for e in 0..<hd { mixed[i * d + o + e] = out[e] }
                }
            }
        }
        let expected = attention.proj(Tensor(shape: [t, d], scalars: mixed), path: .deterministic).scalars.map(\.bitPattern)
        for threads in [1, 2] {
            let y = attention(x, causal: causal, path: .deterministic(threads: threads))
            #expect(y.scalars.map(\.bitPattern) == expected, "causal \(causal) threads \(threads)")
        }
    }

    /// The softmax, the tanh GELU and the SiLU on every path (CKernels' AVX2 and AVX-512F copies where
    /// this CPU has them) give the portable Swift bits: every tail length, logits across exp's
    /// clamps (±100, ±1e4), ties, an infinity and a NaN.
    @Test(arguments: [1, 7, 8, 15, 16, 17, 33, 64, 1000, 1024, 1025])
    func elementwiseKernelsHaveThePortableBits(_ n: Int) {
        func wave(_ f: Double, _ scale: Float) -> [Float] { (0..<n).map { i -> Float in Float(sin(Double(i) * f)) * scale } }
        var inputs: [[Float]] = [wave(0.91, 9), wave(1.7, 120), (0..<n).map { i -> Float in Float(i % 3) - 1 }]
        var extreme = wave(2.3, 1e4)
        extreme[n / 2] = n % 2 == 0 ? .infinity : -.infinity
        inputs.append(extreme)
        var nan = inputs[0]
        nan[n - 1] = Float.nan
        inputs.append(nan)
        typealias Kernel = (UnsafeMutablePointer<Float>, Int) -> Void
        var paths: [(String, softmax: Kernel, gelu: Kernel, silu: Kernel)] = []
        #if arch(x86_64)
        if SIMDLevel.current >= .avx2 {
            paths.append(("avx2", { ckernels_softmax_avx2($0, $1) }, { ckernels_gelu_tanh_avx2($0, $1) }, { ckernels_silu_avx2($0, $1) }))
        }
        if SIMDLevel.current >= .avx512 {
            paths.append(("avx512", { ckernels_softmax_avx512($0, $1) }, { ckernels_gelu_tanh_avx512($0, $1) }, { ckernels_silu_avx512($0, $1) }))
        }
        #endif
        paths.append(("dispatched", { DMath.softmaxInPlace(UnsafeMutableBufferPointer(start: $0, count: $1)) },
                      { Activation.geluTanh.apply(UnsafeMutableBufferPointer(start: $0, count: $1)) },
                      { Activation.silu.apply(UnsafeMutableBufferPointer(start: $0, count: $1)) }))
        for (c, x) in inputs.enumerated() {
            var softmax = x, gelu = x, silu = x
            softmax.withUnsafeMutableBufferPointer { DMath.softmaxInPlacePortable($0) }
            gelu.withUnsafeMutableBufferPointer { Activation.geluTanh.applyPortable($0) }
            silu.withUnsafeMutableBufferPointer { Activation.silu.applyPortable($0) }
            for path in paths {
                var s = x, g = x, l = x
                path.softmax(&s, n)
                path.gelu(&g, n)
                path.silu(&l, n)
                #expect(s.map(\.bitPattern) == softmax.map(\.bitPattern), "softmax \(path.0) n \(n) case \(c)")
                #expect(g.map(\.bitPattern) == gelu.map(\.bitPattern), "gelu \(path.0) n \(n) case \(c)")
                #expect(l.map(\.bitPattern) == silu.map(\.bitPattern), "silu \(path.0) n \(n) case \(c)")
            }
        }
    }

    /// CKernels' half → float conversion gives `floatFromHalf`'s bits for all 65,536 halves
    /// (zeros, subnormals, infinities, NaN payloads), from an odd address and with a short tail.
    @Test func halfConversionHasTheSwiftBits() {
        #if arch(x86_64)
        guard SIMDLevel.current >= .avx512 else { return }
        var bytes = [UInt8](repeating: 0, count: 1 + 2 * 65_536 + 2 * 7)
        for i in 0..<(65_536 + 7) {
            let h = UInt16(truncatingIfNeeded: i &* 40_503)  // every pattern once, then 7 more
            bytes[1 + 2 * i] = UInt8(h & 0xff)
            bytes[2 + 2 * i] = UInt8(h >> 8)
        }
        var out = [Float](repeating: 0, count: 65_536 + 7)
        bytes.withUnsafeBytes { raw in ckernels_half_to_float_avx512(raw.baseAddress! + 1, &out, out.count) }
        for i in 0..<out.count {
            let h = UInt16(bytes[1 + 2 * i]) | UInt16(bytes[2 + 2 * i]) << 8
            #expect(out[i].bitPattern == floatFromHalf(h).bitPattern, "half \(String(h, radix: 16))")
        }
        #endif
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
