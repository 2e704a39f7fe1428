/// A dense, contiguous, row-major Float32 tensor with value semantics.
///
/// Layouts follow PyTorch so weights load without transposes: activations are `[N, C, L]` (1-d) or
/// `[N, C, H, W]` (2-d), linear weights `[out, in]`, conv weights `[out, in/groups, k...]`.
public struct Tensor: Equatable, Sendable {
    public private(set) var shape: [Int]
    public var scalars: [Float]

    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(shape.reduce(1, *) == scalars.count, "shape \(shape) does not hold \(scalars.count) scalars")
        self.shape = shape
        self.scalars = scalars
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public var count: Int { scalars.count }
    public var rank: Int { shape.count }

    /// The same scalars viewed with another shape of the same size.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }

    /// Element-wise sum; shapes must match.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        var out = a
        out += b
        return out
    }

    /// Adds `b` element-wise in place (no new storage when `a` is uniquely referenced).
    public static func += (a: inout Tensor, b: Tensor) {
        precondition(a.shape == b.shape, "adding \(b.shape) to \(a.shape)")
        a.scalars.withUnsafeMutableBufferPointer { o in
            b.scalars.withUnsafeBufferPointer { bb in
                for i in 0..<o.count { o[i] += bb[i] }
            }
        }
    }

    /// Applies `f` to every scalar.
    public func map(_ f: (Float) -> Float) -> Tensor {
        Tensor(shape: shape, scalars: scalars.map(f))
    }

    /// Element-wise difference; shapes must match.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "subtracting \(b.shape) from \(a.shape)")
        return Tensor(shape: a.shape, scalars: zip(a.scalars, b.scalars).map { $0 - $1 })
    }

    /// Every scalar times `s`.
    public static func * (a: Tensor, s: Float) -> Tensor { a.map { $0 * s } }

    /// The transpose of a matrix `[rows, cols]` → `[cols, rows]` (e.g. `[C, H·W]` ↔ `[H·W, C]`
    /// between convolution and attention layouts).
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed() needs a matrix, got \(shape)")
        let (r, c) = (shape[0], shape[1])
        var out = [Float](repeating: 0, count: count)
        for i in 0..<r { for j in 0..<c { out[j * r + i] = scalars[i * c + j] } }
        return Tensor(shape: [c, r], scalars: out)
    }

    /// Joins tensors along `axis`; all other dimensions must agree.
    public static func concatenate(_ parts: [Tensor], axis: Int) -> Tensor {
        precondition(!parts.isEmpty, "concatenating nothing")
        let first = parts[0].shape
        precondition(axis >= 0 && axis < first.count, "axis \(axis) outside rank \(first.count)")
        for p in parts {
            precondition(p.rank == first.count && p.shape.enumerated().allSatisfy { $0.offset == axis || $0.element == first[$0.offset] },
                         "cannot concatenate \(p.shape) with \(first) along \(axis)")
        }
        let outer = first.prefix(axis).reduce(1, *), inner = first.suffix(from: axis + 1).reduce(1, *)
        var out: [Float] = []
        out.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for o in 0..<outer {
            for p in parts {
                let chunk = p.shape[axis] * inner
                out.append(contentsOf: p.scalars[o * chunk..<(o + 1) * chunk])
            }
        }
        var shape = first
        shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        return Tensor(shape: shape, scalars: out)
    }
}
