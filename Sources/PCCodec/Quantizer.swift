import Circuits

/// A pixel's conditional as rANS intervals at 24-bit precision, read through the circuit's
/// cumulative C(x) ∝ P(X < x | earlier pixels):
///
///     F(x) = floor(C(x) · (2^24 − K) / C(K)) + x   for x < K,   F(K) = 2^24,
///
/// and value x owns [F(x), F(x+1)). C is non-decreasing, so every value gets at least 1;
/// the extra K units (one per value) cost 2^-16 of the probability mass. Coding a value needs
/// two cumulatives (O(M)); decoding binary-searches the boundaries (O(M log K)), so no pixel
/// ever needs all K probabilities. Deterministic: `Double` products and a truncation, in the
/// same order on every machine.
struct QuantizedConditional {
    let conditional: SequentialConditionals.Conditional
    let scale: Double

    init(_ conditional: SequentialConditionals.Conditional) {
        self.conditional = conditional
        scale = Double(RANS64.total - UInt32(conditional.valueCount)) / conditional.cumulative(conditional.valueCount)
    }

    @inline(__always) func boundary(_ x: Int) -> UInt32 {
        x == conditional.valueCount ? RANS64.total : UInt32(conditional.cumulative(x) * scale) + UInt32(x)
    }

    func interval(of x: Int) -> (start: UInt32, frequency: UInt32) {
        let start = boundary(x)
        return (start, boundary(x + 1) - start)
    }

    /// The value whose interval holds `slot`, and that interval. Value 0 (black, most pixels of
    /// most images) is tried first, then a binary search over the boundaries.
    func find(_ slot: UInt32) -> (value: Int, start: UInt32, frequency: UInt32) {
        let first = boundary(1)
        if slot < first { return (0, 0, first) }
        var lo = 1, hi = conditional.valueCount  // F(lo) <= slot < F(hi)
        var startLo = first, startHi = RANS64.total
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            let f = boundary(mid)
            if f <= slot { lo = mid; startLo = f } else { hi = mid; startHi = f }
        }
        return (lo, startLo, startHi - startLo)
    }
}
