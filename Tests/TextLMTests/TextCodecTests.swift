import CodecKit
import Container
import EntropyCoding
import Foundation
import MediaIO
import Neural
import TestSupport
import Testing
@testable import TextLM

/// Seeded pseudo-random bytes, so failures reproduce.
private func randomBytes(_ n: Int, seed: UInt64) -> [UInt8] {
    var g = SplitMix64(seed: seed)
    return (0..<n).map { _ in UInt8(truncatingIfNeeded: g.next()) }
}

private let english = Array("""
    Alice was beginning to get very tired of sitting by her sister on the bank, and of having \
    nothing to do: once or twice she had peeped into the book her sister was reading, but it had \
    no pictures or conversations in it, 'and what is the use of a book,' thought Alice 'without \
    pictures or conversations?' So she was considering in her own mind (as well as she could, for \
    the hot day made her feel very sleepy and stupid), whether the pleasure of making a \
    daisy-chain would be worth the trouble of getting up and picking the daisies.
    """.utf8)

/// A small transformer with fixed pseudo-random weights (never a codec's model): it exercises
/// every code path of the M1 runtime, including the sliding context (context 16), quickly.
private func tinyModel() throws -> ByteLM {
    let transformer = try TransformerLM(weights: try SafeTensors(data: SafeTensors.encode(tinyTensors())), config: tinyConfig)
    return try ByteLM(transformer: transformer, bos: 256, identity: ModelIdentity(id: "eiw-m1", hash: 0x1234))
}

private let tinyConfig = TransformerConfig(vocabSize: 257, outputSize: 256, dim: 32, heads: 2, layers: 2, mlpDim: 64, context: 16)

/// The tiny model installed as Codecs/eiw-m1 in a temporary folder (safetensors + codec.json),
/// so the codecs run end to end through ModelStore. One folder per call: tests run in parallel.
private func tinyModelStore() throws -> ModelStore {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("textlm-tests-\(getpid())-\(UUID().uuidString)")
    let folder = dir.appendingPathComponent("eiw-m1")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try SafeTensors.encode(tinyTensors()).write(to: folder.appendingPathComponent("model.safetensors"))
    let c = tinyConfig
    let config: [String: Any] = ["model_id": "eiw-m1", "architecture": [
        "width": c.dim, "heads": c.heads, "layers": c.layers, "mlp": c.mlpDim, "context": c.context,
        "vocab_in": c.vocabSize, "vocab_out": c.outputSize, "bos": 256, "ln_eps": 1e-5,
        "activation": "GELU tanh approximation (prose, as the released codec.json has it)"]]
    try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent("codec.json"))
    return ModelStore(searchPaths: [dir.path])
}

private func tinyTensors() -> [String: Tensor] {
    let c = tinyConfig
    var g = SplitMix64(seed: 42)
    func tensor(_ shape: [Int], scale: Float) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, scalars: (0..<n).map { _ in (Float(g.next() >> 40) / Float(1 << 24) - 0.5) * scale })
    }
    let d = c.dim
    var t: [String: Tensor] = [
        "tok_emb.weight": tensor([c.vocabSize, d], scale: 2), "pos_emb.weight": tensor([c.context, d], scale: 0.5),
        "ln_f.weight": tensor([d], scale: 0.2), "ln_f.bias": tensor([d], scale: 0.2), "head.weight": tensor([256, d], scale: 3),
    ]
    for i in 0..<c.layers {
        let p = "blocks.\(i)."
        t[p + "ln1.weight"] = tensor([d], scale: 2); t[p + "ln1.bias"] = tensor([d], scale: 0.2)
        t[p + "attn.qkv.weight"] = tensor([3 * d, d], scale: 0.6); t[p + "attn.qkv.bias"] = tensor([3 * d], scale: 0.1)
        t[p + "attn.proj.weight"] = tensor([d, d], scale: 0.4); t[p + "attn.proj.bias"] = tensor([d], scale: 0.1)
        t[p + "ln2.weight"] = tensor([d], scale: 2); t[p + "ln2.bias"] = tensor([d], scale: 0.2)
        t[p + "mlp.fc1.weight"] = tensor([c.mlpDim, d], scale: 0.6); t[p + "mlp.fc1.bias"] = tensor([c.mlpDim], scale: 0.1)
        t[p + "mlp.fc2.weight"] = tensor([d, c.mlpDim], scale: 0.4); t[p + "mlp.fc2.bias"] = tensor([d], scale: 0.1)
    }
    return t
}

