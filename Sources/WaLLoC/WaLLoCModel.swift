import CodecKit
import Foundation
import Neural
import Wavelets

/// A released WaLLoC model: the wavelet packet transform, the linear encoder, the 8-bit
/// companding and the convolutional decoder (`Training/neuralcodecs/walloc.py` trains it).
///
///     X = WPT_J(x)                 C·4^J (images) or C·2^J (audio) channels, 2^J times smaller
///     z = W X + b                  the encoder: one 1x1 linear map, on the deterministic kernels
///     q = round(M erf(z/(s√2)))    companding = 2M(Φ(z/s) − ½), s = 127/1.85, M = 127.499
///     x̂ = clamp(WPT⁻¹(D(s√2 erf⁻¹(q/M))))
///
/// The latents `q` feed the entropy coder, so everything up to them runs on the deterministic
/// path (the same integers on every machine); the decoder `D` only reconstructs and runs on the
/// fast path.
public struct WaLLoCModel: Sendable {
    /// codec.json's `architecture` (snake_case keys in the file).
    public struct Architecture: Codable, Sendable, Equatable {
        public var kind: String  // "image" or "audio"
        public var channels: Int
        public var levels: Int
        public var latent: Int
        public var width: Int
        public var blocks: Int
        public var groups: Int
        public var kernel: Int
        public var sampleRate: Int

        public var isImage: Bool { kind == "image" }
        /// Wavelet channels: the encoder's input and the decoder's output.
        public var bands: Int { channels << ((isImage ? 2 : 1) * levels) }
        /// Input samples per latent position along each side.
        public var stride: Int { 1 << levels }

        func validate(_ id: String) throws(CodecError) {
            let ok = (kind == "image" || kind == "audio") && (1...4).contains(channels) && (1...10).contains(levels)
                && (1...1024).contains(latent) && (1...4096).contains(width) && (0...64).contains(blocks)
                && groups > 0 && width % groups == 0 && [1, 3, 5, 7].contains(kernel) && bands <= 1 << 14
            guard ok else { throw .corruptModel(modelID: id, reason: "codec.json architecture is out of range: \(self)") }
        }
    }

    public let identity: ModelIdentity
    public let architecture: Architecture
    public let latentCoder: LatentCoder
    let encoder: Conv2d
    let convIn: Conv2d
    let blocks: [(norm1: GroupNorm, conv1: Conv2d, norm2: GroupNorm, conv2: Conv2d)]
    let normOut: GroupNorm
    let convOut: Conv2d
    let skip: Conv2d

    public var id: String { identity.id }

    /// Model `id` from the store, built once per process.
    public static func load(_ id: String, from store: ModelStore = ModelStore()) throws(CodecError) -> WaLLoCModel {
        try store.model(id) { loaded in
            struct Config: Decodable { var codec: String; var architecture: Architecture }
            let config = try loaded.configuration(Config.self)
            guard config.codec == WaLLoCCodec.codecID else {
                throw CodecError.corruptModel(modelID: id, reason: "codec.json names codec '\(config.codec)', not '\(WaLLoCCodec.codecID)'")
            }
            try config.architecture.validate(id)
            return try WaLLoCModel(identity: loaded.identity, architecture: config.architecture,
                                   weights: try SafeTensors(data: loaded.weights))
        }
    }

    /// A model from parsed weights (the loader above, and tests).
    public init(identity: ModelIdentity, architecture a: Architecture, weights w: SafeTensors) throws {
        self.identity = identity
        architecture = a
        // 1-D models are run as 2-D ones of height 1: a [out, in, k] kernel becomes [out, in, 1, k].
        func conv(_ name: String, _ inC: Int, _ outC: Int, _ k: Int) throws -> Conv2d {
            let shape = a.isImage ? [outC, inC, k, k] : [outC, inC, k]
            let weight = try w.tensor(name + ".weight", shape: shape).reshaped(a.isImage ? shape : [outC, inC, 1, k])
            let pad = k / 2
            return Conv2d(weight: weight, bias: try w.tensor(name + ".bias", shape: [outC]), padding: a.isImage ? (pad, pad) : (0, pad))
        }
        encoder = try conv("encoder", a.bands, a.latent, 1)
        convIn = try conv("decoder.conv_in", a.latent, a.width, a.kernel)
        blocks = try (0..<a.blocks).map { i in
            let p = "decoder.blocks.\(i)"
            return (try GroupNorm(w, p + ".norm1", groups: a.groups, channels: a.width), try conv(p + ".conv1", a.width, a.width, a.kernel),
                    try GroupNorm(w, p + ".norm2", groups: a.groups, channels: a.width), try conv(p + ".conv2", a.width, a.width, a.kernel))
        }
        normOut = try GroupNorm(w, "decoder.norm_out", groups: a.groups, channels: a.width)
        convOut = try conv("decoder.conv_out", a.width, a.bands, a.kernel)
        skip = try conv("decoder.skip", a.latent, a.bands, 1)
        latentCoder = try LatentCoder(weights: w.tensor("prior.weights"), frequencies: w.tensor("prior.frequencies"), channels: a.latent)
    }

