/// The one float-probability → integer-frequency quantizer every codec uses.
///
/// Determinism: encoder and decoder must build bit-identical tables on any machine, so this uses
/// only operations IEEE 754 defines exactly (+, -, *, /, conversion to integer, comparison),
/// always in the same order, and no libm function. Swift never contracts `a * b + c` into a fused
/// multiply-add on its own, so the results do not depend on the CPU either.
///
/// Method: each symbol's ideal real frequency is `q = p / sum(p) * 2^precision`; it starts at
/// `max(floor, ⌊q⌋)`, where the floor is 1 for every symbol that must stay codable and 0 otherwise.
/// The sum is then corrected to exactly `2^precision` one count at a time, greedily: a missing
/// count goes to the symbol where it saves the most bits, a surplus count comes from the symbol
/// where it costs the fewest. The bit change of moving `f` to `f ± 1` is `q · ln((f ± 1) / f)`,
/// approximated without a logarithm by `q / (f ± 0.5)` (accurate to O(1/f³)). Because that cost
/// is convex in `f`, the greedy steps minimise the approximated cross-entropy. Ties go to the
/// lower symbol index.
public enum FrequencyQuantizer {
    /// Which symbols keep at least one count.
    public enum Floor: Sendable {
        /// Symbols with probability > 0 get at least 1; probability-0 symbols get 0 (uncodable).
        case nonzeroSymbols
        /// Every symbol gets at least 1, so none is ever impossible (what text models need).
        case allSymbols
    }

    public static let supportedPrecision = 1...31

    /// Integer frequencies summing to exactly `2^precision`, in the order of `probabilities`.
    /// The probabilities need not be normalised; they must be finite, ≥ 0, and not all 0.
    public static func quantize(_ probabilities: [Double], precision: Int,
                                floor: Floor = .nonzeroSymbols) throws(EntropyCodingError) -> [UInt32] {
        guard supportedPrecision.contains(precision) else {
            throw .invalidPrecision(precision, supported: supportedPrecision)
        }
        guard !probabilities.isEmpty else { throw .invalidProbabilities("the alphabet is empty") }
        var sum = 0.0
        for (i, p) in probabilities.enumerated() {
            guard p.isFinite, p >= 0 else { throw .invalidProbabilities("probability \(i) is \(p)") }
            sum += p
        }
        guard sum > 0, sum.isFinite else { throw .invalidProbabilities("probabilities sum to \(sum)") }

        let total = UInt64(1) << precision
        let minimum: [UInt32] = probabilities.map { floor == .allSymbols || $0 > 0 ? 1 : 0 }
        let keptCount = minimum.reduce(0) { $0 + Int($1) }
        guard keptCount <= total else {
            throw .alphabetTooLarge(symbols: keptCount, precision: precision)
        }

        let scale = Double(total) / sum
        let ideal = probabilities.map { $0 * scale }
        // ⌊q⌋ ≤ 2^precision, and a rounding of `scale` can at most push q to 2^precision + ε.
        var frequencies = (0..<ideal.count).map { i in
            max(minimum[i], UInt32(min(ideal[i], Double(total)).rounded(.down)))
        }
        var assigned = frequencies.reduce(UInt64(0)) { $0 + UInt64($1) }

        if assigned < total {
            // Deficit (< alphabet size): each count goes where q / (f + 0.5) is largest.
            var tree = WinnerTree(symbols: ideal.indices.filter { ideal[$0] > 0 }, largestFirst: true) { i in
                ideal[i] / (Double(frequencies[i]) + 0.5)
            }
            while assigned < total {
                let (slot, i) = tree.top
                frequencies[i] += 1
                assigned += 1
                tree.update(slot, key: ideal[i] / (Double(frequencies[i]) + 0.5))
            }
        } else if assigned > total {
            // Surplus (from raised floors): each count comes from where q / (f - 0.5) is smallest,
            // among symbols still above their floor. Some such symbol exists while assigned > total
            // because the floors alone sum to at most 2^precision.
            var tree = WinnerTree(symbols: ideal.indices.filter { frequencies[$0] > minimum[$0] }, largestFirst: false) { i in
                ideal[i] / (Double(frequencies[i]) - 0.5)
            }
            while assigned > total {
                let (slot, i) = tree.top
                frequencies[i] -= 1
                assigned -= 1
                tree.update(slot, key: frequencies[i] > minimum[i] ? ideal[i] / (Double(frequencies[i]) - 0.5) : nil)
            }
        }
        return frequencies
    }

