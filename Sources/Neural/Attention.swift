/// Multi-head self-attention with a fused `qkv` projection (`[3·dim, dim]`, rows ordered q, k, v;
/// head h uses columns h·headDim..<(h+1)·headDim of each) and an output projection, as
/// `torch.nn.functional.scaled_dot_product_attention` on `[T, heads, headDim]` views.
///
/// The full forward and the cached step share one kernel (`attend`, for one position or a batch of
/// positions that see the same keys; every element is computed alone), so on the deterministic
/// path a step reproduces the full forward's row bit for bit.
public struct MultiHeadSelfAttention: Sendable {
    public let qkv: Linear
    public let proj: Linear
    public let heads: Int
    public var dim: Int { proj.outFeatures }
    public var headDim: Int { dim / heads }

    public init(qkv: Linear, proj: Linear, heads: Int) {
        precondition(qkv.outFeatures == 3 * qkv.inFeatures && proj.inFeatures == qkv.inFeatures,
                     "attention: qkv must be [3d, d] and proj [d, d]")
        precondition(qkv.inFeatures % heads == 0, "attention: width \(qkv.inFeatures) not divisible by \(heads) heads")
        self.qkv = qkv; self.proj = proj; self.heads = heads
    }

    public init(_ weights: SafeTensors, _ prefix: String, dim: Int, heads: Int) throws {
        guard heads > 0, dim % heads == 0 else {
            throw SafeTensorsError.badEntry(name: prefix, reason: "width \(dim) is not divisible by \(heads) heads")
        }
        self.init(qkv: try Linear(weights, prefix + ".qkv", in: dim, out: 3 * dim),
                  proj: try Linear(weights, prefix + ".proj", in: dim, out: dim), heads: heads)
    }

    /// Keys and values of the positions seen so far, `[capacity, dim]` each.
    public struct Cache: Sendable {
        public let capacity: Int
        public private(set) var length = 0
        var keys: [Float]
        var values: [Float]

        public init(capacity: Int, dim: Int) {
            self.capacity = capacity
            keys = [Float](repeating: 0, count: capacity * dim)
            values = keys
        }

        public mutating func reset() { length = 0 }

        /// Forgets the positions from `length` on; the first `length` stay as they were.
        public mutating func truncate(to length: Int) {
            precondition(length >= 0 && length <= self.length, "cannot truncate \(self.length) positions to \(length)")
            self.length = length
        }

        /// Appends the keys and values of `count` positions from fused q|k|v rows `[count, 3·dim]`.
        mutating func append(_ qkvRows: UnsafePointer<Float>, count: Int, dim: Int) {
            precondition(length + count <= capacity, "attention cache full (\(capacity) positions)")
            keys.withUnsafeMutableBufferPointer { k in
                values.withUnsafeMutableBufferPointer { v in
                    for r in 0..<count {
                        let row = qkvRows + r * 3 * dim
                        (k.baseAddress! + (length + r) * dim).update(from: row + dim, count: dim)
                        (v.baseAddress! + (length + r) * dim).update(from: row + 2 * dim, count: dim)
                    }
                }
            }
            length += count
        }
    }

    /// Full self-attention over `x` `[T, dim]`.
    public func callAsFunction(_ x: Tensor, causal: Bool, path: KernelPath = .fast) -> Tensor {
        precondition(x.rank == 2 && x.shape[1] == dim, "attention expects [T, \(dim)], got \(x.shape)")
        let t = x.shape[0]
        let q = qkv(x, path: path).scalars
        var mixed = [Float](repeating: 0, count: t * dim)
        let d = dim
        q.withUnsafeBufferPointer { qb in
            let base = qb.baseAddress!
            mixed.withUnsafeMutableBufferPointer { mb in
                let out = SharedPointer(base: mb.baseAddress!)
                // Positions are independent: split them across threads (no reduction is split).
                parallelChunks(t, threads: t * t * d < 1 << 16 ? 1 : path.threads) { rows in
                    // Without the mask every position sees all t: one batch of rows per head.
                    let batch = causal ? 1 : rows.count
                    var scores = [Float](repeating: 0, count: batch * t)
                    scores.withUnsafeMutableBufferPointer { sb in
                        if causal {
                            for i in rows {
                                attend(queries: base + i * 3 * d, count: 1, keys: base + d, values: base + 2 * d, stride: 3 * d,
                                       length: i + 1, scores: sb.baseAddress!, out: out.base + i * d)
                            }
                        } else {
                            attend(queries: base + rows.lowerBound * 3 * d, count: rows.count, keys: base + d, values: base + 2 * d,
                                   stride: 3 * d, length: t, scores: sb.baseAddress!, out: out.base + rows.lowerBound * d)
                        }
                    }
                }
            }
        }
        return proj(Tensor(shape: [t, dim], scalars: mixed), path: path)
    }

