import TestSupport
import Testing
import EntropyCoding
#if canImport(Glibc)
import Glibc
#endif

/// decode(encode(x)) == x for every coder, over random alphabets (2…65,536), random and skewed
/// models, every supported precision, and empty, single-symbol and longer messages.
@Suite struct RoundTripTests {
    /// (alphabet size, precision, model, message) cases, reproducible from the seed.
    static func cases(seed: UInt64, precisions: ClosedRange<Int>, count: Int) throws -> [(CategoricalModel, [UInt32])] {
        var rng = SplitMix64(seed: seed)
        var result: [(CategoricalModel, [UInt32])] = []
        for trial in 0..<count {
            let precision = precisions.lowerBound + trial % precisions.count
            let maxAlphabet = min(65_536, 1 << precision)
            let n = trial % 5 == 0 ? maxAlphabet : Int.random(in: 2...max(2, maxAlphabet), using: &rng)
            let p = randomProbabilities(n, skewed: trial % 2 == 1, zeros: trial % 3 == 0, using: &rng)
            let model = try CategoricalModel(probabilities: p, precision: precision)
            let length = [0, 1, 2, 7, Int.random(in: 8...5000, using: &rng)][trial % 5]
            result.append((model, sampleMessage(model, count: length, using: &rng)))
        }
        return result
    }

    @Test(arguments: [1, 2, 3, 4, 8, 32])
    func rans32(ways: Int) throws {
        for (model, message) in try Self.cases(seed: 10 + UInt64(ways), precisions: RANS32.supportedPrecision, count: 48) {
            let bytes = try RANS32.encode(message, model: model, ways: ways)
            #expect(try RANS32.decode(bytes, count: message.count, model: model, ways: ways, as: UInt32.self) == message)
        }
    }

    @Test(arguments: [1, 2, 4, 5, 8, 32])
    func rans64(ways: Int) throws {
        for (model, message) in try Self.cases(seed: 20 + UInt64(ways), precisions: RANS64.supportedPrecision, count: 48) {
            let bytes = try RANS64.encode(message, model: model, ways: ways)
            #expect(try RANS64.decode(bytes, count: message.count, model: model, ways: ways, as: UInt32.self) == message)
        }
    }

    @Test func rangeCoder() throws {
        for (model, message) in try Self.cases(seed: 30, precisions: RangeEncoder.supportedPrecision, count: 48) {
            let bytes = try RangeCoder.encode(message, model: model)
            #expect(try RangeCoder.decode(bytes, count: message.count, model: model, as: UInt32.self) == message)
        }
    }

