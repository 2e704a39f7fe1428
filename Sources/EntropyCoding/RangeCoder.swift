/// A range coder (FIFO: symbols decode in the order they were encoded), for adaptive and
/// autoregressive models whose distribution changes from symbol to symbol.
///
/// State: `low` and `range` are 64-bit; the code point lies in [low, low + range) scaled by
/// 2^(64 + 16·words written). Invariant between calls: 2^48 ≤ range ≤ 2^64 − 1. Coding an
/// interval [c, c + f) of 2^p narrows the state to r = ⌊range / 2^p⌋, low += r·c, range = r·f;
/// the part of the range above r·2^p (< 2^p, so a fraction < 2^(p−48) of it) is wasted, which
/// costs on average about 2^(p−53) bits per symbol: 2e-9 bits at p = 24, nothing measurable.
/// While range is below 2^48 the top 16 bits of low are written out (at most twice per symbol:
/// range ≥ r ≥ 2^(48−p) ≥ 2^24 after coding). A carry out of `low` (low + r·c ≥ 2^64) is added
/// into the words already written; it can never run past the first word because the coded
/// interval always lies inside the initial one.
///
/// Binary decisions (`encode(bit:probabilityOfZero:)`) split the range without a division and
/// without waste, for context-mixing coders that code bits with 12–16-bit probabilities.
public struct RangeEncoder: Sendable {
    @usableFromInline var low: UInt64 = 0
    @usableFromInline var range: UInt64 = .max
    /// 16-bit words written so far, most significant first; a carry may still increment them.
    @usableFromInline var words: [UInt16] = []

    /// Precisions `encode(_:precision:)` accepts.
    public static let supportedPrecision = 1...24

    public init() {}

    /// Codes the interval [c, c + f) of [0, 2^precision). Requires f ≥ 1, c + f ≤ 2^precision
    /// and a supported precision (a violation would leave the state unusable, so it traps).
    @inlinable
    public mutating func encode(_ interval: SymbolInterval, precision: Int) {
        precondition(interval.frequency > 0 && precision <= 24, "range coder: frequency 0 or precision above 24")
        let r = range &>> UInt64(precision)
        addToLow(r &* UInt64(interval.cumulative))
        range = r &* UInt64(interval.frequency)
        normalize()
    }

    /// Codes `symbol` with `model`; throws if the model gives it no probability.
    @inlinable
    public mutating func encode<M: EntropyModel>(_ symbol: Int, model: M) throws(EntropyCodingError) {
        guard Self.supportedPrecision.contains(model.precision) else {
            throw .invalidPrecision(model.precision, supported: Self.supportedPrecision)
        }
        guard let interval = model.interval(of: symbol) else { throw .unencodableSymbol(symbol, index: -1) }
        encode(interval, precision: model.precision)
    }

    /// Codes one bit with P(bit = 0) = probabilityOfZero / 2^precision, precision in 1...24. The
    /// probability is clamped to [1, 2^precision − 1] so neither bit is ever impossible.
    @inlinable
    public mutating func encode(bit: Bool, probabilityOfZero: UInt32, precision: Int = 16) {
        let p0 = UInt64(min(max(probabilityOfZero, 1), (1 << UInt32(precision)) - 1))
        let bound = (range &>> UInt64(precision)) &* p0
        if bit {
            addToLow(bound)
            range &-= bound  // ≥ r·(2^p − p0) ≥ r ≥ 1: the remainder goes to bit 1, nothing wasted
        } else {
            range = bound
        }
        normalize()
    }

    /// Codes one bit with an adaptive model, then updates the model.
    @inlinable
    public mutating func encode(bit: Bool, model: inout AdaptiveBitModel) {
        encode(bit: bit, probabilityOfZero: model.probabilityOfZero, precision: AdaptiveBitModel.precision)
        model.update(bit)
    }

    /// Writes the low `bitCount` (0...32) bits of `value` with probability 1/2 each.
    @inlinable
    public mutating func encodeBypass(_ value: UInt32, bitCount: Int) {
        var remaining = bitCount
        while remaining > 0 {  // in chunks of at most 16 bits, high chunk first
            let chunk = min(remaining, 16)
            remaining -= chunk
            let bits = (value >> UInt32(remaining)) & ((1 << UInt32(chunk)) - 1)
            encode(SymbolInterval(cumulative: bits, frequency: 1), precision: chunk)
        }
    }

    @inlinable
    mutating func addToLow(_ amount: UInt64) {
        let (sum, carry) = low.addingReportingOverflow(amount)
        low = sum
        if carry { propagateCarry() }
    }

    @usableFromInline
    mutating func propagateCarry() {
        var i = words.count - 1
        while true {
            words[i] &+= 1
            if words[i] != 0 { return }
            i -= 1
        }
    }

    @inlinable
    mutating func normalize() {
        while range < 1 << 48 {
            words.append(UInt16(truncatingIfNeeded: low >> 48))
            low <<= 16
            range <<= 16
        }
    }

