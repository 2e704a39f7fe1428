/// The logistic function and its inverse in integer fixed point, as context mixing uses them:
/// probabilities are 12-bit (0...4095 for 0...1), the logistic domain ("stretch") is 1/256 units
/// clamped to -2047...2047. Built from a 33-point table of 4096 / (1 + e^(-x/2)) rounded, by
/// linear interpolation, so no libm function is ever called: the same values on every machine.
enum Logistic {
    private static let knots: [Int32] = [
        1, 2, 4, 6, 10, 17, 27, 45, 74, 120, 194, 311, 488, 747, 1102, 1546, 2048,
        2550, 2994, 3349, 3608, 3785, 3902, 3976, 4022, 4051, 4069, 4079, 4086, 4090, 4092, 4094, 4095,
    ]

    /// 4096 / (1 + e^(-x/256)) for x in -2047...2047 (clamped outside), 1...4095.
    static let squashTable: [Int32] = (0..<4096).map { i in
        let x = i - 2048
        let k = (x + 2048) >> 7, w = Int32(x & 127)
        let v = k >= 32 ? knots[32] : (knots[k] * (128 - w) + knots[k + 1] * w + 64) >> 7
        return min(4095, max(1, v))
    }

    /// ln(p / (1 - p)) * 256 for a 12-bit p: the inverse of `squash` (the smallest x with
    /// squash(x) >= p), -2047...2047.
    static let stretchTable: [Int16] = {
        var table = [Int16](repeating: 2047, count: 4096)
        var pi = 0
        for x in -2047...2047 {
            let v = Int(squashTable[x + 2048])
            while pi <= v { table[pi] = Int16(x); pi += 1 }
        }
        return table
    }()

    @inline(__always) static func squash(_ x: Int32) -> Int32 {
        squashTable[Int(min(2047, max(-2047, x))) + 2048]
    }

    @inline(__always) static func stretch(_ p: Int32) -> Int32 { Int32(stretchTable[Int(p)]) }
}
