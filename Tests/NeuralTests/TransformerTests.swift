import Foundation
import Testing
@testable import Neural

@Suite struct TransformerTests {
    @Test func linearMatchesPyTorchOnBothPaths() throws {
        let (w, _) = try Golden.load("linear")
        let layer = try Linear(w, "m")
        let x = try w.tensor("input"), y = try w.tensor("output")
        expectParity(layer(x, path: .fast), y, "linear fast")
        expectParity(layer(x, path: .deterministic), y, "linear deterministic")
    }

    @Test func embeddingMatchesPyTorch() throws {
        let (w, _) = try Golden.load("embedding")
        let tokens = try w.tensor("tokens").scalars.map { Int($0) }
        #expect(try Embedding(w, "m")(tokens) == w.tensor("output"))
    }

    @Test(arguments: [true, false])
    func attentionMatchesPyTorch(causal: Bool) throws {
        let (w, c) = try Golden.load(causal ? "attention_causal" : "attention_full")
        let attn = try MultiHeadSelfAttention(w, "m", dim: c.int("dim"), heads: c.int("heads"))
        let x = try w.tensor("input"), y = try w.tensor("output")
        expectParity(attn(x, causal: causal, path: .fast), y, "attention fast")
        expectParity(attn(x, causal: causal, path: .deterministic), y, "attention deterministic")
    }

    @Test func transformerBlockMatchesPyTorch() throws {
        let (w, c) = try Golden.load("transformer_block")
        let block = try TransformerBlock(w, "m", dim: c.int("dim"), heads: c.int("heads"), mlpDim: c.int("mlp"),
                                         activation: Activation(name: c.string("activation"))!, eps: 1e-5)
        let x = try w.tensor("input"), y = try w.tensor("output")
        expectParity(block(x, path: .fast), y, "block fast")
        expectParity(block(x, path: .deterministic), y, "block deterministic")
    }

    func goldenLM() throws -> (TransformerLM, [Int], Tensor) {
        let (w, _) = try Golden.load("transformer_lm")
        let json = Data(w.metadata["config"]!.utf8)
        let lm = try TransformerLM(weights: w, config: try TransformerConfig(json: json, weights: w))
        return (lm, try w.tensor("tokens").scalars.map { Int($0) }, try w.tensor("output"))
    }

