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
        try quantize(probabilities, precision: precision, floor: floor, bulk: true)
    }

    /// `bulk: false` runs every greedy step through the heap: the reference the bulk steps must
    /// reproduce (`FrequencyQuantizerTests`).
    static func quantize(_ probabilities: [Double], precision: Int, floor: Floor,
                         bulk: Bool) throws(EntropyCodingError) -> [UInt32] {
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
            if bulk {
                assigned += UInt64(bulkSteps(ideal, &frequencies, minimum, budget: Int(total - assigned), adding: true))
                if assigned == total { return frequencies }
            }
            var heap = PriorityHeap(largestFirst: true, ideal.indices.lazy.filter { ideal[$0] > 0 }.map { i in
                (ideal[i] / (Double(frequencies[i]) + 0.5), i)
            })
            while assigned < total {
                let i = heap.topIndex
                frequencies[i] += 1
                assigned += 1
                heap.replaceTopKey(ideal[i] / (Double(frequencies[i]) + 0.5))
            }
        } else if assigned > total {
            // Surplus (from raised floors): each count comes from where q / (f - 0.5) is smallest,
            // among symbols still above their floor. Some such symbol exists while assigned > total
            // because the floors alone sum to at most 2^precision.
            if bulk {
                assigned -= UInt64(bulkSteps(ideal, &frequencies, minimum, budget: Int(assigned - total), adding: false))
                if assigned == total { return frequencies }
            }
            var heap = PriorityHeap(largestFirst: false, ideal.indices.lazy.filter { frequencies[$0] > minimum[$0] }.map { i in
                (ideal[i] / (Double(frequencies[i]) - 0.5), i)
            })
            while assigned > total {
                let i = heap.topIndex
                frequencies[i] -= 1
                assigned -= 1
                if frequencies[i] > minimum[i] {
                    heap.replaceTopKey(ideal[i] / (Double(frequencies[i]) - 0.5))
                } else {
                    heap.removeTop()
                }
            }
        }
        return frequencies
    }

    /// The first greedy steps in one pass, without the heap. The steps the greedy loop takes are
    /// the items (symbol i, its t-th count moved) in the order of their keys (q / (f ± t ± 0.5):
    /// decreasing when adding, increasing when removing, so within a symbol t goes in order), ties
    /// to the lower index; for any threshold λ, the items with key > λ (adding; < λ removing)
    /// are therefore a prefix of that order. Taking all of them at once, when they are at most
    /// `budget`, leaves the heap to continue from the very state it would have reached itself,
    /// so the frequencies are the same bits. λ comes from the continuous solution (every final
    /// f ≈ q/λ ∓ 0.5), moved a little towards taking fewer; a guess that would take too many is
    /// dropped (then the heap does it all). Keys are computed exactly as the heap computes them.
    /// Returns how many counts it moved.
    static func bulkSteps(_ ideal: [Double], _ frequencies: inout [UInt32], _ minimum: [UInt32], budget: Int, adding: Bool) -> Int {
        ideal.withUnsafeBufferPointer { q in
            minimum.withUnsafeBufferPointer { lo in
                frequencies.withUnsafeMutableBufferPointer { f in
                    // The symbols the heap would hold, their Σq, Σf and count.
                    var sumQ = 0.0, sumF = 0.0, count = 0.0
                    for i in 0..<q.count where adding ? q[i] > 0 : f[i] > lo[i] {
                        sumQ += q[i]; sumF += Double(f[i]); count += 1
                    }
                    let target = adding ? sumF + Double(budget) + 0.5 * count : sumF - Double(budget) - 0.5 * count
                    guard count > 0, target > 0 else { return 0 }
                    let estimate = sumQ / target
                    for margin in [1e-3, 1e-2] {
                        let lambda = adding ? estimate * (1 + margin) : estimate * (1 - margin)
                        guard lambda.isFinite, lambda > 0 else { return 0 }
                        // Count first (stopping past the budget), then apply.
                        var taken = 0
                        counting: for i in 0..<q.count where adding ? q[i] > 0 : f[i] > lo[i] {
                            var g = f[i]
                            while adding ? q[i] / (Double(g) + 0.5) > lambda : g > lo[i] && q[i] / (Double(g) - 0.5) < lambda {
                                g = adding ? g + 1 : g - 1
                                taken += 1
                                if taken > budget { break counting }
                            }
                        }
                        guard taken <= budget else { continue }
                        for i in 0..<q.count where adding ? q[i] > 0 : f[i] > lo[i] {
                            while adding ? q[i] / (Double(f[i]) + 0.5) > lambda : f[i] > lo[i] && q[i] / (Double(f[i]) - 0.5) < lambda {
                                f[i] = adding ? f[i] + 1 : f[i] - 1
                            }
                        }
                        return taken
                    }
                    return 0
                }
            }
        }
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

/// A binary heap of (key, symbol index) pairs with a total, machine-independent order: by key,
/// then by lower index. Because that order is total, the greedy steps above pick the same symbol
/// whatever the heap's internal layout.
struct PriorityHeap {
    private struct Entry {
        var key: Double
        var index: Int
    }
    private var entries: [Entry]
    private let largestFirst: Bool

    /// Builds the heap bottom-up (Floyd), O(n).
    init<S: Sequence>(largestFirst: Bool, _ items: S) where S.Element == (Double, Int) {
        self.largestFirst = largestFirst
        entries = items.map { Entry(key: $0.0, index: $0.1) }
        var i = entries.count / 2
        while i > 0 {
            i -= 1
            siftDown(i)
        }
    }

    private static func above(_ a: Entry, _ b: Entry, largestFirst: Bool) -> Bool {
        if a.key != b.key { return largestFirst ? a.key > b.key : a.key < b.key }
        return a.index < b.index
    }

    private mutating func siftDown(_ start: Int) {
        let largestFirst = largestFirst
        func above(_ a: Entry, _ b: Entry) -> Bool { Self.above(a, b, largestFirst: largestFirst) }
        entries.withUnsafeMutableBufferPointer { e in
            var parent = start
            let moving = e[parent]
            while true {
                let left = 2 * parent + 1, right = left + 1
                guard left < e.count else { break }
                let child = right < e.count && above(e[right], e[left]) ? right : left
                guard above(e[child], moving) else { break }
                e[parent] = e[child]
                parent = child
            }
            e[parent] = moving
        }
    }

    /// The symbol index at the top. The heap must not be empty.
    var topIndex: Int { entries[0].index }

    /// Gives the top entry a new key and restores the heap (keys only move away from the top
    /// here: a count added lowers q/(f + ½), a count removed raises q/(f − ½)).
    mutating func replaceTopKey(_ key: Double) {
        entries[0].key = key
        siftDown(0)
    }

    mutating func removeTop() {
        let last = entries.removeLast()
        guard !entries.isEmpty else { return }
        entries[0] = last
        siftDown(0)
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
