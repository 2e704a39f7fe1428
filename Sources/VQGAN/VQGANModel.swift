import Foundation
import Neural

/// Why a VQGAN model could not be built from its codec.json and weights.
public enum VQGANModelError: Error, Equatable, CustomStringConvertible {
    case badConfig(String)

    public var description: String {
        switch self {
        case .badConfig(let r): "VQGAN codec.json is invalid: \(r)"
        }
    }
}

/// The VQGAN image codec's networks (Training/neuralcodecs/vqgan.py trains them; docs/VQGAN.md):
///
///     z = E(x)                 x [1, 3, H, W] in [-1, 1], H and W multiples of 16 → z [1, D, H/16, W/16]
///     i = argmin_k |z − c_k|²  one index per 16x16 patch into codebook `codebook.k<K>`
///     x̂ = G(c_i)               the decoder
///
/// and one `IndexTransformer` per clustered codebook, the learned prior and the restoration model.
/// Parameter names are PyTorch's module names; every layer is one of Neural's.
public struct VQGANModel: Sendable {
    /// codec.json's `architecture` (snake_case keys in the file).
    public struct Architecture: Codable, Sendable, Equatable {
        public var channels: [Int]
        public var resBlocks: Int
        public var embedDim: Int
        public var codes: Int
        public var groups: Int
        public var rateCodes: [Int]
        public var normEps: Float

        func validate() throws(VQGANModelError) {
            let ok = channels.count >= 1 && channels.allSatisfy { (1...4096).contains($0) && $0 % groups == 0 }
                && (0...16).contains(resBlocks) && (1...1024).contains(embedDim) && (2...65536).contains(codes)
                && groups > 0 && rateCodes.allSatisfy { (2...codes).contains($0) } && normEps > 0
            guard ok else { throw .badConfig("architecture out of range: \(self)") }
        }

        /// Pixels per index along each side: 2 (pixel unshuffle) × 2 per level after the first.
        public var down: Int { 2 << (channels.count - 1) }
    }

    public let architecture: Architecture
    public let encoder: VQEncoder
    public let decoder: VQDecoder
    /// The full codebook (key `architecture.codes`) and the clustered ones, `[K, D]` each.
    public let codebooks: [Int: Tensor]
    public let indexModels: [Int: IndexTransformer]

    /// From codec.json's bytes and the weights.
    public init(configuration json: Data, weights w: SafeTensors) throws {
        struct Config: Decodable {
            var codec: String
            var architecture: Architecture
            var indexModel: IndexTransformer.Architecture
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let config: Config
        do { config = try decoder.decode(Config.self, from: json) } catch {
            throw VQGANModelError.badConfig("\(error)")
        }
        guard config.codec == "vqgan" else { throw VQGANModelError.badConfig("names codec '\(config.codec)', not 'vqgan'") }
        try self.init(architecture: config.architecture, index: config.indexModel, weights: w)
    }

    public init(architecture a: Architecture, index: IndexTransformer.Architecture, weights w: SafeTensors) throws {
        try a.validate()
        architecture = a
        encoder = try VQEncoder(w, a)
        decoder = try VQDecoder(w, a)
        var books = [Int: Tensor]()
        for k in [a.codes] + a.rateCodes {
            books[k] = try w.tensor("codebook.k\(k)", shape: [k, a.embedDim])
        }
        codebooks = books
        var models = [Int: IndexTransformer]()
        for k in a.rateCodes {
            models[k] = try IndexTransformer(w, "index.k\(k)", codes: k, architecture: index)
        }
        indexModels = models
    }

    /// Indices `[h·w]` (row-major) of `x` `[1, 3, H, W]` with codebook `k` (the full one when nil).
    public func encode(_ x: Tensor, k: Int? = nil, path: KernelPath = .fast) -> [Int] {
        nearest(encoder(x, path: path), book: codebook(k))
    }

    /// The picture `[1, 3, 16h, 16w]` of indices `[h·w]` into codebook `k`.
    public func decode(_ indices: [Int], height h: Int, width w: Int, k: Int? = nil, path: KernelPath = .fast) -> Tensor {
        let book = codebook(k), d = architecture.embedDim
        precondition(indices.count == h * w, "\(indices.count) indices for a \(h)x\(w) grid")
        var q = [Float](repeating: 0, count: d * h * w)
        for (p, i) in indices.enumerated() {
            precondition(i >= 0 && i < book.shape[0], "index \(i) outside codebook of \(book.shape[0])")
            for c in 0..<d { q[c * h * w + p] = book.scalars[i * d + c] }
        }
        return decoder(Tensor(shape: [1, d, h, w], scalars: q), path: path)
    }

    public func codebook(_ k: Int?) -> Tensor {
        let key = k ?? architecture.codes
        guard let book = codebooks[key] else { preconditionFailure("no codebook of \(key) codes") }
        return book
    }

    /// The nearest code (squared L2 as |z|² − 2 z·c + |c|², ties to the lower index) of every
    /// position of z `[1, D, h, w]`, row-major — the arithmetic of the PyTorch reference.
    public func nearest(_ z: Tensor, book: Tensor) -> [Int] {
        let d = z.shape[1], n = z.shape[2] * z.shape[3], k = book.shape[0]
        let norms = (0..<k).map { j in (0..<d).reduce(Float(0)) { $0 + book.scalars[j * d + $1] * book.scalars[j * d + $1] } }
        return (0..<n).map { p in
            var zz: Float = 0
            for c in 0..<d { zz += z.scalars[c * n + p] * z.scalars[c * n + p] }
            var best = 0, bestD = Float.infinity
            for j in 0..<k {
                var dot: Float = 0
                for c in 0..<d { dot += z.scalars[c * n + p] * book.scalars[j * d + c] }
                let dist = zz - 2 * dot + norms[j]
                if dist < bestD { bestD = dist; best = j }
            }
            return best
        }
    }
}

/// x + conv2(SiLU(GN(conv1(SiLU(GN(x)))))), with a 1x1 `skip` when the width changes.
public struct VQResBlock: Sendable {
    let norm1: GroupNorm, conv1: Conv2d, norm2: GroupNorm, conv2: Conv2d, skip: Conv2d?

