import TestSupport
import EntropyCoding

/// Random probabilities: uniform-ish, or skewed (geometric decay with a random rate, shuffled),
/// with some symbols at probability 0 when `zeros` is set.
func randomProbabilities(_ n: Int, skewed: Bool, zeros: Bool, using rng: inout SplitMix64) -> [Double] {
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
func sampleMessage(_ model: CategoricalModel, count: Int, using rng: inout SplitMix64) -> [UInt32] {
    let total = UInt32(1) << UInt32(model.precision)
    return (0..<count).map { _ in UInt32(model.symbol(atSlot: UInt32.random(in: 0..<total, using: &rng)).symbol) }
}

func power(_ x: Double, _ y: Double) -> Double {
    var result = 1.0
    for _ in 0..<Int(y) { result *= x }
    return result
}
