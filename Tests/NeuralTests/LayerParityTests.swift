import Foundation
import Testing
@testable import Neural

/// Every layer against PyTorch (Tests/NeuralTests/Golden, made by Training/parity/make_golden.py),
/// on both kernel paths where the layer has two.
@Suite struct LayerParityTests {
    static let paths: [KernelPath] = [.fast(threads: 2), .deterministic(threads: 2)]

    @Test(arguments: 0..<3)
    func conv1d(_ i: Int) throws {
        let (w, c) = try Golden.load("conv1d_\(i)")
        let conv = try Conv1d(w, "m", stride: c.int("stride"), padding: c.int("padding"), dilation: c.int("dilation"),
                              groups: c.int("groups"), paddingMode: PaddingMode(rawValue: c.string("mode"))!)
        for path in Self.paths { expectParity(conv(try w.tensor("input"), path: path), try w.tensor("output"), "conv1d_\(i) \(path)") }
    }

    @Test(arguments: 0..<4)
    func conv2d(_ i: Int) throws {
        let (w, c) = try Golden.load("conv2d_\(i)")
        let conv = try Conv2d(w, "m", stride: c.int("stride"), padding: c.int("padding"), dilation: c.int("dilation"),
                              groups: c.int("groups"), paddingMode: PaddingMode(rawValue: c.string("mode"))!)
        for path in Self.paths { expectParity(conv(try w.tensor("input"), path: path), try w.tensor("output"), "conv2d_\(i) \(path)") }
    }

    @Test(arguments: 0..<2)
    func convTranspose1d(_ i: Int) throws {
        let (w, c) = try Golden.load("convtranspose1d_\(i)")
        let conv = try ConvTranspose1d(w, "m", stride: c.int("stride"), padding: c.int("padding"), outputPadding: c.int("output_padding"),
                                       dilation: c.int("dilation"), groups: c.int("groups"))
        for path in Self.paths { expectParity(conv(try w.tensor("input"), path: path), try w.tensor("output"), "convT1d_\(i) \(path)") }
    }

    @Test(arguments: 0..<2)
    func convTranspose2d(_ i: Int) throws {
        let (w, c) = try Golden.load("convtranspose2d_\(i)")
        let conv = try ConvTranspose2d(w, "m", stride: c.int("stride"), padding: c.int("padding"), outputPadding: c.int("output_padding"),
                                       dilation: c.int("dilation"), groups: c.int("groups"))
        for path in Self.paths { expectParity(conv(try w.tensor("input"), path: path), try w.tensor("output"), "convT2d_\(i) \(path)") }
    }

    @Test func pointwiseConvMatchesGeneralPath() throws {
        // A 1x1 conv skips im2col; check it against the same weights padded to 3x3 with zeros.
        let w1 = Tensor(shape: [3, 4, 1, 1], scalars: (0..<12).map { Float($0) * 0.1 - 0.5 })
        var w3 = Tensor(zeros: [3, 4, 3, 3])
        for i in 0..<12 { w3.scalars[i * 9 + 4] = w1.scalars[i] }
        let x = Tensor(shape: [1, 4, 5, 6], scalars: (0..<120).map { Float(($0 * 37) % 23) - 11 })
        let a = Conv2d(weight: w1, bias: nil)(x), b = Conv2d(weight: w3, bias: nil, padding: (1, 1))(x)
        expectParity(a, b, "1x1 vs padded 3x3")
    }