    init(_ w: SafeTensors, _ prefix: String, in cin: Int, out cout: Int, _ a: VQGANModel.Architecture) throws {
        norm1 = try GroupNorm(w, prefix + ".norm1", groups: a.groups, channels: cin, eps: a.normEps)
        conv1 = try Conv2d(w, prefix + ".conv1", padding: 1)
        norm2 = try GroupNorm(w, prefix + ".norm2", groups: a.groups, channels: cout, eps: a.normEps)
        conv2 = try Conv2d(w, prefix + ".conv2", padding: 1)
        skip = w.entries[prefix + ".skip.weight"] == nil ? nil : try Conv2d(w, prefix + ".skip")
    }

    func callAsFunction(_ x: Tensor, path: KernelPath) -> Tensor {
        let h = conv1(norm1(x, then: .silu), path: path)
        var y = conv2(norm2(h, then: .silu), path: path)
        y += skip.map { $0(x, path: path) } ?? x
        return y
    }
}

/// x + attention(GN(x)) over the H·W positions: one head, not causal.
public struct VQAttentionBlock: Sendable {
    let norm: GroupNorm, attention: MultiHeadSelfAttention

    init(_ w: SafeTensors, _ prefix: String, channels c: Int, _ a: VQGANModel.Architecture) throws {
        norm = try GroupNorm(w, prefix + ".norm", groups: a.groups, channels: c, eps: a.normEps)
        attention = MultiHeadSelfAttention(qkv: try Linear(w, prefix + ".qkv", in: c, out: 3 * c),
                                           proj: try Linear(w, prefix + ".proj", in: c, out: c), heads: 1)
    }

    func callAsFunction(_ x: Tensor, path: KernelPath) -> Tensor {
        precondition(x.shape[0] == 1, "attention block runs one picture at a time")
        let (c, hw) = (x.shape[1], x.shape[2] * x.shape[3])
        let rows = norm(x).reshaped([c, hw]).transposed()  // [HW, C]
        let mixed = attention(rows, causal: false, path: path).transposed().reshaped(x.shape)
        return x + mixed
    }
}

public struct VQEncoder: Sendable {
    let convIn: Conv2d
    let levels: [(down: Conv2d?, blocks: [VQResBlock])]
    let mid1: VQResBlock, attention: VQAttentionBlock, mid2: VQResBlock
    let normOut: GroupNorm, convOut: Conv2d

