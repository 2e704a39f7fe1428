import CKernels
import COpenBLAS
import Dispatch
import Synchronization

/// Which kernels a layer runs on.
///
/// - `fast`: OpenBLAS `cblas_sgemm` and SIMD loops, `threads` cores. Results may differ in the last
///   bits between machines, OpenBLAS builds and thread counts: use it for transforms whose output is
///   only reconstructed (an image, a waveform).
/// - `deterministic`: our own kernels with a fixed summation order per output element, no fused
///   multiply-add, and `DMath` instead of libm. Work is split across `threads` only by whole output
///   elements, never inside a reduction, so the bits are the same for every thread count, run and
///   machine. Use it for everything that feeds an entropy model.
public enum KernelPath: Sendable, Equatable {
    case fast(threads: Int)
    case deterministic(threads: Int)

    public static var fast: KernelPath { .fast(threads: defaultThreads) }
    public static var deterministic: KernelPath { .deterministic(threads: 1) }
    public static var defaultThreads: Int { max(1, System.coreCount) }

    public var threads: Int {
        switch self { case .fast(let t), .deterministic(let t): max(1, t) }
    }
    public var isDeterministic: Bool { if case .deterministic = self { true } else { false } }
}

/// OpenBLAS set up for a fast-path product: its kernels chosen once per process (see
/// `neuralcodecs_openblas_select_kernels` in Sources/COpenBLAS/include/copenblas.h), then its thread count.
enum BLAS {
    /// The OpenBLAS kernel set in use, e.g. "SkylakeX"; reading it first makes the choice.
    static let kernels: String = String(cString: neuralcodecs_openblas_select_kernels())

    static func prepare(threads: Int) {
        _ = kernels
        openblas_set_num_threads(Int32(max(1, threads)))
    }
}

/// The widest deterministic kernels this process runs (CKernels' run-time choice: CPUID, the
/// OS's register state, `NEURALCODECS_SIMD=portable|avx2` to cap it). Any level gives the same bits.
public enum SIMDLevel: Int, Sendable, Comparable {
    case portable = 0, avx2 = 1, avx512 = 2

    public static let current = SIMDLevel(rawValue: Int(ckernels_level())) ?? .portable

    public static func < (a: SIMDLevel, b: SIMDLevel) -> Bool { a.rawValue < b.rawValue }
}

enum System {
    /// The cores this process may use (its CPU affinity, so `taskset -c 1` means one thread per
    /// fast-path product, not one per online processor sharing that core).
    static let coreCount: Int = max(1, Int(ckernels_cpu_count()))
}

/// Runs `body(chunk range)` over `0..<count` split into at most `threads` contiguous chunks.
@inline(__always)
func parallelChunks(_ count: Int, threads: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    let chunks = min(threads, max(1, count / max(1, minChunk)))
    if chunks <= 1 { body(0..<count); return }
    // Every worker touches a disjoint range of the output, which is what makes sharing safe.
    withoutActuallyEscaping(body) { escapable in
        nonisolated(unsafe) let work = escapable
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = count * c / chunks, hi = count * (c + 1) / chunks
            if lo < hi { work(lo..<hi) }
        }
    }
}

/// A raw pointer that may cross into the worker closures of `parallelChunks`; each worker writes a
/// disjoint range.
struct SharedPointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
}

