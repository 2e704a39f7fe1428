import Foundation

/// Hyper-parameters of a decoder-only byte/token transformer, read from codec.json.
public struct TransformerConfig: Sendable, Equatable {
    /// Input tokens (rows of `tok_emb`), e.g. 257 for 256 bytes + a BOS token.
    public var vocabSize: Int
    /// Output classes (rows of `head`), e.g. 256 bytes.
    public var outputSize: Int
    public var dim: Int
    public var heads: Int
    public var layers: Int
    public var mlpDim: Int
    public var context: Int
    public var activation: Activation
    public var normEps: Float

    public init(vocabSize: Int = 256, outputSize: Int? = nil, dim: Int, heads: Int, layers: Int, mlpDim: Int, context: Int,
                activation: Activation = .geluTanh, normEps: Float = 1e-5) {
        self.vocabSize = vocabSize; self.outputSize = outputSize ?? vocabSize; self.dim = dim; self.heads = heads
        self.layers = layers; self.mlpDim = mlpDim; self.context = context; self.activation = activation; self.normEps = normEps
    }

    /// Reads codec.json: the keys of an `"architecture"` or `"model"` object, or the top level.
    /// Each key has two accepted spellings: `n_heads`/`heads` (required), `d_model`/`width`,
    /// `n_layers`/`layers`, `d_mlp`/`mlp`, `context`, `vocab_size`/`vocab_in`, `vocab_out`,
    /// `norm_eps`/`ln_eps`, and `activation` ("gelu_tanh", the default, or "gelu", "relu", "silu").
    /// Sizes that are absent are taken from the weights' shapes; present ones must agree with them.
    public init(json: Data, weights: SafeTensors) throws {
        guard let top = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] else {
            throw NeuralError.badConfig("codec.json is not a JSON object")
        }
        let obj = (top["architecture"] as? [String: Any]) ?? (top["model"] as? [String: Any]) ?? top
        func int(_ keys: String...) -> Int? { keys.lazy.compactMap { obj[$0] as? Int }.first }
        guard let heads = int("n_heads", "heads") else { throw NeuralError.badConfig("codec.json has no n_heads (or heads)") }
        func matrix(_ name: String) throws -> [Int] {
            guard let e = weights.entries[name] else { throw SafeTensorsError.missingTensor(name: name) }
            guard e.shape.count == 2 else { throw SafeTensorsError.shapeMismatch(name: name, expected: [-1, -1], found: e.shape) }
            return e.shape
        }
        let emb = try matrix("tok_emb.weight"), pos = try matrix("pos_emb.weight"), fc1 = try matrix("blocks.0.mlp.fc1.weight")
        let head = weights.entries["head.weight"] == nil ? emb : try matrix("head.weight")
        var layers = 0
        while weights.entries["blocks.\(layers).attn.qkv.weight"] != nil { layers += 1 }
        var activation = Activation.geluTanh
        if let name = obj["activation"] as? String {
            guard let a = Activation(name: name) else { throw NeuralError.badConfig("unknown activation '\(name)'") }
            activation = a
        }
        let eps = ((obj["norm_eps"] as? Double) ?? (obj["ln_eps"] as? Double)).map(Float.init) ?? 1e-5
        self.init(vocabSize: int("vocab_size", "vocab_in") ?? emb[0], outputSize: int("vocab_out") ?? head[0],
                  dim: int("d_model", "width") ?? emb[1], heads: heads, layers: int("n_layers", "layers") ?? layers,
                  mlpDim: int("d_mlp", "mlp") ?? fc1[0], context: int("context") ?? pos[0], activation: activation, normEps: eps)
        guard vocabSize == emb[0], outputSize == head[0], dim == emb[1], context <= pos[0], self.layers == layers, heads > 0,
              dim % heads == 0 else {
            throw NeuralError.badConfig("codec.json (vocab \(vocabSize)→\(outputSize), width \(dim), \(heads) heads, context \(context), \(self.layers) layers) disagrees with the weights (tok_emb \(emb), head \(head), pos_emb \(pos), \(layers) blocks)")
        }
    }
}

