import CodecKit
import Foundation
import Neural

/// The perception classifiers of `codec score` (classifier-mnist, classifier-fsdd,
/// classifier-cifar10): 3x3 convolutions (padding 1, stride 1 or 2) each followed by ReLU, a global
/// average over space and one linear layer. Trained by `Training/recipes/classifiers.py`, which
/// folds batch norm into the convolutions at export, so only convolutions with a bias remain.
///
/// The models are released like the codecs' (`Codecs/<model-id>/`: codec.json with
/// `"kind": "classifier"`, model.safetensors, MODEL_CARD.md, golden.safetensors) and loaded through
/// CodecKit's `ModelStore`, the toolkit's one model-loading path (`NEURALCODECS_MODELS` works for
/// them too). They run on the deterministic kernel path: one engine per thread, and the same
/// numbers whatever the thread count.
public struct ConvClassifier: Sendable {
    /// What codec.json says about the network.
    public struct Configuration: Decodable, Sendable {
        public var kind: String
        public var task: String
        public var channels: Int
        public var widths: [Int]
        public var strides: [Int]
        public var classes: [String]
        public var logMel: LogMel?
    }

    public let configuration: Configuration
    let convs: [Conv2d]
    let head: Linear
    let path: KernelPath = .deterministic(threads: 1)

    public init(configuration c: Configuration, weights: SafeTensors) throws {
        guard c.kind == "classifier", c.widths.count == c.strides.count, !c.widths.isEmpty else {
            throw PerceptionError.engineUnavailable("codec.json does not describe a classifier")
        }
        var convs: [Conv2d] = []
        var inChannels = c.channels
        for (i, (width, stride)) in zip(c.widths, c.strides).enumerated() {
            let conv = try Conv2d(weights, "blocks.\(i)", stride: stride, padding: 1)
            guard conv.inChannels == inChannels, conv.outChannels == width, conv.kernel == (3, 3) else {
                throw SafeTensorsError.shapeMismatch(name: "blocks.\(i).weight", expected: [width, inChannels, 3, 3],
                                                     found: conv.weight.shape)
            }
            convs.append(conv)
            inChannels = width
        }
        self.configuration = c
        self.convs = convs
        self.head = try Linear(weights, "head", in: inChannels, out: c.classes.count)
    }

    /// The model `id`, loaded once per process through `ModelStore`.
    public static func load(_ id: String, store: ModelStore = ModelStore()) throws(PerceptionError) -> ConvClassifier {
        do {
            return try store.model(id, as: ConvClassifier.self) { loaded in
                try ConvClassifier(configuration: loaded.configuration(Configuration.self),
                                   weights: SafeTensors(data: loaded.weights))
            }
        } catch {
            throw .engineUnavailable("\(error) (the classifiers are released under Codecs/; see docs/SCORE.md)")
        }
    }

    /// The ReLU output of every convolution, for `[1, channels, H, W]` input of any size.
    public func features(_ input: Tensor) -> [Tensor] {
        var x = input
        var out: [Tensor] = []
        for conv in convs {
            x = Activation.relu(conv(x, path: path))
            out.append(x)
        }
        return out
    }

    /// Class scores (before softmax) from the last features.
    public func logits(features last: Tensor) -> [Float] {
        let (c, positions) = (last.shape[1], last.shape[2] * last.shape[3])
        var pooled = [Float](repeating: 0, count: c)
        for ch in 0..<c {
            var s: Float = 0
            for p in 0..<positions { s += last.scalars[ch * positions + p] }
            pooled[ch] = s / Float(positions)
        }
        return head(Tensor(shape: [1, c], scalars: pooled), path: path).scalars
    }

    public func logits(_ input: Tensor) -> [Float] { logits(features: features(input).last!) }

    /// The most likely class (the first of equals).
    public static func argmax(_ v: [Float]) -> Int {
        var best = 0
        for i in v.indices where v[i] > v[best] { best = i }
        return best
    }

    /// The feature distance of the similarity task, in the spirit of LPIPS: for each layer, every
    /// position's channel vector is scaled to unit length (LPIPS's channel-wise normalisation,
    /// without its learned per-channel weights, which need human judgements we do not have), the
    /// squared differences are summed over channels and averaged over positions; the distance is
    /// the mean over layers. 0 for identical inputs, at most 2. Maps of different sizes (audio of
    /// slightly different length) are compared over their common top-left region.
    public static func distance(_ a: [Tensor], _ b: [Tensor]) -> Double {
        precondition(a.count == b.count && !a.isEmpty)
        var total = 0.0
        for (x, y) in zip(a, b) {
            let c = x.shape[1]
            let h = min(x.shape[2], y.shape[2]), w = min(x.shape[3], y.shape[3])
            let (xw, yw) = (x.shape[3], y.shape[3])
            let (xhw, yhw) = (x.shape[2] * xw, y.shape[2] * yw)
            var sum = 0.0
            for i in 0..<h {
                for j in 0..<w {
                    var nx = 0.0, ny = 0.0
                    for ch in 0..<c {
                        let u = Double(x.scalars[ch * xhw + i * xw + j]), v = Double(y.scalars[ch * yhw + i * yw + j])
                        nx += u * u
                        ny += v * v
                    }
                    let sx = 1 / (nx.squareRoot() + 1e-10), sy = 1 / (ny.squareRoot() + 1e-10)
                    var d = 0.0
                    for ch in 0..<c {
                        let u = Double(x.scalars[ch * xhw + i * xw + j]) * sx, v = Double(y.scalars[ch * yhw + i * yw + j]) * sy
                        d += (u - v) * (u - v)
                    }
                    sum += d
                }
            }
            total += h * w > 0 ? sum / Double(h * w) : 0
        }
        return total / Double(a.count)
    }
}
