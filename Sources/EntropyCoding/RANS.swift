/// rANS (range asymmetric numeral systems), after Duda and ryg_rans: LIFO, so the encoder takes
/// symbols in reverse and the decoder returns them forwards.
///
/// The coder state x lives in the normalization interval I = [L, L·2^w), where w is the word
/// size of renormalization and L = 2^(S−1−w) for an S-bit state:
/// - `RANS32`: 32-bit state, byte words, I = [2^23, 2^31), precision ≤ 16;
/// - `RANS64`: 64-bit state, 32-bit words, I = [2^31, 2^63), precision ≤ 24.
/// Encoding a symbol with interval [c, c + f) of 2^p maps x ↦ ⌊x/f⌋·2^p + (x mod f) + c, which
/// multiplies x by about 2^p/f (the symbol's information); first, words are shifted out of x
/// until x < xMax = (L / 2^p)·2^w·f, which is exactly what keeps the result inside I. Decoding
/// inverts both steps: slot = x mod 2^p names the symbol, x ↦ f·⌊x/2^p⌋ + slot − c, then words are
/// shifted in while x < L.
///
/// Interleaving (N = 1…32 ways): symbol i is coded by lane i mod N; all lanes share one word
/// stream, which works because every lane's renormalization happens in exact reverse order in
/// the decoder. Nothing about N is written: encoder and decoder must agree on it.
///
/// Start and end cost next to nothing (docs/ENTROPY.md): every lane starts at x = 1, not L, so
/// no bits go into an initial state. Below L the decoder cannot tell "refill" from "this lane's
/// first symbols", so the encoder keeps the two apart: no word is written while any lane may
/// still be below L, because at its first word (the *first emission*) it lifts every lane still
/// below L by adding L and records which ones in a mask. From then on every lane is inside I,
/// and the decoder refills while x < L as long as words remain; right after it reads the last
/// word (the first one written) it subtracts L from the masked lanes, and the rest of the message
/// decodes without refills. On ordinary data no lane is below L by the time any lane holds a
/// full word, so the mask is empty. The stream is a head (`RANSStreamHead`: the mask and the
/// final states in as many bits as they need) followed by the words in reading order. A decoder
/// that ends with every lane at 1, every word read and the mask applied has verified the stream.
public protocol RANSVariant {
    associatedtype State: FixedWidthInteger & UnsignedInteger
    associatedtype Word: FixedWidthInteger & UnsignedInteger
    static var supportedPrecision: ClosedRange<Int> { get }
}

/// 32-bit state, byte-wise renormalization, precision up to 16 bits.
public enum RANS32: RANSVariant {
    public typealias State = UInt32
    public typealias Word = UInt8
    public static let supportedPrecision = 1...16
}

/// 64-bit state, 32-bit renormalization, precision up to 24 bits.
public enum RANS64: RANSVariant {
    public typealias State = UInt64
    public typealias Word = UInt32
    public static let supportedPrecision = 1...24
}

public let supportedRANSWays = 1...32

extension RANSVariant {
    @inlinable static var wordBits: Int { Word.bitWidth }
    @inlinable static var bytesPerWord: Int { Word.bitWidth / 8 }
    /// L, the bottom of the normalization interval [L, L·2^w).
    @inlinable static var lowerBound: State { State(1) << (State.bitWidth - 1 - Word.bitWidth) }
    /// Every lane's state before the first symbol (and a verified decoder's after the last).
    /// 1 rather than 0 keeps the encoder's reciprocal trick exact (it needs x ≥ 1 for f = 1).
    @inlinable static var startState: State { 1 }
    /// The most words one encode step can shift out, ⌈p / w⌉ for the largest supported p: after
    /// a decode step x ≥ 2^(S−1−w−p), so this many refills always reach L (16/8 → 2, 24/32 → 1).
    @inlinable static var maxRefillWords: Int { Word.bitWidth == 8 ? 2 : 1 }
    /// Bits of a final state's length field in the stream head: states are below 2^(S−1).
    @inlinable static var lengthFieldBits: Int { State.bitWidth.trailingZeroBitCount }

    @inlinable static func check(precision: Int, ways: Int) throws(EntropyCodingError) {
        guard supportedPrecision.contains(precision) else { throw .invalidPrecision(precision, supported: supportedPrecision) }
        guard supportedRANSWays.contains(ways) else { throw .invalidWayCount(ways) }
    }

