/// How a convolution fills the border, as PyTorch's `padding_mode`.
public enum PaddingMode: String, Sendable {
    case zeros
    case reflect
    /// Periodic: index i reads i mod size (PyTorch's "circular").
    case circular

    /// The source index for padded position `i` of a dimension of `size`, nil for a zero.
    @inline(__always)
    func source(_ i: Int, _ size: Int) -> Int? {
        if i >= 0 && i < size { return i }
        switch self {
        case .zeros: return nil
        case .reflect: return i < 0 ? -i : 2 * (size - 1) - i
        case .circular: return ((i % size) + size) % size
        }
    }
}

/// 2-d convolution on `[N, C, H, W]` with PyTorch's semantics (cross-correlation; stride, padding
/// with a mode, dilation, groups). Lowered to im2col + one matrix product per group: `cblas_sgemm`
/// on the fast path, the fixed-order kernel on the deterministic path.
public struct Conv2d: Sendable {
    public let weight: Tensor          // [out, in/groups, kh, kw]
    public let bias: Tensor?
    public let stride: (Int, Int)
    public let padding: (Int, Int)
    public let dilation: (Int, Int)
    public let groups: Int
    public let paddingMode: PaddingMode
    /// Winograd-transformed weights for 3x3 stride-1 convolutions on the fast path (else empty).
    let winogradWeights: [Float]

    public var outChannels: Int { weight.shape[0] }
    public var inChannels: Int { weight.shape[1] * groups }
    public var kernel: (Int, Int) { (weight.shape[2], weight.shape[3]) }

    public init(weight: Tensor, bias: Tensor?, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                dilation: (Int, Int) = (1, 1), groups: Int = 1, paddingMode: PaddingMode = .zeros) {
        precondition(weight.rank == 4 && weight.shape[0] % groups == 0, "conv2d weight must be [out, in/groups, kh, kw]")
        precondition(bias == nil || bias!.count == weight.shape[0], "conv2d bias must be [out]")
        precondition(stride.0 > 0 && stride.1 > 0 && dilation.0 > 0 && dilation.1 > 0 && padding.0 >= 0 && padding.1 >= 0)
        self.weight = weight; self.bias = bias; self.stride = stride; self.padding = padding
        self.dilation = dilation; self.groups = groups; self.paddingMode = paddingMode
        let winograd = weight.shape[2] == 3 && weight.shape[3] == 3 && stride == (1, 1) && dilation == (1, 1)
        winogradWeights = winograd ? Winograd.transformWeights(weight, groups: groups) : []
    }

    /// Loads `<prefix>.weight` and the optional `<prefix>.bias`.
    public init(_ w: SafeTensors, _ prefix: String, stride: Int = 1, padding: Int = 0, dilation: Int = 1, groups: Int = 1,
                paddingMode: PaddingMode = .zeros) throws {
        let weight = try w.tensor(prefix + ".weight")
        guard weight.rank == 4, weight.shape[0] % groups == 0 else {
            throw SafeTensorsError.shapeMismatch(name: prefix + ".weight", expected: [-1, -1, -1, -1], found: weight.shape)
        }
        self.init(weight: weight, bias: try w.optionalTensor(prefix + ".bias", shape: [weight.shape[0]]),
                  stride: (stride, stride), padding: (padding, padding), dilation: (dilation, dilation),
                  groups: groups, paddingMode: paddingMode)
    }

    public func outputSize(_ h: Int, _ w: Int) -> (Int, Int) {
        ((h + 2 * padding.0 - dilation.0 * (kernel.0 - 1) - 1) / stride.0 + 1,
         (w + 2 * padding.1 - dilation.1 * (kernel.1 - 1) - 1) / stride.1 + 1)
    }