    /// 3x3 stride-1 convolutions on the fast path run Winograd F(2x2, 3x3); check it against the
    /// im2col path (itself checked against PyTorch) on sizes that exercise the 8-tile vector path,
    /// the scalar tail tiles, odd output sizes, groups, reflect padding and no padding.
    @Test(arguments: [(37, 41, 1, 1, PaddingMode.zeros), (20, 35, 1, 2, .reflect), (9, 19, 0, 1, .zeros), (16, 16, 1, 4, .circular)])
    func winogradMatchesIm2col(_ c: (Int, Int, Int, Int, PaddingMode)) {
        let (h, w, padding, groups, mode) = c
        let (cin, cout) = (8, 12)
        var seed: UInt32 = 7
        func next() -> Float { seed = seed &* 1_664_525 &+ 1_013_904_223; return Float(seed >> 8) / Float(1 << 24) - 0.5 }
        let weight = Tensor(shape: [cout, cin / groups, 3, 3], scalars: (0..<cout * cin / groups * 9).map { _ in next() })
        let bias = Tensor(shape: [cout], scalars: (0..<cout).map { _ in next() })
        let conv = Conv2d(weight: weight, bias: bias, padding: (padding, padding), groups: groups, paddingMode: mode)
        #expect(!conv.winogradWeights.isEmpty)
        let x = Tensor(shape: [2, cin, h, w], scalars: (0..<2 * cin * h * w).map { _ in next() * 4 })
        let reference = conv(x, path: .deterministic(threads: 1))
        expectParity(conv(x, path: .fast(threads: 2)), reference, "winograd \(c)", tolerance: 1e-5)
        // Chunks of one and three rows of tiles (the last chunk shorter).
        for budget in [1, 16 * 12 * 3 * ((w + 1) / 2)] {
            expectParity(conv.winogradForward(x, path: .fast(threads: 1), chunkBudget: budget), reference, "winograd chunks \(budget)", tolerance: 1e-5)
        }
    }

    /// A transposed convolution large enough that its columns are built in several chunks of input
    /// rows, against a direct scatter loop.
    @Test func convTransposeInChunksMatchesDirectLoop() {
        let (cin, cout, k, s, p, h, w) = (4, 32, 4, 2, 1, 40, 64)
        var seed: UInt32 = 3
        func next() -> Float { seed = seed &* 1_664_525 &+ 1_013_904_223; return Float(seed >> 8) / Float(1 << 24) - 0.5 }
        let weight = Tensor(shape: [cin, cout, k, k], scalars: (0..<cin * cout * k * k).map { _ in next() })
        let x = Tensor(shape: [1, cin, h, w], scalars: (0..<cin * h * w).map { _ in next() })
        let conv = ConvTranspose2d(weight: weight, bias: nil, stride: (s, s), padding: (p, p))
        let (ho, wo) = conv.outputSize(h, w)
        var direct = [Double](repeating: 0, count: cout * ho * wo)
        for ci in 0..<cin { for co in 0..<cout { for ky in 0..<k { for kx in 0..<k { for iy in 0..<h { for ix in 0..<w {
            let (y, xx) = (iy * s + ky - p, ix * s + kx - p)
            if y >= 0 && y < ho && xx >= 0 && xx < wo {
                direct[(co * ho + y) * wo + xx] += Double(x.scalars[(ci * h + iy) * w + ix]) * Double(weight.scalars[((ci * cout + co) * k + ky) * k + kx])
            }
        } } } } } }
        let expected = Tensor(shape: [1, cout, ho, wo], scalars: direct.map { Float($0) })
        #expect((cout * k * k) * w * h > 1 << 19, "the test must span several chunks")
        for path in Self.paths { expectParity(conv(x, path: path), expected, "chunked convT \(path)", tolerance: 1e-5) }
    }

    @Test func norms() throws {
        let (ln, lc) = try Golden.load("layernorm")
        expectParity(try LayerNorm(ln, "m", dim: lc.int("dim"), eps: lc.float("eps"))(try ln.tensor("input")), try ln.tensor("output"), "layernorm")
        let (gn, gc) = try Golden.load("groupnorm")
        expectParity(try GroupNorm(gn, "m", groups: gc.int("groups"), channels: gc.int("channels"), eps: gc.float("eps"))(try gn.tensor("input")),
                     try gn.tensor("output"), "groupnorm")
        let (rn, rc) = try Golden.load("rmsnorm")
        expectParity(try RMSNorm(rn, "m", dim: rc.int("dim"), eps: rc.float("eps"))(try rn.tensor("input")), try rn.tensor("output"), "rmsnorm")
    }

