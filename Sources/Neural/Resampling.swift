/// Upsampling and pixel shuffle on `[N, C, L]` / `[N, C, H, W]`, as `F.interpolate` with an integer
/// `scale_factor` (align_corners=False) and `F.pixel_shuffle`.
public enum Resample {
    /// Nearest neighbour: output i reads input ⌊i/scale⌋ along each spatial dimension.
    public static func nearest(_ x: Tensor, scale: Int) -> Tensor {
        precondition(x.rank == 3 || x.rank == 4, "nearest upsampling expects [N, C, L] or [N, C, H, W]")
        let planes = x.shape[0] * x.shape[1]
        let h = x.rank == 4 ? x.shape[2] : 1, w = x.shape[x.rank - 1]
        let ho = x.rank == 4 ? h * scale : 1, wo = w * scale
        var out = [Float](repeating: 0, count: planes * ho * wo)
        for p in 0..<planes {
            for y in 0..<ho {
                let src = p * h * w + (y / (x.rank == 4 ? scale : 1)) * w
                for xx in 0..<wo { out[(p * ho + y) * wo + xx] = x.scalars[src + xx / scale] }
            }
        }
        return Tensor(shape: Array(x.shape.prefix(2)) + (x.rank == 4 ? [ho, wo] : [wo]), scalars: out)
    }

    /// Source indices and weights of one linearly interpolated output position.
    @inline(__always)
    static func linearTap(_ i: Int, scale: Int, size: Int) -> (Int, Int, Float, Float) {
        let src = max(0, (Float(i) + 0.5) / Float(scale) - 0.5)
        let i0 = min(Int(src), size - 1)
        let i1 = min(i0 + 1, size - 1)
        let l1 = src - Float(i0)
        return (i0, i1, 1 - l1, l1)
    }

    /// Linear (1-d) or bilinear (2-d) interpolation, align_corners=False.
    public static func linear(_ x: Tensor, scale: Int) -> Tensor {
        precondition(x.rank == 3 || x.rank == 4, "linear upsampling expects [N, C, L] or [N, C, H, W]")
        let planes = x.shape[0] * x.shape[1]
        let h = x.rank == 4 ? x.shape[2] : 1, w = x.shape[x.rank - 1]
        let ho = x.rank == 4 ? h * scale : 1, wo = w * scale
        let xTaps = (0..<wo).map { linearTap($0, scale: scale, size: w) }
        let yTaps = x.rank == 4 ? (0..<ho).map { linearTap($0, scale: scale, size: h) } : [(0, 0, Float(1), Float(0))]
        var out = [Float](repeating: 0, count: planes * ho * wo)
        x.scalars.withUnsafeBufferPointer { s in
            for p in 0..<planes {
                let plane = s.baseAddress! + p * h * w
                for (y, (y0, y1, wy0, wy1)) in yTaps.enumerated() {
                    for (xx, (x0, x1, wx0, wx1)) in xTaps.enumerated() {
                        let top = wx0 * plane[y0 * w + x0] + wx1 * plane[y0 * w + x1]
                        let v = x.rank == 4 ? wy0 * top + wy1 * (wx0 * plane[y1 * w + x0] + wx1 * plane[y1 * w + x1]) : top
                        out[(p * ho + y) * wo + xx] = v
                    }
                }
            }
        }
        return Tensor(shape: Array(x.shape.prefix(2)) + (x.rank == 4 ? [ho, wo] : [wo]), scalars: out)
    }

    /// `[N, C·r², H, W]` → `[N, C, H·r, W·r]`: out[c, h·r+i, w·r+j] = in[c·r² + i·r + j, h, w].
    public static func pixelShuffle(_ x: Tensor, factor r: Int) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] % (r * r) == 0, "pixel shuffle expects [N, C·\(r * r), H, W], got \(x.shape)")
        let (n, c, h, w) = (x.shape[0], x.shape[1] / (r * r), x.shape[2], x.shape[3])
        var out = [Float](repeating: 0, count: x.count)
        for b in 0..<n { for ch in 0..<c { for i in 0..<r { for j in 0..<r { for y in 0..<h { for xx in 0..<w {
            out[((b * c + ch) * h * r + y * r + i) * w * r + xx * r + j] = x.scalars[(((b * c + ch) * r * r + i * r + j) * h + y) * w + xx]
        } } } } } }
        return Tensor(shape: [n, c, h * r, w * r], scalars: out)
    }

    /// The inverse of `pixelShuffle` (PyTorch `pixel_unshuffle`).
    public static func pixelUnshuffle(_ x: Tensor, factor r: Int) -> Tensor {
        precondition(x.rank == 4 && x.shape[2] % r == 0 && x.shape[3] % r == 0, "pixel unshuffle expects H, W divisible by \(r)")
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2] / r, x.shape[3] / r)
        var out = [Float](repeating: 0, count: x.count)
        for b in 0..<n { for ch in 0..<c { for i in 0..<r { for j in 0..<r { for y in 0..<h { for xx in 0..<w {
            out[(((b * c + ch) * r * r + i * r + j) * h + y) * w + xx] = x.scalars[((b * c + ch) * h * r + y * r + i) * w * r + xx * r + j]
        } } } } } }
        return Tensor(shape: [n, c * r * r, h, w], scalars: out)
    }
}

/// A residual block of two convolutions: x + conv2(act(conv1(x))), with an optional 1x1 `skip`
/// convolution when the channel count changes. Loads `<prefix>.conv1`, `.conv2`, optional `.skip`.
public struct ResidualConvBlock2d: Sendable {
    public let conv1: Conv2d
    public let conv2: Conv2d
    public let skip: Conv2d?
    public let activation: Activation

    public init(conv1: Conv2d, conv2: Conv2d, skip: Conv2d? = nil, activation: Activation = .relu) {
        self.conv1 = conv1; self.conv2 = conv2; self.skip = skip; self.activation = activation
    }

    public init(_ w: SafeTensors, _ prefix: String, kernel: Int = 3, activation: Activation = .relu,
                paddingMode: PaddingMode = .zeros) throws {
        self.init(conv1: try Conv2d(w, prefix + ".conv1", padding: kernel / 2, paddingMode: paddingMode),
                  conv2: try Conv2d(w, prefix + ".conv2", padding: kernel / 2, paddingMode: paddingMode),
                  skip: w.entries[prefix + ".skip.weight"] == nil ? nil : try Conv2d(w, prefix + ".skip"),
                  activation: activation)
    }

    public func callAsFunction(_ x: Tensor, path: KernelPath = .fast) -> Tensor {
        var h = conv1(x, path: path)
        activation.apply(&h.scalars)
        var y = conv2(h, path: path)
        y += skip.map { $0(x, path: path) } ?? x
        return y
    }
}