    /// Integer counts (e.g. of an adaptive model) → frequencies summing to `2^precision`, every
    /// symbol at least 1. Pure integer arithmetic: `f = 1 + ⌊c · (2^p − n) / Σc⌋`, and the few
    /// counts lost to rounding go to the most frequent symbol (lowest index on ties).
    /// Requires `counts.count ≤ 2^precision`.
    static func quantize(counts: UnsafeBufferPointer<UInt32>, countTotal: UInt64, precision: Int,
                         into frequencies: UnsafeMutableBufferPointer<UInt32>) {
        let total = UInt64(1) << precision
        let budget = total - UInt64(counts.count)
        var assigned: UInt64 = 0
        var largest = 0
        for i in 0..<counts.count {
            let f = 1 + UInt64(counts[i]) * budget / max(countTotal, 1)
            frequencies[i] = UInt32(f)
            assigned += f
            if counts[i] > counts[largest] { largest = i }
        }
        frequencies[largest] += UInt32(total - assigned)
    }
}

/// The symbols still in play under a total, machine-independent order (by key, then lower
/// index), as a winner tree: every internal node holds the better of its two children, so the
/// root is the best symbol, and changing one key replays the comparisons on its leaf's path to the
/// root only. Because the order is total, the greedy steps above pick the same symbol whatever the
/// structure (it replaced a binary heap: the same choices, with a path of log2 n selects instead
/// of a sift-down whose every level is a branch that mispredicts).
struct WinnerTree {
    /// The symbols in play, increasing (a surplus involves only the symbols above their floor,
    /// often a small part of the alphabet: a smaller tree, shorter paths). Leaf `slot` holds
    /// `symbols[slot]`, so on equal keys the lower slot is the lower symbol.
    private let symbols: [Int]
    /// Per leaf: the key, negated when the smallest goes first (negation is exact, so the order
    /// is the same), -∞ for a symbol out of play and the padding: every real key beats it (real
    /// keys are finite: q / (f ± 0.5) with f ± 0.5 ≥ 0.5).
    private var keys: [Double]
    private var nodes: [Int32]
    private let leaves: Int
    private let sign: Double

    /// `symbols` must be increasing and not empty.
    init(symbols: [Int], largestFirst: Bool, key: (Int) -> Double) {
        self.symbols = symbols
        sign = largestFirst ? 1 : -1
        var leaves = 1
        while leaves < symbols.count { leaves *= 2 }
        self.leaves = leaves
        let sign = sign
        keys = (0..<leaves).map { $0 < symbols.count ? sign * key(symbols[$0]) : -.infinity }
        nodes = [Int32](repeating: 0, count: 2 * leaves)
        keys.withUnsafeBufferPointer { k in
            nodes.withUnsafeMutableBufferPointer { n in
                for i in 0..<leaves { n[leaves + i] = Int32(i) }
                var j = leaves - 1
                while j >= 1 {
                    n[j] = Self.better(n[2 * j], n[2 * j + 1], k)
                    j -= 1
                }
            }
        }
    }

    /// The higher key, on equal keys the lower index; written as selects, not branches (the
    /// outcome is as good as random, a branch would mispredict half the time).
    @inline(__always)
    private static func better(_ a: Int32, _ b: Int32, _ keys: UnsafeBufferPointer<Double>) -> Int32 {
        let ka = keys[Int(a)], kb = keys[Int(b)]
        let aFirst = (ka > kb ? 1 : 0) | ((ka == kb ? 1 : 0) & (a < b ? 1 : 0))
        return aFirst != 0 ? a : b
    }

    /// The best symbol and its leaf.
    var top: (slot: Int, symbol: Int) { let slot = Int(nodes[1]); return (slot, symbols[slot]) }

    /// Gives leaf i a new key (nil: out of play) and replays its path. The winner so far and its
    /// key stay in registers; each level loads only the sibling, off the critical path.
    mutating func update(_ i: Int, key: Double?) {
        let newKey = key.map { sign * $0 } ?? -.infinity
        keys[i] = newKey
        let leaves = leaves
        keys.withUnsafeBufferPointer { k in
            nodes.withUnsafeMutableBufferPointer { n in
                var winner = Int32(i), winnerKey = newKey, node = leaves + i
                while node > 1 {
                    let other = n[node ^ 1], otherKey = k[Int(other)]
                    let keep = (winnerKey > otherKey ? 1 : 0) | ((winnerKey == otherKey ? 1 : 0) & (winner < other ? 1 : 0))
                    winner = keep != 0 ? winner : other
                    winnerKey = keep != 0 ? winnerKey : otherKey
                    node >>= 1
                    n[node] = winner
                }
            }
        }
    }
}

