import EntropyCoding
import Testing
import TestSupport

@Suite struct BinaryArithmeticCoderTests {
    /// Decisions that follow their probabilities, and some that defy them, at probabilities from
    /// 1 to 65535: they decode from exactly `terminatedLength` bits (zeros after), which is what
    /// `finish` writes up to its last 1 bit, and `terminatedLength` never decreases; the decoder
    /// reports the encoder's terminated length after every decision.
    @Test(arguments: [UInt64(7), 8, 9])
    func roundTripAndExactLength(seed: UInt64) {
        var g = SplitMix64(seed: seed)
        var encoder = BinaryArithmeticEncoder()
        var decisions: [(Int, UInt32)] = []
        var previous = 0
        var lengths: [Int] = []  // the encoder's terminated length after each decision
        for i in 0..<5000 {
            let p: UInt32 = i % 100 == 0 ? [1, 65535][i / 100 % 2] : UInt32(1 + g.next() % 65535)
            let follows = g.next() % 64 != 0
            let bit = follows ? (g.next() % 65536 < p ? 1 : 0) : Int(g.next() % 2)
            decisions.append((bit, p))
            encoder.encode(bit, probabilityOfOne: p)
            let length = encoder.terminatedLength
            #expect(length >= previous)
            previous = length
            lengths.append(length)
        }
        let promised = encoder.terminatedLength
        let bits = encoder.finish()
        #expect(bits.countWithoutTrailingZeros == promised)
        var truncated = bits.bytes
        truncated.removeLast(truncated.count - (promised + 7) / 8)
        var decoder = BinaryArithmeticDecoder(BitStreamReader(truncated, bitRange: 0..<promised))
        for (i, (bit, p)) in decisions.enumerated() {
            #expect(decoder.decode(probabilityOfOne: p) == bit)
            #expect(decoder.terminatedLength == lengths[i])
        }
        // All of the bytes `finish` wrote: the same decisions, at most 32 bits read past the end.
        var whole = BinaryArithmeticDecoder(bits.bytes)
        for (bit, p) in decisions { #expect(whole.decode(probabilityOfOne: p) == bit) }
        #expect(whole.bitsPastEnd <= 32)
    }

    /// Nothing coded: the empty message. Certain-ish decisions: almost no bits.
    @Test func emptyAndNearlyCertainMessages() {
        #expect(BinaryArithmeticEncoder().terminatedLength == 0)
        #expect(BinaryArithmeticEncoder().finish().count == 0)
        var encoder = BinaryArithmeticEncoder()
        for _ in 0..<1000 { encoder.encode(1, probabilityOfOne: 65535) }
        #expect(encoder.terminatedLength <= 1000 / 40)  // 1000 × -log2(65535/65536) ≈ 0.02 bits, plus the carry-less losses
        let bits = encoder.finish()
        var decoder = BinaryArithmeticDecoder(bits.bytes)
        for _ in 0..<1000 { #expect(decoder.decode(probabilityOfOne: 65535) == 1) }
    }

    /// Arbitrary bytes decode to some bits without trapping; a decoder asked for far more
    /// decisions than a short input holds reports reading past its end.
    @Test func hostileInputNeverTraps() {
        var g = SplitMix64(seed: 11)
        for n in [0, 1, 3, 17, 200] {
            let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: g.next()) }
            var decoder = BinaryArithmeticDecoder(bytes)
            for _ in 0..<(8 * n + 4000) { _ = decoder.decode(probabilityOfOne: UInt32(1 + g.next() % 65535)) }
            #expect(decoder.bitsPastEnd > 32)
        }
    }

    @Test func bitStreamsWriteAndReadMostSignificantFirst() {
        var w = BitStreamWriter()
        w.write(0b101, count: 3)
        w.write(0, count: 0)
        w.write(0xABCD, count: 16)
        w.write(0, count: 5)
        #expect(w.count == 24 && w.countWithoutTrailingZeros == 19)
        #expect(w.bytes == [0b1011_0101, 0b0111_1001, 0b1010_0000])
        var wide = BitStreamWriter()
        wide.write(1, count: 72)
        #expect(wide.bytes == Array(repeating: 0, count: 8) + [1] && wide.countWithoutTrailingZeros == 72)
        #expect((0..<4).map { w.bit($0) } == [1, 0, 1, 1])
        var r = BitStreamReader(w.bytes, bitRange: 3..<19)
        #expect(r.read(16) == 0xABCD && r.bitsPastEnd == 0)
        #expect(r.read(4) == 0 && r.bitsPastEnd == 4)
        var clamped = BitStreamReader([0xFF], bitRange: 4..<100)
        #expect(clamped.read(6) == 0b111100 && clamped.bitsPastEnd == 2)
    }
}