    /// The interval of `symbol` (the `index`-th pushed), checking that this variant supports
    /// the model's precision and that the symbol can be coded.
    @inlinable static func codableInterval<M: EntropyModel>(of symbol: Int, model: M, index: Int) throws(EntropyCodingError) -> SymbolInterval {
        guard supportedPrecision.contains(model.precision) else {
            throw .invalidPrecision(model.precision, supported: supportedPrecision)
        }
        guard let interval = model.interval(of: symbol) else { throw .unencodableSymbol(symbol, index: index) }
        return interval
    }

    /// The bound below which x must fall before coding a symbol of frequency f.
    @inlinable static func xMax(frequency: UInt32, precision: Int) -> State {
        ((lowerBound >> precision) << wordBits) &* State(frequency)
    }

    /// One encoding step of one lane: shifts words out of x until x < xMax, then codes
    /// [c, c + f): x ↦ ⌊x/f⌋·2^p + (x mod f) + c.
    @inlinable static func encodeStep(_ interval: SymbolInterval, precision: Int, state x: inout State, words: inout [Word]) {
        let f = State(interval.frequency)
        let xMax = xMax(frequency: interval.frequency, precision: precision)
        while x >= xMax {
            words.append(Word(truncatingIfNeeded: x))
            x >>= wordBits
        }
        x = ((x / f) << precision) &+ (x % f) &+ State(interval.cumulative)
    }

    /// The inverse of `encodeStep` before refilling: x ↦ f·⌊x/2^p⌋ + slot − c. Wrapping
    /// arithmetic: an interval that does not contain the slot (a caller's bug) must not trap.
    @inlinable static func decodeStep(_ interval: SymbolInterval, precision: Int, state x: State) -> State {
        let slot = x & ((State(1) << precision) &- 1)
        return State(interval.frequency) &* (x >> precision) &+ slot &- State(interval.cumulative)
    }

    /// At the encoder's first word: adds L to every lane still below L, returning the mask of
    /// those lanes (bit j: lane j). After this, every lane is inside I for good.
    @inlinable static func liftLanes(_ states: UnsafeMutableBufferPointer<State>) -> UInt32 {
        var mask: UInt32 = 0
        for j in states.indices where states[j] < lowerBound {
            states[j] += lowerBound
            mask |= 1 << UInt32(j)
        }
        return mask
    }

    /// The decoder's inverse of `liftLanes`, right after reading the last word.
    @inlinable static func lowerLanes(_ states: UnsafeMutableBufferPointer<State>, mask: UInt32) -> Bool {
        for j in states.indices where mask >> UInt32(j) & 1 == 1 {
            guard states[j] >= lowerBound else { return false }
            states[j] -= lowerBound
        }
        return true
    }
}

// MARK: - Stream head

/// The head of an rANS stream, bit-packed least significant bit first and padded with zero bits
/// to whole bytes; the words follow it. One bit says whether words follow.
/// - With words: one bit for "some lane was lifted" and, if set, the N-bit mask (bit d: decoder
///   lane d); then every lane's final state, which lies in I = [L, 2^(S−1)), as its bit length ℓ
///   minus that of L in log2(w) bits (5 for `RANS64`, 3 for `RANS32`), then the ℓ − 1 bits below
///   its leading one.
/// - Without words (nothing was ever emitted): each final state as a log2(S)-bit length and its
///   bits below the leading one.
/// So a lane costs its state's content plus 5 (or 3) bits, where a fixed layout costs S bits.
@usableFromInline
enum RANSStreamHead<V: RANSVariant> {
    /// ℓ of the smallest state in I.
    @inlinable static var minLength: Int { V.State.bitWidth - V.wordBits }

    @usableFromInline
    static func write(states: UnsafeBufferPointer<V.State>, lifted: UInt32, hasWords: Bool) -> [UInt8] {
        var bits = BitPacker()
        bits.write(hasWords ? 1 : 0, count: 1)
        if hasWords {
            bits.write(lifted == 0 ? 0 : 1, count: 1)
            if lifted != 0 { bits.write(UInt64(lifted), count: states.count) }
        }
        for x in states {
            let length = V.State.bitWidth - x.leadingZeroBitCount
            if hasWords {
                bits.write(UInt64(length - minLength), count: V.wordBits.trailingZeroBitCount)
            } else {
                bits.write(UInt64(length), count: V.State.bitWidth.trailingZeroBitCount)
            }
            if length > 1 { bits.write(UInt64(x) & ((1 << UInt64(length - 1)) - 1), count: length - 1) }
        }
        return bits.finish()
    }