    /// The next positions of a causal sequence: `x` `[n, dim]` holds their input rows; their keys
    /// and values join `cache`, and position i attends to everything cached up to itself. One
    /// position or many per call give the same bits on the deterministic path (every element is
    /// the same reduction), so an encoder may run blocks where its decoder runs single steps.
    public func step(_ x: Tensor, cache: inout Cache, path: KernelPath = .deterministic) -> Tensor {
        precondition(x.rank == 2 && x.shape[1] == dim, "attention step expects [n, \(dim)], got \(x.shape)")
        let n = x.shape[0], d = dim, start = cache.length
        let q = qkv(x, path: path).scalars
        var mixed = [Float](repeating: 0, count: n * d)
        q.withUnsafeBufferPointer { qb in
            cache.append(qb.baseAddress!, count: n, dim: d)
            cache.keys.withUnsafeBufferPointer { kb in
                cache.values.withUnsafeBufferPointer { vb in
                    mixed.withUnsafeMutableBufferPointer { mb in
                        let out = SharedPointer(base: mb.baseAddress!)
                        // Positions are independent: split them across threads (no reduction is split).
                        parallelChunks(n, threads: n * (start + n) * d < 1 << 16 ? 1 : path.threads) { rows in
                            var scores = [Float](repeating: 0, count: start + n)
                            scores.withUnsafeMutableBufferPointer { sb in
                                for i in rows {
                                    attend(queries: qb.baseAddress! + i * 3 * d, count: 1, keys: kb.baseAddress!, values: vb.baseAddress!,
                                           stride: d, length: start + i + 1, scores: sb.baseAddress!, out: out.base + i * d)
                                }
                            }
                        }
                    }
                }
            }
        }
        return proj(Tensor(shape: [n, d], scalars: mixed), path: path)
    }

    /// `count` positions that each attend to the same `length` positions: for every head,
    /// scores = q·kⱼ (`Kernels.dots`) · 1/√headDim for j < length, softmax (DMath), out = Σⱼ pⱼ vⱼ
    /// (`Kernels.deterministicMatmul`: in order j = 0, 1, ..., from 0). Queries are rows of
    /// fused q|k|v at stride 3·dim, outputs rows at stride dim; keys and values of position j start
    /// at `keys + j·stride`, `values + j·stride`. `scores` holds count·length floats. Every
    /// element is computed alone, so one call for n rows gives the bits of n calls for one.
    @inline(__always)
    func attend(queries: UnsafePointer<Float>, count: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, stride: Int,
                length: Int, scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let hd = headDim, d = dim
        let scale = 1 / Float(hd).squareRoot()
        for h in 0..<heads {
            let o = h * hd
            Kernels.dots(queries + o, ldx: 3 * d, keys + o, ldw: stride, bias: nil, scores, ldy: length,
                         m: count, columns: 0..<length, k: hd)
            for r in 0..<count {
                let row = scores + r * length
                for j in 0..<length { row[j] = row[j] * scale }
                DMath.softmaxInPlace(UnsafeMutableBufferPointer(start: row, count: length))
            }
            Kernels.deterministicMatmul(scores, values + o, out + o, rows: 0..<count, n: hd, k: length,
                                        ldb: stride, ldc: d, accumulate: false)
        }
    }
}
