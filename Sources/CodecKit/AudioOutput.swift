import MediaIO

extension Audio {
    /// A lossy audio codec's reconstruction as the container's header describes the original:
    /// cut or zero-padded to `frames` and written in the header's sample format (`sampleFormat`
    /// as `MediaDescriptor.audio` stores it: 8/16/24/32-bit PCM, −32 float, −64 double).
    public func restored(frames n: Int, sampleFormat: Int, source: AudioSource, codec: String) throws(CodecError) -> Audio {
        let c = channels
        var floats = self.floats
        if floats.count != n * c { floats = Array(floats.prefix(n * c)) + [Float](repeating: 0, count: max(0, n * c - floats.count)) }
        let out = Audio(sampleRate: sampleRate, channels: c, floats: floats, source: source)
        switch sampleFormat {
        case -32: return out
        case -64: return Audio(sampleRate: sampleRate, channels: c, samples: .double(floats.map(Double.init)), source: source)
        case 8, 16, 24, 32: return out.quantized(bits: sampleFormat)  // left-justified, as libsndfile reads them
        default: throw .corruptPayload("\(codec): unknown audio sample format \(sampleFormat)")
        }
    }
}
