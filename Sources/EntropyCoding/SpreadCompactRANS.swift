/// `CompactRANS64` whose small states are laid out so that starting from state 0 costs nothing.
///
/// rANS maps a state x and a symbol with interval [c, c + f) of 2^p to
/// y = ⌊x/f⌋·2^p + (x mod f) + c: block ⌊y/2^p⌋ = ⌊x/f⌋, and inside each block the symbol owns the
/// contiguous slots [c, c + f). For x ≥ f that multiplies x by about 2^p/f, the symbol's
/// information. Block 0 (x < f) only adds c — harmless after a start at L = 2^31, but the compact
/// layout starts at 0, so the first informative symbols land at y ≈ c instead of x·2^p/f: on
/// the `pc-mnist` test images that cost 12 bits per stream above the information content.
///
/// Here block 0 is laid out differently: the symbol's x-th state is the x-th y < 2^p whose
/// bit-reversed value (p bits) lies in [c, c + f). Bit reversal spreads every interval evenly
/// over [0, 2^p) (a van der Corput sequence), so y ≈ (x + ½)·2^p/f in block 0 too; both
/// directions take p steps of integer arithmetic (no symbol table). Blocks ≥ 1 are plain rANS.
/// The map stays a bijection between states and (symbol, state) pairs — block 0 holds exactly
/// the pairs with x < f — so encoding and decoding still mirror each other exactly.
///
/// Block 0 is reached only before the encoder's first word (its state is then below 2^p; once a
/// word is out, every state is ≥ L > 2^p), i.e. in the decoder only after every word is read. The
/// stream layout, the renormalization and every check are `CompactRANS64`'s, unchanged.
///
/// Damage detection is weaker than `CompactRANS64`'s: there, the wasteful start was redundancy
/// that made "the decoder ends at state 0" a check; here block 0 shrinks any state towards 0
/// (y ↦ about y·f/2^p), so a damaged stream often ends at 0 too (in the tests, 139 of 200 damaged
/// streams are still reported, mostly by leftover bytes). Check integrity outside the coder (the
/// container's CRC-32); the decoder itself stays safe: any bytes decode to exactly as many symbols
/// as asked, without trapping.
public enum SpreadCompactRANS64 {
    public static let supportedPrecision = CompactRANS64.supportedPrecision

    /// Where the most significant byte of the final state sits in a stream of `streamLength`
    /// bytes (nil for the empty stream), by `CompactRANS64`'s tail rule. It is never 0: the state
    /// is written in as few bytes as it needs, and when words follow it is at least 2^24 (2^31,
    /// or a state of 2^56 or more shifted down by one word). A container can therefore store it
    /// more cheaply than 8 bits (pc-mnist's stream table does).
    public static func leadingByteIndex(streamLength n: Int) -> Int? {
        n == 0 ? nil : (n < 4 ? n : 4 + (n - 4) % 4) - 1
    }

    /// Encodes symbol by symbol with any model; push the symbols in reverse of decoding order.
    public struct Encoder {
        @usableFromInline var base = CompactRANS64.Encoder()

        public init() {}

        /// Codes [c, c + f) of 2^precision (f ≥ 1, c + f ≤ 2^precision, precision ≤ 24).
        @inlinable
        public mutating func push(_ interval: SymbolInterval, precision: Int) {
            if base.state < UInt64(interval.frequency) {  // block 0; no word can be due (x < 2^p < xMax)
                base.state = BitReversedBlock.state(rank: base.state, of: interval, precision: precision)
                base.pushed += 1
            } else {
                base.push(interval, precision: precision)
            }
        }

        @inlinable
        public mutating func push<M: EntropyModel>(_ symbol: Int, model: M) throws(EntropyCodingError) {
            push(try RANS64.codableInterval(of: symbol, model: model, index: base.pushed), precision: model.precision)
        }

        /// The stream in decoding order (`CompactRANS64`'s layout).
        public consuming func finish() -> [UInt8] { base.finish() }
    }

    /// Decodes symbol by symbol with any model. Never traps on hostile input; `finish()` tells
    /// whether the stream was the encoder's.
    public struct Decoder: SlotDecoder {
        public static var supportedPrecision: ClosedRange<Int> { SpreadCompactRANS64.supportedPrecision }
        @usableFromInline var base: CompactRANS64.Decoder

        public init(_ bytes: ArraySlice<UInt8>) { base = CompactRANS64.Decoder(bytes) }
        public init(_ bytes: [UInt8]) { self.init(bytes[...]) }

        /// The slot in [0, 2^precision) of the next symbol; follow with `consume(_:precision:)`.
        @inlinable
        public func slot(precision: Int) -> UInt32 {
            base.state >> precision == 0 ? UInt32(BitReversedBlock.reversed(base.state, bits: precision)) : base.slot(precision: precision)
        }

        /// Undoes the encoding of the interval that contains the current slot.
        @inlinable
        public mutating func consume(_ interval: SymbolInterval, precision: Int) {
            if base.state >> precision == 0 {  // block 0: every word has been read, nothing to refill
                base.state = BitReversedBlock.rank(of: base.state, in: interval, precision: precision)
            } else {
                base.consume(interval, precision: precision)
            }
        }

        /// Verifies the stream: every byte read and the state back at the encoder's start, 0.
        public func finish() throws(EntropyCodingError) { try base.finish() }
    }
}

/// Block 0 of `SpreadCompactRANS64`: the states y < 2^p, where a symbol with interval [c, c + f)
/// owns the y whose p-bit reversal lies in [c, c + f), in increasing order of y.
@usableFromInline enum BitReversedBlock {
    /// The low `bits` bits of y in reverse order.
    @inlinable static func reversed(_ y: UInt64, bits: Int) -> UInt64 {
        var r: UInt64 = 0, y = y
        for _ in 0..<bits { r = r << 1 | y & 1; y >>= 1 }
        return r
    }

    /// How many z in [c, c + f) have z mod 2^k = r (r < 2^k).
    @inlinable static func count(_ interval: SymbolInterval, lowBits k: Int, equal r: UInt64) -> UInt64 {
        func below(_ n: UInt64) -> UInt64 { n > r ? (n - r + (1 << k) - 1) >> k : 0 }
        let c = UInt64(interval.cumulative)
        return below(c + UInt64(interval.frequency)) - below(c)
    }

    /// The `rank`-th (from 0) state of the interval's symbol in block 0; rank < f. Fixes y's bits
    /// from the top: fixing y's top k bits fixes the low k bits of its reversal, and `count`
    /// says how many of the symbol's states share them.
    @inlinable static func state(rank: UInt64, of interval: SymbolInterval, precision p: Int) -> UInt64 {
        var y: UInt64 = 0, rest = rank, low: UInt64 = 0  // low: the fixed low bits of the reversal
        for k in 1...p {
            let withZero = count(interval, lowBits: k, equal: low)
            if rest >= withZero {
                rest -= withZero
                y |= 1 << UInt64(p - k)
                low |= 1 << UInt64(k - 1)
            }
        }
        return y
    }

    /// The inverse: how many of the symbol's block-0 states lie below y (y < 2^p, its reversal in
    /// the interval). Wrapping arithmetic is not needed: every count is at most f.
    @inlinable static func rank(of y: UInt64, in interval: SymbolInterval, precision p: Int) -> UInt64 {
        var rank: UInt64 = 0, low: UInt64 = 0
        for k in 1...p where y >> UInt64(p - k) & 1 == 1 {
            rank += count(interval, lowBits: k, equal: low)
            low |= 1 << UInt64(k - 1)
        }
        return rank
    }
}
