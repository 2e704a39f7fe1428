import CKernels

/// Point-wise non-linearities, computed with `DMath` so they are deterministic on every path.
public enum Activation: Sendable, Equatable {
    case identity
    case relu
    case leakyReLU(slope: Float)
    case silu
    /// PyTorch `nn.GELU()`: x·Φ(x), with Φ from erfc.
    case gelu
    /// PyTorch `nn.GELU(approximate="tanh")`.
    case geluTanh
    case tanh
    case sigmoid

    /// The function on 8 lanes at once (lane-wise, so each lane equals the scalar result).
    @inlinable @inline(__always)
    public func apply(_ x: DMath.Vector) -> DMath.Vector {
        switch self {
        case .identity: return x
        case .relu: return x.replacing(with: 0, where: .!(x .> 0))
        case .leakyReLU(let slope): return x.replacing(with: x * slope, where: x .< 0)
        case .silu: return x / (1 + DMath.exp(-x))
        case .gelu: return x * (0.5 * DMath.erfc(x * -0.707_106_77))
        case .geluTanh:
            // 0.5·(1 + tanh(u)) = sigmoid(2u): no cancellation for negative x.
            let u = 0.797_884_6 * (x + 0.044_715 * (x * x * x))
            return x / (1 + DMath.exp(-2 * u))
        case .tanh: return DMath.tanh(x)
        case .sigmoid: return DMath.sigmoid(x)
        }
    }

    @inlinable
    public func apply(_ x: Float) -> Float { apply(DMath.Vector(repeating: x))[0] }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        var out = x
        apply(&out.scalars)
        return out
    }

    public func apply(_ v: inout [Float]) {
        v.withUnsafeMutableBufferPointer { apply($0) }
    }

    /// In place on `b`. The tanh GELU (the deterministic transformers' activation) and the SiLU
    /// (the convolutional decoders') run on CKernels' 16-lane copies of their operations where
    /// the CPU has them: the same bits (`KernelTests`).
    public func apply(_ b: UnsafeMutableBufferPointer<Float>) {
        #if arch(x86_64)
        if let base = b.baseAddress, SIMDLevel.current > .portable {
            let wide = SIMDLevel.current == .avx512
            switch self {
            case .geluTanh: wide ? ckernels_gelu_tanh_avx512(base, b.count) : ckernels_gelu_tanh_avx2(base, b.count); return
            case .silu: wide ? ckernels_silu_avx512(base, b.count) : ckernels_silu_avx2(base, b.count); return
            default: break
            }
        }
        #endif
        applyPortable(b)
    }

    /// `apply` in Swift, 8 lanes at a time: the reference.
    func applyPortable(_ b: UnsafeMutableBufferPointer<Float>) {
        switch self {  // one loop per case, so each specialises and vectorises
        case .identity: return
        case .relu: DMath.map(b) { Activation.relu.apply($0) }
        case .silu: DMath.map(b) { Activation.silu.apply($0) }
        case .gelu: DMath.map(b) { Activation.gelu.apply($0) }
        case .geluTanh: DMath.map(b) { Activation.geluTanh.apply($0) }
        default: DMath.map(b) { self.apply($0) }
        }
    }

    /// Parses the names used in codec.json: "relu", "gelu", "gelu_tanh", "silu", "tanh", ...
    public init?(name: String) {
        switch name.lowercased() {
        case "identity", "none": self = .identity
        case "relu": self = .relu
        case "silu", "swish": self = .silu
        case "gelu", "gelu_erf": self = .gelu
        case "gelu_tanh", "gelu_new": self = .geluTanh
        case "tanh": self = .tanh
        case "sigmoid": self = .sigmoid
        default: return nil
        }
    }
}

/// Snake (Ziyin et al. 2020, as in BigVGAN/DAC): x + sin²(αx)/α with one α per channel, on
/// `[N, C, ...]`. Uses the C library's sin: it only ever sits in reconstruction-only decoders.
public struct Snake: Sendable {
    public let alpha: Tensor

    public init(alpha: Tensor) { self.alpha = alpha.reshaped([alpha.count]) }

    public init(_ weights: SafeTensors, _ prefix: String) throws {
        self.init(alpha: try weights.tensor(prefix + ".alpha"))
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let c = alpha.count
        precondition(x.rank >= 2 && x.shape[1] == c, "snake expects [N, \(c), ...], got \(x.shape)")
        let inner = x.shape.dropFirst(2).reduce(1, *)
        var out = x
        out.scalars.withUnsafeMutableBufferPointer { o in
            for i in 0..<o.count {
                let a = alpha.scalars[(i / inner) % c]
                let s = Float(sinf(a * o[i]))
                o[i] = o[i] + s * s / (a + 1e-9)
            }
        }
        return out
    }
}

#if canImport(Glibc)
import Glibc
#endif
