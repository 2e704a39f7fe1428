import EntropyCoding

/// Integer audio, format 3: per channel a cascade of predictors learned online as the file is
/// coded (in the style of Monkey's Audio and OptimFROG), then context-modelled residual coding.
///
/// Stereo is first decorrelated reversibly (X = L − R, Y = R + ⌊X/2⌋; Y is coded first, X may
/// then use Y's current sample). Per channel, with every stage predicting the output of the one
/// before from that output's own past:
/// 1. a fixed first-order filter, a = x − ⌊31·x₋₁ / 32⌋;
/// 2. a 9-tap sign-sign LMS over the last four values of a (and their differences) and the
///    other channel's current (or, for the first channel, last) stage-1 value and differences;
/// 3. sign-LMS filters of 256, 32 and 16 taps over 16-bit saturated inputs, each adapting with
///    steps that shrink with the input's age and grow with its size against a running average.
/// Because every stage's prediction depends only on its own past inputs, the residual is
/// x minus the sum of all stage predictions, and the decoder adds the same sum back: one code
/// path (`ChannelCascade.predict` / `update`) serves both directions.
///
/// All arithmetic is integer; the long filters' dot products wrap in 32 bits and their weights in
/// 16 (as the SIMD code of Monkey's Audio does), which is deterministic on every machine.
enum AudioCascade {
    /// (taps, weight fraction bits) of the sign-LMS stages, longest first.
    static let filters: [(taps: Int, shift: Int)] = [(256, 13), (32, 10), (16, 11)]

    /// Right-justified integer samples (interleaved) in, the coded order of channels out: for
    /// stereo [Y, X] per frame, otherwise unchanged.
    @inline(__always)
    static func decorrelate(_ l: Int64, _ r: Int64) -> (y: Int64, x: Int64) {
        let x = l - r
        return (r + (x >> 1), x)
    }

    @inline(__always)
    static func correlate(y: Int64, x: Int64) -> (l: Int64, r: Int64) {
        let r = y - (x >> 1)
        return (x + r, r)
    }

    /// Runs the cascade over `frames` × `channels` samples in coded order: `body(index, prediction,
    /// channel)` must leave the true value at `values[index]` (the decoder writes it there).
    @inline(__always)
    static func scan(values: UnsafeMutablePointer<Int64>, frames: Int, channels: Int, bits: Int,
                     _ body: (_ index: Int, _ prediction: Int64, _ channel: Int) throws(EntropyCodingError) -> Void) throws(EntropyCodingError) {
        let cascades = (0..<channels).map { _ in ChannelCascade(bits: bits) }
        var crossLast: Int64 = 0  // stage-1 value of the previous channel coded
        for f in 0..<frames {
            for c in 0..<channels {
                let cascade = cascades[c]
                let i = f * channels + c
                let prediction = cascade.predict(cross: channels > 1 ? crossLast : 0)
                try body(i, prediction, c)
                crossLast = cascade.update(values[i])
            }
        }
    }
}

/// One channel's predictor state. A class holding raw buffers: the inner loops run on pointers
/// with no copy-on-write checks.
final class ChannelCascade {
    // Stage 1.
    private var last: Int64 = 0
    private var stage1Prediction: Int64 = 0
    // Stage 2: own history a₋₁, a₋₁−a₋₂, a₋₂−a₋₃, a₋₃−a₋₄ and cross history b, b−b₋₁, ... b₋₃−b₋₄.
    private var own: (Int64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0)  // a₋₁ … a₋₅
    private var cross: (Int64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0)  // b₀ … b₋₄
    private var ownWeights: (Int64, Int64, Int64, Int64) = (360, 317, -109, 98)
    private var crossWeights: (Int64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0)
    private var stage2Prediction: Int64 = 0
    // Stage 3.
    private let filters: [SignLMS]
    private var filterPredictions: [Int64]
    /// Inputs to the sign-LMS stages are scaled to 16 bits for deep audio.
    private let scale: Int64

    init(bits: Int) {
        scale = Int64(max(0, bits - 16))
        filters = AudioCascade.filters.map { SignLMS(taps: $0.taps, shift: $0.shift) }
        filterPredictions = [Int64](repeating: 0, count: filters.count)
    }