public enum NeuralError: Error, Equatable, CustomStringConvertible {
    case badConfig(String)
    case contextFull(Int)
    case tokenOutOfRange(Int, vocab: Int)

    public var description: String {
        switch self {
        case .badConfig(let r): "model configuration is invalid: \(r)"
        case .contextFull(let n): "the model's context of \(n) positions is full; reset the state (start a new window)"
        case .tokenOutOfRange(let t, let v): "token \(t) is outside the vocabulary 0..<\(v)"
        }
    }
}

/// Pre-LN transformer block: x + attn(ln1(x)), then x + fc2(act(fc1(ln2(x)))).
public struct TransformerBlock: Sendable {
    public let ln1: LayerNorm
    public let attn: MultiHeadSelfAttention
    public let ln2: LayerNorm
    public let fc1: Linear
    public let fc2: Linear
    public let activation: Activation

    public init(ln1: LayerNorm, attn: MultiHeadSelfAttention, ln2: LayerNorm, fc1: Linear, fc2: Linear, activation: Activation) {
        self.ln1 = ln1; self.attn = attn; self.ln2 = ln2; self.fc1 = fc1; self.fc2 = fc2; self.activation = activation
    }

    /// Loads `<prefix>.ln1`, `.attn.qkv`, `.attn.proj`, `.ln2`, `.mlp.fc1`, `.mlp.fc2`.
    public init(_ w: SafeTensors, _ prefix: String, dim: Int, heads: Int, mlpDim: Int, activation: Activation, eps: Float) throws {
        self.init(ln1: try LayerNorm(w, prefix + ".ln1", dim: dim, eps: eps),
                  attn: try MultiHeadSelfAttention(w, prefix + ".attn", dim: dim, heads: heads),
                  ln2: try LayerNorm(w, prefix + ".ln2", dim: dim, eps: eps),
                  fc1: try Linear(w, prefix + ".mlp.fc1", in: dim, out: mlpDim),
                  fc2: try Linear(w, prefix + ".mlp.fc2", in: mlpDim, out: dim), activation: activation)
    }

    /// Full causal forward over `[T, dim]`.
    public func callAsFunction(_ x: Tensor, causal: Bool = true, path: KernelPath) -> Tensor {
        let h = x + attn(ln1(x), causal: causal, path: path)
        var m = fc1(ln2(h), path: path)
        activation.apply(&m.scalars)
        return h + fc2(m, path: path)
    }

    /// The next positions `[n, dim]` with a key/value cache; the same arithmetic, element for
    /// element, as the rows of the full causal forward, for any n.
    public func step(_ x: Tensor, cache: inout MultiHeadSelfAttention.Cache, path: KernelPath) -> Tensor {
        let h = x + attn.step(ln1(x), cache: &cache, path: path)
        var m = fc1(ln2(h), path: path)
        activation.apply(&m.scalars)
        return h + fc2(m, path: path)
    }
}

/// A decoder-only transformer language model: token + learned position embeddings, pre-LN blocks,
/// final layer norm, linear head (tied to the token embedding when `head.weight` is absent).
///
/// Tensor names (PyTorch module names): `tok_emb.weight` [V, d], `pos_emb.weight` [ctx, d],
/// `blocks.{i}.ln1.{weight,bias}`, `blocks.{i}.attn.qkv.{weight,bias}` [3d, d],
/// `blocks.{i}.attn.proj.{weight,bias}`, `blocks.{i}.ln2.*`, `blocks.{i}.mlp.fc1.*` [mlp, d],
/// `blocks.{i}.mlp.fc2.*` [d, mlp], `ln_f.*`, `head.weight` [V, d] (+ optional `head.bias`).
/// Biases are optional everywhere.
public struct TransformerLM: Sendable {
    public let config: TransformerConfig
    public let tokenEmbedding: Embedding
    public let positionEmbedding: Embedding
    public let blocks: [TransformerBlock]
    public let finalNorm: LayerNorm
    public let head: Linear
    /// Deterministic by default: its output feeds an entropy coder.
    public var path: KernelPath = .deterministic