    /// Reads the head into `states` (one per lane); returns the lifted mask and the head's length
    /// in bytes. Throws `.truncatedInput` if the bytes end inside it, `.corruptInput` for a
    /// nonzero padding bit, words announced but absent, or words that do not fill whole words.
    @usableFromInline
    static func read(_ bytes: UnsafeRawBufferPointer, states: UnsafeMutableBufferPointer<V.State>) throws(EntropyCodingError) -> (lifted: UInt32, length: Int) {
        var bits = BitUnpacker(bytes)
        let hasWords = try bits.read(count: 1) == 1
        var lifted: UInt32 = 0
        if hasWords, try bits.read(count: 1) == 1 { lifted = UInt32(try bits.read(count: states.count)) }
        for d in states.indices {
            let length = hasWords ? minLength + Int(try bits.read(count: V.wordBits.trailingZeroBitCount))
                                  : Int(try bits.read(count: V.State.bitWidth.trailingZeroBitCount))
            var x: V.State = length == 0 ? 0 : 1
            if length > 1 { x = x << V.State(length - 1) | V.State(try bits.read(count: length - 1)) }
            states[d] = x
        }
        guard bits.paddingIsZero else { throw .corruptInput("rANS stream head has nonzero padding bits") }
        let wordBytes = bytes.count - bits.byteCount
        guard hasWords == (wordBytes > 0) else { throw .corruptInput("rANS stream head and word count disagree") }
        guard wordBytes % V.bytesPerWord == 0 else { throw .corruptInput("rANS stream does not end on a whole word") }
        return (lifted, bits.byteCount)
    }
}

@usableFromInline
struct BitPacker {
    @usableFromInline var bytes: [UInt8] = []
    @usableFromInline var pending: UInt64 = 0
    @usableFromInline var pendingCount = 0

    @usableFromInline init() {}

    /// Appends the low `count` (0…64) bits of `value`.
    @usableFromInline
    mutating func write(_ value: UInt64, count: Int) {
        var value = value, count = count
        while count > 0 {
            let chunk = min(count, 32)
            pending |= (value & ((1 << UInt64(chunk)) - 1)) << UInt64(pendingCount)
            pendingCount += chunk
            value = chunk == 64 ? 0 : value >> UInt64(chunk)
            count -= chunk
            while pendingCount >= 8 {
                bytes.append(UInt8(truncatingIfNeeded: pending))
                pending >>= 8
                pendingCount -= 8
            }
        }
    }

    @usableFromInline
    mutating func finish() -> [UInt8] {
        if pendingCount > 0 { bytes.append(UInt8(truncatingIfNeeded: pending)) }
        return bytes
    }
}

@usableFromInline
struct BitUnpacker {
    @usableFromInline let bytes: UnsafeRawBufferPointer
    @usableFromInline var bitPosition = 0

    @usableFromInline init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    @usableFromInline var byteCount: Int { (bitPosition + 7) / 8 }

    /// The next `count` (0…64) bits.
    @usableFromInline
    mutating func read(count: Int) throws(EntropyCodingError) -> UInt64 {
        guard bitPosition + count <= 8 * bytes.count else { throw .truncatedInput }
        var value: UInt64 = 0
        for k in 0..<count {
            let bit = UInt64(bytes[(bitPosition + k) >> 3] >> UInt8((bitPosition + k) & 7) & 1)
            value |= bit << UInt64(k)
        }
        bitPosition += count
        return value
    }

    /// True when the padding bits up to the next byte boundary are zero.
    @usableFromInline var paddingIsZero: Bool {
        bitPosition % 8 == 0 || bytes[bitPosition >> 3] >> UInt8(bitPosition & 7) == 0
    }
}

// MARK: - Symbol by symbol (any model)

/// Encodes symbol by symbol with any model; push the symbols in reverse of decoding order.
public struct RANSEncoder<V: RANSVariant> {
    public let ways: Int
    @usableFromInline var states: [V.State]
    @usableFromInline var lane = 0
    @usableFromInline var pushed = 0
    /// Lanes lifted into I at the first word (bit j: encoder lane j).
    @usableFromInline var lifted: UInt32 = 0
    /// Words in the order written; the decoder reads them in reverse.
    @usableFromInline var words: [V.Word] = []

    public init(ways: Int = 1) throws(EntropyCodingError) {
        guard supportedRANSWays.contains(ways) else { throw .invalidWayCount(ways) }
        self.ways = ways
        states = [V.State](repeating: V.startState, count: ways)
    }