    @inline(__always)
    private static func sign(_ v: Int64) -> Int64 { v > 0 ? 1 : v < 0 ? -1 : 0 }

    /// The prediction of the next sample; `crossValue` is the other channel's latest stage-1 value.
    @inline(__always)
    func predict(cross crossValue: Int64) -> Int64 {
        stage1Prediction = (last &* 31) >> 5
        cross = (crossValue, crossValue &- cross.0, cross.1, cross.2, cross.3)
        let ownSum = own.0 &* ownWeights.0 &+ (own.0 &- own.1) &* ownWeights.1 &+ (own.1 &- own.2) &* ownWeights.2
            &+ (own.2 &- own.3) &* ownWeights.3
        let crossSum = cross.0 &* crossWeights.0 &+ cross.1 &* crossWeights.1 &+ cross.2 &* crossWeights.2
            &+ cross.3 &* crossWeights.3 &+ cross.4 &* crossWeights.4
        stage2Prediction = (ownSum &+ (crossSum >> 1)) >> 10
        var total = stage1Prediction &+ stage2Prediction
        for k in filters.indices {
            let p = Int64(filters[k].predict()) << scale
            filterPredictions[k] = p
            total &+= p
        }
        return total
    }

    /// Learns the true sample; returns its stage-1 value (the other channel's cross input).
    @inline(__always)
    func update(_ x: Int64) -> Int64 {
        let a = x &- stage1Prediction
        last = x
        var residual = a &- stage2Prediction
        let s = Self.sign(residual)
        if s != 0 {
            let d0 = Self.sign(own.0), d1 = Self.sign(own.0 &- own.1), d2 = Self.sign(own.1 &- own.2), d3 = Self.sign(own.2 &- own.3)
            ownWeights.0 &+= s * d0; ownWeights.1 &+= s * d1; ownWeights.2 &+= s * d2; ownWeights.3 &+= s * d3
            crossWeights.0 &+= s * Self.sign(cross.0); crossWeights.1 &+= s * Self.sign(cross.1)
            crossWeights.2 &+= s * Self.sign(cross.2); crossWeights.3 &+= s * Self.sign(cross.3)
            crossWeights.4 &+= s * Self.sign(cross.4)
        }
        own = (a, own.0, own.1, own.2, own.3)
        for k in filters.indices {
            let output = residual &- filterPredictions[k]
            filters[k].update(input: residual >> scale, output: output)
            residual = output
        }
        return a
    }
}

/// A sign-LMS filter over 16-bit saturated inputs with 16-bit weights (Monkey's Audio's "NN
/// filter"): prediction = Σ wᵢ·xᵢ / 2^shift; after each sample every weight moves by its input's
/// step (±8…32 by the input's size against a running average, halved as the input ages) in the
/// direction of the output's sign.
final class SignLMS {
    let taps: Int
    let shift: Int32
    /// Ring buffers of inputs and steps: the last `taps` entries before `position`; when the
    /// window reaches the end the last `taps` entries move back to the start.
    private let inputs: UnsafeMutablePointer<Int16>
    private let steps: UnsafeMutablePointer<Int16>
    private let weights: UnsafeMutablePointer<Int16>
    private let capacity: Int
    private var position: Int
    private var runningAverage: Int32 = 0

    init(taps: Int, shift: Int) {
        self.taps = taps
        self.shift = Int32(shift)
        capacity = taps + 4096
        inputs = .allocate(capacity: capacity); inputs.initialize(repeating: 0, count: capacity)
        steps = .allocate(capacity: capacity); steps.initialize(repeating: 0, count: capacity)
        weights = .allocate(capacity: taps); weights.initialize(repeating: 0, count: taps)
        position = taps
    }

    deinit {
        inputs.deallocate(); steps.deallocate(); weights.deallocate()
    }

    @inline(__always)
    func predict() -> Int32 {
        let x = inputs + (position - taps)
        var sum: Int32 = 0
        for i in 0..<taps { sum &+= Int32(x[i]) &* Int32(weights[i]) }
        return (sum &+ (1 << (shift - 1))) >> shift
    }