    public init(weights w: SafeTensors, config c: TransformerConfig) throws {
        config = c
        tokenEmbedding = Embedding(weight: try w.tensor("tok_emb.weight", shape: [c.vocabSize, c.dim]))
        let pos = try w.tensor("pos_emb.weight")
        guard pos.rank == 2, pos.shape[1] == c.dim, pos.shape[0] >= c.context else {
            throw SafeTensorsError.shapeMismatch(name: "pos_emb.weight", expected: [c.context, c.dim], found: pos.shape)
        }
        positionEmbedding = Embedding(weight: pos)
        blocks = try (0..<c.layers).map {
            try TransformerBlock(w, "blocks.\($0)", dim: c.dim, heads: c.heads, mlpDim: c.mlpDim, activation: c.activation, eps: c.normEps)
        }
        finalNorm = try LayerNorm(w, "ln_f", dim: c.dim, eps: c.normEps)
        if w.entries["head.weight"] != nil {
            head = try Linear(w, "head", in: c.dim, out: c.outputSize)
        } else {
            guard c.outputSize == c.vocabSize else { throw SafeTensorsError.missingTensor(name: "head.weight") }
            head = Linear(weight: tokenEmbedding.weight, bias: nil)
        }
    }

    /// Loads from the raw bytes of codec.json and model.safetensors (as CodecKit's LoadedModel holds them).
    public init(config json: Data, weights: Data) throws {
        let st = try SafeTensors(data: weights)
        try self.init(weights: st, config: try TransformerConfig(json: json, weights: st))
    }

    /// Decoding state: one key/value cache per block and the next position.
    public struct State: Sendable {
        public var caches: [MultiHeadSelfAttention.Cache]
        public var position: Int { caches.first?.length ?? 0 }
        public mutating func reset() { for i in caches.indices { caches[i].reset() } }
        /// Keeps the first `position` positions and forgets the rest: a new window that starts
        /// with the same tokens (a BOS) continues from there without recomputing them.
        public mutating func truncate(to position: Int) { for i in caches.indices { caches[i].truncate(to: position) } }
    }

    public func makeState() -> State {
        State(caches: blocks.map { _ in MultiHeadSelfAttention.Cache(capacity: config.context, dim: config.dim) })
    }

    /// Feeds one token at `state.position` and returns the logits for the next token.
    public func step(_ token: Int, _ state: inout State) throws -> [Float] {
        try step([token], &state).scalars
    }

    /// Feeds `tokens` at positions `state.position...` in one pass and returns their logits
    /// `[tokens.count, outputSize]`, row i predicting the token after `tokens[i]`. Each weight
    /// matrix is read once per pass instead of once per token; on the deterministic path the rows
    /// are bit for bit those of single steps (and of `logits`), so an encoder that knows the
    /// tokens ahead may run blocks while its decoder steps one token at a time.
    public func step(_ tokens: [Int], _ state: inout State) throws -> Tensor {
        if let bad = tokens.first(where: { $0 < 0 || $0 >= config.vocabSize }) { throw NeuralError.tokenOutOfRange(bad, vocab: config.vocabSize) }
        let start = state.position
        guard start + tokens.count <= config.context else { throw NeuralError.contextFull(config.context) }
        guard !tokens.isEmpty else { return Tensor(zeros: [0, config.outputSize]) }
        var x = tokenEmbedding(tokens)
        x += positionEmbedding(Array(start..<(start + tokens.count)))
        for (b, block) in blocks.enumerated() { x = block.step(x, cache: &state.caches[b], path: path) }
        return head(finalNorm(x), path: path)
    }

    /// Feeds one token and returns the next-token distribution (deterministic softmax).
    public func stepProbabilities(_ token: Int, _ state: inout State) throws -> [Float] {
        DMath.softmax(try step(token, &state))
    }

    /// Causal forward over a whole sequence from position 0: logits `[T, outputSize]`, row t
    /// predicting token t+1 (a block `step` on a fresh state).
    public func logits(_ tokens: [Int]) throws -> Tensor {
        var state = makeState()
        return try step(tokens, &state)
    }
}