    /// Codes [c, c + f) of 2^precision (f ≥ 1, c + f ≤ 2^precision, precision supported).
    @inlinable
    public mutating func push(_ interval: SymbolInterval, precision: Int) {
        if words.isEmpty && states[lane] >= V.xMax(frequency: interval.frequency, precision: precision) {
            lifted = states.withUnsafeMutableBufferPointer { V.liftLanes($0) }
        }
        V.encodeStep(interval, precision: precision, state: &states[lane], words: &words)
        lane = lane + 1 == ways ? 0 : lane + 1
        pushed += 1
    }

    @inlinable
    public mutating func push<M: EntropyModel>(_ symbol: Int, model: M) throws(EntropyCodingError) {
        push(try V.codableInterval(of: symbol, model: model, index: pushed), precision: model.precision)
    }

    /// The stream in decoding order: head, then the words. The decoder decodes its symbol k
    /// (the (pushed − 1 − k)-th pushed) on lane k mod N, so its lane d is encoder lane
    /// (pushed − 1 − d) mod N.
    /// Inlinable so that callers get it specialized for their variant: unspecialized, each word's
    /// `w >> (8·b)` went through generic witness tables (~5 % of a WaLLoC image encode).
    @inlinable
    public consuming func finish() -> [UInt8] {
        var final = [V.State](repeating: 0, count: ways)
        var mask: UInt32 = 0
        for d in 0..<ways {
            let j = ((pushed - 1 - d) % ways + ways) % ways
            final[d] = states[j]
            mask |= (lifted >> UInt32(j) & 1) << UInt32(d)
        }
        var bytes = final.withUnsafeBufferPointer { RANSStreamHead<V>.write(states: $0, lifted: mask, hasWords: !words.isEmpty) }
        bytes.reserveCapacity(bytes.count + words.count * V.bytesPerWord)
        for w in words.reversed() {
            for b in 0..<V.bytesPerWord { bytes.append(UInt8(truncatingIfNeeded: w >> (8 * b))) }
        }
        return bytes
    }
}

/// Decodes symbol by symbol with any model. Hostile input: a head that ends early is
/// truncated; otherwise garbage decodes to (garbage) symbols, and `finish()` tells whether the
/// stream was the encoder's.
public struct RANSDecoder<V: RANSVariant>: SlotDecoder {
    public static var supportedPrecision: ClosedRange<Int> { V.supportedPrecision }
    public let ways: Int
    @usableFromInline let bytes: [UInt8]
    @usableFromInline var position = 0
    @usableFromInline var states: [V.State]
    @usableFromInline var lane = 0
    /// Lanes to lower by L after the last word (bit d: lane d); 0 once done.
    @usableFromInline var lifted: UInt32

    public init(_ bytes: [UInt8], ways: Int = 1) throws(EntropyCodingError) {
        guard supportedRANSWays.contains(ways) else { throw .invalidWayCount(ways) }
        self.ways = ways
        self.bytes = bytes
        var states = [V.State](repeating: 0, count: ways)
        let head = bytes.withUnsafeBytes { raw in
            states.withUnsafeMutableBufferPointer { s in Result { () throws(EntropyCodingError) in try RANSStreamHead<V>.read(raw, states: s) } }
        }
        self.states = states
        (lifted, position) = try head.get()
    }

    /// The current lane's slot in [0, 2^precision); follow with `consume(_:precision:)`.
    @inlinable
    public func slot(precision: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: states[lane] & ((V.State(1) << precision) &- 1))
    }

    /// Undoes the encoding of the interval that contains the current slot.
    @inlinable
    public mutating func consume(_ interval: SymbolInterval, precision: Int) throws(EntropyCodingError) {
        var x = V.decodeStep(interval, precision: precision, state: states[lane])
        if position < bytes.count {
            while x < V.lowerBound && position < bytes.count {
                let word = bytes.withUnsafeBytes { V.Word(littleEndian: $0.loadUnaligned(fromByteOffset: position, as: V.Word.self)) }
                x = x << V.wordBits | V.State(word)
                position += V.bytesPerWord
            }
            states[lane] = x
            if position == bytes.count {  // the last word: undo the lift of the encoder's first
                let mask = lifted
                lifted = 0
                guard states.withUnsafeMutableBufferPointer({ V.lowerLanes($0, mask: mask) }) else {
                    throw .corruptInput("rANS lifted lane below the normalization interval")
                }
            }
        } else {
            states[lane] = x
        }
        lane = lane + 1 == ways ? 0 : lane + 1
    }

    /// Verifies the stream: every word read, the lift undone and every lane back at the start.
    public func finish() throws(EntropyCodingError) {
        guard position == bytes.count else { throw .corruptInput("\(bytes.count - position) bytes of rANS stream left over") }
        guard lifted == 0 else { throw .corruptInput("rANS stream ends before its lifted lanes were lowered") }
        guard states.allSatisfy({ $0 == V.startState }) else { throw .corruptInput("rANS end state mismatch") }
    }
}

