/// Normalisations. Reductions run in a fixed order (mean first, then the mean of squared
/// deviations), so they are deterministic on both kernel paths.

/// Layer norm over the last dimension with optional affine weight and bias.
public struct LayerNorm: Sendable {
    public let weight: Tensor?
    public let bias: Tensor?
    public let dim: Int
    public let eps: Float

    public init(dim: Int, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) {
        self.dim = dim; self.weight = weight; self.bias = bias; self.eps = eps
    }

    public init(_ weights: SafeTensors, _ prefix: String, dim: Int, eps: Float = 1e-5) throws {
        self.init(dim: dim, weight: try weights.optionalTensor(prefix + ".weight", shape: [dim]),
                  bias: try weights.optionalTensor(prefix + ".bias", shape: [dim]), eps: eps)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape.last == dim, "layer norm over \(dim), got \(x.shape)")
        var out = x
        // The affine parameters as pointers (or nil) once per call, not an optional array read
        // per element: the same operations in the same order.
        let one = [Float]()
        (weight?.scalars ?? one).withUnsafeBufferPointer { w in
            (bias?.scalars ?? one).withUnsafeBufferPointer { b in
                let w = weight == nil ? nil : w.baseAddress, b = bias == nil ? nil : b.baseAddress
                out.scalars.withUnsafeMutableBufferPointer { o in
                    for r in 0..<(o.count / dim) { normalizeRow(o.baseAddress! + r * dim, weight: w, bias: b) }
                }
            }
        }
        return out
    }

    @inline(__always)
    func normalizeRow(_ v: UnsafeMutablePointer<Float>, weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?) {
        var sum: Float = 0
        for i in 0..<dim { sum += v[i] }
        let mean = sum / Float(dim)
        var sq: Float = 0
        for i in 0..<dim { let d = v[i] - mean; sq += d * d }
        let inv = 1 / (sq / Float(dim) + eps).squareRoot()
        switch (weight, bias) {
        case let (w?, b?): for i in 0..<dim { v[i] = (v[i] - mean) * inv * w[i] + b[i] }
        case let (w?, nil): for i in 0..<dim { v[i] = (v[i] - mean) * inv * w[i] }
        case let (nil, b?): for i in 0..<dim { v[i] = (v[i] - mean) * inv + b[i] }
        case (nil, nil): for i in 0..<dim { v[i] = (v[i] - mean) * inv }
        }
    }
}

/// RMS norm over the last dimension: x / sqrt(mean(x²) + eps) · weight.
public struct RMSNorm: Sendable {
    public let weight: Tensor?
    public let dim: Int
    public let eps: Float

    public init(dim: Int, weight: Tensor?, eps: Float = 1e-6) { self.dim = dim; self.weight = weight; self.eps = eps }

    public init(_ weights: SafeTensors, _ prefix: String, dim: Int, eps: Float = 1e-6) throws {
        self.init(dim: dim, weight: try weights.optionalTensor(prefix + ".weight", shape: [dim]), eps: eps)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape.last == dim, "RMS norm over \(dim), got \(x.shape)")
        var out = x
        out.scalars.withUnsafeMutableBufferPointer { o in
            for r in 0..<(o.count / dim) {
                let v = o.baseAddress! + r * dim
                var sq: Float = 0
                for i in 0..<dim { sq += v[i] * v[i] }
                let inv = 1 / (sq / Float(dim) + eps).squareRoot()
                for i in 0..<dim { v[i] = weight.map { v[i] * inv * $0.scalars[i] } ?? v[i] * inv }
            }
        }
        return out
    }
}

/// Group norm on `[N, C, ...]`: statistics over each group of C/groups channels and all positions,
/// then a per-channel affine.
public struct GroupNorm: Sendable {
    public let groups: Int
    public let channels: Int
    public let weight: Tensor?
    public let bias: Tensor?
    public let eps: Float

    public init(groups: Int, channels: Int, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) {
        precondition(channels % groups == 0, "group norm: \(channels) channels in \(groups) groups")
        self.groups = groups; self.channels = channels; self.weight = weight; self.bias = bias; self.eps = eps
    }

    public init(_ weights: SafeTensors, _ prefix: String, groups: Int, channels: Int, eps: Float = 1e-5) throws {
        self.init(groups: groups, channels: channels,
                  weight: try weights.optionalTensor(prefix + ".weight", shape: [channels]),
                  bias: try weights.optionalTensor(prefix + ".bias", shape: [channels]), eps: eps)
    }

    /// `activation(GroupNorm(x))` in one pass over one copy of `x`: each channel row is normalised
    /// and then activated while it is in cache (the same operations as the two layers one after the
    /// other, so the same bits; decoders' norm → SiLU pairs spend ~2x less memory traffic).
    public func callAsFunction(_ x: Tensor, then activation: Activation = .identity) -> Tensor {
        precondition(x.rank >= 2 && x.shape[1] == channels, "group norm expects [N, \(channels), ...], got \(x.shape)")
        let inner = x.shape.dropFirst(2).reduce(1, *)
        let perGroup = channels / groups * inner
        var out = x
        out.scalars.withUnsafeMutableBufferPointer { o in
            for n in 0..<x.shape[0] {
                for g in 0..<groups {
                    let v = o.baseAddress! + (n * channels * inner + g * perGroup)
                    // Summing x - x₀ instead of x keeps the partial sums small when the mean is
                    // large relative to the spread (the mean is then x₀ + Σ(x - x₀)/n).
                    let shift = v[0]
                    let mean = shift + blockedSum(perGroup) { v[$0] - shift } / Float(perGroup)
                    let sq = blockedSum(perGroup) { let d = v[$0] - mean; return d * d }
                    let inv = 1 / (sq / Float(perGroup) + eps).squareRoot()
                    // Channel by channel, so the affine parameters are loaded once per channel
                    // (the same operations in the same order as element by element).
                    for k in 0..<(channels / groups) {
                        let c = g * (channels / groups) + k, row = v + k * inner
                        switch (weight?.scalars[c], bias?.scalars[c]) {
                        case let (w?, b?): for i in 0..<inner { row[i] = (row[i] - mean) * inv * w + b }
                        case let (w?, nil): for i in 0..<inner { row[i] = (row[i] - mean) * inv * w }
                        case let (nil, b?): for i in 0..<inner { row[i] = (row[i] - mean) * inv + b }
                        case (nil, nil): for i in 0..<inner { row[i] = (row[i] - mean) * inv }
                        }
                        if activation != .identity { activation.apply(UnsafeMutableBufferPointer(start: row, count: inner)) }
                    }
                }
            }
        }
        return out
    }
}

/// Σ term(i) for i in 0..<count: sequential sums over blocks of 256, then a sequential sum of the
/// block sums. A fixed order (deterministic), with rounding error growing like 256 + count/256
/// rather than count, which matters for group norms over whole feature maps.
@inline(__always)
func blockedSum(_ count: Int, _ term: (Int) -> Float) -> Float {
    var total: Float = 0
    var start = 0
    while start < count {
        var block: Float = 0
        for i in start..<min(count, start + 256) { block += term(i) }
        total += block
        start += 256
    }
    return total
}