    /// The bytes written so far plus a final word: the top 16 bits of the multiple of 2^48 in
    /// [low, low + range) (one exists because range ≥ 2^48); its low 48 bits are zero and need
    /// not be written, the decoder supplies those 6 zero bytes itself. Output: 2 bytes per 16
    /// bits of information plus 2.
    public consuming func finish() -> [UInt8] {
        addToLow((1 << 48) - 1)
        words.append(UInt16(truncatingIfNeeded: low >> 48))
        var bytes = [UInt8]()
        bytes.reserveCapacity(2 * words.count)
        for w in words {
            bytes.append(UInt8(w >> 8))
            bytes.append(UInt8(truncatingIfNeeded: w))
        }
        return bytes
    }
}

/// Decodes what `RangeEncoder` wrote. Holds `code` = (code point − low), so 0 ≤ code < range.
/// Hostile input: a slot beyond the model's total is reported as corrupt, reading more than the
/// 6 implicit zero bytes past the end as truncated; otherwise garbage decodes to symbols.
public struct RangeDecoder: Sendable, SlotDecoder {
    public static var supportedPrecision: ClosedRange<Int> { RangeEncoder.supportedPrecision }
    @usableFromInline let bytes: [UInt8]
    @usableFromInline var position = 0
    @usableFromInline var code: UInt64 = 0
    @usableFromInline var range: UInt64 = .max

    /// Decodes `bytes` from offset `start` on (a payload after its header, without copying it).
    public init(_ bytes: [UInt8], from start: Int = 0) throws(EntropyCodingError) {
        self.bytes = bytes
        position = min(max(start, 0), bytes.count)
        for _ in 0..<4 { code = code << 16 | (try readWord()) }
        guard code < range else { throw .corruptInput("range coder start value out of range") }
    }

    /// The next big-endian 16-bit word; up to 6 bytes past the end read as 0 (the low 48 bits
    /// of the final value, which the encoder left out).
    @inlinable
    mutating func readWord() throws(EntropyCodingError) -> UInt64 {
        defer { position += 2 }
        if position + 2 <= bytes.count {
            return bytes.withUnsafeBytes { UInt64(UInt16(bigEndian: $0.loadUnaligned(fromByteOffset: position, as: UInt16.self))) }
        }
        guard position < bytes.count + 6 else { throw .truncatedInput }
        let high = position < bytes.count ? UInt64(bytes[position]) : 0  // an odd-length input ends inside a word
        return high << 8
    }

    @inlinable
    mutating func normalize() throws(EntropyCodingError) {
        while range < 1 << 48 {
            code = code << 16 | (try readWord())
            range <<= 16
        }
    }

    /// The slot in [0, 2^precision) the next symbol lies in; follow with `consume(_:precision:)`.
    @inlinable
    public func slot(precision: Int) throws(EntropyCodingError) -> UInt32 {
        let r = range &>> UInt64(precision)
        // r ≥ 1 while the invariant range ≥ 2^48 holds; it fails only if the decoder is used
        // again after it threw, which must not trap either.
        guard r > 0 else { throw .corruptInput("range decoder used after an error") }
        let slot = code / r
        // A valid stream never points into the wasted top of the range.
        guard slot < 1 << UInt64(precision) else { throw .corruptInput("range coder slot beyond the model's total") }
        return UInt32(slot)
    }

    /// Removes the interval containing the current slot (as found from `slot(precision:)`).
    @inlinable
    public mutating func consume(_ interval: SymbolInterval, precision: Int) throws(EntropyCodingError) {
        let r = range &>> UInt64(precision)
        code &-= r &* UInt64(interval.cumulative)
        range = r &* UInt64(interval.frequency)
        try normalize()
    }

    @inlinable @inline(__always)
    public mutating func decodeBit(probabilityOfZero: UInt32, precision: Int = 16) throws(EntropyCodingError) -> Bool {
        let p0 = UInt64(min(max(probabilityOfZero, 1), (1 << UInt32(precision)) - 1))
        let bound = (range &>> UInt64(precision)) &* p0
        let bit = code >= bound
        if bit {
            code &-= bound
            range &-= bound
        } else {
            range = bound
        }
        try normalize()
        return bit
    }

    @inlinable
    public mutating func decodeBit(model: inout AdaptiveBitModel) throws(EntropyCodingError) -> Bool {
        let bit = try decodeBit(probabilityOfZero: model.probabilityOfZero, precision: AdaptiveBitModel.precision)
        model.update(bit)
        return bit
    }

    @inlinable
    public mutating func decodeBypass(bitCount: Int) throws(EntropyCodingError) -> UInt32 {
        var value: UInt32 = 0
        var remaining = bitCount
        while remaining > 0 {
            let chunk = min(remaining, 16)
            remaining -= chunk
            let bits = try slot(precision: chunk)
            try consume(SymbolInterval(cumulative: bits, frequency: 1), precision: chunk)
            value = value << UInt32(chunk) | bits
        }
        return value
    }