    public func callAsFunction(_ x: Tensor, path: KernelPath = .fast) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == inChannels, "conv2d expects [N, \(inChannels), H, W], got \(x.shape)")
        let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        precondition(paddingMode != .reflect || (padding.0 < h && padding.1 < w), "reflect padding must be smaller than the input")
        let (ho, wo) = outputSize(h, w)
        precondition(ho > 0 && wo > 0, "conv2d output would be empty for input \(x.shape)")
        let (kh, kw) = kernel
        let cinG = inChannels / groups, coutG = outChannels / groups
        let kSize = cinG * kh * kw, pixels = ho * wo
        let hp = h + 2 * padding.0, wp = w + 2 * padding.1
        let pointwise = kh == 1 && kw == 1 && stride == (1, 1) && padding == (0, 0)
        if case .fast = path, !winogradWeights.isEmpty { return winogradForward(x, path: path) }

        // im2col in tiles of whole output rows, each at most ~2 MB, so the column matrix is
        // written and read back from cache rather than memory.
        let tileRows = max(1, min(ho, (1 << 19) / max(1, kSize * wo)))
        var out = uninitializedFloats(n * outChannels * pixels)
        ScratchPool.shared.withBuffer(count: pointwise ? 0 : inChannels * hp * wp) { padded in
        ScratchPool.shared.withBuffer(count: pointwise ? 0 : kSize * tileRows * wo) { col in
        x.scalars.withUnsafeBufferPointer { xb in
        weight.scalars.withUnsafeBufferPointer { wb in
        out.withUnsafeMutableBufferPointer { ob in
            for b in 0..<n {
                let input = xb.baseAddress! + b * inChannels * h * w
                if !pointwise { pad(input, h, w, into: &padded) }
                for g in 0..<groups {
                    let result = ob.baseAddress! + (b * outChannels + g * coutG) * pixels
                    let wg = wb.baseAddress! + g * coutG * kSize
                    if pointwise {
                        Kernels.matmul(wg, input + g * cinG * h * w, result, m: coutG, n: pixels, k: kSize, path: path)
                        continue
                    }
                    for oy0 in Swift.stride(from: 0, to: ho, by: tileRows) {
                        let rows = oy0..<min(ho, oy0 + tileRows)
                        padded.withUnsafeBufferPointer { pb in
                            col.withUnsafeMutableBufferPointer { cb in
                                im2col(pb.baseAddress! + g * cinG * hp * wp, channels: cinG, hp, wp, rows, wo, into: cb.baseAddress!,
                                       threads: path.threads)
                            }
                        }
                        col.withUnsafeBufferPointer { cb in
                            Kernels.matmul(wg, cb.baseAddress!, result + oy0 * wo, m: coutG, n: rows.count * wo, k: kSize,
                                           ldc: pixels, path: path)
                        }
                    }
                }
                if let bias { addBias(bias, ob.baseAddress! + b * outChannels * pixels, pixels) }
            }
        }}}}}
        return Tensor(shape: [n, outChannels, ho, wo], scalars: out)
    }

    /// Writes the input of one batch item with its border into `padded`, `[C, rows, cols]`; rows and
    /// columns past the padded size (when `rows`/`cols` exceed it) are zeros.
    func pad(_ x: UnsafePointer<Float>, _ h: Int, _ w: Int, into padded: inout [Float], rows: Int? = nil, cols: Int? = nil) {
        let hp = h + 2 * padding.0, wp = w + 2 * padding.1
        let rows = rows ?? hp, cols = cols ?? wp
        padded.withUnsafeMutableBufferPointer { p in
            for c in 0..<inChannels {
                let src = x + c * h * w, dst = p.baseAddress! + c * rows * cols
                for y in 0..<rows {
                    let row = dst + y * cols
                    guard y < hp, let sy = paddingMode.source(y - padding.0, h) else {
                        row.update(repeating: 0, count: cols); continue
                    }
                    (row + padding.1).update(from: src + sy * w, count: w)
                    for xx in 0..<padding.1 {
                        row[xx] = paddingMode.source(xx - padding.1, w).map { src[sy * w + $0] } ?? 0
                        let r = w + padding.1 + xx
                        row[r] = paddingMode.source(r - padding.1, w).map { src[sy * w + $0] } ?? 0
                    }
                    if cols > wp { (row + wp).update(repeating: 0, count: cols - wp) }
                }
            }
        }
    }

    /// col[(c, ky, kx), (oy - rows.lowerBound, ox)] = padded[c, oy·sh + ky·dh, ox·sw + kx·dw] for
    /// the output rows `rows`; channels split across threads (a pure copy: the split cannot change
    /// any value).
    private func im2col(_ p: UnsafePointer<Float>, channels: Int, _ hp: Int, _ wp: Int, _ rows: Range<Int>, _ wo: Int,
                        into col: UnsafeMutablePointer<Float>, threads: Int) {
        let (kh, kw) = kernel
        let tile = rows.count * wo
        let shared = SharedPointer(base: col)
        parallelChunks(channels, threads: channels * kh * kw * tile < 1 << 16 ? 1 : threads) { range in
            for c in range {
                var row = shared.base + c * kh * kw * tile
                for ky in 0..<kh {
                    for kx in 0..<kw {
                        for (i, oy) in rows.enumerated() {
                            let src = p + c * hp * wp + (oy * stride.0 + ky * dilation.0) * wp + kx * dilation.1
                            let dst = row + i * wo
                            if stride.1 == 1 {
                                dst.update(from: src, count: wo)
                            } else {
                                for ox in 0..<wo { dst[ox] = src[ox * stride.1] }
                            }
                        }
                        row += tile
                    }
                }
            }
        }
    }
}

/// An array whose every element the caller overwrites before reading (skips a memset).
@inline(__always)
func uninitializedFloats(_ count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
}

