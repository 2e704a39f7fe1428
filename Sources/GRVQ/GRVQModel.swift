import CodecKit
import Foundation
import Neural

/// A released GRVQ speech model (`Training/neuralcodecs/grvq.py` trains it; after Yang et al.,
/// "HiFi-Codec: Group-residual Vector quantization for High Fidelity Audio Codec", 2023).
///
///     x [T]            16 kHz mono, T a multiple of the hop (patch x strides = 320)
///     z = E(x)         [latent, T/hop]: 50 frames per second
///     z = [z_1; z_2]   `groups` groups of latent/groups channels
///     i_{g,l} = argmin_k |r_{g,l} − C_{g,l}[k]|²   residual VQ: r_{g,1} = z_g, r_{g,l+1} = r_{g,l} − C_{g,l}[i_{g,l}]
///     x̂ = G(Σ_l C_{g,l}[i_{g,l}])   a HiFi-GAN style decoder
///
/// The indices feed the entropy coder, so the encoder and the code search run on the
/// deterministic kernels (the same indices on every machine and thread count); the decoder only
/// reconstructs and runs on the fast path.
public struct GRVQModel: Sendable {
    /// codec.json's `architecture` (snake_case keys in the file), as `GRVQConfig` writes it.
    public struct Architecture: Codable, Sendable, Equatable {
        public var patch: Int
        public var strides: [Int]
        public var encChannels: Int
        public var latent: Int
        public var groups: Int
        public var levels: Int
        public var codes: Int
        public var decChannels: Int
        public var mrfKernels: [Int]
        public var mrfDilations: [Int]

        /// Input samples per frame.
        public var hop: Int { strides.reduce(patch, *) }
        public var groupDim: Int { latent / groups }
        /// Raw bits per index.
        public var indexBits: Double { log2(Double(codes)) }

        func validate(_ id: String) throws(CodecError) {
            let widthOK = encChannels > 0 && encChannels << strides.count <= 4096
                && decChannels >> strides.count > 0 && decChannels % (1 << strides.count) == 0 && decChannels <= 4096
            let ok = (1...64).contains(patch) && (1...4).contains(strides.count) && strides.allSatisfy { (1...64).contains($0) }
                && hop <= 4096 && widthOK && (1...4096).contains(latent) && (1...16).contains(groups) && latent % groups == 0
                && (1...16).contains(levels) && (2...65536).contains(codes)
                && !mrfKernels.isEmpty && mrfKernels.allSatisfy { $0 % 2 == 1 && (1...31).contains($0) }
                && !mrfDilations.isEmpty && mrfDilations.allSatisfy { (1...64).contains($0) }
            guard ok else { throw .corruptModel(modelID: id, reason: "codec.json architecture is out of range: \(self)") }
        }
    }

    public static let sampleRate = 16000
    /// LeakyReLU slope of every activation (Training/neuralcodecs/grvq.py SLOPE).
    static let act = Activation.leakyReLU(slope: 0.1)

    struct ResUnit: Sendable { let conv1: Conv1d, conv2: Conv1d }
    struct EncoderBlock: Sendable { let res1: ResUnit, res2: ResUnit, down: Conv1d }
    struct DecoderBlock: Sendable { let up: ConvTranspose1d, mrf: [[ResUnit]] }

    public let identity: ModelIdentity
    public let architecture: Architecture
    public let indexCoder: IndexCoder
    let stem: Conv1d
    let encoderBlocks: [EncoderBlock]
    let encoderOut: Conv1d
    /// [group][level]: the codebook `[codes, groupDim]` as a bias-free linear map (x·Cᵀ on the
    /// deterministic path) and the squared norms of its codes.
    let codebooks: [[(dot: Linear, norms: [Float])]]
    let decoderStem: Conv1d
    let decoderBlocks: [DecoderBlock]
    let decoderOut: ConvTranspose1d

    public var id: String { identity.id }

    /// Model `id` from the store, built once per process.
    public static func load(_ id: String, from store: ModelStore = ModelStore()) throws(CodecError) -> GRVQModel {
        try store.model(id) { loaded in
            struct Config: Decodable { var codec: String; var sampleRate: Int; var architecture: Architecture }
            let config = try loaded.configuration(Config.self)
            guard config.codec == GRVQCodec.codecID, config.sampleRate == sampleRate else {
                throw CodecError.corruptModel(modelID: id, reason: "codec.json is not a \(GRVQCodec.codecID) model at \(sampleRate) Hz")
            }
            try config.architecture.validate(id)
            return try GRVQModel(identity: loaded.identity, architecture: config.architecture,
                                 weights: try SafeTensors(data: loaded.weights))
        }
    }

