/// A carry-less binary arithmetic coder whose exact terminated length is known after every
/// decision: one bit at a time, P(bit = 1) given in 16 bits (1...65535), a 32-bit integer
/// interval [low, high] renormalised bit by bit (a bit is output as soon as the top bits of `low`
/// and `high` agree, so no carry can ever reach it).
///
/// Because every output bit is final, the bits written so far are a prefix of every possible
/// continuation, and the number of bits the message would need if it ended now is exact and
/// cheap to compute (`terminatedLength`): the emitted bits plus the shortest bit string whose
/// zero extension lies in the current interval. That is what a caller needs to cut a stream into
/// pieces of exactly N bits (the equal-information windows of the `eiw` text codec, Lester et
/// al. 2024). The encoder terminates with that shortest string; the decoder reads zero bits
/// past the end of its input, so trailing zeros never need to be stored.
///
/// Cost: the interval can straddle a power of two and shrink without settling; a decision coded
/// there costs a little more than its information (the classic carry-less trade-off, as in the
/// PAQ/lpaq coders). For multi-symbol alphabets, or where terminated lengths are not needed, the
/// range coder (`RangeEncoder`) wastes less.
///
/// All arithmetic is integer: the same bits on every machine. The decoder never traps on any
/// input (it has no error state: hostile bytes decode to some bits). Decoding the whole of
/// `finish().bytes` never reads more than 32 bits past its end (`bitsPastEnd`), so a caller that
/// stores those bytes detects a cut stream by that bound. A stream cut to `terminatedLength` bits
/// decodes exactly too, but then the decoder also reads, as zeros, the trailing zero bits that
/// were dropped, so the bound does not apply.
public struct BinaryArithmeticEncoder: Sendable {
    private var interval = CarrylessInterval()
    public private(set) var bits = BitStreamWriter()

    public init() {}

    /// Codes `bit` (0 or 1) with probability `probabilityOfOne` / 65536 that it is 1
    /// (1...65535).
    @inline(__always)
    public mutating func encode(_ bit: Int, probabilityOfOne p1: UInt32) {
        let (settled, count) = interval.narrow(bit: bit, split: interval.split(probabilityOfOne: p1))
        if count > 0 { bits.write(settled, count: count) }
    }

    /// The bits the message needs if it ended now (emitted bits plus the shortest termination),
    /// not counting trailing zero bits, which the decoder supplies itself. Never decreases as
    /// decisions are added.
    public var terminatedLength: Int {
        let count = interval.shortestPoint().count
        return count > 0 ? bits.count + count : bits.countWithoutTrailingZeros
    }

    /// Ends the message with the shortest termination; returns the bits
    /// (`countWithoutTrailingZeros == terminatedLength` before the call).
    public consuming func finish() -> BitStreamWriter {
        let (value, count) = interval.shortestPoint()
        bits.write(value, count: count)
        return bits
    }
}

/// Decodes what `BinaryArithmeticEncoder` wrote, given the same probabilities in the same order.
public struct BinaryArithmeticDecoder: Sendable {
    private var interval = CarrylessInterval()
    private var x: UInt32 = 0
    private var reader: BitStreamReader
    /// Bits the encoder had emitted at this point, and up to its last 1 bit.
    private var emitted = 0, emittedWithoutTrailingZeros = 0

    public init(_ reader: BitStreamReader) {
        self.reader = reader
        x = UInt32(self.reader.read(32))
    }

    public init(_ bytes: [UInt8]) { self.init(BitStreamReader(bytes)) }

    /// The next bit, coded with probability `probabilityOfOne` / 65536 of a 1 (1...65535).
    @inline(__always)
    public mutating func decode(probabilityOfOne p1: UInt32) -> Int {
        let mid = interval.split(probabilityOfOne: p1)
        let bit = x <= mid ? 1 : 0
        let (settled, count) = interval.narrow(bit: bit, split: mid)
        if count > 0 {
            // low <= x <= high throughout, so x's settled bits are the encoder's output bits.
            if settled != 0 { emittedWithoutTrailingZeros = emitted + count - settled.trailingZeroBitCount }
            emitted += count
            x = UInt32(truncatingIfNeeded: (UInt64(x) << count) | reader.read(count))
        }
        return bit
    }