    /// The symbol-by-symbol rANS coder agrees with the bulk one byte for byte.
    @Test(arguments: [1, 3, 8])
    func incrementalRANSMatchesBulk(ways: Int) throws {
        for (model, message) in try Self.cases(seed: 40, precisions: 1...16, count: 16) {
            var encoder = try RANSEncoder<RANS64>(ways: ways)
            for s in message.reversed() { try encoder.push(Int(s), model: model) }
            let bytes = encoder.finish()
            #expect(bytes == (try RANS64.encode(message, model: model, ways: ways)))
            var decoder = try RANSDecoder<RANS64>(bytes, ways: ways)
            for s in message { #expect(try decoder.decode(model: model) == Int(s)) }
            try decoder.finish()
        }
    }

    /// The bulk coder with one model per symbol (`encode(_:contexts:table:)`) agrees byte for
    /// byte with pushing the same symbols through `RANSEncoder` under those models, for both
    /// variants; a context without a model or a symbol outside the alphabet is refused.
    @Test(arguments: [1, 4, 7])
    func contextualBulkRANSMatchesIncremental(ways: Int) throws {
        var rng = SplitMix64(seed: 50 + UInt64(ways))
        for (precision, alphabet) in [(16, 509), (12, 40), (8, 2)] {
            let models = try (0..<5).map { t in
                try CategoricalModel(probabilities: randomProbabilities(alphabet, skewed: t % 2 == 0, zeros: t == 3, using: &rng),
                                     precision: precision)
            }
            for length in [0, 1, 5, 3000] {
                let contexts = (0..<length).map { _ in UInt8.random(in: 0..<5, using: &rng) }
                let symbols = contexts.map { UInt16(sampleMessage(models[Int($0)], count: 1, using: &rng)[0]) }
                func check<V: RANSVariant>(_: V.Type) throws {
                    var encoder = try RANSEncoder<V>(ways: ways)
                    for i in stride(from: length - 1, through: 0, by: -1) { try encoder.push(Int(symbols[i]), model: models[Int(contexts[i])]) }
                    let bulk = try symbols.withUnsafeBufferPointer { s in
                        try contexts.withUnsafeBufferPointer { k in try V.encode(s, contexts: k, table: RANSEncodeTable<V>(models: models), ways: ways) }
                    }
                    #expect(bulk == encoder.finish(), "\(V.self) p=\(precision) n=\(alphabet) length \(length)")
                }
                try check(RANS64.self)
                if precision <= 16 { try check(RANS32.self) }
            }
        }
        let models = try (0..<2).map { _ in try CategoricalModel(frequencies: [3, 5, 8], precision: 4) }
        let table = try RANSEncodeTable<RANS64>(models: models)
        for (symbols, contexts) in [([UInt16](arrayLiteral: 1, 3), [UInt8](arrayLiteral: 0, 1)), ([1, 2], [0, 2])] {
            #expect(throws: EntropyCodingError.self) {
                try symbols.withUnsafeBufferPointer { s in try contexts.withUnsafeBufferPointer { k in try RANS64.encode(s, contexts: k, table: table) } }
            }
        }
        #expect(throws: EntropyCodingError.self) {
            try RANSEncodeTable<RANS64>(models: [models[0], try CategoricalModel(frequencies: [3, 5, 8, 16], precision: 5)])
        }
    }

    /// A lane still at its start state when another lane writes the first word is lifted by L
    /// (the head's "lifted" bit is set) and lowered again after the decoder reads the last word.
    @Test(arguments: [2, 3])
    func laneBelowLAtTheFirstWord(ways: Int) throws {
        // Symbol 0 owns [0, 4095) (the most probable symbol starts at 0), so a lane that only
        // codes 0 stays at its start state 1; lane 1 codes 12-bit symbols and emits words.
        let model = try CategoricalModel(frequencies: [4095, 1], precision: 12)
        let message = (0..<200).map { UInt8($0 % ways == 1 ? 1 : 0) }
        func check<V: RANSVariant>(_ variant: V.Type, _ bytes: [UInt8]) throws {
            #expect(bytes[0] & 3 == 3, "words follow and a lane was lifted")
            #expect(try V.decode(bytes, count: message.count, model: model, ways: ways, as: UInt8.self) == message)
            var encoder = try RANSEncoder<V>(ways: ways)
            for s in message.reversed() { try encoder.push(Int(s), model: model) }
            #expect(encoder.finish() == bytes)
            var decoder = try RANSDecoder<V>(bytes, ways: ways)
            for s in message { #expect(try decoder.decode(model: model) == Int(s)) }
            try decoder.finish()
        }
        try check(RANS64.self, try RANS64.encode(message, model: model, ways: ways))
        try check(RANS32.self, try RANS32.encode(message, model: model, ways: ways))
    }

    /// The head of a stream without words holds the final states in their bits alone: a
    /// message that never leaves the start state is one byte, a one-symbol message its start.
    @Test func shortMessagesCostTheirContent() throws {
        let model = try CategoricalModel(frequencies: [200, 56], precision: 8)  // symbol 1 starts at 200
        #expect(try RANS64.encode([UInt8](), model: model, ways: 1) == [0b0000_0010])  // no words, ℓ = 1
        #expect(try RANS64.encode([UInt8](repeating: 0, count: 1000), model: model, ways: 4).count == 4)
        // One symbol 1: x = 1 + 200 = 201, 8 bits: flag, 6-bit length, 7 bits below the leading one.
        let one = try RANS64.encode([1 as UInt8], model: model, ways: 1)
        #expect(one.count == 2)
        #expect(try RANS64.decode(one, count: 1, model: model, ways: 1, as: UInt8.self) == [1])
    }

    /// Adaptive models through the range coder, mixing symbols, bits and bypass bits.
    @Test func rangeCoderWithAdaptiveModelsBitsAndBypass() throws {
        var rng = SplitMix64(seed: 50)
        var symbols = try AdaptiveFrequencyModel(alphabetSize: 1000, precision: 16)
        var bits = AdaptiveBitModel(rate: 4)
        var items: [(Int, Bool, UInt32, Int)] = []
        for i in 0..<20_000 {
            let s = i % 3 == 0 ? Int.random(in: 0..<1000, using: &rng) : Int.random(in: 0..<5, using: &rng)
            let width = Int.random(in: 0...32, using: &rng)
            let raw = UInt32.random(in: 0...UInt32.max, using: &rng) & (width == 32 ? .max : (1 << UInt32(width)) - 1)
            items.append((s, Int.random(in: 0..<10, using: &rng) == 0, raw, width))
        }
        var encoder = RangeEncoder()
        for (s, b, raw, width) in items {
            try encoder.encode(s, model: symbols)
            symbols.update(s)
            encoder.encode(bit: b, model: &bits)
            encoder.encodeBypass(raw, bitCount: width)
        }
        let bytes = encoder.finish()
        symbols = try AdaptiveFrequencyModel(alphabetSize: 1000, precision: 16)
        bits = AdaptiveBitModel(rate: 4)
        var decoder = try RangeDecoder(bytes)
        for (s, b, raw, width) in items {
            let decoded = try decoder.decode(model: symbols)
            #expect(decoded == s)
            symbols.update(decoded)
            #expect(try decoder.decodeBit(model: &bits) == b)
            #expect(try decoder.decodeBypass(bitCount: width) == raw)
        }
        try decoder.finish()
    }

    /// Parametric models, one per value, through 24-bit rANS symbol by symbol.
    @Test func parametricModelsThroughRANS64() throws {
        let table = try ParametricModelTable(family: .laplace, precision: 24, maxRadius: 4000)
        var rng = SplitMix64(seed: 60)
        let items = (0..<5000).map { _ -> (Int, Int) in
            let m = Int.random(in: 0..<64, using: &rng)
            let scale = table.scales[m]
            let v = Int((Double.random(in: -3...3, using: &rng) * scale).rounded())
            return (m, v)
        }
        var encoder = try RANSEncoder<RANS64>(ways: 4)
        for (m, v) in items.reversed() {
            try encoder.push(table.symbol(forValue: v, model: m) ?? table.escapeSymbol(model: m), model: table.models[m])
        }
        var decoder = try RANSDecoder<RANS64>(encoder.finish(), ways: 4)
        for (m, v) in items {
            let s = try decoder.decode(model: table.models[m])
            #expect(s == table.symbol(forValue: v, model: m) ?? table.escapeSymbol(model: m))
        }
        try decoder.finish()
    }

    @Test func unencodableSymbolsAreRejected() throws {
        let model = try CategoricalModel(frequencies: [0, 16], precision: 4)
        #expect(throws: EntropyCodingError.self) { try RANS64.encode([0 as UInt8], model: model, ways: 1) }
        #expect(throws: EntropyCodingError.self) { try RANS32.encode([2 as UInt8], model: model, ways: 1) }
        #expect(throws: EntropyCodingError.self) { try RangeCoder.encode([0 as UInt8], model: model) }
        #expect(throws: EntropyCodingError.self) { try RANS64.encode([1 as UInt8], model: model, ways: 33) }
    }
}

