@testable import EntropyCoding
import Foundation
import TestSupport
import Testing

@Suite struct SpreadCompactRANS64Tests {
    /// Block 0 against its definition, exhaustively for small precisions: the symbol's x-th state
    /// is the x-th y < 2^p whose reversal lies in its interval, and `rank` inverts `state`.
    @Test(arguments: [1, 2, 3, 5])
    func blockZeroIsTheBitReversedOrder(precision p: Int) {
        let total = UInt32(1) << p
        for c in 0..<total {
            for f in 1...(total - c) {
                let interval = SymbolInterval(cumulative: c, frequency: f)
                let owned = (0..<UInt64(total)).filter { (UInt64(c)..<UInt64(c + f)).contains(BitReversedBlock.reversed($0, bits: p)) }
                #expect(owned.count == Int(f))
                for (x, y) in owned.enumerated() {
                    #expect(BitReversedBlock.state(rank: UInt64(x), of: interval, precision: p) == y)
                    #expect(BitReversedBlock.rank(of: y, in: interval, precision: p) == UInt64(x))
                }
            }
        }
    }

    @Test func blockZeroAtPrecision24() {
        var rng = SplitMix64(seed: 400)
        for _ in 0..<2000 {
            let f = UInt32.random(in: 1...(1 << 24), using: &rng)
            let interval = SymbolInterval(cumulative: UInt32.random(in: 0...((1 << 24) - f), using: &rng), frequency: f)
            let x = UInt64.random(in: 0..<UInt64(f), using: &rng)
            let y = BitReversedBlock.state(rank: x, of: interval, precision: 24)
            let slot = BitReversedBlock.reversed(y, bits: 24)
            #expect(y < 1 << 24 && slot >= UInt64(interval.cumulative) && slot < UInt64(interval.cumulative + f))
            #expect(BitReversedBlock.rank(of: y, in: interval, precision: 24) == x)
        }
    }

    /// Streams that stay in block 0, and the empty and one-symbol cases: a start at state 0 puts
    /// the first symbol's state near 2^p/(2f), not near c.
    @Test func shortStreams() throws {
        #expect(SpreadCompactRANS64.encode([], precision: 24) == [])
        try SpreadCompactRANS64.Decoder([UInt8]()).finish()
        // The whole interval [0, 2^p): state 0 stays 0, nothing is written.
        #expect(SpreadCompactRANS64.encode([SymbolInterval(cumulative: 0, frequency: 1 << 24)], precision: 24) == [])
        // Half the slots: one bit of information, one byte.
        #expect(SpreadCompactRANS64.encode([SymbolInterval(cumulative: 1 << 23, frequency: 1 << 23)], precision: 24) == [1])
        #expect(SpreadCompactRANS64.encode([SymbolInterval(cumulative: 1 << 23, frequency: 1 << 23)], precision: 24).count
                < CompactRANS64.encode([SymbolInterval(cumulative: 1 << 23, frequency: 1 << 23)], precision: 24).count)
        for interval in [SymbolInterval(cumulative: 0, frequency: 1), SymbolInterval(cumulative: 0xFF_FFFF, frequency: 1),
                         SymbolInterval(cumulative: 12345, frequency: 1 << 23)] {
            #expect(try SpreadCompactRANS64.decode(SpreadCompactRANS64.encode([interval], precision: 24), [interval], precision: 24))
        }
    }

    @Test(arguments: [1, 8, 16, 24])
    func randomIntervalsRoundTrip(precision: Int) throws {
        var rng = SplitMix64(seed: UInt64(410 + precision))
        for trial in 0..<200 {
            let intervals = randomIntervals(trial < 20 ? trial : Int.random(in: 0..<2000, using: &rng), precision: precision, using: &rng)
            let bytes = SpreadCompactRANS64.encode(intervals, precision: precision)
            #expect(try SpreadCompactRANS64.decode(bytes, intervals, precision: precision), "trial \(trial)")
            // The final state's leading byte is never 0 (what lets a container store it cheaply).
            if let i = SpreadCompactRANS64.leadingByteIndex(streamLength: bytes.count) { #expect(bytes[i] != 0) }
            #expect((SpreadCompactRANS64.leadingByteIndex(streamLength: bytes.count) == nil) == bytes.isEmpty)
        }
    }

    /// What the layout is for: short streams cost about their information content. Over many
    /// 60-symbol streams of 24-bit intervals, the mean length in bits is within 8 bits of the
    /// mean information (compact: 12-20 bits more, mostly the block-0 start).
    @Test func shortStreamsCostTheirInformation() {
        var rng = SplitMix64(seed: 420)
        var information = 0.0, spreadBits = 0, compactBits = 0
        for _ in 0..<300 {
            let intervals = randomIntervals(60, precision: 24, using: &rng)
            information += intervals.reduce(0.0) { $0 + 24 - log2(Double($1.frequency)) }
            spreadBits += 8 * SpreadCompactRANS64.encode(intervals, precision: 24).count
            compactBits += 8 * CompactRANS64.encode(intervals, precision: 24).count
        }
        let spreadExcess = Double(spreadBits) / 300 - information / 300
        let compactExcess = Double(compactBits) / 300 - information / 300
        #expect(spreadExcess < 8 && spreadExcess > -8, "spread excess \(spreadExcess) bits")
        #expect(compactExcess > spreadExcess + 4, "compact excess \(compactExcess), spread \(spreadExcess)")
    }

    @Test func modelsRoundTrip() throws { try SpreadCompactRANS64.checkModelsRoundTrip(seed: 430) }

    @Test func damagedStreams() throws {
        let real = try SpreadCompactRANS64.checkRandomBytesAndARealStream(seed: 440)
        let (model, message, bytes, k) = (real.model, real.message, real.bytes, real.model.alphabetSize)
        var rng = real.rng
        // Damage is not reliably reported: block 0 maps a state y to about y·f/2^p, so a wrong
        // state shrinks to 0 within a few symbols once the words run out, and "ends at state 0"
        // no longer tells a damaged stream from a good one (the compact layout's redundant start
        // made it a check). Only leftover bytes are still caught. Damage must be caught by the
        // container's CRC; here the decoder only has to stay safe.
        var reported = 0
        for trial in 0..<200 {
            var damaged = bytes
            switch trial % 3 {
            case 0: damaged[Int.random(in: 0..<damaged.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            case 1: damaged.removeLast(Int.random(in: 1...8, using: &rng))
            default: damaged += (0..<Int.random(in: 1...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            }
            var decoder = SpreadCompactRANS64.Decoder(damaged)
            let symbols = try message.indices.map { _ in try decoder.decode(model: model) }
            #expect(symbols.count == message.count && symbols.allSatisfy { (0..<k).contains($0) })
            if (try? decoder.finish()) == nil { reported += 1 }
        }
        #expect(reported >= 100, "\(reported) of 200 reported (139 when written)")
    }
}