    /// The encoder's `terminatedLength` after the same decisions: the decoder follows its
    /// interval exactly, so a caller learns where a message of unknown length ends (the last
    /// decision whose terminated length reaches the stream's last 1 bit), with no encoder beside.
    public var terminatedLength: Int {
        let count = interval.shortestPoint().count
        return count > 0 ? emitted + count : emittedWithoutTrailingZeros
    }

    /// Bits consumed past the end of the input (zeros supplied by the reader). Decoding all of
    /// `finish().bytes` needs at most the 32 of the initial fill: more means the input was cut
    /// short (see the type's notes for streams cut to `terminatedLength`).
    public var bitsPastEnd: Int { reader.bitsPastEnd }
}

/// The interval [low, high] both coders narrow identically, one decision at a time.
struct CarrylessInterval: Sendable {
    private var low: UInt32 = 0
    private var high: UInt32 = .max

    /// The last value of the part of the interval that means "1".
    @inline(__always)
    func split(probabilityOfOne p1: UInt32) -> UInt32 {
        precondition(p1 >= 1 && p1 <= 65535, "P(1) must be in 1...65535, got \(p1)")
        return low &+ UInt32((UInt64(high &- low) &* UInt64(p1)) >> 16)
    }

    /// Keeps the part of `bit` (`mid` from `split`), then shifts out the top bits on which low
    /// and high now agree: returns them (`count` bits, 0...32), final whatever follows.
    @inline(__always)
    mutating func narrow(bit: Int, split mid: UInt32) -> (settled: UInt64, count: Int) {
        if bit != 0 { high = mid } else { low = mid &+ 1 }
        let count = (low ^ high).leadingZeroBitCount
        guard count > 0 else { return (0, 0) }
        let settled = UInt64(low) >> (32 - count)
        low = UInt32(truncatingIfNeeded: UInt64(low) << count)
        high = UInt32(truncatingIfNeeded: (UInt64(high) << count) | ((1 << count) - 1))
        return (settled, count)
    }

    /// The shortest k and the k-bit value v such that v followed by zeros lies in [low, high].
    func shortestPoint() -> (value: UInt64, count: Int) {
        if low == 0 { return (0, 0) }
        for k in 1...32 {
            let step = UInt64(1) << (32 - k)
            let v = (UInt64(low) + step - 1) >> (32 - k)  // ceil(low / step)
            if v << (32 - k) <= UInt64(high) { return (v, k) }
        }
        preconditionFailure("unreachable: k = 32 always fits")
    }
}

/// Bits appended most significant first into bytes (the last byte padded with zeros).
public struct BitStreamWriter: Sendable, Equatable {
    public private(set) var bytes: [UInt8] = []
    /// Bits written.
    public private(set) var count = 0
    private var lastOne = 0  // count up to and including the last 1 bit written

    public init() {}

    /// Appends the low `count` bits of `value`, most significant first; a count above 64 writes
    /// zeros before the 64 bits of `value` (so `write(0, count: n)` pads with n zeros).
    @inline(__always)
    public mutating func write(_ value: UInt64, count n: Int) {
        precondition(n >= 0, "cannot write \(n) bits")
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

    /// Bits up to and including the last 1 bit written.
    public var countWithoutTrailingZeros: Int { lastOne }

    /// Bit `i` (0 = first written), 0 or 1.
    public func bit(_ i: Int) -> Int { Int(bytes[i >> 3] >> UInt8(7 - (i & 7))) & 1 }
}

/// Reads bits most significant first from a range of bits of a byte array; zeros past its end.
public struct BitStreamReader: Sendable {
    private let bytes: [UInt8]
    private let end: Int  // in bits
    private var position: Int

    /// Reads `bitRange` of `bytes` (all of them by default); the range is clamped to the bytes.
    public init(_ bytes: [UInt8], bitRange: Range<Int>? = nil) {
        self.bytes = bytes
        let all = 0..<(bytes.count * 8)
        let range = (bitRange ?? all).clamped(to: all)
        end = range.upperBound
        position = range.lowerBound
    }

    /// The next `n` bits (0...64) as an integer, most significant first.
    @inline(__always)
    public mutating func read(_ n: Int) -> UInt64 {
        var v: UInt64 = 0
        for _ in 0..<n {
            let b: UInt64 = position < end ? UInt64(bytes[position >> 3] >> UInt8(7 - (position & 7))) & 1 : 0
            v = (v << 1) | b
            position += 1
        }
        return v
    }

    /// Bits read past the end of the range (each read as 0).
    public var bitsPastEnd: Int { max(0, position - end) }
}
