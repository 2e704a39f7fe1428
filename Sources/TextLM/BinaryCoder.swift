/// A binary arithmetic coder over 32-bit integer intervals, one decision at a time, with
/// P(bit = 1) given in 16 bits (1...65535).
///
/// Carry-less: the interval [low, high] is renormalised bit by bit (a bit is final as soon as the
/// top bits of `low` and `high` agree), so the output so far is a prefix of every continuation.
/// That makes the exact number of bits a message needs computable at any point
/// (`terminatedLength`), which the equal-information windows of `eiw` rely on. The decoder reads
/// zero bits past the end of its input, and the encoder terminates with the shortest bit string
/// whose zero extension lies in the final interval.
///
/// All arithmetic is integer: the same bits on every machine.
struct BinaryEncoder {
    private(set) var low: UInt32 = 0
    private(set) var high: UInt32 = .max
    private(set) var bits = BitWriter()

    /// Codes `bit` (0 or 1) with probability `p1` / 65536 that it is 1.
    @inline(__always)
    mutating func encode(_ bit: Int, p1: UInt32) {
        let mid = low &+ UInt32((UInt64(high &- low) &* UInt64(p1)) >> 16)
        if bit != 0 { high = mid } else { low = mid &+ 1 }
        let settled = (low ^ high).leadingZeroBitCount  // top bits now final
        if settled > 0 {
            bits.write(UInt64(low) >> (32 - settled), count: settled)
            low = UInt32(truncatingIfNeeded: UInt64(low) << settled)
            high = UInt32(truncatingIfNeeded: (UInt64(high) << settled) | ((1 << settled) - 1))
        }
    }

    /// Bits the message needs if it ended now (emitted bits plus the shortest termination), not
    /// counting trailing zero bits, which the decoder supplies itself.
    var terminatedLength: Int {
        let count = BinaryEncoder.shortestPoint(low: low, high: high).count
        if count > 0 { return bits.count + count }
        return bits.countWithoutTrailingZeros
    }

    /// The shortest k and the k-bit value v such that v followed by zeros lies in [low, high].
    static func shortestPoint(low: UInt32, high: UInt32) -> (value: UInt64, count: Int) {
        if low == 0 { return (0, 0) }
        for k in 1...32 {
            let step = UInt64(1) << (32 - k)
            let v = (UInt64(low) + step - 1) >> (32 - k)  // ceil(low / step)
            if v << (32 - k) <= UInt64(high) { return (v, k) }
        }
        preconditionFailure("unreachable: k = 32 always fits")
    }

    /// Ends the message with the shortest termination; returns the bits.
    consuming func finish() -> BitWriter {
        let (value, count) = BinaryEncoder.shortestPoint(low: low, high: high)
        bits.write(value, count: count)
        return bits
    }
}

/// Decodes what `BinaryEncoder` wrote, reading zero bits past the end.
struct BinaryDecoder {
    private var low: UInt32 = 0
    private var high: UInt32 = .max
    private var x: UInt32 = 0
    private var reader: BitReader

    init(_ reader: BitReader) {
        self.reader = reader
        x = UInt32(self.reader.read(32))
    }

    @inline(__always)
    mutating func decode(p1: UInt32) -> Int {
        let mid = low &+ UInt32((UInt64(high &- low) &* UInt64(p1)) >> 16)
        let bit: Int
        if x <= mid { bit = 1; high = mid } else { bit = 0; low = mid &+ 1 }
        let settled = (low ^ high).leadingZeroBitCount
        if settled > 0 {
            low = UInt32(truncatingIfNeeded: UInt64(low) << settled)
            high = UInt32(truncatingIfNeeded: (UInt64(high) << settled) | ((1 << settled) - 1))
            x = UInt32(truncatingIfNeeded: (UInt64(x) << settled) | reader.read(settled))
        }
        return bit
    }

    /// Bits consumed past the end of the input (zeros supplied by the reader); a valid stream
    /// never needs more than the 32 of the initial fill.
    var bitsPastEnd: Int { reader.bitsPastEnd }
}

/// Bits appended most significant first into bytes.
struct BitWriter {
    private(set) var bytes: [UInt8] = []
    private(set) var count = 0
    private var lastOne = 0  // count up to and including the last 1 bit written

    /// Appends the low `count` bits of `value` (count 0...64), most significant first.
    @inline(__always)
    mutating func write(_ value: UInt64, count n: Int) {
        var i = n
        while i > 0 {
            let used = count & 7
            if used == 0 { bytes.append(0) }
            let take = min(8 - used, i)
            let chunk = UInt8(truncatingIfNeeded: (value >> UInt64(i - take)) & ((1 << UInt64(take)) - 1))
            bytes[bytes.count - 1] |= chunk << UInt8(8 - used - take)
            if chunk != 0 { lastOne = count + take - chunk.trailingZeroBitCount }
            count += take
            i -= take
        }
    }

    var countWithoutTrailingZeros: Int { lastOne }

    /// Bit `i` (0 = first written).
    func bit(_ i: Int) -> Int { Int(bytes[i >> 3] >> UInt8(7 - (i & 7))) & 1 }
}

/// Reads bits most significant first; zeros past the end.
struct BitReader {
    private let bytes: [UInt8]
    private let start: Int  // in bits
    private let end: Int
    private var position: Int

    init(_ bytes: [UInt8], bitRange: Range<Int>? = nil) {
        self.bytes = bytes
        let range = bitRange ?? 0..<(bytes.count * 8)
        start = range.lowerBound
        end = range.upperBound
        position = range.lowerBound
    }

    /// The next `n` bits (0...32) as an integer.
    @inline(__always)
    mutating func read(_ n: Int) -> UInt64 {
        var v: UInt64 = 0
        for _ in 0..<n {
            let b: UInt64 = position < end ? UInt64(bytes[position >> 3] >> UInt8(7 - (position & 7))) & 1 : 0
            v = (v << 1) | b
            position += 1
        }
        return v
    }

    var bitsPastEnd: Int { max(0, position - end) }
}