/// Adds `bias[c]` to each of the `pixels` values of channel c.
@inline(__always)
func addBias(_ bias: Tensor, _ out: UnsafeMutablePointer<Float>, _ pixels: Int) {
    for c in 0..<bias.count {
        let v = bias.scalars[c], row = out + c * pixels
        for i in 0..<pixels { row[i] = row[i] + v }
    }
}

/// 1-d convolution on `[N, C, L]`: a `Conv2d` with a 1-high kernel.
public struct Conv1d: Sendable {
    public let conv: Conv2d

    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, dilation: Int = 1, groups: Int = 1,
                paddingMode: PaddingMode = .zeros) {
        precondition(weight.rank == 3, "conv1d weight must be [out, in/groups, k]")
        conv = Conv2d(weight: weight.reshaped([weight.shape[0], weight.shape[1], 1, weight.shape[2]]), bias: bias,
                      stride: (1, stride), padding: (0, padding), dilation: (1, dilation), groups: groups, paddingMode: paddingMode)
    }

    public init(_ w: SafeTensors, _ prefix: String, stride: Int = 1, padding: Int = 0, dilation: Int = 1, groups: Int = 1,
                paddingMode: PaddingMode = .zeros) throws {
        let weight = try w.tensor(prefix + ".weight")
        guard weight.rank == 3, weight.shape[0] % groups == 0 else {
            throw SafeTensorsError.shapeMismatch(name: prefix + ".weight", expected: [-1, -1, -1], found: weight.shape)
        }
        self.init(weight: weight, bias: try w.optionalTensor(prefix + ".bias", shape: [weight.shape[0]]), stride: stride,
                  padding: padding, dilation: dilation, groups: groups, paddingMode: paddingMode)
    }

    public func callAsFunction(_ x: Tensor, path: KernelPath = .fast) -> Tensor {
        precondition(x.rank == 3, "conv1d expects [N, C, L], got \(x.shape)")
        let y = conv(x.reshaped([x.shape[0], x.shape[1], 1, x.shape[2]]), path: path)
        return y.reshaped([y.shape[0], y.shape[1], y.shape[3]])
    }
}

/// Transposed 2-d convolution on `[N, C, H, W]` (PyTorch `ConvTranspose2d`; weight
/// `[in, out/groups, kh, kw]`): one matrix product per group into columns, then col2im, which
/// scatters the columns in a fixed order, and a crop by `padding`.
public struct ConvTranspose2d: Sendable {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: (Int, Int)
    public let padding: (Int, Int)
    public let outputPadding: (Int, Int)
    public let dilation: (Int, Int)
    public let groups: Int
    /// Per group, the weight as `[outG·kh·kw, inG]` so the product is a plain row-major matmul.
    private let transposed: [Float]

    public var inChannels: Int { weight.shape[0] }
    public var outChannels: Int { weight.shape[1] * groups }
    public var kernel: (Int, Int) { (weight.shape[2], weight.shape[3]) }

    public init(weight: Tensor, bias: Tensor?, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                outputPadding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1) {
        precondition(weight.rank == 4 && weight.shape[0] % groups == 0, "conv-transpose weight must be [in, out/groups, kh, kw]")
        precondition(bias == nil || bias!.count == weight.shape[1] * groups, "conv-transpose bias must be [out]")
        self.weight = weight; self.bias = bias; self.stride = stride; self.padding = padding
        self.outputPadding = outputPadding; self.dilation = dilation; self.groups = groups
        let cinG = weight.shape[0] / groups, rows = weight.shape[1] * weight.shape[2] * weight.shape[3]
        var t = [Float](repeating: 0, count: weight.count)
        for g in 0..<groups {
            for i in 0..<cinG {
                for r in 0..<rows { t[g * rows * cinG + r * cinG + i] = weight.scalars[(g * cinG + i) * rows + r] }
            }
        }
        transposed = t
    }

    public init(_ w: SafeTensors, _ prefix: String, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0,
                dilation: Int = 1, groups: Int = 1) throws {
        let weight = try w.tensor(prefix + ".weight")
        guard weight.rank == 4, weight.shape[0] % groups == 0 else {
            throw SafeTensorsError.shapeMismatch(name: prefix + ".weight", expected: [-1, -1, -1, -1], found: weight.shape)
        }
        self.init(weight: weight, bias: try w.optionalTensor(prefix + ".bias", shape: [weight.shape[1] * groups]),
                  stride: (stride, stride), padding: (padding, padding), outputPadding: (outputPadding, outputPadding),
                  dilation: (dilation, dilation), groups: groups)
    }

    public func outputSize(_ h: Int, _ w: Int) -> (Int, Int) {
        ((h - 1) * stride.0 - 2 * padding.0 + dilation.0 * (kernel.0 - 1) + outputPadding.0 + 1,
         (w - 1) * stride.1 - 2 * padding.1 + dilation.1 * (kernel.1 - 1) + outputPadding.1 + 1)
    }

