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
/// shifted in while x < L. The encoder starts from x = L and finally writes its states, so a
/// decoder that ends with x = L on every lane having used every byte has verified the stream.
///
/// Interleaving (N = 1…32 ways): symbol i is coded by lane i mod N; all lanes share one word
/// stream, which works because every lane's renormalization happens in exact reverse order in
/// the decoder. Nothing about N is written: encoder and decoder must agree on it.
///
/// Overhead: a state of at least L ≥ 2^(p+7) makes the per-symbol rounding loss tiny (see
/// docs/ENTROPY.md for measurements); the fixed cost is one state per lane (4 or 8 bytes).
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
    @inlinable static var wordsPerState: Int { State.bitWidth / Word.bitWidth }
    /// The most words one encode step can shift out: ⌈p / w⌉ (x < 2^(S−1) must fall below
    /// xMax ≥ 2^(S−1−p)).
    @inlinable static func maxWordsPerSymbol(precision: Int) -> Int { (precision + wordBits - 1) / wordBits }

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

    /// One encoding step of one lane: shifts words out of x until x < xMax, then codes
    /// [c, c + f): x ↦ ⌊x/f⌋·2^p + (x mod f) + c.
    @inlinable static func encodeStep(_ interval: SymbolInterval, precision: Int, state x: inout State, words: inout [Word]) {
        let f = State(interval.frequency)
        let xMax = ((lowerBound >> precision) << wordBits) &* f
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
}

// MARK: - Symbol by symbol (any model)

/// Encodes symbol by symbol with any model; push the symbols in reverse of decoding order.
public struct RANSEncoder<V: RANSVariant> {
    public let ways: Int
    @usableFromInline var states: [V.State]
    @usableFromInline var lane = 0
    @usableFromInline var pushed = 0
    /// Words in the order written; the decoder reads them in reverse.
    @usableFromInline var words: [V.Word] = []

    public init(ways: Int = 1) throws(EntropyCodingError) {
        guard supportedRANSWays.contains(ways) else { throw .invalidWayCount(ways) }
        self.ways = ways
        states = [V.State](repeating: V.lowerBound, count: ways)
    }

    /// Codes [c, c + f) of 2^precision (f ≥ 1, c + f ≤ 2^precision, precision supported).
    @inlinable
    public mutating func push(_ interval: SymbolInterval, precision: Int) {
        V.encodeStep(interval, precision: precision, state: &states[lane], words: &words)
        lane = lane + 1 == ways ? 0 : lane + 1
        pushed += 1
    }

    @inlinable
    public mutating func push<M: EntropyModel>(_ symbol: Int, model: M) throws(EntropyCodingError) {
        push(try V.codableInterval(of: symbol, model: model, index: pushed), precision: model.precision)
    }

    /// Writes the states and returns the stream in decoding order. The decoder decodes its
    /// symbol k (the (pushed − 1 − k)-th pushed) on lane k mod N, so its lane d starts from
    /// encoder lane (pushed − 1 − d) mod N.
    public consuming func finish() -> [UInt8] {
        for d in (0..<ways).reversed() {
            var x = states[((pushed - 1 - d) % ways + ways) % ways]
            for _ in 0..<V.wordsPerState {  // least significant first: read back most significant first
                words.append(V.Word(truncatingIfNeeded: x))
                x >>= V.wordBits
            }
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(words.count * V.bytesPerWord)
        for w in words.reversed() {
            for b in 0..<V.bytesPerWord { bytes.append(UInt8(truncatingIfNeeded: w >> (8 * b))) }
        }
        return bytes
    }
}

/// Decodes symbol by symbol with any model. Hostile input: a start state outside I is corrupt,
/// running out of bytes is truncated; otherwise garbage decodes to (garbage) symbols, and
/// `finish()` tells whether the stream was the encoder's.
public struct RANSDecoder<V: RANSVariant> {
    public let ways: Int
    @usableFromInline let bytes: [UInt8]
    @usableFromInline var position = 0
    @usableFromInline var states: [V.State] = []
    @usableFromInline var lane = 0

    public init(_ bytes: [UInt8], ways: Int = 1) throws(EntropyCodingError) {
        guard supportedRANSWays.contains(ways) else { throw .invalidWayCount(ways) }
        self.ways = ways
        self.bytes = bytes
        for _ in 0..<ways {
            var x: V.State = 0
            for _ in 0..<V.wordsPerState { x = x << V.wordBits | V.State(try readWord()) }
            guard x >= V.lowerBound, x >> (V.State.bitWidth - 1) == 0 else {
                throw .corruptInput("rANS start state outside the normalization interval")
            }
            states.append(x)
        }
    }

