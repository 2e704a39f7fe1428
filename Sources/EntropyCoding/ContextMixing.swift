/// The two building blocks of binary context mixing (lpaq/paq8 style), shared by `lossless`'s
/// byte model and its image model (format 4): adaptive bit probabilities whose learning rate
/// falls with their hit count, and a gated linear mixer of their predictions in the logistic
/// domain. All integer arithmetic, so encoder and decoder agree on every machine.

/// A bit probability with a hit count in one `UInt32`: P(1) in the top 22 bits, the count in the
/// low 10. After n hits it moves 1/(n + 1.5) of the way to the coded bit, so a fresh state learns
/// fast and an old one averages; `limit` caps n (a lower cap tracks change, a higher one is more
/// precise on stationary statistics).
public enum CountedBitProbability {
    /// A state with P(1) = 1/2 and no hits.
    public static let initial: UInt32 = 1 << 31
    /// The most `limit` may be.
    public static let maximumLimit = 1023
    /// 1/(n + 1.5) in 16-bit fixed point for n = 0...1023 (a hot loop may keep its own copy for
    /// `update(_:_:limit:rates:)`).
    public static let rates: [UInt32] = (0...maximumLimit).map { UInt32(65536 * 2 / (2 * $0 + 3)) }

    /// P(1) in 12 bits (0...4095), the unit of `Logistic.stretch`.
    @inlinable @inline(__always)
    public static func probability12(_ state: UInt32) -> Int32 { Int32(state >> 20) }

    /// Learns one coded bit; `limit` in 1...1023.
    @inlinable @inline(__always)
    public static func update(_ state: inout UInt32, _ bit: Bool, limit: UInt32) {
        rates.withUnsafeBufferPointer { update(&state, bit, limit: limit, rates: $0.baseAddress!) }
    }

    /// `update(_:_:limit:)` reading the learning rates from `rates`, a copy of `Self.rates`.
    @inlinable @inline(__always)
    public static func update(_ state: inout UInt32, _ bit: Bool, limit: UInt32, rates: UnsafePointer<UInt32>) {
        let count = state & 1023, p = state >> 10
        let target: UInt32 = bit ? (1 << 22) - 1 : 0
        let step = UInt32(truncatingIfNeeded: ((Int64(target) &- Int64(p)) &* Int64(rates[Int(count)])) >> 16)
        state = (p &+ step) << 10 | min(count &+ 1, limit)
    }
}

/// A linear mixer of logistic-domain predictions (`Logistic.stretch` units) with one weight
/// vector per selector context, trained online by the coding error: p = squash(Σ wᵢ·xᵢ / 2^16),
/// then wᵢ += xᵢ · (bit − p) · rate / 2^16 (bit and p in 12 bits). Set `inputs`, call `mix`, code
/// the bit with the returned probability, call `update` with it.
public struct LogisticMixer: Sendable {
    public let inputCount: Int
    public let learningRate: Int64
    /// The inputs of the next `mix`, stretched probabilities in -2047...2047 (or any bias).
    public var inputs: [Int32]
    @usableFromInline var weights: [Int32]
    @usableFromInline var selected = 0
    @usableFromInline var probability: Int32 = 2048

    /// `contexts` weight vectors of `inputs` weights, each starting at `initialWeight` (16.16).
    public init(inputs: Int, contexts: Int, initialWeight: Int32 = 1 << 14, learningRate: Int = 12) {
        inputCount = inputs
        self.learningRate = Int64(learningRate)
        self.inputs = [Int32](repeating: 0, count: inputs)
        weights = [Int32](repeating: initialWeight, count: inputs * contexts)
    }

    /// P(1) in 1...4095 of 4096 from the current inputs under the weights of `context`.
    @inlinable @inline(__always)
    public mutating func mix(context: Int) -> Int32 {
        inputs.withUnsafeBufferPointer { mix($0.baseAddress!, context: context) }
    }

    /// Trains the weights that made the last `mix` toward the coded bit.
    @inlinable @inline(__always)
    public mutating func update(bit: Bool) {
        inputs.withUnsafeBufferPointer { update($0.baseAddress!, bit: bit) }
    }

    /// `mix(context:)` with the inputs at `x` (`inputCount` of them) instead of in `inputs`: for
    /// a caller that keeps them in its own buffer. Pass the same inputs to `update(_:bit:)`.
    /// Sums wrap rather than trap, so the loop carries no overflow checks: stretched inputs
    /// (|x| < 2^11) times 32-bit weights stay below 2^42 each, far from Int64's limit, and any
    /// other input still gives the same result on every machine.
    @inlinable @inline(__always)
    public mutating func mix(_ x: UnsafePointer<Int32>, context: Int) -> Int32 {
        selected = context * inputCount
        let n = inputCount, base = selected
        var dot: Int64 = 0
        weights.withUnsafeBufferPointer { w in
            let w = w.baseAddress! + base
            for i in 0..<n { dot &+= Int64(w[i]) &* Int64(x[i]) }
        }
        probability = Logistic.squash(Int32(clamping: dot >> 16))
        return probability
    }

    /// `update(bit:)` for inputs at `x`, the same ones the last `mix(_:context:)` saw.
    @inlinable @inline(__always)
    public mutating func update(_ x: UnsafePointer<Int32>, bit: Bool) {
        let error = Int64((bit ? 4095 : 0) - probability) &* learningRate
        let base = selected, n = inputCount
        weights.withUnsafeMutableBufferPointer { w in
            let w = w.baseAddress! + base
            for i in 0..<n { w[i] &+= Int32(truncatingIfNeeded: (Int64(x[i]) &* error) >> 16) }
        }
    }
}
