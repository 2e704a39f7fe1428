import EntropyCoding

/// SplitMix64: a seeded generator so every property test is reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random probabilities: uniform-ish, or skewed (geometric decay with a random rate, shuffled),
/// with some symbols at probability 0 when `zeros` is set.
func randomProbabilities(_ n: Int, skewed: Bool, zeros: Bool, using rng: inout SeededGenerator) -> [Double] {
    var p = (0..<n).map { i -> Double in
        skewed ? Double.random(in: 0.5...1, using: &rng) * power(Double.random(in: 0.3...0.999, using: &rng), Double(i % 200))
               : Double.random(in: 0.01...1, using: &rng)
    }
    if zeros { for i in p.indices where i > 0 && Int.random(in: 0..<4, using: &rng) == 0 { p[i] = 0 } }
    p.shuffle(using: &rng)
    if !p.contains(where: { $0 > 0 }) { p[0] = 1 }
    return p
}

/// Symbols drawn from the model's own frequencies, so messages match the model.
func sampleMessage(_ model: CategoricalModel, count: Int, using rng: inout SeededGenerator) -> [UInt32] {
    let total = UInt32(1) << UInt32(model.precision)
    return (0..<count).map { _ in UInt32(model.symbol(atSlot: UInt32.random(in: 0..<total, using: &rng)).symbol) }
}

func power(_ x: Double, _ y: Double) -> Double {
    var result = 1.0
    for _ in 0..<Int(y) { result *= x }
    return result
}