    /// A model from parsed weights (the loader above, and tests). Padding follows grvq.py:
    /// `down_padding` (s+1)/2 for the kernel-2s convolutions, `up_padding` ((u+1)/2, u%2) for the
    /// transposed ones, "same" padding elsewhere.
    public init(identity: ModelIdentity, architecture a: Architecture, weights w: SafeTensors) throws {
        self.identity = identity
        architecture = a
        func conv(_ name: String, _ inC: Int, _ outC: Int, _ k: Int, stride: Int = 1, padding: Int, dilation: Int = 1) throws -> Conv1d {
            Conv1d(weight: try w.tensor(name + ".weight", shape: [outC, inC, k]), bias: try w.tensor(name + ".bias", shape: [outC]),
                   stride: stride, padding: padding, dilation: dilation)
        }
        func up(_ name: String, _ inC: Int, _ outC: Int, stride u: Int) throws -> ConvTranspose1d {
            ConvTranspose1d(weight: try w.tensor(name + ".weight", shape: [inC, outC, 2 * u]), bias: try w.tensor(name + ".bias", shape: [outC]),
                            stride: u, padding: (u + 1) / 2, outputPadding: u % 2)
        }
        var c = a.encChannels
        stem = try conv("encoder.stem", 1, c, 2 * a.patch, stride: a.patch, padding: (a.patch + 1) / 2)
        var blocks: [EncoderBlock] = []
        for (i, s) in a.strides.enumerated() {
            let p = "encoder.blocks.\(i)"
            blocks.append(EncoderBlock(
                res1: ResUnit(conv1: try conv(p + ".res1.conv1", c, c, 7, padding: 3), conv2: try conv(p + ".res1.conv2", c, c, 1, padding: 0)),
                res2: ResUnit(conv1: try conv(p + ".res2.conv1", c, c, 7, padding: 9, dilation: 3), conv2: try conv(p + ".res2.conv2", c, c, 1, padding: 0)),
                down: try conv(p + ".down", c, 2 * c, 2 * s, stride: s, padding: (s + 1) / 2)))
            c *= 2
        }
        encoderBlocks = blocks
        encoderOut = try conv("encoder.out", c, a.latent, 3, padding: 1)
        codebooks = try (0..<a.groups).map { g in
            try (0..<a.levels).map { l in
                let embed = try w.tensor("quantizer.codebooks.\(g).\(l).embed", shape: [a.codes, a.groupDim])
                let norms = (0..<a.codes).map { k in
                    // Fixed order, so every machine ranks codes the same way.
                    var s: Float = 0
                    for j in 0..<a.groupDim { let v = embed.scalars[k * a.groupDim + j]; s = s + v * v }
                    return s
                }
                return (Linear(weight: embed, bias: nil), norms)
            }
        }
        var d = a.decChannels
        decoderStem = try conv("decoder.stem", a.latent, d, 7, padding: 3)
        var dblocks: [DecoderBlock] = []
        for (i, u) in a.strides.reversed().enumerated() {
            let p = "decoder.blocks.\(i)"
            let upConv = try up(p + ".up", d, d / 2, stride: u)
            d /= 2
            let mrf = try a.mrfKernels.enumerated().map { si, k in
                try a.mrfDilations.enumerated().map { ui, dil in
                    let q = p + ".mrf.stacks.\(si).\(ui)"
                    return ResUnit(conv1: try conv(q + ".conv1", d, d, k, padding: dil * (k - 1) / 2, dilation: dil),
                                   conv2: try conv(q + ".conv2", d, d, k, padding: (k - 1) / 2))
                }
            }
            dblocks.append(DecoderBlock(up: upConv, mrf: mrf))
        }
        decoderBlocks = dblocks
        decoderOut = try up("decoder.out", d, 1, stride: a.patch)
        let tables = try w.tensor("prior.frequencies", shape: [a.groups, a.levels, a.codes])
        indexCoder = try IndexCoder(frequencies: tables.scalars, groups: a.groups, levels: a.levels, codes: a.codes, modelID: identity.id)
    }

    // MARK: Encoder and quantizer (deterministic)

    /// Samples (a multiple of the hop) → the latent `[latent, samples/hop]`.
    public func latent(_ samples: [Float]) -> Tensor {
        precondition(samples.count % architecture.hop == 0 && !samples.isEmpty, "encoder input must be a positive multiple of the hop")
        let path: KernelPath = .deterministic(threads: 1)
        var h = stem(Tensor(shape: [1, 1, samples.count], scalars: samples), path: path)
        for b in encoderBlocks {
            h = Self.act(Self.residual(b.res2, Self.residual(b.res1, h, path: path), path: path))
            h = b.down(h, path: path)
        }
        return encoderOut(Self.act(h), path: path)
    }

