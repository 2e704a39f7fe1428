/// The logistic function and its inverse in the fixed point of binary context mixing (the
/// PAQ/lpaq convention), shared by every context-mixing model in the project (`lossless`'s byte
/// model in Store, `lm-ac`'s in TextLM): probabilities in 12 bits (1...4095 of 4096), the
/// logistic ("stretch") domain in 1/256 units, -2047...2047.
///
/// squash(d) = 4096 / (1 + e^(-d/256)), rounded and kept in 1...4095, from
/// `DeterministicMath.exp` (never the C library's), so both tables are the same on every machine;
/// stretch(p) is its inverse, the smallest d with squash(d) >= p.
public enum Logistic {
    /// squash(d) at index d + 2047.
    public static let squashTable: [Int32] = (-2047...2047).map { d in
        Int32(min(4095, max(1, (4096 / (1 + DeterministicMath.exp(-Double(d) / 256))).rounded())))
    }

    /// stretch(p) at index p, 0...4095 (p = 0 maps like p = 1).
    public static let stretchTable: [Int32] = {
        var table = [Int32](repeating: 2047, count: 4096)
        var p = 0
        for d in -2047...2047 {
            let v = Int(squashTable[d + 2047])
            while p <= v { table[p] = Int32(d); p += 1 }
        }
        return table
    }()

    /// The probability (1...4095 of 4096) for a logistic-domain value, clamped to -2047...2047.
    @inlinable @inline(__always)
    public static func squash(_ d: Int32) -> Int32 { squashTable[Int(min(2047, max(-2047, d))) + 2047] }

    /// The logistic-domain value (-2047...2047) of a 12-bit probability p (0...4095).
    @inlinable @inline(__always)
    public static func stretch(_ p: Int32) -> Int32 { stretchTable[Int(p)] }
}
