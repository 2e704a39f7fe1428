/// Turns a coding distribution into integer frequencies summing to 2^24, every value at least 1.
///
/// Deterministic: the weights are summed in index order in `Double` and scaled with one
/// correctly rounded multiply each; truncation gives each value its share and the remainder
/// (never negative, at most a few hundred) goes to the first most frequent value.
struct FrequencyTable {
    var frequencies: [UInt32]

    init(count: Int) { frequencies = [UInt32](repeating: 0, count: count) }

    mutating func quantize(_ weights: UnsafeBufferPointer<Float>) {
        let k = weights.count
        var sum = 0.0
        for w in weights { sum += Double(w) }
        let scale = Double(RANS64.total - UInt32(k)) / sum
        var assigned: UInt32 = 0
        var top = 0
        for x in 0..<k {
            let f = 1 + UInt32(Double(weights[x]) * scale)
            frequencies[x] = f
            assigned += f
            if f > frequencies[top] { top = x }
        }
        frequencies[top] += RANS64.total - assigned
    }

    func interval(of x: Int) -> (start: UInt32, frequency: UInt32) {
        var start: UInt32 = 0
        for y in 0..<x { start += frequencies[y] }
        return (start, frequencies[x])
    }

    /// The value whose interval contains `slot`, and that interval.
    func find(_ slot: UInt32) -> (value: Int, start: UInt32, frequency: UInt32) {
        var start: UInt32 = 0
        for x in 0..<(frequencies.count - 1) {
            if slot < start + frequencies[x] { return (x, start, frequencies[x]) }
            start += frequencies[x]
        }
        return (frequencies.count - 1, start, frequencies[frequencies.count - 1])
    }
}