    @inline(__always)
    func update(input: Int64, output: Int64) {
        let d = steps + (position - taps)
        if output > 0 {
            for i in 0..<taps { weights[i] &+= d[i] }
        } else if output < 0 {
            for i in 0..<taps { weights[i] &-= d[i] }
        }
        let v = Int32(clamping: input)
        let magnitude = v.magnitude > Int32.max.magnitude ? Int32.max : Int32(v.magnitude)
        let step: Int16
        if magnitude > runningAverage &* 3 { step = 32 }
        else if magnitude > (runningAverage &* 4) / 3 { step = 16 }
        else if magnitude > 0 { step = 8 }
        else { step = 0 }
        runningAverage &+= (magnitude &- runningAverage) / 16
        inputs[position] = Int16(clamping: v)
        steps[position] = v < 0 ? -step : step
        steps[position - 1] >>= 1
        steps[position - 2] >>= 1
        steps[position - 8] >>= 1
        position += 1
        if position == capacity {
            (inputs).update(from: inputs + (capacity - taps), count: taps)
            (steps).update(from: steps + (capacity - taps), count: taps)
            position = taps
        }
    }
}

extension AudioCascade {
    /// Residuals of at most this many bits beyond the sample depth: predictions are clamped to
    /// the coded channel's range (one bit wider than the samples for X), so |residual| < 2^(bits+2).
    static func residualBits(_ bits: Int) -> Int { bits + 3 }

    static func encode(_ samples: [Int32], bits: Int, channels: Int, into encoder: inout RangeEncoder) {
        let frames = channels == 0 ? 0 : samples.count / channels
        var values = samples.map { Int64($0 >> Int32(32 - bits)) }  // right-justified
        if channels == 2 {
            for f in 0..<frames {
                let (y, x) = decorrelate(values[2 * f], values[2 * f + 1])
                values[2 * f] = y; values[2 * f + 1] = x
            }
        }
        guard frames > 0 else { return }
        var coder = AudioResidualCoder(bits: bits, channels: channels)
        let limit = Int64(1) << bits
        values.withUnsafeMutableBufferPointer { v in
            try! scan(values: v.baseAddress!, frames: frames, channels: channels, bits: bits) { i, prediction, c in
                let p = min(max(prediction, -limit), limit - 1)
                coder.encode(v[i] - p, channel: c, into: &encoder)
            }
        }
    }

    static func decode(count: Int, bits: Int, channels: Int, from decoder: inout RangeDecoder) throws(EntropyCodingError) -> [Int32] {
        let frames = channels == 0 ? 0 : count / channels
        guard frames > 0 else { return [Int32](repeating: 0, count: count) }
        var values = [Int64](repeating: 0, count: count)
        var coder = AudioResidualCoder(bits: bits, channels: channels)
        let limit = Int64(1) << bits
        try values.withUnsafeMutableBufferPointer { (v) throws(EntropyCodingError) in
            try scan(values: v.baseAddress!, frames: frames, channels: channels, bits: bits) { (i, prediction, c) throws(EntropyCodingError) in
                let p = min(max(prediction, -limit), limit - 1)
                v[i] = p + (try coder.decode(channel: c, from: &decoder))
                // The coded channel's range: X = L − R needs one more bit than the samples.
                guard v[i] >= -limit, v[i] < limit else { throw .corruptInput("audio sample outside \(bits)-bit range") }
            }
        }
        let low = -(Int64(1) << (bits - 1)), high = Int64(1) << (bits - 1)
        if channels == 2 {
            for f in 0..<frames {
                let (l, r) = correlate(y: values[2 * f], x: values[2 * f + 1])
                values[2 * f] = l; values[2 * f + 1] = r
            }
        }
        var out = [Int32](repeating: 0, count: count)
        for i in 0..<count {
            guard values[i] >= low, values[i] < high else { throw .corruptInput("audio sample outside \(bits)-bit range") }
            out[i] = Int32(truncatingIfNeeded: values[i] << Int64(32 - bits))
        }
        return out
    }
}