    public func callAsFunction(_ x: Tensor, path: KernelPath = .fast) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == inChannels, "conv-transpose expects [N, \(inChannels), H, W], got \(x.shape)")
        let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let (ho, wo) = outputSize(h, w)
        precondition(ho > 0 && wo > 0, "conv-transpose output would be empty for input \(x.shape)")
        let (kh, kw) = kernel
        let cinG = inChannels / groups, coutG = outChannels / groups, rows = coutG * kh * kw
        // Columns for a chunk of input rows at a time (at most ~2 MB): the chunking depends on the
        // shapes only, so the order of the col2im additions is fixed for given shapes.
        let chunkRows = max(1, min(h, (1 << 19) / max(1, rows * w)))
        var out = [Float](repeating: 0, count: n * outChannels * ho * wo)
        ScratchPool.shared.withBuffer(count: rows * chunkRows * w) { col in
        x.scalars.withUnsafeBufferPointer { xb in
        transposed.withUnsafeBufferPointer { tb in
        out.withUnsafeMutableBufferPointer { ob in
            for b in 0..<n {
                for g in 0..<groups {
                    let result = ob.baseAddress! + (b * outChannels + g * coutG) * ho * wo
                    for iy0 in Swift.stride(from: 0, to: h, by: chunkRows) {
                        let inputRows = iy0..<min(h, iy0 + chunkRows)
                        let chunk = inputRows.count * w
                        col.withUnsafeMutableBufferPointer { cb in
                            Kernels.matmul(tb.baseAddress! + g * rows * cinG, xb.baseAddress! + (b * inChannels + g * cinG) * h * w + iy0 * w,
                                           cb.baseAddress!, m: rows, n: chunk, k: cinG, ldb: h * w, path: path)
                        }
                        // col2im: output (y, x) gathers input (iy, ix) through kernel tap (ky, kx) when
                        // y + padding = iy·stride + ky·dilation; scattered in (c, ky, kx, iy, ix) order
                        // within each chunk.
                        col.withUnsafeBufferPointer { cb in
                            var src = cb.baseAddress!
                            for c in 0..<coutG {
                                let dst = result + c * ho * wo
                                for ky in 0..<kh {
                                    for kx in 0..<kw {
                                        for (i, iy) in inputRows.enumerated() {
                                            let y = iy * stride.0 + ky * dilation.0 - padding.0
                                            if y >= 0 && y < ho {
                                                let s = src + i * w
                                                for ix in 0..<w {
                                                    let xx = ix * stride.1 + kx * dilation.1 - padding.1
                                                    if xx >= 0 && xx < wo { dst[y * wo + xx] = dst[y * wo + xx] + s[ix] }
                                                }
                                            }
                                        }
                                        src += chunk
                                    }
                                }
                            }
                        }
                    }
                }
                if let bias { addBias(bias, ob.baseAddress! + b * outChannels * ho * wo, ho * wo) }
            }
        }}}}
        return Tensor(shape: [n, outChannels, ho, wo], scalars: out)
    }
}

/// Transposed 1-d convolution on `[N, C, L]`: a `ConvTranspose2d` with a 1-high kernel.
public struct ConvTranspose1d: Sendable {
    public let conv: ConvTranspose2d

    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0,
                dilation: Int = 1, groups: Int = 1) {
        precondition(weight.rank == 3, "conv-transpose-1d weight must be [in, out/groups, k]")
        conv = ConvTranspose2d(weight: weight.reshaped([weight.shape[0], weight.shape[1], 1, weight.shape[2]]), bias: bias,
                               stride: (1, stride), padding: (0, padding), outputPadding: (0, outputPadding),
                               dilation: (1, dilation), groups: groups)
    }

    public init(_ w: SafeTensors, _ prefix: String, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0,
                dilation: Int = 1, groups: Int = 1) throws {
        let weight = try w.tensor(prefix + ".weight")
        guard weight.rank == 3, weight.shape[0] % groups == 0 else {
            throw SafeTensorsError.shapeMismatch(name: prefix + ".weight", expected: [-1, -1, -1], found: weight.shape)
        }
        self.init(weight: weight, bias: try w.optionalTensor(prefix + ".bias", shape: [weight.shape[1] * groups]),
                  stride: stride, padding: padding, outputPadding: outputPadding, dilation: dilation, groups: groups)
    }

    public func callAsFunction(_ x: Tensor, path: KernelPath = .fast) -> Tensor {
        precondition(x.rank == 3, "conv-transpose-1d expects [N, C, L], got \(x.shape)")
        let y = conv(x.reshaped([x.shape[0], x.shape[1], 1, x.shape[2]]), path: path)
        return y.reshaped([y.shape[0], y.shape[1], y.shape[3]])
    }
}