    init(_ w: SafeTensors, _ a: VQGANModel.Architecture) throws {
        let ch = a.channels
        convIn = try Conv2d(w, "encoder.conv_in", padding: 1)
        levels = try ch.indices.map { i in
            let down = i == 0 ? nil : try Conv2d(w, "encoder.levels.\(i).down", stride: 2, padding: 1)
            let blocks = try (0..<a.resBlocks).map { try VQResBlock(w, "encoder.levels.\(i).blocks.\($0)", in: ch[i], out: ch[i], a) }
            return (down: down, blocks: blocks)
        }
        let top = ch[ch.count - 1]
        mid1 = try VQResBlock(w, "encoder.mid1", in: top, out: top, a)
        attention = try VQAttentionBlock(w, "encoder.attn", channels: top, a)
        mid2 = try VQResBlock(w, "encoder.mid2", in: top, out: top, a)
        normOut = try GroupNorm(w, "encoder.norm_out", groups: a.groups, channels: top, eps: a.normEps)
        convOut = try Conv2d(w, "encoder.conv_out")
    }

    public func callAsFunction(_ x: Tensor, path: KernelPath = .fast) -> Tensor {
        var h = convIn(Resample.pixelUnshuffle(x, factor: 2), path: path)
        for level in levels {
            if let down = level.down { h = down(h, path: path) }
            for b in level.blocks { h = b(h, path: path) }
        }
        h = mid2(attention(mid1(h, path: path), path: path), path: path)
        return convOut(normOut(h, then: .silu), path: path)
    }
}

public struct VQDecoder: Sendable {
    let convIn: Conv2d
    let mid1: VQResBlock, attention: VQAttentionBlock, mid2: VQResBlock
    let levels: [(up: Conv2d?, blocks: [VQResBlock])]
    let normOut: GroupNorm, convOut: Conv2d

    init(_ w: SafeTensors, _ a: VQGANModel.Architecture) throws {
        let ch = Array(a.channels.reversed())
        let top = ch[0]
        convIn = try Conv2d(w, "decoder.conv_in", padding: 1)
        mid1 = try VQResBlock(w, "decoder.mid1", in: top, out: top, a)
        attention = try VQAttentionBlock(w, "decoder.attn", channels: top, a)
        mid2 = try VQResBlock(w, "decoder.mid2", in: top, out: top, a)
        levels = try ch.indices.map { i in
            let up = i == 0 ? nil : try Conv2d(w, "decoder.levels.\(i).up", padding: 1)
            let blocks = try (0..<a.resBlocks).map { try VQResBlock(w, "decoder.levels.\(i).blocks.\($0)", in: ch[i], out: ch[i], a) }
            return (up: up, blocks: blocks)
        }
        normOut = try GroupNorm(w, "decoder.norm_out", groups: a.groups, channels: ch[ch.count - 1], eps: a.normEps)
        convOut = try Conv2d(w, "decoder.conv_out", padding: 1)
    }

    public func callAsFunction(_ q: Tensor, path: KernelPath = .fast) -> Tensor {
        var h = mid2(attention(mid1(convIn(q, path: path), path: path), path: path), path: path)
        for level in levels {
            if let up = level.up { h = up(Resample.nearest(h, scale: 2), path: path) }
            for b in level.blocks { h = b(h, path: path) }
        }
        return Resample.pixelShuffle(convOut(normOut(h, then: .silu), path: path), factor: 2)
    }
}

/// The bidirectional index transformer of one codebook size K: over a window of at most
/// `window`x`window` indices (row-major), token embedding (K codes + MASK = K) plus the embedding of
/// position row·window + col, pre-LN blocks without a causal mask, final LayerNorm, head to K logits.
///
/// As the prior, a unit of indices is coded in four phases (`phase(row:col:)`): phase s under the
/// logits with phases < s known and the rest masked (`codingLogits`), on the deterministic path so
/// that encoder and decoder compute the same bits. As the restoration model, lost indices are
/// masked and predicted from the visible ones (`logits`).
public struct IndexTransformer: Sendable {
    public struct Architecture: Codable, Sendable, Equatable {
        public var dim: Int
        public var heads: Int
        public var layers: Int
        public var mlp: Int
        public var window: Int
        public var normEps: Float
    }

    public static let phases = 4
    public let codes: Int
    public let architecture: Architecture
    let tokenEmbedding: Embedding, positionEmbedding: Embedding
    let blocks: [TransformerBlock]
    let finalNorm: LayerNorm
    let head: Linear