/// On messages of a million symbols the output stays within the overhead bounds over the
/// quantized model's ideal code length (plus the fixed bytes of the final states).
@Suite struct OverheadTests {
    @Test(arguments: [(16, 0.5), (12, 3.0), (16, 40.0)])
    func overheadBounds(precision: Int, scale: Double) throws {
        let table = try ParametricModelTable(family: .laplace, scales: [scale], precision: precision)
        let model = table.models[0]
        var rng = SplitMix64(seed: 70)
        let message = sampleMessage(model, count: 1_000_000, using: &rng)
        let ideal = model.idealBits(of: message)
        let rans64 = Double(try RANS64.encode(message, model: model, ways: 4).count * 8)
        let range = Double(try RangeCoder.encode(message, model: model).count * 8)
        #expect(rans64 <= ideal * 1.0001 + 4 * 64, "rANS64 overhead \((rans64 / ideal - 1) * 100)%")
        #expect(range <= ideal * 1.0002 + 64, "range coder overhead \((range / ideal - 1) * 100)%")
        let rans32 = Double(try RANS32.encode(message, model: model, ways: 4).count * 8)
        #expect(rans32 <= ideal * 1.001 + 4 * 32, "rANS32 overhead \((rans32 / ideal - 1) * 100)%")
    }

    /// Near-deterministic messages (0.1 bits per symbol): the fixed cost per lane is a few
    /// bits (its final state's length field and unused bits), not a whole start and end state.
    @Test(arguments: [1, 4, 8])
    func lowEntropyOverhead(ways: Int) throws {
        let table = try ParametricModelTable(family: .laplace, scales: [0.0208], precision: 12)
        let model = table.models[0]
        var rng = SplitMix64(seed: 72)
        let message = sampleMessage(model, count: 1_000_000, using: &rng)
        let ideal = model.idealBits(of: message)
        let rans64 = Double(try RANS64.encode(message, model: model, ways: ways).count * 8)
        #expect(rans64 <= ideal + Double(24 * ways), "rANS64 ×\(ways): \(rans64 - ideal) bits over \(ideal)")
        let rans32 = Double(try RANS32.encode(message, model: model, ways: ways).count * 8)
        #expect(rans32 <= ideal + Double(24 * ways), "rANS32 ×\(ways): \(rans32 - ideal) bits over \(ideal)")
    }

    @Test func binaryPathOverhead() throws {
        var rng = SplitMix64(seed: 71)
        let p0: UInt32 = 64_000
        let bits = (0..<1_000_000).map { _ in UInt32.random(in: 0..<65536, using: &rng) >= p0 }
        let ones = Double(bits.filter { $0 }.count)
        let ideal = ones * -log2Approx(Double(65536 - p0) / 65536) + (1e6 - ones) * -log2Approx(Double(p0) / 65536)
        var encoder = RangeEncoder()
        for b in bits { encoder.encode(bit: b, probabilityOfZero: p0) }
        let bytes = encoder.finish()
        #expect(Double(bytes.count * 8) <= ideal * 1.0002 + 64)
        var decoder = try RangeDecoder(bytes)
        for b in bits { #expect(try decoder.decodeBit(probabilityOfZero: p0) == b) }
    }
}

func log2Approx(_ x: Double) -> Double { log2(x) }
