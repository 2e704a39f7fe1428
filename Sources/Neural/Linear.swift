/// y = x·Wᵀ + b over the last dimension; `weight` is `[out, in]` as in PyTorch.
public struct Linear: Sendable {
    public let weight: Tensor
    public let bias: Tensor?
    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    public init(weight: Tensor, bias: Tensor?) {
        precondition(weight.rank == 2, "linear weight must be [out, in], got \(weight.shape)")
        precondition(bias == nil || bias!.shape == [weight.shape[0]], "linear bias must be [out]")
        self.weight = weight
        self.bias = bias
    }

    /// Loads `<prefix>.weight` (and `<prefix>.bias` if present); checks `[out, in]` if given.
    public init(_ weights: SafeTensors, _ prefix: String, in inFeatures: Int? = nil, out outFeatures: Int? = nil) throws {
        let w = try weights.tensor(prefix + ".weight")
        guard w.rank == 2, inFeatures == nil || w.shape[1] == inFeatures, outFeatures == nil || w.shape[0] == outFeatures else {
            throw SafeTensorsError.shapeMismatch(name: prefix + ".weight", expected: [outFeatures ?? -1, inFeatures ?? -1], found: w.shape)
        }
        self.init(weight: w, bias: try weights.optionalTensor(prefix + ".bias", shape: [w.shape[0]]))
    }

    public func callAsFunction(_ x: Tensor, path: KernelPath = .fast) -> Tensor {
        precondition(x.shape.last == inFeatures, "linear expects last dimension \(inFeatures), got \(x.shape)")
        let m = x.count / inFeatures
        var out = [Float](repeating: 0, count: m * outFeatures)
        apply(x.scalars, m: m, into: &out, path: path)
        return Tensor(shape: Array(x.shape.dropLast()) + [outFeatures], scalars: out)
    }

    /// Applies to `m` rows stored contiguously in `x`, writing `[m, out]` into `y`.
    func apply(_ x: [Float], m: Int, into y: inout [Float], path: KernelPath) {
        x.withUnsafeBufferPointer { xb in
            weight.scalars.withUnsafeBufferPointer { wb in
                y.withUnsafeMutableBufferPointer { yb in
                    if let bias {
                        bias.scalars.withUnsafeBufferPointer { bb in
                            Kernels.linear(xb.baseAddress!, wb.baseAddress!, bias: bb.baseAddress!, yb.baseAddress!,
                                           m: m, n: outFeatures, k: inFeatures, path: path)
                        }
                    } else {
                        Kernels.linear(xb.baseAddress!, wb.baseAddress!, bias: nil, yb.baseAddress!,
                                       m: m, n: outFeatures, k: inFeatures, path: path)
                    }
                }
            }
        }
    }
}

/// A lookup table `[count, dim]`: index i → row i.
public struct Embedding: Sendable {
    public let weight: Tensor
    public var count: Int { weight.shape[0] }
    public var dim: Int { weight.shape[1] }

    public init(weight: Tensor) {
        precondition(weight.rank == 2, "embedding weight must be [count, dim]")
        self.weight = weight
    }

    public init(_ weights: SafeTensors, _ prefix: String) throws {
        let w = try weights.tensor(prefix + ".weight")
        guard w.rank == 2 else { throw SafeTensorsError.shapeMismatch(name: prefix + ".weight", expected: [-1, -1], found: w.shape) }
        self.init(weight: w)
    }

    /// Rows for `indices`, shape `[indices.count, dim]`. Indices must be < count.
    public func callAsFunction(_ indices: [Int]) -> Tensor {
        var out = [Float]()
        out.reserveCapacity(indices.count * dim)
        for i in indices {
            precondition(i >= 0 && i < count, "embedding index \(i) outside 0..<\(count)")
            out.append(contentsOf: weight.scalars[i * dim..<(i + 1) * dim])
        }
        return Tensor(shape: [indices.count, dim], scalars: out)
    }

    func row(_ i: Int) -> ArraySlice<Float> { weight.scalars[i * dim..<(i + 1) * dim] }
}
