import CodecKit
import EntropyCoding
import Neural

/// Codes WaLLoC's 8-bit latents with interleaved rANS under frequency tables learned with the model.
///
/// Model: each latent q (−127...127, coded as q + 127) is coded under the table of its channel and
/// of a context: the magnitude of its already-coded neighbours in the same channel, |left| + |top|
/// for images and |q[t−1]| + |q[t−2]| for audio, in `contextBuckets` buckets. Neighbouring latents
/// of one channel have correlated magnitudes (texture, loudness), so the bucket picks a narrower
/// or wider table. The tables (`prior.frequencies`, `[latent, buckets, 255]` integer frequencies
/// summing to 2^precision each) are counted on training latents at export and stored with the
/// weights, so they are covered by the weights hash.
///
/// Order: channel after channel, each in raster order; symbols are pushed in reverse.
public struct LatentCoder: Sendable {
    public static let precision = 16
    public static let alphabet = 255
    /// Upper bounds (exclusive) of the context buckets; the last bucket is open.
    public static let bucketBounds = [1, 2, 3, 4, 6, 8, 11, 15, 20, 27, 36, 48, 64]
    public static var contextBuckets: Int { bucketBounds.count + 1 }
    public static let ways = 4

    let models: [CategoricalModel]  // [channel * buckets + bucket]
    let bucketOf: [UInt8]  // context magnitude (0...254) → bucket
    public let channels: Int
    public let twoDimensional: Bool

    init(frequencies: Tensor, channels: Int, twoDimensional: Bool) throws {
        let b = Self.contextBuckets
        guard frequencies.shape == [channels, b, Self.alphabet] else {
            throw CodecError.corruptModel(modelID: "", reason: "prior.frequencies has shape \(frequencies.shape), not [\(channels), \(b), \(Self.alphabet)]")
        }
        var models: [CategoricalModel] = []
        for t in 0..<(channels * b) {
            let row = frequencies.scalars[(t * Self.alphabet)..<((t + 1) * Self.alphabet)]
            guard row.allSatisfy({ $0 >= 1 && $0 <= 65536 && $0.rounded() == $0 }) else {
                throw CodecError.corruptModel(modelID: "", reason: "prior.frequencies row \(t) holds a frequency outside 1...65536")
            }
            models.append(try CategoricalModel(frequencies: row.map { UInt32($0) }, precision: Self.precision))
        }
        self.models = models
        self.channels = channels
        self.twoDimensional = twoDimensional
        var bucketOf = [UInt8](repeating: 0, count: 255)
        for m in 0..<255 { bucketOf[m] = UInt8(Self.bucketBounds.firstIndex { m < $0 } ?? Self.bucketBounds.count) }
        self.bucketOf = bucketOf
    }

    /// The context bucket of latent `i` of a channel plane of `w` columns (its `h` rows implied).
    @inline(__always)
    func bucket(_ plane: UnsafePointer<Int8>, _ i: Int, _ w: Int) -> Int {
        let x = i % w
        var m: Int
        if twoDimensional {
            m = (x > 0 ? abs(Int(plane[i - 1])) : 0) + (i >= w ? abs(Int(plane[i - w])) : 0)
        } else {
            m = (x > 0 ? abs(Int(plane[i - 1])) : 0) + (x > 1 ? abs(Int(plane[i - 2])) : 0)
        }
        return Int(bucketOf[min(m, 254)])
    }

    /// Latents `[channels, h, w]` → rANS stream.
    public func encode(_ latents: [Int8], height h: Int, width w: Int) -> [UInt8] {
        precondition(latents.count == channels * h * w, "latent count does not match the shape")
        var encoder = try! RANSEncoder<RANS64>(ways: Self.ways)  // `ways` is a supported constant
        let plane = h * w, b = Self.contextBuckets
        latents.withUnsafeBufferPointer { q in
            for c in stride(from: channels - 1, through: 0, by: -1) {
                let p = q.baseAddress! + c * plane
                for i in stride(from: plane - 1, through: 0, by: -1) {
                    let model = models[c * b + bucket(p, i, w)]
                    // Every symbol has a frequency of at least 1 (checked on load), so this holds.
                    encoder.push(model.interval(of: Int(p[i]) + Compander.maxLatent)!, precision: Self.precision)
                }
            }
        }
        return encoder.finish()
    }

    /// rANS stream → latents `[channels, h, w]`; fails on a stream that is not the encoder's.
    public func decode(_ stream: [UInt8], height h: Int, width w: Int) throws(CodecError) -> [Int8] {
        let plane = h * w, b = Self.contextBuckets
        var out = [Int8](repeating: 0, count: channels * plane)
        do {
            var decoder = try RANSDecoder<RANS64>(stream, ways: Self.ways)
            try out.withUnsafeMutableBufferPointer { (q) throws(EntropyCodingError) in
                for c in 0..<channels {
                    let p = q.baseAddress! + c * plane
                    for i in 0..<plane {
                        let symbol = try decoder.decode(model: models[c * b + bucket(p, i, w)])
                        p[i] = Int8(symbol - Compander.maxLatent)
                    }
                }
            }
            try decoder.finish()
        } catch {
            throw .corruptPayload("walloc latent stream: \(error)")
        }
        return out
    }
}