    public var maskToken: Int { codes }

    init(_ w: SafeTensors, _ prefix: String, codes: Int, architecture a: Architecture) throws {
        guard a.dim > 0, a.heads > 0, a.dim % a.heads == 0, (1...64).contains(a.window), (1...64).contains(a.layers) else {
            throw VQGANModelError.badConfig("index model out of range: \(a)")
        }
        self.codes = codes
        architecture = a
        tokenEmbedding = Embedding(weight: try w.tensor(prefix + ".tok_emb.weight", shape: [codes + 1, a.dim]))
        positionEmbedding = Embedding(weight: try w.tensor(prefix + ".pos_emb.weight", shape: [a.window * a.window, a.dim]))
        blocks = try (0..<a.layers).map {
            try TransformerBlock(w, prefix + ".blocks.\($0)", dim: a.dim, heads: a.heads, mlpDim: a.mlp,
                                 activation: .geluTanh, eps: a.normEps)
        }
        finalNorm = try LayerNorm(w, prefix + ".ln_f", dim: a.dim, eps: a.normEps)
        head = try Linear(w, prefix + ".head", in: a.dim, out: codes)
    }

    /// The coding phase of a position: 0 where row and column are multiples of 4, 1 at the other
    /// even-even positions, 2 at odd-odd ones, 3 where row + column is odd.
    public static func phase(row r: Int, col c: Int) -> Int {
        if r % 4 == 0 && c % 4 == 0 { return 0 }
        if r % 2 == 0 && c % 2 == 0 { return 1 }
        if r % 2 == 1 && c % 2 == 1 { return 2 }
        return 3
    }

    /// Logits `[h·w, K]` for tokens `[h·w]` (codes, or `maskToken`) of an h x w window.
    public func logits(_ tokens: [Int], height h: Int, width w: Int, path: KernelPath = .deterministic) -> Tensor {
        head(finalNorm(hidden(tokens, height: h, width: w, path: path)), path: path)
    }

    /// The logits of the positions `rows` only, `[rows.count, K]` in that order: the bits of
    /// those rows of `logits(_:height:width:path:)` (the final norm and the head act row by row),
    /// without the head's work for the other positions (a coding phase needs a quarter to a half).
    public func logits(_ tokens: [Int], height h: Int, width w: Int, rows: [Int], path: KernelPath = .deterministic) -> Tensor {
        let x = hidden(tokens, height: h, width: w, path: path), d = architecture.dim
        var picked = [Float]()
        picked.reserveCapacity(rows.count * d)
        for r in rows { picked += x.scalars[(r * d)..<((r + 1) * d)] }
        return head(finalNorm(Tensor(shape: [rows.count, d], scalars: picked)), path: path)
    }

    /// The last block's output `[h·w, dim]`.
    func hidden(_ tokens: [Int], height h: Int, width w: Int, path: KernelPath) -> Tensor {
        precondition(h <= architecture.window && w <= architecture.window && tokens.count == h * w,
                     "window \(h)x\(w) larger than \(architecture.window) or \(tokens.count) tokens")
        var x = tokenEmbedding(tokens)
        x += positionEmbedding((0..<h * w).map { ($0 / w) * architecture.window + $0 % w })
        for b in blocks { x = b(x, causal: false, path: path) }
        return x
    }

    /// The logits `[h·w, K]` each index of a coding unit is coded under, phase by phase.
    public func codingLogits(_ indices: [Int], height h: Int, width w: Int, path: KernelPath = .deterministic) -> Tensor {
        let phase = (0..<h * w).map { IndexTransformer.phase(row: $0 / w, col: $0 % w) }
        var out = [Float](repeating: 0, count: h * w * codes)
        for s in 0..<IndexTransformer.phases where phase.contains(s) {
            let tokens = (0..<h * w).map { phase[$0] < s ? indices[$0] : maskToken }
            let rows = (0..<h * w).filter { phase[$0] == s }
            let l = logits(tokens, height: h, width: w, rows: rows, path: path)
            for (n, p) in rows.enumerated() {
                out.replaceSubrange(p * codes..<(p + 1) * codes, with: l.scalars[n * codes..<(n + 1) * codes])
            }
        }
        return Tensor(shape: [h * w, codes], scalars: out)
    }
}