/// Residuals of the cascade, coded under a context from the recent residual magnitude: a
/// running mean of |r| (per channel) quantized on a log scale with quarter steps. Per context,
/// the bit length k of the zigzag value with an adaptive frequency model, the two bits below
/// its leading one with bit models per (context, k, bits above), the rest bypassed.
struct AudioResidualCoder {
    private var lengths: [AdaptiveFrequencyModel]
    private var mantissa: [AdaptiveBitModel]
    private var means: [Int64]
    private let lengthCount: Int
    private let contexts: Int

    init(bits: Int, channels: Int) {
        let lengthCount = AudioCascade.residualBits(bits) + 1, contexts = 4 * (lengthCount + 5)
        self.lengthCount = lengthCount
        self.contexts = contexts
        let groups = min(max(channels, 1), 2)
        let model = try! AdaptiveFrequencyModel(alphabetSize: lengthCount, precision: 16, increment: 32, countLimit: 1 << 13)
        lengths = [AdaptiveFrequencyModel](repeating: model, count: groups * contexts)
        mantissa = [AdaptiveBitModel](repeating: AdaptiveBitModel(rate: 5), count: groups * contexts * lengthCount * 4)
        means = [Int64](repeating: 0, count: max(channels, 1))
    }

    /// The context of channel c: 4·bit length of its mean (×16) plus the two bits below the top.
    @inline(__always)
    private func context(_ c: Int) -> Int {
        let m = means[c]
        let l = 64 - m.leadingZeroBitCount
        let fraction = l >= 3 ? Int(m >> Int64(l - 3)) & 3 : 0
        let q = min(contexts - 1, 4 * l + fraction)
        return min(c, 1) * contexts + q
    }

    @inline(__always)
    private mutating func learn(_ residual: Int64, channel c: Int) {
        means[c] += residual.magnitude > UInt64(Int64.max >> 8) ? Int64.max >> 8 : Int64(residual.magnitude)
        means[c] -= means[c] >> 4
    }

    mutating func encode(_ residual: Int64, channel c: Int, into encoder: inout RangeEncoder) {
        let ctx = context(c)
        let u = UInt64(bitPattern: residual >= 0 ? residual << 1 : ~(residual << 1))  // zigzag
        let k = 64 - u.leadingZeroBitCount
        try! encoder.encode(k, model: lengths[ctx])
        lengths[ctx].update(k)
        if k >= 2 {
            let base = (ctx * lengthCount + k) * 4
            let b1 = Int(u >> UInt64(k - 2)) & 1
            encoder.encode(bit: b1 == 1, model: &mantissa[base])
            if k >= 3 {
                let b2 = Int(u >> UInt64(k - 3)) & 1
                encoder.encode(bit: b2 == 1, model: &mantissa[base + 1 + b1])
                var remaining = k - 3
                while remaining > 0 {
                    let chunk = min(remaining, 16)
                    remaining -= chunk
                    encoder.encodeBypass(UInt32(truncatingIfNeeded: u >> UInt64(remaining)) & ((1 << UInt32(chunk)) - 1), bitCount: chunk)
                }
            }
        }
        learn(residual, channel: c)
    }

    mutating func decode(channel c: Int, from decoder: inout RangeDecoder) throws(EntropyCodingError) -> Int64 {
        let ctx = context(c)
        let k = try decoder.decode(model: lengths[ctx])
        lengths[ctx].update(k)
        var u: UInt64 = k > 0 ? 1 : 0
        if k >= 2 {
            let base = (ctx * lengthCount + k) * 4
            let b1 = try decoder.decodeBit(model: &mantissa[base]) ? 1 : 0
            u = u << 1 | UInt64(b1)
            if k >= 3 {
                u = u << 1 | (try decoder.decodeBit(model: &mantissa[base + 1 + b1]) ? 1 : 0)
                var remaining = k - 3
                while remaining > 0 {
                    let chunk = min(remaining, 16)
                    remaining -= chunk
                    u = u << UInt64(chunk) | UInt64(try decoder.decodeBypass(bitCount: chunk))
                }
            }
        }
        let residual = u & 1 == 0 ? Int64(u >> 1) : -Int64(u >> 1) - 1
        learn(residual, channel: c)
        return residual
    }
}