// MARK: - Whole messages with a static categorical model (the fast path)

/// Per-symbol encoding constants (ryg_rans' reciprocal trick): ⌊x/f⌋ = mulhi(x, reciprocal) >>
/// shift for every 1 ≤ x < 2^(S−1), so x ↦ x + bias + ⌊x/f⌋·(2^p − f) needs no division.
@usableFromInline
struct RANSEncodeEntry<State: FixedWidthInteger & UnsignedInteger> {
    @usableFromInline var xMax: State = 0
    @usableFromInline var reciprocal: State = 0  // 0 marks a symbol that cannot be coded
    @usableFromInline var bias: State = 0
    @usableFromInline var complement: State = 0
    @usableFromInline var shift: State = 0

    @usableFromInline init() {}

    /// Granlund–Montgomery: for f ≥ 2, l = ⌈log2 f⌉ and m = ⌈2^(S−1+l)/f⌉ < 2^S satisfy
    /// ⌊x·m / 2^(S−1+l)⌋ = ⌊x/f⌋ for all x < 2^(S−1) (because m·f − 2^(S−1+l) < f ≤ 2^l), i.e.
    /// mulhi(x, m) >> (l − 1). For f = 1, m = 2^S − 1 gives mulhi = x − 1 (x ≥ 1, which holds
    /// because states start at 1), corrected through the bias: x + (c + 2^p − 1) + (x − 1)(2^p − 1)
    /// = x·2^p + c.
    @usableFromInline
    init(interval: SymbolInterval, precision: Int, lowerBound: State, wordBits: Int) {
        let f = State(interval.frequency)
        let total = State(1) << precision
        xMax = ((lowerBound >> precision) << wordBits) * f
        complement = total - f
        if f == 1 {
            reciprocal = .max
            shift = 0
            bias = State(interval.cumulative) + total - 1
        } else {
            var l = 0
            while State(1) << l < f { l += 1 }
            let high = (State(1) << (l - 1)) - 1  // 2^(S−1+l) − 1 as (high, low)
            reciprocal = f.dividingFullWidth((high: high, low: State.Magnitude.max)).quotient + 1
            shift = State(l - 1)
            bias = State(interval.cumulative)
        }
    }
}

/// The encoding constants of several categorical models of one alphabet and precision, for
/// `encode(_:contexts:table:ways:)`: built once, used for every message.
public struct RANSEncodeTable<V: RANSVariant>: @unchecked Sendable {  // immutable after init
    /// Model t's entry for symbol s at t·alphabet + s.
    @usableFromInline let entries: [RANSEncodeEntry<V.State>]
    public let alphabet: Int
    public let precision: Int

    /// `models` must share one alphabet size and one precision this variant supports.
    public init(models: [CategoricalModel]) throws(EntropyCodingError) {
        let precision = models.first?.precision ?? V.supportedPrecision.lowerBound
        guard V.supportedPrecision.contains(precision) else { throw .invalidPrecision(precision, supported: V.supportedPrecision) }
        guard models.allSatisfy({ $0.precision == precision && $0.alphabetSize == models[0].alphabetSize }) else {
            throw .invalidProbabilities("an encode table needs models of one alphabet size and precision")
        }
        self.precision = precision
        alphabet = models.first?.alphabetSize ?? 0
        entries = models.flatMap { model in (0..<model.alphabetSize).map { s in
            model.interval(of: s).map { RANSEncodeEntry(interval: $0, precision: precision, lowerBound: V.lowerBound, wordBits: V.wordBits) }
                ?? RANSEncodeEntry()
        } }
    }
}