    @Test func languageModelForwardMatchesPyTorch() throws {
        let (lm, tokens, expected) = try goldenLM()
        #expect(lm.config == TransformerConfig(vocabSize: 256, dim: 32, heads: 4, layers: 2, mlpDim: 128, context: 24,
                                               activation: .geluTanh, normEps: 1e-5))
        expectParity(try lm.logits(tokens), expected, "LM full forward (deterministic)")
        var fast = lm
        fast.path = .fast
        expectParity(try fast.logits(tokens), expected, "LM full forward (fast)")
    }

    /// The KV-cached step reproduces the full forward bit for bit on the deterministic path, and
    /// matches PyTorch's full forward.
    @Test func stepWithCacheEqualsFullForward() throws {
        let (lm, tokens, expected) = try goldenLM()
        let full = try lm.logits(tokens)
        var state = lm.makeState()
        var rows: [Float] = []
        for t in tokens { rows += try lm.step(t, &state) }
        let stepped = Tensor(shape: full.shape, scalars: rows)
        #expect(stepped.scalars.map(\.bitPattern) == full.scalars.map(\.bitPattern))
        expectParity(stepped, expected, "LM step-by-step")
        #expect(state.position == tokens.count)
        state.reset()
        #expect(try lm.step(tokens[0], &state) == Array(full.scalars[0..<256]))
    }

    /// Blocks of any size reproduce single steps bit for bit, and a cache truncated to a prefix
    /// continues exactly as if only the prefix had been fed.
    @Test func blockStepsAndTruncationEqualSingleSteps() throws {
        let (lm, tokens, _) = try goldenLM()
        let full = try lm.logits(tokens).scalars.map(\.bitPattern)
        let out = lm.config.outputSize
        for block in [1, 2, 3, 7, tokens.count] {
            var state = lm.makeState()
            var rows: [UInt32] = []
            for start in stride(from: 0, to: tokens.count, by: block) {
                let chunk = Array(tokens[start..<min(tokens.count, start + block)])
                let logits = try lm.step(chunk, &state)
                #expect(logits.shape == [chunk.count, out])
                rows += logits.scalars.map(\.bitPattern)
            }
            #expect(rows == full, "block \(block)")
        }
        var state = lm.makeState()
        _ = try lm.step(Array(tokens.prefix(10)), &state)
        state.truncate(to: 3)
        #expect(state.position == 3)
        let resumed = try lm.step(Array(tokens[3..<8]), &state)
        #expect(resumed.scalars.map(\.bitPattern) == Array(full[(3 * out)..<(8 * out)]))
        #expect(try lm.step([], &state).shape == [0, out])
        #expect(throws: NeuralError.contextFull(24)) { try lm.step(Array(repeating: 1, count: 20), &state) }
    }

    @Test func deterministicAcrossThreadCountsAndRuns() throws {
        var (lm, tokens, _) = try goldenLM()
        var reference: [UInt32]?
        for threads in [1, 2, 1, 2] {
            lm.path = .deterministic(threads: threads)
            let bits = try lm.logits(tokens).scalars.map(\.bitPattern)
            if let reference { #expect(bits == reference, "threads \(threads)") } else { reference = bits }
            var state = lm.makeState()
            var stepped: [UInt32] = []
            for t in tokens { stepped += try lm.step(t, &state).map(\.bitPattern) }
            #expect(stepped == reference, "step, threads \(threads)")
        }
    }

    /// A model large enough that every threaded split really runs (linear layers over columns,
    /// attention over positions, the step's matrix-vector products): bits equal for 1 and 2 threads,
    /// across runs, and between the full forward and the cached steps.
    @Test func deterministicWithThreadedSplitsAtEIWSize() throws {
        let (d, mlp, vocab, context) = (256, 512, 257, 24)
        var seed: UInt64 = 12345
        func random(_ shape: [Int], scale: Float) -> Tensor {
            Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                return (Float(seed >> 40) / Float(1 << 24) - 0.5) * scale
            })
        }
        var tensors = ["tok_emb.weight": random([vocab, d], scale: 1), "pos_emb.weight": random([context, d], scale: 1),
                       "ln_f.weight": random([d], scale: 0.2) + Tensor(shape: [d], scalars: Array(repeating: 1, count: d)),
                       "head.weight": random([256, d], scale: 0.1)]
        for i in 0..<2 {
            let p = "blocks.\(i)."
            tensors[p + "attn.qkv.weight"] = random([3 * d, d], scale: 0.15)
            tensors[p + "attn.qkv.bias"] = random([3 * d], scale: 0.1)
            tensors[p + "attn.proj.weight"] = random([d, d], scale: 0.1)
            tensors[p + "mlp.fc1.weight"] = random([mlp, d], scale: 0.1)
            tensors[p + "mlp.fc1.bias"] = random([mlp], scale: 0.1)
            tensors[p + "mlp.fc2.weight"] = random([d, mlp], scale: 0.05)
        }
        let json = Data(#"{"architecture": {"heads": 4, "context": 24}}"#.utf8)
        var lm = try TransformerLM(config: json, weights: SafeTensors.encode(tensors))
        let tokens = (0..<context).map { ($0 * 97 + 13) % vocab }
        var reference: [UInt32]?
        for threads in [1, 2, 2] {
            lm.path = .deterministic(threads: threads)
            let full = try lm.logits(tokens).scalars.map(\.bitPattern)
            var state = lm.makeState()
            var stepped: [UInt32] = []
            for t in tokens { stepped += try lm.step(t, &state).map(\.bitPattern) }
            #expect(stepped == full, "step vs full, threads \(threads)")
            state.truncate(to: 5)
            var blocks = Array(full[0..<(5 * 256)])
            for start in stride(from: 5, to: context, by: 6) {
                blocks += try lm.step(Array(tokens[start..<min(context, start + 6)]), &state).scalars.map(\.bitPattern)
            }
            #expect(blocks == full, "blocks of 6 after truncation, threads \(threads)")
            if let reference { #expect(full == reference, "threads \(threads)") } else { reference = full }
        }
    }

    /// A fixed hash of the deterministic probabilities: any build whose arithmetic differs (an FMA
    /// contraction, another exp, another summation order) fails here, on any machine.
    @Test func deterministicProbabilitiesHaveFixedBits() throws {
        let (lm, tokens, _) = try goldenLM()
        var state = lm.makeState()
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for t in tokens {
            for p in try lm.stepProbabilities(t, &state) {
                hash = (hash ^ UInt64(p.bitPattern)) &* 0x0000_0100_0000_01b3
            }
        }
        print("deterministic probability hash: \(String(hash, radix: 16))")
        #expect(hash == Self.expectedProbabilityHash)
    }
    static let expectedProbabilityHash: UInt64 = 0x0d88_51c6_6d12_b749

    /// The EIW model's layout: BOS input token 256, 256 outputs, "architecture" keys in codec.json.
    @Test func bosModelWithArchitectureKeysMatchesPyTorch() throws {
        let (w, _) = try Golden.load("transformer_lm_bos")
        let lm = try TransformerLM(config: Data(w.metadata["config"]!.utf8), weights: try Data(contentsOf: Golden.directory.appendingPathComponent("transformer_lm_bos.safetensors")))
        #expect(lm.config == TransformerConfig(vocabSize: 257, outputSize: 256, dim: 32, heads: 2, layers: 1, mlpDim: 64, context: 16))
        let tokens = try w.tensor("tokens").scalars.map { Int($0) }
        let expected = try w.tensor("output")
        expectParity(try lm.logits(tokens), expected, "BOS LM forward")
        var state = lm.makeState()
        var rows: [Float] = []
        for t in tokens { rows += try lm.step(t, &state) }
        #expect(rows == (try lm.logits(tokens)).scalars)
        expectParity(Tensor(shape: expected.shape, scalars: rows), expected, "BOS LM steps")
    }

    @Test func stepRejectsBadInput() throws {
        let (lm, _, _) = try goldenLM()
        var state = lm.makeState()
        #expect(throws: NeuralError.tokenOutOfRange(256, vocab: 256)) { try lm.step(256, &state) }
        for _ in 0..<lm.config.context { _ = try lm.step(1, &state) }
        #expect(throws: NeuralError.contextFull(24)) { try lm.step(1, &state) }
    }

    @Test func configRejectsDisagreeingShapes() throws {
        let (w, _) = try Golden.load("transformer_lm")
        #expect(throws: NeuralError.self) { try TransformerConfig(json: Data(#"{"n_heads": 4, "d_model": 64}"#.utf8), weights: w) }
        #expect(throws: NeuralError.self) { try TransformerConfig(json: Data(#"{"d_model": 32}"#.utf8), weights: w) }
        let minimal = try TransformerConfig(json: Data(#"{"model": {"n_heads": 4}}"#.utf8), weights: w)
        #expect(minimal.layers == 2 && minimal.mlpDim == 128 && minimal.context == 24 && minimal.activation == .geluTanh)
    }
}
