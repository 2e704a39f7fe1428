import TestSupport
import Testing
import EntropyCoding
#if canImport(Glibc)
import Glibc
#endif

@Suite struct QuantizerTests {
    @Test func frequenciesSumToTotalAndKeepFloors() throws {
        var rng = SplitMix64(seed: 1)
        for trial in 0..<300 {
            let precision = Int.random(in: 1...24, using: &rng)
            let n = Int.random(in: 2...min(70_000, 1 << precision), using: &rng)
            let allSymbols = trial % 2 == 0
            let p = randomProbabilities(n, skewed: trial % 3 == 0, zeros: true, using: &rng)
            let nonzero = p.filter { $0 > 0 }.count
            guard (allSymbols ? n : nonzero) <= 1 << precision else { continue }
            let f = try FrequencyQuantizer.quantize(p, precision: precision, floor: allSymbols ? .allSymbols : .nonzeroSymbols)
            #expect(f.count == n)
            #expect(f.reduce(UInt64(0)) { $0 + UInt64($1) } == UInt64(1) << precision)
            for i in 0..<n {
                if p[i] > 0 || allSymbols { #expect(f[i] >= 1) } else { #expect(f[i] == 0) }
            }
        }
    }

    /// The quantizer's greedy steps, each by a linear scan for the best symbol (ties to the lower
    /// index): the definition the winner tree must reproduce.
    static func greedyByScan(_ p: [Double], precision: Int, allSymbols: Bool) -> [UInt32] {
        let total = UInt64(1) << precision
        let sum = p.reduce(0, +)
        let minimum: [UInt32] = p.map { allSymbols || $0 > 0 ? 1 : 0 }
        let ideal = p.map { $0 * (Double(total) / sum) }
        var f = (0..<p.count).map { max(minimum[$0], UInt32(min(ideal[$0], Double(total)).rounded(.down))) }
        var assigned = f.reduce(UInt64(0)) { $0 + UInt64($1) }
        while assigned < total {
            var best = -1
            for i in p.indices where ideal[i] > 0 {
                if best < 0 || ideal[i] / (Double(f[i]) + 0.5) > ideal[best] / (Double(f[best]) + 0.5) { best = i }
            }
            f[best] += 1; assigned += 1
        }
        while assigned > total {
            var best = -1
            for i in p.indices where f[i] > minimum[i] {
                if best < 0 || ideal[i] / (Double(f[i]) - 0.5) < ideal[best] / (Double(f[best]) - 0.5) { best = i }
            }
            f[best] -= 1; assigned -= 1
        }
        return f
    }

    /// The winner tree takes the greedy steps of the definition, bit for bit: deficits and
    /// surpluses, flat, skewed and softmax-like (peaked, long tails under one count)
    /// distributions, exact ties, both floors, alphabets of 1 to 1025 symbols.
    @Test func winnerTreeTakesTheGreedySteps() throws {
        var rng = SplitMix64(seed: 7)
        for trial in 0..<300 {
            let precision = [8, 12, 16, 16, 16, 20][trial % 6]
            let n = min(1 << precision, [1, 2, 3, 16, 64, 256, 1024, 1025][Int.random(in: 0..<8, using: &rng)])
            let p: [Double]
            switch trial % 5 {
            case 0: p = randomProbabilities(n, skewed: false, zeros: false, using: &rng)
            case 1: p = randomProbabilities(n, skewed: true, zeros: trial % 2 == 0, using: &rng)
            case 2, 3:  // softmax of Gaussian logits: flat (spread 0.3) to peaked (8)
                let spread = trial % 5 == 2 ? 0.3 : 8.0
                let logits = (0..<n).map { _ in spread * (rng.unit() + rng.unit() + rng.unit() - 1.5) }
                let m = logits.max()!
                p = logits.map { exp($0 - m) }
            default: p = (0..<n).map { Double($0 % 3 + 1) }  // many exact ties
            }
            for allSymbols in [true, false] {
                let f = try FrequencyQuantizer.quantize(p, precision: precision, floor: allSymbols ? .allSymbols : .nonzeroSymbols)
                #expect(f == Self.greedyByScan(p, precision: precision, allSymbols: allSymbols),
                        "trial \(trial), \(n) symbols at \(precision) bits, all symbols \(allSymbols)")
            }
        }
    }

    @Test func quantizationLossIsSmall() throws {
        // Cross-entropy of p under the quantized model minus H(p): under 0.0002 bits per
        // symbol at 16 bits for a 256-symbol Laplace-like distribution whose tail stays above
        // one count (tails below it cost what the floor of 1 must cost).
        let p = (0..<256).map { exp(-Double($0) / 30) }
        let sum = p.reduce(0, +)
        let f = try FrequencyQuantizer.quantize(p, precision: 16)
        var loss = 0.0
        for i in 0..<256 { loss += p[i] / sum * log2((p[i] / sum) / (Double(f[i]) / 65536)) }
        #expect(loss < 2e-4 && loss >= 0, "loss \(loss)")
    }