extension RANSVariant {
    /// Encodes `symbols` with a static model on `ways` interleaved lanes into one buffer.
    @inlinable
    public static func encode<T: FixedWidthInteger>(_ symbols: [T], model: CategoricalModel,
                                                    ways: Int = 4) throws(EntropyCodingError) -> [UInt8] {
        try check(precision: model.precision, ways: ways)
        let table = try RANSEncodeTable<Self>(models: [model])
        return try symbols.withUnsafeBufferPointer { (input) throws(EntropyCodingError) in
            try encode(count: input.count, entries: table.entries, precision: model.precision, ways: ways,
                       symbol: { Int(exactly: input[$0]) ?? -1 }, entry: { Int(exactly: input[$0]) ?? -1 })
        }
    }

    /// Encodes symbol i under model `contexts[i]` of `table` (as if pushed one by one through
    /// `RANSEncoder` with those models: the same stream, several times faster, no division).
    @inlinable
    public static func encode<S: FixedWidthInteger, C: FixedWidthInteger>(
        _ symbols: UnsafeBufferPointer<S>, contexts: UnsafeBufferPointer<C>, table: RANSEncodeTable<Self>, ways: Int = 4
    ) throws(EntropyCodingError) -> [UInt8] {
        precondition(symbols.count == contexts.count, "one context per symbol")
        try check(precision: table.precision, ways: ways)
        let alphabet = table.alphabet
        return try encode(count: symbols.count, entries: table.entries, precision: table.precision, ways: ways,
                          symbol: { Int(exactly: symbols[$0]) ?? -1 }) { i in
            guard let s = Int(exactly: symbols[i]), s >= 0, s < alphabet, let c = Int(exactly: contexts[i]), c >= 0 else { return -1 }
            return c * alphabet + s
        }
    }

