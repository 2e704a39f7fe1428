/// 64-bit rANS with 32-bit renormalization words and 24-bit frequencies (Duda; as in ryg_rans'
/// rans64), laid out for many tiny independent streams:
///
/// - The encoder starts from state 0 rather than the usual lower bound L, so no bits are spent
///   on an initial state; the decoder reads a word only while its state is below L *and* words
///   remain. Encoder states below L occur only before the first word is emitted, so this mirrors
///   the encoder exactly. A correct stream decodes back to state 0 with every word consumed —
///   the decoder checks both, which catches most corruption.
/// - The final state is stored in as few bytes as it needs (`tailLength`) instead of 8.
///
/// Stream layout: `tail` (the final state, little-endian, n bytes) then the words in the order
/// the decoder consumes them (little-endian u32). n is 0...3 when there are no words, else 4...7
/// (a state of 2^56 or more first emits one more word), so n follows from the stream length.
enum RANS64 {
    static let precision: UInt32 = 24
    static let total: UInt32 = 1 << 24
    static let lower: UInt64 = 1 << 31

    /// Encodes symbols given as (start, frequency) intervals, in the order the decoder will
    /// produce them.
    static func encode(_ intervals: [(start: UInt32, frequency: UInt32)]) -> [UInt8] {
        var x: UInt64 = 0
        var words: [UInt32] = []
        for (start, freq) in intervals.reversed() {
            let limit = ((lower >> precision) << 32) * UInt64(freq)
            if x >= limit {
                words.append(UInt32(truncatingIfNeeded: x))
                x >>= 32
            }
            x = ((x / UInt64(freq)) << precision) + (x % UInt64(freq)) + UInt64(start)
        }
        if x >= 1 << 56 {
            words.append(UInt32(truncatingIfNeeded: x))
            x >>= 32
        }
        var n = 0
        while n < 8 && (x >> (8 * UInt64(n))) != 0 { n += 1 }
        if !words.isEmpty { n = max(n, 4) }
        var out: [UInt8] = []
        out.reserveCapacity(n + 4 * words.count)
        for i in 0..<n { out.append(UInt8(truncatingIfNeeded: x >> (8 * UInt64(i)))) }
        for w in words.reversed() {
            for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: w >> (8 * UInt32(i)))) }
        }
        return out
    }

    struct Decoder {
        let bytes: ArraySlice<UInt8>
        var position: Int
        var x: UInt64 = 0

        init(_ bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            let n = bytes.count < 4 ? bytes.count : 4 + (bytes.count - 4) % 4
            for i in 0..<n { x |= UInt64(bytes[bytes.startIndex + i]) << (8 * UInt64(i)) }
            position = bytes.startIndex + n
            renormalize()
        }

        @inline(__always) mutating func renormalize() {
            if x < RANS64.lower && position < bytes.endIndex {
                var w: UInt64 = 0
                for i in 0..<4 { w |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
                position += 4
                x = (x << 32) | w
            }
        }

        /// The slot (0 ..< 2^24) the next symbol's interval contains.
        var slot: UInt32 { UInt32(truncatingIfNeeded: x & UInt64(RANS64.total - 1)) }

        mutating func advance(start: UInt32, frequency: UInt32) {
            x = UInt64(frequency) * (x >> RANS64.precision) + UInt64(slot) - UInt64(start)
            renormalize()
        }

        /// True if the stream ended exactly where the encoder began.
        var finishedCleanly: Bool { x == 0 && position == bytes.endIndex }
    }
}
