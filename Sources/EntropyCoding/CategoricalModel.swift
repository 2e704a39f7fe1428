/// A static model over `0..<alphabetSize` from fixed integer frequencies.
///
/// Interval layout: the most probable symbol (the lowest one among ties) owns [0, f), the
/// symbols after it follow in order and the ones before it wrap around to the top: symbol s
/// starts at (cumulative[s] − cumulative[top]) mod 2^precision. Any order would code as well;
/// this one matters to rANS, whose lanes start from a state of 1: coding the likeliest symbol
/// from a small state x adds its start to x, so a start of 0 keeps a lane's first symbols from
/// inflating its state (at 0.1 bits per symbol this saves about 11 bits per lane).
///
/// Decoding looks a slot up directly in a table of `2^precision` entries when the precision is at
/// most `maxTablePrecision` (at most 512 KiB); above that it searches the cumulative frequencies.
public struct CategoricalModel: EntropyModel, Sendable {
    public let precision: Int
    /// `frequencies[s]` is symbol s's frequency; they sum to `2^precision`.
    public let frequencies: [UInt32]
    /// `cumulative[s]` = sum of the frequencies below s; `alphabetSize + 1` entries.
    public let cumulative: [UInt32]
    /// `cumulative` of the most probable symbol: interval starts are rotated down by this.
    public let rotation: UInt32
    /// Per slot, packed: frequency (bits 0..<32, so decoders use it without masking), slot −
    /// cumulative (bits 32..<48), symbol (bits 48..<64). Empty above `maxTablePrecision` or for
    /// alphabets beyond 2^16 symbols.
    @usableFromInline let slotTable: [UInt64]

    public static let maxTablePrecision = 16
    public static let supportedPrecision = 1...31

    public var alphabetSize: Int { frequencies.count }

    /// From frequencies that must sum to exactly `2^precision` (use `FrequencyQuantizer`).
    public init(frequencies: [UInt32], precision: Int) throws(EntropyCodingError) {
        guard Self.supportedPrecision.contains(precision) else {
            throw .invalidPrecision(precision, supported: Self.supportedPrecision)
        }
        guard !frequencies.isEmpty else { throw .invalidProbabilities("the alphabet is empty") }
        var cumulative = [UInt32](repeating: 0, count: frequencies.count + 1)
        var sum: UInt64 = 0
        for (s, f) in frequencies.enumerated() {
            cumulative[s] = UInt32(truncatingIfNeeded: sum)
            sum += UInt64(f)
            guard sum <= UInt64(1) << precision else { break }
        }
        guard sum == UInt64(1) << precision else {
            throw .invalidProbabilities("frequencies sum to \(sum), not 2^\(precision)")
        }
        cumulative[frequencies.count] = UInt32(sum)
        self.precision = precision
        self.frequencies = frequencies
        self.cumulative = cumulative
        let top = frequencies.indices.max { frequencies[$0] < frequencies[$1] || (frequencies[$0] == frequencies[$1] && $0 > $1) }!
        rotation = cumulative[top]
        var table: [UInt64] = []
        if precision <= Self.maxTablePrecision && frequencies.count <= 1 << 16 {
            table.reserveCapacity(1 << precision)
            for s in Array(top..<frequencies.count) + Array(0..<top) where frequencies[s] > 0 {
                for bias in 0..<UInt64(frequencies[s]) {
                    table.append(UInt64(frequencies[s]) | bias << 32 | UInt64(s) << 48)
                }
            }
        }
        self.slotTable = table
    }

    /// Quantizes float probabilities with `FrequencyQuantizer`.
    public init(probabilities: [Double], precision: Int,
                floor: FrequencyQuantizer.Floor = .nonzeroSymbols) throws(EntropyCodingError) {
        try self.init(frequencies: FrequencyQuantizer.quantize(probabilities, precision: precision, floor: floor),
                      precision: precision)
    }

    @inlinable
    public func interval(of symbol: Int) -> SymbolInterval? {
        guard symbol >= 0, symbol < frequencies.count, frequencies[symbol] > 0 else { return nil }
        return SymbolInterval(cumulative: rotated(cumulative[symbol]), frequency: frequencies[symbol])
    }

    /// An unrotated boundary's rotated position (and back, with `&+` for `&-`).
    @inlinable
    func rotated(_ boundary: UInt32) -> UInt32 { (boundary &- rotation) & (UInt32.max >> (32 - precision)) }

    @inlinable
    public func symbol(atSlot slot: UInt32) -> (symbol: Int, interval: SymbolInterval) {
        if !slotTable.isEmpty {
            let entry = slotTable[Int(slot)]
            let frequency = UInt32(truncatingIfNeeded: entry)
            let bias = UInt32(truncatingIfNeeded: entry >> 32) & 0xFFFF
            return (Int(entry >> 48), SymbolInterval(cumulative: slot - bias, frequency: frequency))
        }
        // Largest s with cumulative[s] <= slot and a nonzero frequency: binary search for the
        // last cumulative entry <= slot (zero-frequency symbols share their successor's start).
        let slot = (slot &+ rotation) & (UInt32.max >> (32 - precision))
        var low = 0, high = frequencies.count  // invariant: cumulative[low] <= slot < cumulative[high] (or high == end)
        while high - low > 1 {
            let mid = (low + high) / 2
            if cumulative[mid] <= slot { low = mid } else { high = mid }
        }
        return (low, SymbolInterval(cumulative: rotated(cumulative[low]), frequency: frequencies[low]))
    }

    /// The model's ideal code length of `symbols` in bits: Σ −log2(f/2^precision). For
    /// benchmarks and tests (uses the C library's log2; not part of any coded format).
    public func idealBits<S: Sequence>(of symbols: S) -> Double where S.Element: BinaryInteger {
        var counts = [Int](repeating: 0, count: alphabetSize)
        for s in symbols { counts[Int(s)] += 1 }
        return idealBits(counts: counts)
    }

    /// Σ counts[s] · −log2(f_s / 2^precision).
    public func idealBits(counts: [Int]) -> Double {
        var bits = 0.0
        for (s, c) in counts.enumerated() where c > 0 {
            bits += Double(c) * (Double(precision) - log2Double(Double(frequencies[s])))
        }
        return bits
    }
}
