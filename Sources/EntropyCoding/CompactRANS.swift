/// `RANS64` laid out for many short independent streams (one per image, block or packet), where
/// the 8-byte start and end states of the ordinary layout would dominate the output. Same
/// arithmetic as `RANSEncoder<RANS64>` with one lane (the steps are shared), two changes:
///
/// - The encoder starts from state 0 rather than the lower bound L = 2^31, so no bits are spent
///   on an initial state. Its state stays below L only until it first emits a word (a word is
///   emitted only from a state ≥ xMax > L), so a decoder that refills while x < L *and* words
///   remain mirrors it exactly. A correct stream decodes back to state 0 with every word read.
/// - The final state is written in as few bytes as it needs (0…7), not 8.
///
/// Layout: the final state (little-endian, n bytes), then the 32-bit words (little-endian) in
/// the order the decoder reads them. A state of 2^56 or more first emits one more word, and n is
/// raised to at least 4 when there are words, so n = len for len < 4, else 4 + (len − 4) mod 4:
/// the stream length alone gives n, nothing else is stored. Every byte string is a valid layout,
/// so the decoder cannot run out of input; damage shows as a stream that does not end at state 0
/// with every word read (`Decoder.finish()`), or as garbage symbols, exactly as many as asked.
public enum CompactRANS64 {
    public static let supportedPrecision = RANS64.supportedPrecision

    /// Encodes symbol by symbol with any model; push the symbols in reverse of decoding order.
    public struct Encoder {
        @usableFromInline var state: UInt64 = 0
        @usableFromInline var pushed = 0
        /// Words in the order written; the decoder reads them in reverse.
        @usableFromInline var words: [UInt32] = []

        public init() {}

        /// Codes [c, c + f) of 2^precision (f ≥ 1, c + f ≤ 2^precision, precision ≤ 24).
        @inlinable
        public mutating func push(_ interval: SymbolInterval, precision: Int) {
            RANS64.encodeStep(interval, precision: precision, state: &state, words: &words)
            pushed += 1
        }

        @inlinable
        public mutating func push<M: EntropyModel>(_ symbol: Int, model: M) throws(EntropyCodingError) {
            push(try RANS64.codableInterval(of: symbol, model: model, index: pushed), precision: model.precision)
        }

        /// The stream in decoding order: minimal tail, then the words.
        public consuming func finish() -> [UInt8] {
            var x = state
            if x >= 1 << 56 {  // would need an 8-byte tail, which the length rule cannot express
                words.append(UInt32(truncatingIfNeeded: x))
                x >>= 32
            }
            var tailLength = 0
            while x >> (8 * UInt64(tailLength)) != 0 { tailLength += 1 }
            if !words.isEmpty { tailLength = max(tailLength, 4) }
            var bytes = [UInt8]()
            bytes.reserveCapacity(tailLength + 4 * words.count)
            for i in 0..<tailLength { bytes.append(UInt8(truncatingIfNeeded: x >> (8 * UInt64(i)))) }
            for w in words.reversed() {
                for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: w >> (8 * UInt32(i)))) }
            }
            return bytes
        }
    }

    /// Decodes symbol by symbol with any model. Never traps on hostile input (see the type's
    /// documentation); `finish()` tells whether the stream was the encoder's.
    public struct Decoder: SlotDecoder {
        public static var supportedPrecision: ClosedRange<Int> { CompactRANS64.supportedPrecision }
        @usableFromInline let bytes: ArraySlice<UInt8>
        @usableFromInline var position: Int
        @usableFromInline var state: UInt64 = 0

        public init(_ bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            let tailLength = bytes.count < 4 ? bytes.count : 4 + (bytes.count - 4) % 4
            for i in 0..<tailLength { state |= UInt64(bytes[bytes.startIndex + i]) << (8 * UInt64(i)) }
            position = bytes.startIndex + tailLength  // whole words remain from here on
            refill()
        }

        public init(_ bytes: [UInt8]) { self.init(bytes[...]) }

        @inlinable
        mutating func refill() {
            while state < RANS64.lowerBound && position < bytes.endIndex {
                var w: UInt64 = 0
                for i in 0..<4 { w |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
                position += 4
                state = state << 32 | w
            }
        }

        /// The slot in [0, 2^precision) of the next symbol; follow with `consume(_:precision:)`.
        @inlinable
        public func slot(precision: Int) -> UInt32 {
            UInt32(truncatingIfNeeded: state & ((1 << UInt64(precision)) - 1))
        }

        /// Undoes the encoding of the interval that contains the current slot.
        @inlinable
        public mutating func consume(_ interval: SymbolInterval, precision: Int) {
            state = RANS64.decodeStep(interval, precision: precision, state: state)
            refill()
        }

        /// Verifies the stream: every word read and the state back at the encoder's start, 0.
        public func finish() throws(EntropyCodingError) {
            guard position == bytes.endIndex else {
                throw .corruptInput("\(bytes.endIndex - position) bytes of compact rANS stream left over")
            }
            guard state == 0 else { throw .corruptInput("compact rANS stream does not end at state 0") }
        }
    }
}
