import EntropyCoding
import TestSupport
import Testing

/// The two compact rANS layouts (`CompactRANS64`, `SpreadCompactRANS64`) behind one face, so the
/// tests they share are written once.
protocol CompactLayout {
    associatedtype Encoder
    associatedtype Decoder: SlotDecoder
    static func makeEncoder() -> Encoder
    static func push(_ interval: SymbolInterval, precision: Int, into encoder: inout Encoder)
    static func push<M: EntropyModel>(_ symbol: Int, model: M, into encoder: inout Encoder) throws(EntropyCodingError)
    static func bytes(of encoder: Encoder) -> [UInt8]
    static func decoder(_ bytes: [UInt8]) -> Decoder
    static func finish(_ decoder: Decoder) throws(EntropyCodingError)
}

extension CompactRANS64: CompactLayout {
    static func makeEncoder() -> Encoder { Encoder() }
    static func push(_ interval: SymbolInterval, precision: Int, into encoder: inout Encoder) {
        encoder.push(interval, precision: precision)
    }
    static func push<M: EntropyModel>(_ symbol: Int, model: M, into encoder: inout Encoder) throws(EntropyCodingError) {
        try encoder.push(symbol, model: model)
    }
    static func bytes(of encoder: Encoder) -> [UInt8] { encoder.finish() }
    static func decoder(_ bytes: [UInt8]) -> Decoder { Decoder(bytes) }
    static func finish(_ decoder: Decoder) throws(EntropyCodingError) { try decoder.finish() }
}

extension SpreadCompactRANS64: CompactLayout {
    static func makeEncoder() -> Encoder { Encoder() }
    static func push(_ interval: SymbolInterval, precision: Int, into encoder: inout Encoder) {
        encoder.push(interval, precision: precision)
    }
    static func push<M: EntropyModel>(_ symbol: Int, model: M, into encoder: inout Encoder) throws(EntropyCodingError) {
        try encoder.push(symbol, model: model)
    }
    static func bytes(of encoder: Encoder) -> [UInt8] { encoder.finish() }
    static func decoder(_ bytes: [UInt8]) -> Decoder { Decoder(bytes) }
    static func finish(_ decoder: Decoder) throws(EntropyCodingError) { try decoder.finish() }
}

extension CompactLayout {
    /// The stream of `intervals`, pushed in reverse so they decode in order.
    static func encode(_ intervals: [SymbolInterval], precision: Int) -> [UInt8] {
        var encoder = makeEncoder()
        for interval in intervals.reversed() { push(interval, precision: precision, into: &encoder) }
        return bytes(of: encoder)
    }

    /// The stream of `message` under `model`, through the encoder's model API.
    static func encode<M: EntropyModel>(_ message: [Int], model: M) throws -> [UInt8] {
        var encoder = makeEncoder()
        for symbol in message.reversed() { try push(symbol, model: model, into: &encoder) }
        return bytes(of: encoder)
    }

    /// Decodes by intervals: every slot must fall inside the interval the encoder coded.
    static func decode(_ bytes: [UInt8], _ intervals: [SymbolInterval], precision: Int) throws -> Bool {
        var decoder = decoder(bytes)
        for interval in intervals {
            let slot = try decoder.slot(precision: precision)
            guard slot >= interval.cumulative, slot - interval.cumulative < interval.frequency else { return false }
            try decoder.consume(interval, precision: precision)
        }
        try finish(decoder)
        return true
    }

    /// `count` symbols under `model`, then the end check.
    static func decode<M: EntropyModel>(_ bytes: [UInt8], count: Int, model: M) throws -> [Int] {
        var decoder = decoder(bytes)
        let symbols = try (0..<count).map { _ in try decoder.decode(model: model) }
        try finish(decoder)
        return symbols
    }

    /// Messages under random models at every precision decode back exactly.
    static func checkModelsRoundTrip(seed: UInt64) throws {
        for (model, message) in try RoundTripTests.cases(seed: seed, precisions: 1...24, count: 24) {
            let symbols = message.map { Int($0) }
            #expect(try decode(encode(symbols, model: model), count: symbols.count, model: model) == symbols)
        }
    }

    /// Random bytes decode to exactly the symbols asked for, without a trap; a real 2000-symbol
    /// stream decodes back. Returns the model, message and stream for layout-specific damage checks.
    static func checkRandomBytesAndARealStream(seed: UInt64, alphabet k: Int = 300)
        throws -> (model: QuantizedCumulative<TabulatedCumulative>, message: [Int], bytes: [UInt8], rng: SplitMix64) {
        var rng = SplitMix64(seed: seed)
        let model = try QuantizedCumulative(TabulatedCumulative.random(k, using: &rng), precision: 24)
        for _ in 0..<500 {
            let bytes = (0..<Int.random(in: 0..<64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var decoder = decoder(bytes)
            let symbols = try (0..<Int.random(in: 0..<100, using: &rng)).map { _ in try decoder.decode(model: model) }
            #expect(symbols.allSatisfy { (0..<k).contains($0) })
            _ = try? finish(decoder)
        }
        let message = (0..<2000).map { _ in model.symbol(atSlot: UInt32.random(in: 0..<(1 << 24), using: &rng)).symbol }
        let bytes = try encode(message, model: model)
        #expect(try decode(bytes, count: message.count, model: model) == message)
        return (model, message, bytes, rng)
    }
}
