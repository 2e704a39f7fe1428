import TestSupport
import Testing
import EntropyCoding

/// A cumulative distribution read from a table of prefix sums (C(0) = 0).
struct TabulatedCumulative: CumulativeDistribution {
    let prefix: [Double]
    var valueCount: Int { prefix.count - 1 }
    func cumulative(_ x: Int) -> Double { prefix[x] }

    init(probabilities: [Double]) {
        var prefix = [0.0]
        for p in probabilities { prefix.append(prefix.last! + p) }
        self.prefix = prefix
    }

    static func random(_ k: Int, using rng: inout SplitMix64) -> TabulatedCumulative {
        TabulatedCumulative(probabilities: randomProbabilities(k, skewed: k % 2 == 0, zeros: true, using: &rng))
    }
}

/// Random intervals [c, c + f) of 2^precision with f ≥ 1.
func randomIntervals(_ n: Int, precision: Int, using rng: inout SplitMix64) -> [SymbolInterval] {
    let total = UInt32(1) << precision
    return (0..<n).map { _ in
        // Mostly narrow intervals (informative symbols), some wide ones (cheap symbols).
        let f = Bool.random(using: &rng) ? UInt32.random(in: 1...min(total, 64), using: &rng) : UInt32.random(in: 1...total, using: &rng)
        return SymbolInterval(cumulative: UInt32.random(in: 0...(total - f), using: &rng), frequency: f)
    }
}

@Suite struct CompactRANS64Tests {
    @Test func emptyAndOneSymbolStreams() throws {
        #expect(CompactRANS64.encode([], precision: 24) == [])
        try CompactRANS64.Decoder([UInt8]()).finish()
        // One symbol leaves its start as the final state: no bytes at all for start 0, else
        // the fewest bytes that hold it.
        #expect(CompactRANS64.encode([SymbolInterval(cumulative: 0, frequency: 5)], precision: 24) == [])
        #expect(CompactRANS64.encode([SymbolInterval(cumulative: 0x0102, frequency: 5)], precision: 24) == [0x02, 0x01])
        for interval in [SymbolInterval(cumulative: 0, frequency: 1), SymbolInterval(cumulative: 0xFF_FFFF, frequency: 1),
                         SymbolInterval(cumulative: 12345, frequency: 1 << 23)] {
            #expect(try CompactRANS64.decode(CompactRANS64.encode([interval], precision: 24), [interval], precision: 24))
        }
    }

    /// The layout is pinned: `SpreadCompactRANS64` (pc-mnist's coder) shares it, so these bytes must not drift.
    @Test func pinnedStream() throws {
        var rng = SplitMix64(seed: 2024)
        let intervals = randomIntervals(12, precision: 24, using: &rng)
        let bytes = CompactRANS64.encode(intervals, precision: 24)
        #expect(bytes == Self.pinned)
        #expect(try CompactRANS64.decode(bytes, intervals, precision: 24))
    }
    static let pinned: [UInt8] = [250, 48, 94, 163, 141, 159, 1, 236, 50, 164, 159, 3, 255, 41, 145]

    @Test(arguments: [1, 8, 16, 24])
    func randomIntervalsRoundTrip(precision: Int) throws {
        var rng = SplitMix64(seed: UInt64(300 + precision))
        for trial in 0..<200 {
            let intervals = randomIntervals(trial < 20 ? trial : Int.random(in: 0..<2000, using: &rng), precision: precision, using: &rng)
            let bytes = CompactRANS64.encode(intervals, precision: precision)
            #expect(try CompactRANS64.decode(bytes, intervals, precision: precision), "trial \(trial)")
            // Never more than the ordinary one-lane RANS64 layout (whose head holds the final
            // state in its bits plus 7), plus the one word a large final state may add.
            var plain = try RANSEncoder<RANS64>()
            for interval in intervals.reversed() { plain.push(interval, precision: precision) }
            #expect(bytes.count <= plain.finish().count + 4)
        }
    }

    @Test func modelsRoundTrip() throws { try CompactRANS64.checkModelsRoundTrip(seed: 310) }

    @Test func damagedStreams() throws {
        let (model, message, bytes, _) = try CompactRANS64.checkRandomBytesAndARealStream(seed: 320)
        // A damaged real stream fails its final check.
        func decode(_ bytes: [UInt8]) throws -> [Int] { try CompactRANS64.decode(bytes, count: message.count, model: model) }
        // (Cutting everything is not damage: the empty stream is the message whose every symbol
        // starts at 0, the state never leaving 0.)
        for cut in [1, 2, 3, 4, 5, 8, bytes.count / 2, bytes.count - 1] {
            #expect(throws: EntropyCodingError.self, "cut \(cut)") { try decode(Array(bytes.dropLast(cut))) }
        }
        for extra in [[UInt8(0)], [0, 0, 0, 0], [1]] {
            #expect(throws: EntropyCodingError.self, "extra \(extra)") { try decode(bytes + extra) }
        }
        var flipped = bytes
        flipped[bytes.count / 3] ^= 0x10
        #expect(throws: EntropyCodingError.self) { try decode(flipped) }
    }
}

