import CSampleRate

/// libsamplerate's converters, best first: band-limited sinc interpolation, rated at 145, 121
/// and 97 dB of signal-to-noise ratio; the faster ones trade that for speed. A sine taken
/// 44.1 → 16 → 44.1 kHz at `sincBest` measures 136 dB here (Tests/MediaIOTests/ResamplingTests).
public enum ResamplingQuality: Sendable, CaseIterable {
    case sincBest, sincMedium, sincFastest

    var converter: Int32 {
        switch self {
        case .sincBest: Int32(SRC_SINC_BEST_QUALITY)
        case .sincMedium: Int32(SRC_SINC_MEDIUM_QUALITY)
        case .sincFastest: Int32(SRC_SINC_FASTEST)
        }
    }
}

extension Audio {
    /// This audio at `sampleRate` frames per second and `channels` channels (default: as now),
    /// as Float32 samples: the 16 kHz or 44.1 kHz input a speech codec, WaLLoC or a recogniser
    /// expects. Any rate to any rate within libsamplerate's ratio range (1/256...256); mono ↔
    /// stereo by duplicating or averaging channels. The result has round(frames × ratio) frames,
    /// aligned with the input (libsamplerate compensates its filter delay).
    public func resampled(to sampleRate: Int, channels: Int? = nil,
                          quality: ResamplingQuality = .sincBest) throws(MediaError) -> Audio {
        let outChannels = channels ?? self.channels
        guard sampleRate > 0, sampleRate <= MediaLimits.maxSampleRate else {
            throw .unsupported("resampling to \(sampleRate) Hz")
        }
        // Fewer channels: mix first, so the converter does less work; more: duplicate after.
        var samples = floats
        var working = self.channels
        if outChannels < working {
            samples = try Self.mix(samples, from: working, to: outChannels)
            working = outChannels
        }
        if sampleRate != self.sampleRate {
            samples = try Self.convert(samples, channels: working, ratio: Double(sampleRate) / Double(self.sampleRate),
                                       quality: quality)
        }
        if outChannels > working { samples = try Self.mix(samples, from: working, to: outChannels) }
        return Audio(sampleRate: sampleRate, channels: outChannels, floats: samples, source: source)
    }

    /// Mono → n channels (copies), n → mono (average), or unchanged.
    static func mix(_ samples: [Float], from: Int, to: Int) throws(MediaError) -> [Float] {
        if from == to { return samples }
        let frames = samples.count / from
        if from == 1 {
            var out = [Float](repeating: 0, count: frames * to)
            for f in 0..<frames { for c in 0..<to { out[f * to + c] = samples[f] } }
            return out
        }
        guard to == 1 else { throw .unsupported("mixing \(from) channels to \(to) (only to or from mono)") }
        let scale = 1 / Float(from)
        return (0..<frames).map { f in
            var sum: Float = 0
            for c in 0..<from { sum += samples[f * from + c] }
            return sum * scale
        }
    }

    static func convert(_ samples: [Float], channels: Int, ratio: Double,
                        quality: ResamplingQuality) throws(MediaError) -> [Float] {
        guard src_is_valid_ratio(ratio) != 0 else {
            throw .unsupported("resampling by a ratio of \(ratio) (libsamplerate takes 1/256 to 256)")
        }
        let frames = samples.count / channels
        let wanted = Int((Double(frames) * ratio).rounded())
        guard frames > 0, wanted > 0 else { return [] }
        guard wanted <= MediaLimits.maxAudioSamples / channels else {
            throw .tooLarge("\(wanted) frames of \(channels) channels after resampling")
        }
        // A little room beyond the exact length: the converter may round up.
        var out = [Float](repeating: 0, count: (wanted + 16) * channels)
        var generated = 0
        let status: Int32 = samples.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                var data = SRC_DATA()
                data.data_in = input.baseAddress
                data.data_out = output.baseAddress
                data.input_frames = frames
                data.output_frames = wanted + 16
                data.src_ratio = ratio
                data.end_of_input = 1
                let status = src_simple(&data, quality.converter, Int32(channels))
                generated = data.output_frames_gen
                return status
            }
        }
        guard status == 0 else {
            throw .unsupported("resampling failed: \(String(cString: src_strerror(status)))")
        }
        // Exactly round(frames × ratio) frames: trim the converter's extra, or pad its shortfall.
        let kept = min(generated, wanted) * channels
        return Array(out[0..<kept]) + [Float](repeating: 0, count: wanted * channels - kept)
    }
}