enum Kernels {
    /// Σ a[i]·b[i] for i in 0..<n in a fixed order: 32 lanes accumulate strided partial sums, the
    /// lanes are combined by a fixed pairwise tree, the tail is added last in index order.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc0 = SIMD16<Float>(repeating: 0), acc1 = SIMD16<Float>(repeating: 0)
        var i = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while i + 32 <= n {
            let x0 = ra.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
            let y0 = rb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
            let x1 = ra.loadUnaligned(fromByteOffset: 4 * i + 64, as: SIMD16<Float>.self)
            let y1 = rb.loadUnaligned(fromByteOffset: 4 * i + 64, as: SIMD16<Float>.self)
            acc0 = acc0 + x0 * y0
            acc1 = acc1 + x1 * y1
            i += 32
        }
        let s16 = acc0 + acc1
        let s8 = s16.lowHalf + s16.highHalf
        let s4 = s8.lowHalf + s8.highHalf
        let s2 = s4.lowHalf + s4.highHalf
        var s = s2[0] + s2[1]
        while i < n { s = s + a[i] * b[i]; i += 1 }
        return s
    }

    /// y[m, n] = Σ_k x[m, k]·w[n, k] (+ bias[n]): the linear-layer product with PyTorch's `[out, in]`
    /// weight layout. `x` is `[M, K]`, `w` is `[N, K]`, `y` is `[M, N]`.
    static func linear(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                       _ y: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, path: KernelPath) {
        switch path {
        case .fast(let threads) where m > 1:
            BLAS.prepare(threads: threads)
            if let bias {
                for r in 0..<m { (y + r * n).update(from: bias, count: n) }
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                        1, x, Int32(k), w, Int32(k), bias == nil ? 0 : 1, y, Int32(n))
        default:
            // One output element per dot product (`dots`: every element is the same `dot`
            // whatever m is, on every SIMD level), split over output columns (rows of w).
            let out = SharedPointer(base: y)
            let work = m * n * k
            parallelChunks(n, threads: work < 1 << 17 ? 1 : path.threads, minChunk: 16) { cols in
                dots(x, ldx: k, w, ldw: k, bias: bias, out.base, ldy: n, m: m, columns: cols, k: k)
            }
        }
    }

    /// y[r·ldy + c] = dot(x + r·ldx, w + c·ldw, k) (+ bias[c]) for r in 0..<m, c in `columns`: many
    /// `dot`s, each with exactly that function's operations and order whichever kernel runs
    /// (CKernels' AVX-512F or AVX2 tiles compute several at once from shared loads; `KernelTests`
    /// checks every path bit for bit).
    static func dots(_ x: UnsafePointer<Float>, ldx: Int, _ w: UnsafePointer<Float>, ldw: Int, bias: UnsafePointer<Float>?,
                     _ y: UnsafeMutablePointer<Float>, ldy: Int, m: Int, columns: Range<Int>, k: Int) {
        #if arch(x86_64)
        switch SIMDLevel.current {
        case .avx512:
            ckernels_dots_avx512(x, ldx, w, ldw, bias, y, ldy, m, columns.lowerBound, columns.upperBound, k)
            return
        case .avx2:
            ckernels_dots_avx2(x, ldx, w, ldw, bias, y, ldy, m, columns.lowerBound, columns.upperBound, k)
            return
        case .portable:
            break
        }
        #endif
        dotsPortable(x, ldx: ldx, w, ldw: ldw, bias: bias, y, ldy: ldy, m: m, columns: columns, k: k)
    }

    /// `dots` in portable Swift, the reference: each weight row is used for all m inputs while it
    /// is in cache (a weight matrix rarely fits in L2, the m input rows do).
    static func dotsPortable(_ x: UnsafePointer<Float>, ldx: Int, _ w: UnsafePointer<Float>, ldw: Int, bias: UnsafePointer<Float>?,
                             _ y: UnsafeMutablePointer<Float>, ldy: Int, m: Int, columns: Range<Int>, k: Int) {
        for c in columns {
            let wc = w + c * ldw
            for r in 0..<m {
                var s = dot(x + r * ldx, wc, k)
                if let bias { s = s + bias[c] }
                y[r * ldy + c] = s
            }
        }
    }

    /// c[m, n] = Σ_k a[m, k]·b[k, n] with `a` `[M, K]`, `b` `[K, N]` (row-major). The deterministic
    /// form accumulates each c[m, ·] row over k in increasing order (vectorised along n), and splits
    /// threads over rows m.
    /// Row r of b starts at b + r·ldb and row r of c at c + r·ldc (both default n), so b and c may be
    /// column blocks of wider matrices.
    static func matmul(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                       m: Int, n: Int, k: Int, ldb: Int? = nil, ldc: Int? = nil, accumulate: Bool = false, path: KernelPath) {
        let ldb = ldb ?? n, ldc = ldc ?? n
        switch path {
        case .fast(let threads):
            BLAS.prepare(threads: threads)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                        1, a, Int32(k), b, Int32(ldb), accumulate ? 1 : 0, c, Int32(ldc))
        case .deterministic(let threads):
            let out = SharedPointer(base: c)
            parallelChunks(m, threads: m * n * k < 1 << 16 ? 1 : threads, minChunk: 4) { rows in
                deterministicMatmul(a, b, out.base, rows: rows, n: n, k: k, ldb: ldb, ldc: ldc, accumulate: accumulate)
            }
        }
    }

    /// Rows `rows` of c = a·b (+ c). Every c[r, j] is computed as c = c + a[r, kk]·b[kk, j] for
    /// kk = 0, 1, ..., k-1 starting from 0 (or the old c), whatever the blocking or the vector
    /// width; so the widest kernel the CPU offers (CKernels: AVX-512F, AVX2) gives the bits of
    /// the portable one, only 2-4 times as fast (`KernelTests` checks every path).
    static func deterministicMatmul(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                                    rows: Range<Int>, n: Int, k: Int, ldb: Int, ldc: Int, accumulate: Bool) {
        #if arch(x86_64)
        switch SIMDLevel.current {
        case .avx512:
            ckernels_matmul_avx512(a, b, c, rows.lowerBound, rows.upperBound, n, k, ldb, ldc, accumulate ? 1 : 0)
            return
        case .avx2:
            ckernels_matmul_avx2(a, b, c, rows.lowerBound, rows.upperBound, n, k, ldb, ldc, accumulate ? 1 : 0)
            return
        case .portable:
            break
        }
        #endif
        deterministicMatmulPortable(a, b, c, rows: rows, n: n, k: k, ldb: ldb, ldc: ldc, accumulate: accumulate)
    }

    /// `deterministicMatmul` in portable Swift SIMD: tiles of 4 rows × 8 columns keep their
    /// accumulators in registers (8 SSE or 4 AVX registers, so no spills at any vector width);
    /// each 8-column strip of b is first packed contiguously (`[k, 8]`), so the inner loop
    /// streams it from L1 instead of striding a row (and a page) per step.
    static func deterministicMatmulPortable(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                                            rows: Range<Int>, n: Int, k: Int, ldb: Int, ldc: Int, accumulate: Bool) {
        typealias V = SIMD8<Float>
        @inline(__always) func loadC(_ r: Int, _ j: Int) -> V {
            accumulate ? UnsafeRawPointer(c).loadUnaligned(fromByteOffset: 4 * (r * ldc + j), as: V.self) : V(repeating: 0)
        }
        @inline(__always) func store(_ v: V, _ r: Int, _ j: Int) {
            UnsafeMutableRawPointer(c).storeBytes(of: v, toByteOffset: 4 * (r * ldc + j), as: V.self)
        }
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: 8 * k)
        defer { packed.deallocate() }
        let pk = UnsafeRawPointer(packed)
        var j = 0
        while j + 8 <= n {
            for kk in 0..<k { (packed + 8 * kk).update(from: b + kk * ldb + j, count: 8) }
            var r = rows.lowerBound
            while r + 4 <= rows.upperBound {
                var c0 = loadC(r, j), c1 = loadC(r + 1, j), c2 = loadC(r + 2, j), c3 = loadC(r + 3, j)
                let a0 = a + r * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k
                for kk in 0..<k {
                    let bv = pk.loadUnaligned(fromByteOffset: 32 * kk, as: V.self)
                    c0 = c0 + V(repeating: a0[kk]) * bv
                    c1 = c1 + V(repeating: a1[kk]) * bv
                    c2 = c2 + V(repeating: a2[kk]) * bv
                    c3 = c3 + V(repeating: a3[kk]) * bv
                }
                store(c0, r, j); store(c1, r + 1, j); store(c2, r + 2, j); store(c3, r + 3, j)
                r += 4
            }
            while r < rows.upperBound {
                var c0 = loadC(r, j)
                let ar = a + r * k
                for kk in 0..<k { c0 = c0 + V(repeating: ar[kk]) * pk.loadUnaligned(fromByteOffset: 32 * kk, as: V.self) }
                store(c0, r, j)
                r += 1
            }
            j += 8
        }
        // Remaining columns (< 8): scalar, same order.
        if j < n {
            for r in rows {
                for jj in j..<n {
                    var s: Float = accumulate ? c[r * ldc + jj] : 0
                    for kk in 0..<k { s = s + a[r * k + kk] * b[kk * ldb + jj] }
                    c[r * ldc + jj] = s
                }
            }
        }
    }

    /// y[i] += alpha·x[i], vectorised; each element sees exactly one multiply and one add.
    @inline(__always)
    static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        let av = SIMD16<Float>(repeating: alpha)
        let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
        while i + 16 <= n {
            let v = ry.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
                + av * rx.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
            ry.storeBytes(of: v, toByteOffset: 4 * i, as: SIMD16<Float>.self)
            i += 16
        }
        while i < n { y[i] = y[i] + alpha * x[i]; i += 1 }
    }
}

/// Reusable scratch arrays for the large temporaries of convolutions (padded input, im2col
/// columns): allocating them afresh on every call costs page faults that measured ~10 % of a
/// conv stack's time. Holds at most a few arrays, each as large as the largest request so far.
final class ScratchPool: Sendable {
    static let shared = ScratchPool()
    private let free = Mutex<[[Float]]>([])

    /// Runs `body` with an array of at least `count` elements whose contents are unspecified.
    func withBuffer<R>(count: Int, _ body: (inout [Float]) -> R) -> R {
        var buffer = free.withLock { $0.popLast() } ?? []
        if buffer.count < count { buffer = uninitializedFloats(count) }
        defer {
            let keep = buffer
            free.withLock { if $0.count < 4 { $0.append(keep) } }
        }
        return body(&buffer)
    }
}