@Suite struct QuantizedCumulativeTests {
    @Test(arguments: [(1, 24), (2, 1), (2, 24), (256, 8), (256, 24), (1000, 16), (4096, 12), (65536, 24)])
    func invariants(k: Int, precision: Int) throws {
        var rng = SplitMix64(seed: UInt64(k * 31 + precision))
        let model = try QuantizedCumulative(TabulatedCumulative.random(k, using: &rng), precision: precision)
        let total = UInt32(1) << precision
        #expect(model.alphabetSize == k && model.precision == precision)
        #expect(model.boundary(0) == 0 && model.boundary(k) == total)
        var sum: UInt64 = 0
        for x in 0..<k {
            let interval = try #require(model.interval(of: x))
            #expect(interval.frequency >= 1 && interval.cumulative == model.boundary(x))
            #expect(model.boundary(x + 1) > model.boundary(x))
            sum += UInt64(interval.frequency)
        }
        #expect(sum == UInt64(total))
        #expect(model.interval(of: -1) == nil && model.interval(of: k) == nil)
        // symbol(atSlot:) names the value whose interval(of:) holds the slot: at every interval
        // edge, and at random slots.
        var slots = (0..<200).map { _ in UInt32.random(in: 0..<total, using: &rng) }
        for x in Set((0..<k).map { $0 * 7919 % k }.prefix(300)) {
            let interval = model.interval(of: x)!
            slots += [interval.cumulative, interval.cumulative + interval.frequency - 1]
        }
        for slot in slots {
            let found = model.symbol(atSlot: slot)
            #expect(found.interval == model.interval(of: found.symbol))
            #expect(slot >= found.interval.cumulative && slot - found.interval.cumulative < found.interval.frequency)
        }
    }

    /// F(x) = ⌊C(x)·(2^p − K)/C(K)⌋ + x exactly (pc-mnist's files depend on it).
    @Test func pinnedBoundaries() throws {
        let model = try QuantizedCumulative(TabulatedCumulative(probabilities: [0.5, 0.25, 1e-9, 0.125, 0.125, 0.3]), precision: 24)
        #expect((0...6).map { model.boundary($0) } == [0, 6_452_774, 9_679_161, 9_679_162, 11_292_356, 12_905_551, 16_777_216])
    }

    @Test func invalidDistributionsAreRejected() {
        let four = TabulatedCumulative(probabilities: [1, 1, 1, 1])
        #expect(throws: EntropyCodingError.invalidPrecision(0, supported: FrequencyQuantizer.supportedPrecision)) {
            try QuantizedCumulative(four, precision: 0)
        }
        #expect(throws: EntropyCodingError.alphabetTooLarge(symbols: 4, precision: 1)) { try QuantizedCumulative(four, precision: 1) }
        #expect(throws: EntropyCodingError.self) { try QuantizedCumulative(TabulatedCumulative(probabilities: []), precision: 16) }
        #expect(throws: EntropyCodingError.self) { try QuantizedCumulative(TabulatedCumulative(probabilities: [0, 0]), precision: 16) }
        #expect(throws: EntropyCodingError.self) { try QuantizedCumulative(TabulatedCumulative(probabilities: [1, .nan]), precision: 16) }
        #expect(throws: EntropyCodingError.self) { try QuantizedCumulative(TabulatedCumulative(probabilities: [1, .infinity]), precision: 16) }
    }

    /// The lazy model is an ordinary `EntropyModel`: every coder takes it.
    @Test func everyCoderTakesIt() throws {
        var rng = SplitMix64(seed: 330)
        let model = try QuantizedCumulative(TabulatedCumulative.random(256, using: &rng), precision: 24)
        let message = (0..<3000).map { _ in model.symbol(atSlot: UInt32.random(in: 0..<(1 << 24), using: &rng)).symbol }

        var rans = try RANSEncoder<RANS64>(ways: 2)
        for s in message.reversed() { try rans.push(s, model: model) }
        var ransDecoder = try RANSDecoder<RANS64>(rans.finish(), ways: 2)
        #expect(try message.map { _ in try ransDecoder.decode(model: model) } == message)
        try ransDecoder.finish()

        var range = RangeEncoder()
        for s in message { try range.encode(s, model: model) }
        var rangeDecoder = try RangeDecoder(range.finish())
        #expect(try message.map { _ in try rangeDecoder.decode(model: model) } == message)
        try rangeDecoder.finish()

        var compact = CompactRANS64.Encoder()
        for s in message.reversed() { try compact.push(s, model: model) }
        var compactDecoder = CompactRANS64.Decoder(compact.finish())
        #expect(try message.map { _ in try compactDecoder.decode(model: model) } == message)
        try compactDecoder.finish()
    }
}