    /// Group norm over a whole large feature map with a large mean, against double precision.
    @Test func groupNormOnLargeMapIsAccurate() {
        let (c, h, w) = (4, 256, 256)
        var seed: UInt32 = 11
        let x = Tensor(shape: [1, c, h, w], scalars: (0..<c * h * w).map { _ in
            seed = seed &* 1_664_525 &+ 1_013_904_223
            return 100 + Float(seed >> 8) / Float(1 << 24)
        })
        let y = GroupNorm(groups: 1, channels: c, weight: nil, bias: nil)(x)
        let xs = x.scalars.map(Double.init)
        let mean = xs.reduce(0, +) / Double(xs.count)
        let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count)
        let expected = Tensor(shape: x.shape, scalars: xs.map { Float(($0 - mean) / (variance + 1e-5).squareRoot()) })
        expectParity(y, expected, "group norm, 262144 values per group")
    }

    @Test func activations() throws {
        let (w, _) = try Golden.load("activations")
        let x = try w.tensor("input")
        let cases: [(String, Activation)] = [("relu", .relu), ("leaky_relu", .leakyReLU(slope: 0.2)), ("silu", .silu), ("gelu", .gelu),
                                             ("gelu_tanh", .geluTanh), ("tanh", .tanh), ("sigmoid", .sigmoid)]
        for (name, act) in cases {
            // Element-wise functions: per-element relative error with a floor of 0.01 (absolute
            // 1e-6), below which PyTorch's own float32 GELU loses its digits to cancellation
            // (1 + erf(x/√2) for x ≪ 0) while DMath's erfc form keeps them.
            let y = act(x), e = try w.tensor("output." + name)
            let worst = zip(y.scalars, e.scalars).map { abs($0 - $1) / max(abs($1), 1e-2) }.max()!
            #expect(worst <= 1e-4, "\(name): \(worst)")
        }
        let exp = x.map { DMath.exp(min($0, 80)) }, log = x.map { DMath.log(abs($0) + 1e-30) }
        expectParity(exp, try w.tensor("output.exp"), "exp", tolerance: 1e-6)
        let le = try w.tensor("output.log")
        #expect(zip(log.scalars, le.scalars).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) }, "log")
    }

    @Test func snake() throws {
        let (w, _) = try Golden.load("snake")
        expectParity(try Snake(w, "m")(try w.tensor("input")), try w.tensor("output"), "snake")
    }

    @Test func resampling() throws {
        let (w, _) = try Golden.load("upsample")
        let x1 = try w.tensor("input1d"), x2 = try w.tensor("input2d")
        #expect(Resample.nearest(x1, scale: 3) == (try w.tensor("nearest1d")))
        #expect(Resample.nearest(x2, scale: 2) == (try w.tensor("nearest2d")))
        expectParity(Resample.linear(x1, scale: 2), try w.tensor("linear1d"), "linear1d")
        expectParity(Resample.linear(x2, scale: 2), try w.tensor("bilinear2d"), "bilinear2d")
        let ps = try w.tensor("pixelshuffle_input")
        #expect(Resample.pixelShuffle(ps, factor: 2) == (try w.tensor("pixelshuffle")))
        #expect(Resample.pixelUnshuffle(Resample.pixelShuffle(ps, factor: 2), factor: 2) == ps)
    }

    @Test func residualBlock() throws {
        let (w, _) = try Golden.load("resblock2d")
        let block = try ResidualConvBlock2d(w, "m")
        for path in Self.paths { expectParity(block(try w.tensor("input"), path: path), try w.tensor("output"), "resblock \(path)") }
    }

    /// Deterministic convolutions give the same bits for 1 and 2 threads and across runs.
    @Test func deterministicConvolutionAcrossThreads() throws {
        let (w, _) = try Golden.load("resblock2d")
        let block = try ResidualConvBlock2d(w, "m")
        let x = Tensor(shape: [1, 8, 40, 40], scalars: (0..<12800).map { Float(($0 * 7919) % 1000) / 500 - 1 })
        let reference = block(x, path: .deterministic(threads: 1)).scalars.map(\.bitPattern)
        for threads in [2, 1, 2] {
            #expect(block(x, path: .deterministic(threads: threads)).scalars.map(\.bitPattern) == reference)
        }
        let (t, _) = try Golden.load("convtranspose2d_0")
        let convT = try ConvTranspose2d(t, "m", stride: 2, padding: 1)
        let xt = Tensor(shape: [1, 6, 30, 30], scalars: (0..<5400).map { Float(($0 * 31) % 97) / 50 - 1 })
        let refT = convT(xt, path: .deterministic(threads: 1)).scalars.map(\.bitPattern)
        #expect(convT(xt, path: .deterministic(threads: 2)).scalars.map(\.bitPattern) == refT)
    }
}
