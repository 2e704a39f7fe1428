import CodecKit
import EntropyCoding

/// Equal-Info-Window coding (Lester et al. 2024, "EqualInfoAC"): the text is cut greedily into
/// windows that each compress to exactly `windowBits` bits; the arithmetic coder and M1's
/// context restart at every window, so every window decodes on its own.
///
/// Where a window ends, exactly: after coding bytes x1..xj of a window, let L(j) be the length of
/// the shortest bit string whose zero extension lies in the coder's interval (the bits the window
/// would need if it ended there; L(0) = 0, and L never decreases as bytes are added). A window
/// holds x1..xj for the largest j with L(j) <= W and L(j) > L(j-1); it is written as that shortest
/// string padded with zeros to W bits. The decoder of a window decodes bytes until L reaches the
/// position of the window's last 1 bit, which happens exactly at xj, so it always knows where the
/// window ends (the paper's decoder could not; 0.6% of its sequences failed). Bytes after xj that
/// cost no bits are left to the next window.
///
/// A byte that needs more than W bits even at the start of a window (possible for rare bytes at
/// W = 16, and common at W = 8) is escaped: an all-zero window (which no coded window can be,
/// since those end in a 1 bit) followed by a window holding the byte raw in its first 8 bits.
/// The byte count is stored beside the windows, so inputs that end mid-window and inputs of 0 or
/// 1 byte decode exactly.
struct EqualInfoWindows {
    let model: ByteLM
    let windowBits: Int

    /// One window of the stream, for tests and statistics.
    struct Window: Equatable {
        var bytes: Range<Int>
        var escaped: Bool
        /// Significant bits of the window (its last 1 bit), 0 for an escape.
        var length: Int
    }

    /// The windows of `text`, back to back, `windowBits` each.
    func encode(_ text: [UInt8]) -> (bits: BitStreamWriter, windows: [Window]) {
        var out = BitStreamWriter()
        var windows: [Window] = []
        var session = model.session()
        var position = 0
        while position < text.count {
            session.reset()
            // M1 runs ahead by a block of positions, as many as the windows so far held on average
            // (a block pass is a little cheaper per position; positions past the window's end are
            // wasted). The distributions are the same either way: the block size only affects speed.
            let ahead = max(1, position / max(1, windows.count))
            var distributions = [session.nextByteCumulative]
            var encoder = BinaryArithmeticEncoder()
            var last: (count: Int, length: Int, encoder: BinaryArithmeticEncoder)? = nil
            var previousLength = 0
            var n = 0
            while position + n < text.count {
                if n == distributions.count {
                    let from = position + n - 1, to = min(text.count, from + ahead)
                    distributions += session.append(contentsOf: text[from..<to], block: ahead)
                }
                var trial = encoder
                Self.code(text[position + n], cumulative: distributions[n], into: &trial)
                let length = trial.terminatedLength
                if length > windowBits { break }
                n += 1
                encoder = trial
                if length > previousLength { last = (n, length, encoder) }
                previousLength = length
            }
            if let last {
                let bits = last.encoder.finish()
                for i in 0..<bits.count { out.write(UInt64(bits.bit(i)), count: 1) }
                out.write(0, count: windowBits - bits.count)
                windows.append(Window(bytes: position..<(position + last.count), escaped: false, length: last.length))
                position += last.count
            } else {
                out.write(0, count: windowBits)
                out.write(UInt64(text[position]), count: 8)
                out.write(0, count: windowBits - 8)
                windows.append(Window(bytes: position..<(position + 1), escaped: true, length: 0))
                position += 1
            }
        }
        return (out, windows)
    }

    /// Decodes `count` bytes from windows starting at bit `start` of `bits`.
    func decode(_ bits: [UInt8], start: Int, count: Int) throws(CodecError) -> [UInt8] {
        var text = [UInt8]()
        text.reserveCapacity(min(count, 1 << 20))  // the count is not trusted yet
        var session = model.session()
        var offset = start
        let total = bits.count * 8
        while text.count < count {
            guard offset + windowBits <= total else { throw .corruptPayload("eiw: windows end before \(count) bytes") }
            let window = offset..<(offset + windowBits)
            offset += windowBits
            let length = Self.significantLength(bits, window)
            if length == 0 {  // escape: the next window holds one raw byte
                guard offset + windowBits <= total else { throw .corruptPayload("eiw: escape without its byte") }
                var raw = BitStreamReader(bits, bitRange: offset..<(offset + windowBits))
                text.append(UInt8(raw.read(8)))
                guard Self.significantLength(bits, (offset + 8)..<(offset + windowBits)) == 0 else {
                    throw .corruptPayload("eiw: escaped byte's window has stray bits")
                }
                offset += windowBits
                continue
            }
            session.reset()
            var decoder = BinaryArithmeticDecoder(BitStreamReader(bits, bitRange: window))
            while true {
                let cum = session.nextByteCumulative
                var c = 0
                for k in 0..<8 {
                    let p = Self.bitProbability(cum, c0: c | 1 << k, bitPosition: k)
                    let bit = decoder.decode(probabilityOfOne: p)
                    c = c << 1 | bit
                }
                text.append(UInt8(c))
                let l = decoder.terminatedLength  // the encoder's L after this byte
                if l == length { break }
                guard l < length, text.count < count else { throw .corruptPayload("eiw: a window does not end where its bits say") }
                session.append(UInt8(c))
            }
        }
        guard Self.significantLength(bits, offset..<total) == 0 else { throw .corruptPayload("eiw: stray bits after the last window") }
        return text
    }

    /// Codes one byte, most significant bit first, with M1's distribution.
    static func code(_ byte: UInt8, cumulative cum: [UInt32], into encoder: inout BinaryArithmeticEncoder) {
        var c = 1
        for k in 0..<8 {
            let bit = Int(byte >> UInt8(7 - k)) & 1
            encoder.encode(bit, probabilityOfOne: bitProbability(cum, c0: c, bitPosition: k))
            c = c << 1 | bit
        }
    }

    /// P(next bit = 1) in 16 bits given the byte's earlier bits (c0 = 1 followed by them):
    /// the ratio of the distribution's mass over the two halves of the remaining byte range.
    @inline(__always)
    static func bitProbability(_ cum: [UInt32], c0: Int, bitPosition k: Int) -> UInt32 {
        let lo = (c0 ^ (1 << k)) << (8 - k), half = 1 << (7 - k)
        let total = UInt64(cum[lo + 2 * half] - cum[lo]), ones = UInt64(cum[lo + 2 * half] - cum[lo + half])
        return UInt32(min(65535, max(1, (ones << 16) / total)))
    }

    /// Position (1-based) of the last 1 bit in `range` of `bits`, 0 if none.
    static func significantLength(_ bits: [UInt8], _ range: Range<Int>) -> Int {
        var last = 0
        for i in range where (bits[i >> 3] >> UInt8(7 - (i & 7))) & 1 == 1 { last = i - range.lowerBound + 1 }
        return last
    }
}