@Suite struct ByteLMTests {
    /// Blocks and single bytes give the same distributions, also across the restarts of a full
    /// context (context 16, keep 8); `reset` returns to the distribution after BOS.
    @Test func blocksEqualSingleBytesAcrossSlidingRestarts() throws {
        let model = try tinyModel()
        let text = Array(english.prefix(60))
        var single = model.session(slidingKeep: 8)
        let afterBOS = single.nextByteCumulative
        var expected: [[UInt32]] = []
        for b in text { single.append(b); expected.append(single.nextByteCumulative) }
        for cum in [afterBOS] + expected {
            #expect(cum.count == 257 && cum.first == 0 && cum.last == 65536 && zip(cum, cum.dropFirst()).allSatisfy { $0 < $1 })
        }
        for block in [3, 32] {
            var session = model.session(slidingKeep: 8)
            #expect(session.append(contentsOf: text, block: block) == expected, "block \(block)")
            session.reset()
            #expect(session.nextByteCumulative == afterBOS)
            #expect(session.append(contentsOf: text.prefix(5), block: block) == Array(expected.prefix(5)))
        }
    }
}

@Suite struct LMACTests {
    private func roundTrip(_ text: [UInt8]) throws -> Int {
        let codec = LMACCodec(store: ModelStore(searchPaths: []))
        let file = try codec.encode(.bytes(text), options: CodecOptions(["lm": "off"]))
        let bytes = file.serialized()
        let back = try codec.decode(try ContainerFile(parsing: bytes))
        #expect(back == .bytes(text))
        return bytes.count
    }

    @Test func contextMixingRoundTrips() throws {
        _ = try roundTrip([])
        _ = try roundTrip([0x41])
        _ = try roundTrip([0xFF])
        _ = try roundTrip(randomBytes(3000, seed: 3))
        let size = try roundTrip(english + english)
        #expect(size * 8 < (english.count * 2) * 3)  // repeated English: well under 3 bits per byte
    }

    @Test func withLanguageModelRoundTrips() throws {
        let model = try tinyModel()
        for text in [[], [UInt8(10)], Array(english.prefix(200)), randomBytes(100, seed: 9)] {
            var lm: ByteLM.Session? = model.session(slidingKeep: 8)
            let coded = LMACCodec.code(text, lm: &lm)
            var lm2: ByteLM.Session? = model.session(slidingKeep: 8)
            #expect(try LMACCodec.decode(coded, count: text.count, lm: &lm2) == text)
        }
    }

    @Test func truncatedStreamIsAnError() throws {
        var lm: ByteLM.Session? = nil
        let coded = LMACCodec.code(english, lm: &lm)
        #expect(throws: CodecError.self) { try LMACCodec.decode(Array(coded.prefix(coded.count / 2)), count: english.count, lm: &lm) }
    }

    /// A header declaring more bytes than the coded data can hold (the model's probability clamp
    /// bounds the bytes per coded bit) is refused before the count-sized tables are allocated.
    @Test func countsTheCodedBytesCannotHoldAreRefusedFirst() throws {
        let codec = LMACCodec(store: ModelStore(searchPaths: []))
        for (count, payload) in [(1 << 31, [UInt8](repeating: 0, count: 4)), (8192 * 7 + 1, [0, 1, 2, 3])] {
            let forged = ContainerFile(codecID: LMACCodec.id, media: .bytes(count: count), payload: payload)
            do {
                _ = try codec.decode(try ContainerFile(parsing: forged.serialized()))
                Issue.record("a forged count of \(count) was decoded")
            } catch let error as CodecError {
                #expect("\(error)".contains("more than 3 coded bytes can hold"), "\(error)")
            }
        }
        // The bound holds with room to spare on the most compressible input there is.
        for n in [0, 1, 1000, 100_000] {
            let zeros = [UInt8](repeating: 0, count: n)
            var lm: ByteLM.Session? = nil
            let coded = LMACCodec.code(zeros, lm: &lm)
            #expect(n <= LMACCodec.maxCount(codedBytes: coded.count) / 2, "\(n) bytes in \(coded.count)")
            _ = try roundTrip(zeros)
        }
    }

    @Test func corruptContainerIsAnError() throws {
        let codec = LMACCodec(store: ModelStore(searchPaths: []))
        var bytes = try codec.encode(.bytes(english), options: CodecOptions(["lm": "off"])).serialized()
        bytes[bytes.count / 2] ^= 0x10
        #expect(throws: ContainerError.self) { try ContainerFile(parsing: bytes) }
    }

    @Test func missingModelIsAClearError() {
        let codec = LMACCodec(store: ModelStore(searchPaths: ["/nonexistent"]))
        #expect(throws: CodecError.self) { try codec.encode(.bytes(english), options: CodecOptions()) }
    }
}