    @inlinable
    mutating func readWord() throws(EntropyCodingError) -> V.Word {
        guard position + V.bytesPerWord <= bytes.count else { throw .truncatedInput }
        defer { position += V.bytesPerWord }
        return bytes.withUnsafeBytes { V.Word(littleEndian: $0.loadUnaligned(fromByteOffset: position, as: V.Word.self)) }
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
        // Ends even after a wrong interval (a caller's bug): every pass consumes input.
        while x < V.lowerBound { x = x << V.wordBits | V.State(try readWord()) }
        states[lane] = x
        lane = lane + 1 == ways ? 0 : lane + 1
    }

    @inlinable
    public mutating func decode<M: EntropyModel>(model: M) throws(EntropyCodingError) -> Int {
        guard V.supportedPrecision.contains(model.precision) else {
            throw .invalidPrecision(model.precision, supported: V.supportedPrecision)
        }
        let found = model.symbol(atSlot: slot(precision: model.precision))
        try consume(found.interval, precision: model.precision)
        return found.symbol
    }

    /// Verifies the stream: every byte used and every lane back at the encoder's start state.
    public func finish() throws(EntropyCodingError) {
        guard position == bytes.count else { throw .corruptInput("\(bytes.count - position) bytes of rANS stream left over") }
        guard states.allSatisfy({ $0 == V.lowerBound }) else { throw .corruptInput("rANS end state mismatch") }
    }
}

// MARK: - Whole messages with a static categorical model (the fast path)

/// Per-symbol encoding constants (ryg_rans' reciprocal trick): ⌊x/f⌋ = mulhi(x, reciprocal) >>
/// shift for every x < 2^(S−1), so x ↦ x + bias + ⌊x/f⌋·(2^p − f) needs no division.
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
    /// mulhi(x, m) >> (l − 1). For f = 1, m = 2^S − 1 gives mulhi = x − 1 (x ≥ 1), corrected
    /// through the bias: x + (c + 2^p − 1) + (x − 1)(2^p − 1) = x·2^p + c.
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

extension RANSVariant {
    /// Encodes `symbols` with a static model on `ways` interleaved lanes into one buffer.
    @inlinable
    public static func encode<T: FixedWidthInteger>(_ symbols: [T], model: CategoricalModel,
                                                    ways: Int = 4) throws(EntropyCodingError) -> [UInt8] {
        try check(precision: model.precision, ways: ways)
        let precision = model.precision
        var table = [RANSEncodeEntry<State>](repeating: RANSEncodeEntry(), count: model.alphabetSize)
        for s in 0..<model.alphabetSize {
            if let interval = model.interval(of: s) {
                table[s] = RANSEncodeEntry(interval: interval, precision: precision, lowerBound: lowerBound, wordBits: wordBits)
            }
        }
        let n = symbols.count
        let renormalizationSteps = maxWordsPerSymbol(precision: precision)
        let capacity = n * renormalizationSteps + ways * wordsPerState
        let buffer = UnsafeMutablePointer<Word>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        let states = UnsafeMutablePointer<State>.allocate(capacity: ways)
        defer { states.deallocate() }
        states.initialize(repeating: lowerBound, count: ways)

        // Words are written backwards from the end, so the buffer ends up in decoding order.
        var out = buffer + capacity
        let result: Int? = symbols.withUnsafeBufferPointer { input in
            table.withUnsafeBufferPointer { table in
                var lane = n == 0 ? 0 : (n - 1) % ways
                var i = n - 1
                while i >= 0 {
                    let symbol = Int(exactly: input[i]) ?? -1
                    guard symbol >= 0, symbol < table.count, table[symbol].reciprocal != 0 else { return i }
                    let e = table[symbol]
                    var x = states[lane]
                    // Branch-free renormalization in ⌈p/w⌉ conditional steps. Writing to out − 1
                    // unconditionally stays in bounds: the buffer still has room for every word
                    // symbols 0...i could emit plus the final states.
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
        }
        if let i = result { throw .unencodableSymbol(Int(exactly: symbols[i]) ?? -1, index: i) }
        for d in (0..<ways).reversed() {  // lane 0 ends up first, each state most significant word first
            var x = states[d]
            for _ in 0..<wordsPerState {
                out -= 1
                out.pointee = Word(truncatingIfNeeded: x).littleEndian
                x >>= wordBits
            }
        }
        let byteCount = (buffer + capacity - out) * bytesPerWord
        return [UInt8](UnsafeRawBufferPointer(start: out, count: byteCount))
    }

    /// Decodes exactly `count` symbols coded by `encode(_:model:ways:)` with the same model and
    /// ways. Uses the model's slot table when it has one. Throws on truncated or corrupt input,
    /// including a stream that does not end exactly where the encoder's did.
    @inlinable
    public static func decode<T: FixedWidthInteger>(_ bytes: [UInt8], count: Int, model: CategoricalModel,
                                                    ways: Int = 4, as type: T.Type) throws(EntropyCodingError) -> [T] {
        try check(precision: model.precision, ways: ways)
        precondition(count >= 0 && T.max >= model.alphabetSize - 1, "\(T.self) cannot hold every symbol of the model")
        guard !model.slotTable.isEmpty else {
            var decoder = try RANSDecoder<Self>(bytes, ways: ways)
            var output = [T]()
            output.reserveCapacity(min(count, 1 << 24))
            for _ in 0..<count { output.append(T(truncatingIfNeeded: try decoder.decode(model: model))) }
            try decoder.finish()
            return output
        }
        var states = try RANSDecoder<Self>(bytes, ways: ways)  // reads and checks the start states
        let start = states.position
        let precision = State(model.precision)
        let mask = (State(1) << precision) - 1
        var failure: EntropyCodingError?
        let output = [T](unsafeUninitializedCapacity: count) { output, initialized in
            failure = bytes.withUnsafeBytes { raw in
                model.slotTable.withUnsafeBufferPointer { table in
                    states.states.withUnsafeMutableBufferPointer { x in
                        let words = raw.count / bytesPerWord
                        var w = start / bytesPerWord  // next word to read
                        var i = 0
                        // Fast rounds: one symbol per lane, at most `maxWords` words each, no bounds checks.
                        let renormalizationSteps = maxWordsPerSymbol(precision: model.precision)
                        let maxWords = ways * renormalizationSteps
                        while i + ways <= count, w + maxWords <= words {
                            for lane in 0..<ways {
                                var s = x[lane]
                                let e = table[Int(truncatingIfNeeded: s & mask)]
                                output[i + lane] = T(truncatingIfNeeded: e >> 40)
                                s = State(truncatingIfNeeded: e & 0xFFFFF) &* (s >> precision) &+ State(truncatingIfNeeded: (e >> 20) & 0xFFFFF)
                                // Branch-free renormalization: ⌈p/w⌉ conditional steps always suffice
                                // (after decoding, x ≥ 2^(S−1−w−p)), and the loads stay in bounds
                                // because this round has at least `maxWords` words left.
                                for _ in 0..<renormalizationSteps {
                                    let word = State(Word(littleEndian: raw.loadUnaligned(fromByteOffset: w * bytesPerWord, as: Word.self)))
                                    let refill = s < lowerBound
                                    s = refill ? s << wordBits | word : s
                                    w &+= refill ? 1 : 0
                                }
                                x[lane] = s
                            }
                            i += ways
                        }
                        // The rest, checked.
                        while i < count {
                            let lane = i % ways
                            var s = x[lane]
                            let e = table[Int(truncatingIfNeeded: s & mask)]
                            output[i] = T(truncatingIfNeeded: e >> 40)
                            s = State(truncatingIfNeeded: e & 0xFFFFF) &* (s >> precision) &+ State(truncatingIfNeeded: (e >> 20) & 0xFFFFF)
                            while s < lowerBound {
                                guard w < words else { return .truncatedInput }
                                s = s << wordBits | State(Word(littleEndian: raw.loadUnaligned(fromByteOffset: w * bytesPerWord, as: Word.self)))
                                w += 1
                            }
                            x[lane] = s
                            i += 1
                        }
                        guard w * bytesPerWord == raw.count else {
                            return .corruptInput("\(raw.count - w * bytesPerWord) bytes of rANS stream left over")
                        }
                        guard x.allSatisfy({ $0 == lowerBound }) else { return .corruptInput("rANS end state mismatch") }
                        return nil
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