// MARK: - Lazily, from a cumulative distribution

/// A distribution over `0..<valueCount` given by its cumulative function, for models that can
/// evaluate C(x) cheaply but would pay for all K probabilities at once (a probabilistic circuit's
/// conditionals, a large discretized CDF).
public protocol CumulativeDistribution {
    var valueCount: Int { get }
    /// C(x) ∝ P(X < x) for x in 0...valueCount: C(0) = 0, non-decreasing, C(valueCount) the
    /// (finite, positive, not necessarily 1) total.
    func cumulative(_ x: Int) -> Double
}

/// The second entry point of the quantizer: a `CumulativeDistribution` as integer intervals,
/// computed one boundary at a time instead of all K frequencies at once:
///
///     F(0) = 0,   F(x) = ⌊C(x) · (2^p − K) / C(K)⌋ + x   for 0 < x < K,   F(K) = 2^p,
///
/// and value x owns [F(x), F(x + 1)). C is non-decreasing, so every value gets at least 1; the
/// extra K counts (one per value) cost K/2^p of the probability mass. Coding a value evaluates C
/// twice; `symbol(atSlot:)` binary-searches the boundaries (O(log K) evaluations). Deterministic:
/// one `Double` division for the scale, then one product and one truncation per boundary, in
/// that order on every machine. Unlike `FrequencyQuantizer.quantize`, which places every count
/// where it costs least, the floors here are not redistributed (that would need all of C).
public struct QuantizedCumulative<D: CumulativeDistribution>: EntropyModel {
    public let distribution: D
    public let precision: Int
    @usableFromInline let total: UInt32
    /// (2^p − K) / C(K).
    @usableFromInline let scale: Double

    /// Throws when the precision is outside `FrequencyQuantizer.supportedPrecision`, when K is 0
    /// or above 2^precision, or when C(K) is not finite and positive.
    @inlinable
    public init(_ distribution: D, precision: Int) throws(EntropyCodingError) {
        guard FrequencyQuantizer.supportedPrecision.contains(precision) else {
            throw .invalidPrecision(precision, supported: FrequencyQuantizer.supportedPrecision)
        }
        let k = distribution.valueCount
        guard k > 0 else { throw .invalidProbabilities("the alphabet is empty") }
        guard k <= 1 << precision else { throw .alphabetTooLarge(symbols: k, precision: precision) }
        let c = distribution.cumulative(k)
        guard c.isFinite, c > 0 else { throw .invalidProbabilities("the cumulative total is \(c)") }
        self.distribution = distribution
        self.precision = precision
        total = UInt32(1) << precision
        scale = Double(total - UInt32(k)) / c
    }

    public var alphabetSize: Int { distribution.valueCount }

    /// F(x) for x in 0...K.
    @inlinable
    public func boundary(_ x: Int) -> UInt32 {
        if x == 0 { return 0 }
        return x == distribution.valueCount ? total : UInt32(distribution.cumulative(x) * scale) + UInt32(x)
    }

    @inlinable
    public func interval(of symbol: Int) -> SymbolInterval? {
        guard symbol >= 0, symbol < distribution.valueCount else { return nil }
        let start = boundary(symbol)
        return SymbolInterval(cumulative: start, frequency: boundary(symbol + 1) - start)
    }

    /// The value whose interval holds `slot`. Value 0 is tried first (one evaluation of C, where
    /// it is the common case, e.g. black pixels), then a binary search over the boundaries.
    @inlinable
    public func symbol(atSlot slot: UInt32) -> (symbol: Int, interval: SymbolInterval) {
        let first = boundary(1)
        if slot < first { return (0, SymbolInterval(cumulative: 0, frequency: first)) }
        var lo = 1, hi = distribution.valueCount  // F(lo) ≤ slot < F(hi)
        var startLo = first, startHi = total
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            let f = boundary(mid)
            if f <= slot { lo = mid; startLo = f } else { hi = mid; startHi = f }
        }
        return (lo, SymbolInterval(cumulative: startLo, frequency: startHi - startLo))
    }
}