    /// The whole-message encoder: symbol i (i < count) is coded with `entries[entry(i)]`; an
    /// index out of range, or an entry that cannot code, throws `.unencodableSymbol(symbol(i))`.
    @inlinable
    static func encode(count n: Int, entries: [RANSEncodeEntry<State>], precision: Int, ways: Int,
                       symbol: (Int) -> Int, entry: (Int) -> Int) throws(EntropyCodingError) -> [UInt8] {
        let renormalizationSteps = (precision + wordBits - 1) / wordBits
        let capacity = n * renormalizationSteps
        let buffer = UnsafeMutablePointer<Word>.allocate(capacity: max(capacity, 1))
        defer { buffer.deallocate() }
        let states = UnsafeMutableBufferPointer<State>.allocate(capacity: ways)
        defer { states.deallocate() }
        states.initialize(repeating: startState)
        var lifted: UInt32 = 0

        // Words are written backwards from the end, so the buffer ends up in decoding order.
        var out = buffer + capacity
        let end = out
        let result: Int? = entries.withUnsafeBufferPointer { table in
            var lane = n == 0 ? 0 : (n - 1) % ways
            var i = n - 1
            // Until the first word: states may be below L; lift them when it comes.
            while i >= 0 && out == end {
                let t = entry(i)
                guard t >= 0, t < table.count, table[t].reciprocal != 0 else { return i }
                let e = table[t]
                var x = states[lane]
                if x >= e.xMax {  // the first word: lift every lane below L, this one included
                    lifted = liftLanes(states)
                    x = states[lane]
                    while x >= e.xMax {
                        out -= 1
                        out.pointee = Word(truncatingIfNeeded: x).littleEndian
                        x >>= wordBits
                    }
                }
                let q = x.multipliedFullWidth(by: e.reciprocal).high >> e.shift
                states[lane] = x &+ e.bias &+ State(truncatingIfNeeded: q) &* e.complement
                lane = lane == 0 ? ways - 1 : lane - 1
                i -= 1
            }
            while i >= 0 {
                let t = entry(i)
                guard t >= 0, t < table.count, table[t].reciprocal != 0 else { return i }
                let e = table[t]
                var x = states[lane]
                // Branch-free renormalization in ⌈p/w⌉ conditional steps. Writing to out − 1
                // unconditionally stays in bounds: the buffer still has room for every word
                // symbols 0...i can emit (at least one per step), and this is not the first word.
                for _ in 0..<renormalizationSteps {
                    let emit = x >= e.xMax
                    (out - 1).pointee = Word(truncatingIfNeeded: x).littleEndian
                    out -= emit ? 1 : 0
                    x = emit ? x >> wordBits : x
                }
                let q = x.multipliedFullWidth(by: e.reciprocal).high >> e.shift
                states[lane] = x &+ e.bias &+ State(truncatingIfNeeded: q) &* e.complement
                lane = lane == 0 ? ways - 1 : lane - 1
                i -= 1
            }
            return nil
        }
        if let i = result { throw .unencodableSymbol(symbol(i), index: i) }
        let head = RANSStreamHead<Self>.write(states: UnsafeBufferPointer(states), lifted: lifted, hasWords: out != end)
        let wordBytes = (end - out) * bytesPerWord
        return [UInt8](unsafeUninitializedCapacity: head.count + wordBytes) { bytes, initialized in
            head.withUnsafeBytes { UnsafeMutableRawBufferPointer(bytes).copyMemory(from: $0) }
            UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(bytes)[head.count...])
                .copyMemory(from: UnsafeRawBufferPointer(start: out, count: wordBytes))
            initialized = head.count + wordBytes
        }
    }

    /// Decodes exactly `count` symbols coded by `encode(_:model:ways:)` with the same model and
    /// ways. Uses the model's slot table when it has one. Throws on truncated or corrupt input,
    /// including a stream that does not end exactly where the encoder's did.
    @inlinable
    public static func decode<T: FixedWidthInteger>(_ bytes: [UInt8], count: Int, model: CategoricalModel,
                                                    ways: Int = 4, as type: T.Type) throws(EntropyCodingError) -> [T] {
        try check(precision: model.precision, ways: ways)
        precondition(count >= 0 && T.max >= model.alphabetSize - 1, "\(T.self) cannot hold every symbol of the model")
        var decoder = try RANSDecoder<Self>(bytes, ways: ways)  // reads the head
        guard !model.slotTable.isEmpty, count > 0 else {  // (an empty output may have no base address)
            var output = [T]()
            output.reserveCapacity(min(count, 1 << 24))
            for _ in 0..<count { output.append(T(truncatingIfNeeded: try decoder.decode(model: model))) }
            try decoder.finish()
            return output
        }
        var failure: EntropyCodingError?
        var lifted = decoder.lifted
        let start = decoder.position
        let output = [T](unsafeUninitializedCapacity: count) { output, initialized in
            failure = bytes.withUnsafeBytes { raw in
                model.slotTable.withUnsafeBufferPointer { table in
                    decoder.states.withUnsafeMutableBufferPointer { x in
                        var cursor = SlotTableCursor<Self, T>(raw: raw, position: start, table: table,
                                                              precision: model.precision, output: output.baseAddress!)
                        // Whole rounds of one symbol per lane with no bounds checks and no
                        // branches on the data, while the words cannot run out within a round
                        // (so the last word, and the lowering it triggers, is left to the tail).
                        // The lane count is a constant in the common cases, so the rounds unroll.
                        switch ways {
                        case 1: cursor.fastRounds(in: State(0), ways: 1, states: x, count: count)
                        case 2: cursor.fastRounds(ways: 2, states: x.baseAddress!, count: count)
                        case 4: cursor.fastRounds(ways: 4, states: x.baseAddress!, count: count)
                        case 8: cursor.fastRounds(ways: 8, states: x.baseAddress!, count: count)
                        default: cursor.fastRounds(ways: ways, states: x.baseAddress!, count: count)
                        }
                        return cursor.tail(states: x, count: count, lifted: &lifted)
                    }
                }
            }
            // T is a trivial integer type, so leaving elements uninitialized on failure is safe.
            initialized = failure == nil ? count : 0
        }
        if let failure { throw failure }
        return output
    }
}

/// The bulk decoder's loop state over the words and the model's slot table (entries packed as
/// frequency | (slot − cumulative) << 32 | symbol << 48).
@usableFromInline
struct SlotTableCursor<V: RANSVariant, T: FixedWidthInteger> {
    @usableFromInline let raw: UnsafeRawBufferPointer
    @usableFromInline var position: Int
    @usableFromInline let table: UnsafeBufferPointer<UInt64>
    @usableFromInline let precision: V.State
    @usableFromInline let mask: V.State
    @usableFromInline let output: UnsafeMutablePointer<T>
    @usableFromInline var decoded = 0

    @inlinable
    init(raw: UnsafeRawBufferPointer, position: Int, table: UnsafeBufferPointer<UInt64>, precision: Int,
         output: UnsafeMutablePointer<T>) {
        self.raw = raw
        self.position = position
        self.table = table
        self.precision = V.State(precision)
        self.mask = (V.State(1) << precision) &- 1
        self.output = output
    }