@Suite struct EqualInfoWindowTests {
    @Test(arguments: [8, 16, 32, 128])
    func roundTripsAndWindowInvariants(windowBits: Int) throws {
        let coder = EqualInfoWindows(model: try tinyModel(), windowBits: windowBits)
        for text in [[], [UInt8(0x65)], [UInt8(0xFF)], Array(english.prefix(300)), randomBytes(60, seed: 5)] {
            let (bits, windows) = coder.encode(text)
            // Every window is exactly W bits (an escape is two windows); together they cover the text in order.
            let slots = windows.reduce(0) { $0 + ($1.escaped ? 2 : 1) }
            #expect(bits.count == slots * windowBits)
            var next = 0
            var offset = 0
            for w in windows {
                #expect(w.bytes.lowerBound == next && !w.bytes.isEmpty)
                next = w.bytes.upperBound
                if w.escaped {
                    #expect(w.bytes.count == 1)
                } else {
                    #expect(w.length >= 1 && w.length <= windowBits)
                    // Each window decodes on its own, from its W bits only.
                    var alone = BitStreamWriter()
                    for i in offset..<(offset + windowBits) { alone.write(UInt64(bits.bit(i)), count: 1) }
                    let one = try coder.decode(alone.bytes, start: 0, count: w.bytes.count)
                    #expect(one == Array(text[w.bytes]))
                }
                offset += (w.escaped ? 2 : 1) * windowBits
            }
            #expect(next == text.count)
            #expect(try coder.decode(bits.bytes, start: 0, count: text.count) == text)
        }
    }

    @Test func strayBitsAndShortStreamsAreErrors() throws {
        let coder = EqualInfoWindows(model: try tinyModel(), windowBits: 16)
        let text = Array(english.prefix(80))
        var bits = coder.encode(text).bits
        bits.write(0, count: 16)
        var stray = bits.bytes
        stray[stray.count - 1] |= 1
        #expect(throws: CodecError.self) { try coder.decode(stray, start: 0, count: text.count) }
        #expect(throws: CodecError.self) { try coder.decode(Array(bits.bytes.prefix(4)), start: 0, count: text.count) }
    }

    @Test func tokensRoundTripThroughNPY() throws {
        for token in [8, 16] {
            let file = ContainerFile(codecID: EIWCodec.id, modelID: EIWCodec.modelID, modelHash: 0xDEAD_BEEF_0123_4567,
                                     media: .bytes(count: 77), payload: [2, UInt8(token)] + randomBytes(12, seed: 1))
            let npy = try EIWTokens.npy(of: file)
            #expect(npy.count % (token / 8) == 0 && (Int(npy[8]) + 10) % 64 == 0)
            #expect(try EIWTokens.container(fromNPY: npy) == file)
        }
    }
}

/// Both codecs end to end through containers, with the tiny model installed on disk.
@Suite struct TextCodecEndToEndTests {
    @Test func bothCodecsRoundTripThroughContainersAndTokens() throws {
        let store = try tinyModelStore()
        let text = Array(english.prefix(120))
        for input in [[], [UInt8(0x0A)], text] {
            let lm = LMACCodec(store: store)
            let a = try lm.encode(.bytes(input), options: CodecOptions())
            #expect(a.modelID == "eiw-m1" && a.modelHash != 0)
            #expect(try lm.decode(try ContainerFile(parsing: a.serialized())) == .bytes(input))
            for (window, token) in [(16, 16), (8, 16), (24, 8)] {
                let eiw = EIWCodec(store: store)
                let e = try eiw.encode(.bytes(input), options: CodecOptions(["window": "\(window)", "token": "\(token)"]))
                #expect(try eiw.decode(try ContainerFile(parsing: e.serialized())) == .bytes(input))
                let back = try EIWTokens.container(fromNPY: try EIWTokens.npy(of: e))
                #expect(try eiw.decode(back) == .bytes(input))
            }
        }
        #expect(throws: CodecError.self) { try EIWCodec(store: store).encode(.bytes(text), options: CodecOptions(["window": "12"])) }
    }

    @Test func differentWeightsAreRefused() throws {
        let store = try tinyModelStore()
        var file = try EIWCodec(store: store).encode(.bytes(english), options: CodecOptions())
        file.modelHash ^= 1
        #expect(throws: CodecError.self) { try EIWCodec(store: store).decode(file) }
    }
}

/// The released M1 against PyTorch: logits of golden.safetensors within 1e-4 relative.
@Suite struct ReleasedModelTests {
    @Test func goldenLogitsMatchPyTorch() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let store = ModelStore(searchPaths: [root.appendingPathComponent("Codecs").path])
        guard (try? store.folder(for: "eiw-m1")) != nil,
              let golden = FileManager.default.contents(atPath: root.appendingPathComponent("Codecs/eiw-m1/golden.safetensors").path) else {
            print("skipped: Codecs/eiw-m1 is not present")
            return
        }
        let model = try ByteLM.load(from: store, modelID: "eiw-m1")
        let g = try SafeTensors(data: golden)
        let tokens = try g.tensor("tokens").scalars.map { Int($0) }
        let logits = try g.tensor("logits")
        #expect(tokens.first == model.bos && logits.shape == [tokens.count, 256])
        var session = model.session()
        var worst: Float = 0
        for (i, token) in tokens.enumerated() {
            if i > 0 { session.append(UInt8(token)) }
            let row = Array(logits.scalars[(i * 256)..<((i + 1) * 256)])
            let scale = row.map { abs($0) }.max()!
            let diff = zip(row, session.nextByteLogits).map { abs($0 - $1) }.max()!
            worst = max(worst, diff / scale)
        }
        print("eiw-m1 golden logits: largest error \(worst) relative")
        #expect(worst < 1e-4)
    }
}