    /// Checks that the stream ended exactly where the encoder's did (catches trailing garbage).
    public func finish() throws(EntropyCodingError) {
        guard position == bytes.count + 6 else {
            throw .corruptInput("range coder stream has \(bytes.count + 6 - position) bytes left over")
        }
    }
}

/// Whole-message range coding with one static model.
public enum RangeCoder {
    public static func encode<S: Sequence, M: EntropyModel>(_ symbols: S, model: M) throws(EntropyCodingError) -> [UInt8]
    where S.Element: BinaryInteger {
        guard RangeEncoder.supportedPrecision.contains(model.precision) else {
            throw .invalidPrecision(model.precision, supported: RangeEncoder.supportedPrecision)
        }
        var encoder = RangeEncoder()
        for (i, s) in symbols.enumerated() {
            let symbol = Int(exactly: s) ?? -1
            guard let interval = model.interval(of: symbol) else { throw .unencodableSymbol(symbol, index: i) }
            encoder.encode(interval, precision: model.precision)
        }
        return encoder.finish()
    }

    /// Decodes exactly `count` symbols as `T` (which must hold every symbol of the model). The
    /// caller bounds `count` (a nearly certain symbol costs almost no bits, so the input length
    /// does not bound it).
    public static func decode<M: EntropyModel, T: FixedWidthInteger>(_ bytes: [UInt8], count: Int, model: M,
                                                                   as type: T.Type) throws(EntropyCodingError) -> [T] {
        guard RangeEncoder.supportedPrecision.contains(model.precision) else {
            throw .invalidPrecision(model.precision, supported: RangeEncoder.supportedPrecision)
        }
        var decoder = try RangeDecoder(bytes)
        var failure: EntropyCodingError?
        let symbols = [T](unsafeUninitializedCapacity: count) { output, initialized in
            var i = 0
            if count > 0, let model = model as? CategoricalModel, !model.slotTable.isEmpty, model.precision <= 16 {
                i = decoder.bytes.withUnsafeBytes { raw in
                    model.slotTable.withUnsafeBufferPointer { table in
                        decodeWithSlotTable(&decoder, raw: raw, table: table.baseAddress!, precision: model.precision,
                                            output: output.baseAddress!, count: count)
                    }
                }
            }
            do throws(EntropyCodingError) {
                while i < count {
                    output[i] = T(truncatingIfNeeded: try decoder.decode(model: model))
                    i += 1
                }
                try decoder.finish()
            } catch {
                failure = error
            }
            initialized = failure == nil ? count : 0  // T is a trivial integer type
        }
        if let failure { throw failure }
        return symbols
    }

    /// The decoding loop for a static model with a slot table and p ≤ 16, while a whole word of
    /// input remains; returns how many symbols it decoded and leaves the rest (and any error: a
    /// slot in the wasted top of the range stops it) to `RangeDecoder`. Unsafe buffers, the
    /// remainder of the one division reused (code − r·c = (code mod r) + r·(slot − c)), and
    /// normalization by masks rather than branches (a data-dependent branch mispredicts every
    /// few symbols).
    @inlinable @inline(__always)
    static func decodeWithSlotTable<T: FixedWidthInteger>(_ decoder: inout RangeDecoder, raw: UnsafeRawBufferPointer,
                                                          table: UnsafePointer<UInt64>, precision: Int,
                                                          output: UnsafeMutablePointer<T>, count: Int) -> Int {
        let precision = UInt64(precision)
        let total = UInt64(1) << precision
        var code = decoder.code, range = decoder.range, position = decoder.position
        let end = raw.count - 2
        var i = 0
        while i < count && position <= end {
            let r = range &>> precision  // ≥ 2^32: range ≥ 2^48 after every normalization
            let (slot, remainder) = code.quotientAndRemainder(dividingBy: r)
            if slot >= total { break }  // the wasted top of the range: corrupt, reported by the slow path
            let e = table[Int(truncatingIfNeeded: slot)]
            output[i] = T(truncatingIfNeeded: e >> 48)
            range = r &* UInt64(UInt32(truncatingIfNeeded: e))
            code = remainder &+ r &* ((e >> 32) & 0xFFFF)
            // p ≤ 16, so range ≥ r ≥ 2^32 now and one 16-bit word brings it back to ≥ 2^48.
            let word = UInt64(UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt16.self)))
            let refill = 0 &- UInt64(range < 1 << 48 ? 1 : 0)
            range = range ^ ((range ^ (range &<< 16)) & refill)
            code = code ^ ((code ^ (code &<< 16 | word)) & refill)
            position &+= Int(truncatingIfNeeded: refill & 2)
            i += 1
        }
        decoder.code = code
        decoder.range = range
        decoder.position = position
        return i
    }
}
