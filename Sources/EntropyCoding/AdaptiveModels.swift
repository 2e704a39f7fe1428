/// A model that learns symbol counts as it codes, for the range coder (or for rANS through a
/// forward pass that records intervals).
///
/// Counts start at 1 for every symbol (so no symbol is ever impossible), grow by `increment` per
/// coded symbol and are halved (rounding up, so none reaches 0) once their total passes
/// `countLimit`, which keeps the model tracking recent statistics. The coded frequencies are
/// requantized from the counts on a schedule: after 1, 2, 4, … updates, up to every
/// `maxRefreshInterval` updates, so the cost per symbol stays O(1) amortised for alphabets up to
/// a few thousand. Between refreshes the model is static. Encoder and decoder must call
/// `update(_:)` with the same symbols in the same order.
public struct AdaptiveFrequencyModel: EntropyModel, Sendable {
    public let precision: Int
    public let increment: UInt32
    public let countLimit: UInt32
    public let maxRefreshInterval: Int
    public private(set) var counts: [UInt32]
    private var countTotal: UInt64
    public private(set) var frequencies: [UInt32]
    private var cumulative: [UInt32]
    private var refreshInterval = 1
    private var updatesUntilRefresh = 1

    public static let supportedPrecision = 1...24

    public var alphabetSize: Int { counts.count }

    public init(alphabetSize: Int, precision: Int = 16, increment: UInt32 = 24, countLimit: UInt32 = 1 << 16,
                maxRefreshInterval: Int? = nil) throws(EntropyCodingError) {
        guard Self.supportedPrecision.contains(precision) else {
            throw .invalidPrecision(precision, supported: Self.supportedPrecision)
        }
        guard alphabetSize >= 1 else { throw .invalidProbabilities("the alphabet is empty") }
        guard alphabetSize <= 1 << precision else { throw .alphabetTooLarge(symbols: alphabetSize, precision: precision) }
        guard increment >= 1, UInt64(countLimit) >= 2 * UInt64(alphabetSize) + UInt64(increment) else {
            throw .invalidProbabilities("countLimit must be at least 2·alphabetSize + increment")
        }
        self.precision = precision
        self.increment = increment
        self.countLimit = countLimit
        self.maxRefreshInterval = maxRefreshInterval ?? max(256, alphabetSize)
        counts = [UInt32](repeating: 1, count: alphabetSize)
        countTotal = UInt64(alphabetSize)
        frequencies = [UInt32](repeating: 0, count: alphabetSize)
        cumulative = [UInt32](repeating: 0, count: alphabetSize + 1)
        refresh()
    }

    @inlinable
    public func interval(of symbol: Int) -> SymbolInterval? {
        guard symbol >= 0, symbol < alphabetSize else { return nil }
        return intervalUnchecked(symbol)
    }

    @usableFromInline func intervalUnchecked(_ symbol: Int) -> SymbolInterval {
        SymbolInterval(cumulative: cumulative[symbol], frequency: frequencies[symbol])
    }

    public func symbol(atSlot slot: UInt32) -> (symbol: Int, interval: SymbolInterval) {
        var low = 0, high = alphabetSize  // cumulative[low] <= slot < cumulative[high]; every frequency ≥ 1
        while high - low > 1 {
            let mid = (low + high) / 2
            if cumulative[mid] <= slot { low = mid } else { high = mid }
        }
        return (low, intervalUnchecked(low))
    }

    /// Learns one occurrence of `symbol` (which must be in the alphabet).
    public mutating func update(_ symbol: Int) {
        counts[symbol] += increment
        countTotal += UInt64(increment)
        if countTotal > UInt64(countLimit) {
            countTotal = 0
            for i in counts.indices {
                counts[i] = (counts[i] + 1) / 2
                countTotal += UInt64(counts[i])
            }
        }
        updatesUntilRefresh -= 1
        if updatesUntilRefresh == 0 {
            refreshInterval = min(2 * refreshInterval, maxRefreshInterval)
            updatesUntilRefresh = refreshInterval
            refresh()
        }
    }

    private mutating func refresh() {
        let total = countTotal, p = precision
        counts.withUnsafeBufferPointer { c in
            frequencies.withUnsafeMutableBufferPointer { f in
                FrequencyQuantizer.quantize(counts: c, countTotal: total, precision: p, into: f)
            }
        }
        var sum: UInt32 = 0
        for s in frequencies.indices {
            cumulative[s] = sum
            sum += frequencies[s]
        }
        cumulative[frequencies.count] = sum
    }
}

/// An adaptive probability for one binary decision, in 16-bit fixed point, for
/// `RangeEncoder.encode(bit:probabilityOfZero:)`. Moves a fraction 2^−rate of the way toward the
/// observed bit; the probability stays within [2^rate − 1, 2^16 − 2^rate + 1] / 2^16, so neither
/// bit ever becomes impossible.
public struct AdaptiveBitModel: Sendable {
    public static let precision = 16
    /// P(bit = 0) · 2^16.
    public var probabilityOfZero: UInt32 = 1 << 15
    public let rate: UInt32

    /// rate 4 adapts fast, 5 is the usual choice, 7 is slow and precise. Must be in 1...15.
    public init(rate: Int = 5) {
        precondition((1...15).contains(rate), "AdaptiveBitModel rate must be in 1...15")
        self.rate = UInt32(rate)
    }

    @inlinable
    public mutating func update(_ bit: Bool) {
        if bit { probabilityOfZero -= probabilityOfZero >> rate }
        else { probabilityOfZero += (65536 - probabilityOfZero) >> rate }
    }
}