    /// x + conv2(act(conv1(act(x)))).
    static func residual(_ u: ResUnit, _ x: Tensor, path: KernelPath) -> Tensor {
        var y = u.conv2(act(u.conv1(act(x), path: path)), path: path)
        y += x
        return y
    }

    /// Latent `[latent, F]` (as `latent(_:)` returns it, batch 1) → indices `[groups, levels, F]`
    /// of the first `levels` levels: per group, per level the nearest code (squared distance,
    /// the lowest index on a tie) to what the levels before it left.
    public func quantize(_ z: Tensor, levels: Int) -> [UInt16] {
        let a = architecture, dim = a.groupDim
        let f = z.shape[z.rank - 1]
        var out = [UInt16](repeating: 0, count: a.groups * levels * f)
        for g in 0..<a.groups {
            // [F, dim] rows: the group's channels, frame by frame.
            var residual = [Float](repeating: 0, count: f * dim)
            for j in 0..<dim { for t in 0..<f { residual[t * dim + j] = z.scalars[(g * dim + j) * f + t] } }
            for l in 0..<levels {
                let book = codebooks[g][l]
                let dots = book.dot(Tensor(shape: [f, dim], scalars: residual), path: .deterministic).scalars
                for t in 0..<f {
                    var best = 0, bestD = Float.infinity
                    for k in 0..<a.codes {
                        let d = book.norms[k] - 2 * dots[t * a.codes + k]
                        if d < bestD { bestD = d; best = k }
                    }
                    out[(g * levels + l) * f + t] = UInt16(best)
                    let code = book.dot.weight.scalars[(best * dim)..<((best + 1) * dim)]
                    for (j, v) in code.enumerated() { residual[t * dim + j] = residual[t * dim + j] - v }
                }
            }
        }
        return out
    }

    // MARK: Decoder (fast path)

    /// Indices `[groups, levels, F]` (each < codes) → `F·hop` samples.
    public func decode(_ indices: [UInt16], levels: Int, frames f: Int) -> [Float] {
        let a = architecture, dim = a.groupDim
        precondition(indices.count == a.groups * levels * f && f > 0, "index count does not match the shape")
        var q = [Float](repeating: 0, count: a.latent * f)
        for g in 0..<a.groups {
            for l in 0..<levels {
                let embed = codebooks[g][l].dot.weight.scalars
                for t in 0..<f {
                    let k = Int(indices[(g * levels + l) * f + t])
                    for j in 0..<dim { q[(g * dim + j) * f + t] += embed[k * dim + j] }
                }
            }
        }
        var h = decoderStem(Tensor(shape: [1, a.latent, f], scalars: q))
        for b in decoderBlocks {
            h = b.up(Self.act(h))
            var sum: Tensor? = nil
            for stack in b.mrf {
                var s = h
                for u in stack { s = Self.residual(u, s, path: .fast) }
                if sum == nil { sum = s } else { sum! += s }
            }
            h = sum! * (1 / Float(b.mrf.count))
        }
        return Activation.tanh(decoderOut(Self.act(h))).scalars
    }

    // MARK: Receptive fields (for chunked coding)

    /// Frames of context on each side that make a chunk's indices equal to those of the whole
    /// input: the encoder's receptive half-width (each convolution reaches max(pad, (k−1)·dilation
    /// − pad) input positions at its scale), rounded up to frames, plus one.
    public var encoderContextFrames: Int {
        let a = architecture
        var samples = 0, scale = 1
        func add(_ k: Int, _ pad: Int, dilation: Int = 1) { samples += max(pad, (k - 1) * dilation - pad) * scale }
        add(2 * a.patch, (a.patch + 1) / 2)
        scale = a.patch
        for s in a.strides {
            add(7, 3); add(7, 9, dilation: 3)
            add(2 * s, (s + 1) / 2)
            scale *= s
        }
        add(3, 1)
        return (samples + a.hop - 1) / a.hop + 1
    }

    /// Frames of context on each side that make a chunk's samples equal to those of the whole
    /// decode: the stem, each transposed convolution (an output reads at most 2 inputs), the
    /// widest MRF stack, in frames at each scale, rounded up, plus one.
    public var decoderContextFrames: Int {
        let a = architecture
        var frames = 3.0, positionsPerFrame = 1.0
        let widest = a.mrfKernels.map { k in a.mrfDilations.reduce(0) { $0 + ($1 + 1) * (k - 1) / 2 } }.max() ?? 0
        for u in a.strides.reversed() {
            frames += 2 / positionsPerFrame
            positionsPerFrame *= Double(u)
            frames += Double(widest) / positionsPerFrame
        }
        frames += 2 / positionsPerFrame
        return Int(frames.rounded(.up)) + 1
    }
}