    // MARK: Encoder

    /// Signal planes (`channels` x `height` x `width`, each a multiple of the stride; audio has
    /// height 1) in [−0.5, 0.5] → latents `[latent, height/stride, width/stride]` in −127...127.
    public func encode(_ planes: [Float], height: Int, width: Int) -> [Int8] {
        let a = architecture
        let bands = a.isImage
            ? WaveletPacket.forward2D(planes, channels: a.channels, height: height, width: width, levels: a.levels)
            : WaveletPacket.forward1D(planes, channels: a.channels, length: width, levels: a.levels)
        return encode(bands: bands, height: a.isImage ? height / a.stride : 1, width: width / a.stride)
    }

    /// `encode` of image planes given a row at a time (`WaveletPacket.forward2D(row:)`): rows of
    /// `width` values of `channels` (the architecture's) planes of `height` rows.
    public func encode(channels: Int, height: Int, width: Int,
                       row: (Int, Int, UnsafeMutablePointer<Float>) -> UnsafePointer<Float>) -> [Int8] {
        let a = architecture
        precondition(a.isImage && channels == a.channels, "row input is for image models of \(a.channels) channels")
        let bands = WaveletPacket.forward2D(channels: channels, height: height, width: width, levels: a.levels, row: row)
        return encode(bands: bands, height: height / a.stride, width: width / a.stride)
    }

    /// Wavelet bands `[bands, h, w]` → latents: the 1x1 encoder on the deterministic path, then
    /// the companding.
    func encode(bands: [Float], height h: Int, width w: Int) -> [Int8] {
        let z = encoder(Tensor(shape: [1, architecture.bands, h, w], scalars: bands), path: .deterministic)
        return Compander.compand(z.scalars)
    }

    // MARK: Decoder

    /// Latents `[latent, h, w]` → signal planes `[channels, h·stride, w·stride]` in [−0.5, 0.5].
    public func decode(_ latents: [Int8], height h: Int, width w: Int) -> [Float] {
        let a = architecture
        let zHat = Tensor(shape: [1, a.latent, h, w], scalars: latents.map { Compander.expand($0) })
        var x = convIn(zHat)
        for b in blocks {
            let y = b.conv1(b.norm1(x, then: .silu))
            x += b.conv2(b.norm2(y, then: .silu))
        }
        var out = convOut(normOut(x, then: .silu))
        out += skip(zHat)
        let signal = a.isImage
            ? WaveletPacket.inverse2D(out.scalars, channels: a.channels, height: h * a.stride, width: w * a.stride, levels: a.levels)
            : WaveletPacket.inverse1D(out.scalars, channels: a.channels, length: w * a.stride, levels: a.levels)
        return signal.map { min(0.5, max(-0.5, $0)) }
    }
}

/// WaLLoC's 8-bit companding and its inverse.
public enum Compander {
    public static let scale: Float = 127 / 1.85
    public static let peak: Float = 127.499
    public static let maxLatent = 127

    /// q = round(M erf(z / (s√2))) with the deterministic erf, ties to even as PyTorch rounds:
    /// adding and subtracting 1.5·2^23 rounds ties to even exactly for |M erf| ≤ M < 2^22
    /// (`rounded(.toNearestOrEven)` was a libm call per value). The erf pass stays a separate
    /// `DMath.map`: fused with the rounding loop, the optimizer split its vectors into lanes.
    public static func compand(_ z: [Float]) -> [Int8] {
        let k = 1 / (scale * Float(2).squareRoot()), magic: Float = 12_582_912
        var y = z
        y.withUnsafeMutableBufferPointer { b in
            for i in 0..<b.count { b[i] *= k }
            DMath.map(b) { DMath.erf($0) }
        }
        return y.map { v in
            let q = (peak * v + magic) - magic
            return Int8(max(-Float(maxLatent), min(Float(maxLatent), q)))
        }
    }

    /// ẑ = s√2 erf⁻¹(q/M), from a table of the 255 possible values (decoding only).
    @inline(__always)
    public static func expand(_ q: Int8) -> Float { expansion[Int(q) + maxLatent] }

    static let expansion: [Float] = (-maxLatent...maxLatent).map { q in
        Float(Double(scale) * 2.0.squareRoot() * inverseErf(Double(q) / Double(peak)))
    }

    /// erf⁻¹ by Newton's method on Foundation's erf, to double precision.
    static func inverseErf(_ y: Double) -> Double {
        var x = 0.0
        for _ in 0..<100 {
            let step = (erf(x) - y) / (2 / Double.pi.squareRoot() * exp(-x * x))
            x -= step
            if abs(step) < 1e-15 { break }
        }
        return x
    }
}
