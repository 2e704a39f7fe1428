import MediaIO

extension Audio {
    /// A lossy audio codec's reconstruction as the container's header describes the original:
    /// cut or zero-padded to `frames` and written in the header's sample format (`sampleFormat`
    /// as `MediaDescriptor.audio` stores it: 8/16/24/32-bit PCM, −32 float, −64 double).
    /// The whole-buffer form of `AudioRestorer`.
    public func restored(frames n: Int, sampleFormat: Int, source: AudioSource, codec: String) throws(CodecError) -> Audio {
        var restorer = try AudioRestorer(frames: n, sampleRate: sampleRate, channels: channels, sampleFormat: sampleFormat,
                                         source: source, codec: codec)
        var samples = restorer.block(floats).samples
        samples.append(restorer.finish().samples)
        return Audio(sampleRate: sampleRate, channels: channels, samples: samples, source: source)
    }
}

/// Restores a lossy audio reconstruction block by block, as the header describes the original
/// (`Audio.restored` for a whole buffer): blocks of Float32 frames at the header's rate and
/// channels go in, and come out in the header's sample format, cut at the header's frame count;
/// `finish` pads with silence up to it. What a streaming decoder hands to its writer.
public struct AudioRestorer: Sendable {
    public let frames: Int, sampleRate: Int, channels: Int, sampleFormat: Int
    public let source: AudioSource
    /// Frames handed out so far.
    public private(set) var emitted = 0

    public init(frames: Int, sampleRate: Int, channels: Int, sampleFormat: Int, source: AudioSource, codec: String) throws(CodecError) {
        guard [-64, -32, 8, 16, 24, 32].contains(sampleFormat) else {
            throw .corruptPayload("\(codec): unknown audio sample format \(sampleFormat)")
        }
        self.frames = frames
        self.sampleRate = sampleRate
        self.channels = channels
        self.sampleFormat = sampleFormat
        self.source = source
    }

    /// `floats` (interleaved frames), as much of them as the header has room for.
    public mutating func block(_ floats: [Float]) -> Audio {
        let n = max(0, min(floats.count / channels, frames - emitted))
        emitted += n
        return converted(n * channels == floats.count ? floats : Array(floats.prefix(n * channels)))
    }

    /// Silence up to the header's frame count (none if the blocks filled it).
    public mutating func finish() -> Audio {
        let n = frames - emitted
        emitted = frames
        return converted([Float](repeating: 0, count: n * channels))
    }

    private func converted(_ floats: [Float]) -> Audio {
        let out = Audio(sampleRate: sampleRate, channels: channels, floats: floats, source: source)
        switch sampleFormat {
        case -32: return out
        case -64: return Audio(sampleRate: sampleRate, channels: channels, samples: .double(floats.map(Double.init)), source: source)
        default: return out.quantized(bits: sampleFormat)  // left-justified, as libsndfile reads them
        }
    }
}
