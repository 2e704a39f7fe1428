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
        precondition(a.shape == b.shape, "adding \(a.shape) and \(b.shape)")
        var out = a
        out.scalars.withUnsafeMutableBufferPointer { o in
            b.scalars.withUnsafeBufferPointer { bb in
                for i in 0..<o.count { o[i] += bb[i] }
            }
        }
        return out
    }

    /// Applies `f` to every scalar.
    public func map(_ f: (Float) -> Float) -> Tensor {
        Tensor(shape: shape, scalars: scalars.map(f))
    }
}