    @Test func rejectsBadInput() {
        #expect(throws: EntropyCodingError.self) { try FrequencyQuantizer.quantize([0, 0], precision: 8) }
        #expect(throws: EntropyCodingError.self) { try FrequencyQuantizer.quantize([1, .nan], precision: 8) }
        #expect(throws: EntropyCodingError.self) { try FrequencyQuantizer.quantize([1, -1], precision: 8) }
        #expect(throws: EntropyCodingError.self) { try FrequencyQuantizer.quantize([1, 1, 1], precision: 1, floor: .allSymbols) }
        #expect(throws: EntropyCodingError.self) { try FrequencyQuantizer.quantize([1], precision: 0) }
    }

    /// The exact output for a fixed input: if this changes, files written before no longer decode.
    @Test func outputIsPinned() throws {
        let p = (0..<64).map { Double($0 * $0 % 17 + 1) / 7 }
        let f = try FrequencyQuantizer.quantize(p, precision: 12)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for v in f { hash = (hash ^ UInt64(v)) &* 0x100_0000_01b3 }
        #expect(hash == 0x267eee9e37d1631d, "quantizer output changed: \(f)")
        let table = try ParametricModelTable(family: .gaussian, scales: [0.5, 3, 40], precision: 16)
        var h2: UInt64 = 0xcbf2_9ce4_8422_2325
        for m in table.models { for v in m.frequencies { h2 = (h2 ^ UInt64(v)) &* 0x100_0000_01b3 } }
        #expect(h2 == 0xc08a0950e6561fdd, "Gaussian table changed")
    }
}

@Suite struct DeterministicMathTests {
    @Test func expMatchesLibm() {
        var x = -740.0
        while x < 709 {
            let mine = DeterministicMath.exp(x), libm = exp(x)
            #expect(abs(mine - libm) <= 2e-15 * libm || abs(mine - libm) <= Double.leastNonzeroMagnitude * 4, "exp(\(x))")
            x += 0.737
        }
    }

    @Test func erfcMatchesLibm() {
        var x = -6.0
        while x < 26 {
            let mine = DeterministicMath.erfc(x), libm = erfc(x)
            #expect(abs(mine - libm) <= 3e-12 * libm, "erfc(\(x)): \(mine) vs \(libm)")
            x += 0.0173
        }
    }
}

@Suite struct ModelTests {
    @Test func slotLookupMatchesIntervals() throws {
        var rng = SplitMix64(seed: 2)
        for precision in [4, 12, 16, 20] {
            let p = randomProbabilities(min(300, 1 << precision), skewed: true, zeros: true, using: &rng)
            let model = try CategoricalModel(probabilities: p, precision: precision)
            for _ in 0..<2000 {
                let slot = UInt32.random(in: 0..<(1 << UInt32(precision)), using: &rng)
                let found = model.symbol(atSlot: slot)
                #expect(model.interval(of: found.symbol) == found.interval)
                #expect(found.interval.cumulative <= slot && slot - found.interval.cumulative < found.interval.frequency)
            }
        }
    }

    @Test func adaptiveModelStaysNormalizedAndLearns() throws {
        var model = try AdaptiveFrequencyModel(alphabetSize: 300, precision: 14)
        var rng = SplitMix64(seed: 3)
        for _ in 0..<50_000 {
            model.update(Int.random(in: 0..<4, using: &rng) == 0 ? Int.random(in: 0..<300, using: &rng) : 7)
        }
        #expect(model.frequencies.reduce(0, +) == 1 << 14)
        #expect(model.frequencies.allSatisfy { $0 >= 1 })
        #expect(model.frequencies[7] > 1 << 13)
    }

    @Test func parametricTablesAreSymmetricAndEscapable() throws {
        for family in ParametricModelTable.Family.allCases {
            let table = try ParametricModelTable(family: family, precision: 16)
            #expect(table.models.count == 64)
            for (i, m) in table.models.enumerated() {
                let r = table.radii[i]
                #expect(m.alphabetSize == 2 * r + 2)
                #expect(m.frequencies.allSatisfy { $0 >= 1 })
                #expect(m.frequencies[r - 1] <= m.frequencies[r])
            }
            #expect(table.index(forScale: 0.01) == 0)
            #expect(table.index(forScale: 1e6) == 63)
            let i = table.index(forScale: 3.0)
            #expect(table.scales[i] >= 3.0 && table.scales[i - 1] < 3.0)
        }
    }
}