    /// One decode step through the table: the symbol, and x ↦ f·⌊x/2^p⌋ + (slot − c).
    @inlinable @inline(__always)
    static func step(_ x: V.State, table: UnsafePointer<UInt64>, mask: V.State, precision: V.State,
                     output: UnsafeMutablePointer<T>) -> V.State {
        let e = table[Int(truncatingIfNeeded: x & mask)]
        output.pointee = T(truncatingIfNeeded: e >> 48)
        return V.State(UInt32(truncatingIfNeeded: e)) &* (x &>> precision) &+ V.State(truncatingIfNeeded: (e >> 32) & 0xFFFF)
    }

    /// `fastRounds` on a local copy of the states (`lanes`: a tuple of `ways` states): with a
    /// constant lane count they then live in registers, where a store and reload per symbol
    /// would add the store-forwarding latency to every lane's chain.
    @inlinable @inline(__always)
    mutating func fastRounds<Lanes>(in lanes: Lanes, ways: Int, states x: UnsafeMutableBufferPointer<V.State>, count: Int) {
        var lanes = lanes
        withUnsafeMutableBytes(of: &lanes) { raw in
            let local = raw.bindMemory(to: V.State.self).baseAddress!
            for lane in 0..<ways { local[lane] = x[lane] }
            fastRounds(ways: ways, states: local, count: count)
            for lane in 0..<ways { x[lane] = local[lane] }
        }
    }

    @inlinable @inline(__always)
    mutating func fastRounds(ways: Int, states x: UnsafeMutablePointer<V.State>, count: Int) {
        let refillWords = V.maxRefillWords
        let roundBytes = ways * refillWords * V.bytesPerWord
        let base = raw.baseAddress!, end = raw.count
        let table = table.baseAddress!, mask = mask, precision = precision, output = output
        var i = decoded, position = self.position
        while i + ways <= count, position + roundBytes < end {
            for lane in 0..<ways {
                var s = Self.step(x[lane], table: table, mask: mask, precision: precision, output: output + i + lane)
                // Branch-free refill: the state refilled with k words for each k up to the
                // most a step needs, chosen by comparisons (s takes k words iff s < L >> (w·(k−1)),
                // exactly what the refill loop would take). The loads do not depend on s, so the
                // chain from one symbol to the next is the table load, the product and the selects.
                var words: V.State = 0, refilled = s, n = 0
                for k in 0..<refillWords {
                    let word = V.Word(littleEndian: base.loadUnaligned(fromByteOffset: position &+ k &* V.bytesPerWord, as: V.Word.self))
                    words = words << V.wordBits | V.State(word)
                    let take = s < V.lowerBound >> (V.wordBits &* k)
                    // A mask, not `take ? … : …`: LLVM turns such selects in a loop into branches,
                    // which mispredict on every data-dependent refill.
                    let select = 0 &- V.State(take ? 1 : 0)
                    refilled = refilled ^ ((refilled ^ (s << (V.wordBits &* (k &+ 1)) | words)) & select)
                    n &+= take ? 1 : 0
                }
                s = refilled
                position &+= n &* V.bytesPerWord
                x[lane] = s
            }
            i += ways
        }
        decoded = i
        self.position = position
    }

    /// The remaining symbols, checked: refills only while words remain, the lowering of the
    /// lifted lanes after the last word, and the end-of-stream checks.
    @inlinable
    mutating func tail(states x: UnsafeMutableBufferPointer<V.State>, count: Int, lifted: inout UInt32) -> EntropyCodingError? {
        let ways = x.count
        var lane = decoded % ways
        for i in decoded..<count {
            var s = Self.step(x[lane], table: table.baseAddress!, mask: mask, precision: precision, output: output + i)
            if position < raw.count {
                while s < V.lowerBound && position < raw.count {
                    s = s << V.wordBits | V.State(V.Word(littleEndian: raw.loadUnaligned(fromByteOffset: position, as: V.Word.self)))
                    position += V.bytesPerWord
                }
                x[lane] = s
                if position == raw.count {
                    let mask = lifted
                    lifted = 0
                    guard V.lowerLanes(x, mask: mask) else { return .corruptInput("rANS lifted lane below the normalization interval") }
                }
            } else {
                x[lane] = s
            }
            lane = lane + 1 == ways ? 0 : lane + 1
        }
        decoded = count
        guard position == raw.count else { return .corruptInput("\(raw.count - position) bytes of rANS stream left over") }
        guard lifted == 0 else { return .corruptInput("rANS stream ends before its lifted lanes were lowered") }
        guard x.allSatisfy({ $0 == V.startState }) else { return .corruptInput("rANS end state mismatch") }
        return nil
    }
}
