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
    /// aligned with the input (libsamplerate compensates its filter delay). One `AudioResampler`
    /// pass, so resampling a whole buffer and a stream of blocks give the same samples.
    public func resampled(to sampleRate: Int, channels: Int? = nil,
                          quality: ResamplingQuality = .sincBest) throws(MediaError) -> Audio {
        let outChannels = channels ?? self.channels
        let resampler = try AudioResampler(from: self.sampleRate, channels: self.channels,
                                           to: sampleRate, channels: outChannels, quality: quality)
        var samples = try resampler.process(floats)
        samples += try resampler.finish()
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
}

/// Resampling as a stream (libsamplerate's `src_process`), for audio read or decoded block by
/// block: interleaved Float32 frames go in through `process`, and `finish` flushes the
/// converter. The blocks out, joined, are exactly the samples of resampling the whole input in
/// one call, whatever the block sizes (the converter keeps its position and filter state
/// between calls; Tests/MediaIOTests/ResamplingTests compare against `src_simple`), and number
/// round(frames in × ratio): the converter's extra frames are dropped and a shortfall is padded
/// with zeros at the end. Fewer channels are mixed before the converter, more duplicated after.
/// Memory holds the converter's filter state and one block.
public final class AudioResampler {
    public let inputRate: Int, inputChannels: Int, outputRate: Int, outputChannels: Int
    let ratio: Double
    /// Channels through the converter: the fewer of input and output.
    let working: Int
    /// libsamplerate's state; `nil` when the rates are equal (channels mapped only).
    private let state: OpaquePointer?
    private var framesIn = 0, framesOut = 0
    private var finished = false

    public init(from inputRate: Int, channels inputChannels: Int, to outputRate: Int, channels outputChannels: Int,
                quality: ResamplingQuality = .sincBest) throws(MediaError) {
        guard outputRate > 0, outputRate <= MediaLimits.maxSampleRate else {
            throw .unsupported("resampling to \(outputRate) Hz")
        }
        precondition(inputRate > 0 && inputChannels > 0 && outputChannels > 0, "resampling needs positive rates and channels")
        if inputChannels != outputChannels && inputChannels != 1 && outputChannels != 1 {
            throw .unsupported("mixing \(inputChannels) channels to \(outputChannels) (only to or from mono)")
        }
        self.inputRate = inputRate
        self.inputChannels = inputChannels
        self.outputRate = outputRate
        self.outputChannels = outputChannels
        working = min(inputChannels, outputChannels)
        ratio = Double(outputRate) / Double(inputRate)
        if inputRate == outputRate {
            state = nil
            return
        }
        guard src_is_valid_ratio(ratio) != 0 else {
            throw .unsupported("resampling by a ratio of \(ratio) (libsamplerate takes 1/256 to 256)")
        }
        var error: Int32 = 0
        guard let state = src_new(quality.converter, Int32(working), &error) else {
            throw .unsupported("resampling failed: \(String(cString: src_strerror(error)))")
        }
        self.state = state
    }

    deinit { if let state { src_delete(state) } }

    /// The resampled frames `samples` (interleaved, `inputChannels` per frame) make available now.
    public func process(_ samples: [Float]) throws(MediaError) -> [Float] {
        precondition(!finished && samples.count % inputChannels == 0, "whole frames, before finish()")
        let mixed = try Audio.mix(samples, from: inputChannels, to: working)
        let frames = mixed.count / working
        guard state != nil else {
            framesIn += frames
            framesOut += frames
            return try Audio.mix(mixed, from: working, to: outputChannels)
        }
        let bound = Int((Double(framesIn + frames) * ratio).rounded())
        guard bound <= MediaLimits.maxAudioSamples / working else {
            throw .tooLarge("\(bound) frames of \(working) channels after resampling")
        }
        framesIn += frames
        let out = try convert(mixed, endOfInput: false)
        framesOut += out.count / working
        return try Audio.mix(out, from: working, to: outputChannels)
    }

    /// The last frames: the converter's tail, cut or padded so that the whole output has
    /// round(frames in × ratio) frames.
    public func finish() throws(MediaError) -> [Float] {
        precondition(!finished, "finish() once")
        finished = true
        guard state != nil, framesIn > 0 else { return [] }
        let wanted = Int((Double(framesIn) * ratio).rounded())
        var tail = try convert([], endOfInput: true)
        let kept = max(0, min(tail.count / working, wanted - framesOut))
        tail.removeLast(tail.count - kept * working)
        tail += [Float](repeating: 0, count: max(0, wanted - framesOut - kept) * working)
        framesOut = wanted
        return try Audio.mix(tail, from: working, to: outputChannels)
    }

    /// Runs the converter over `input` until it has taken every frame (and, at the end of the
    /// input, until it has nothing more to give).
    private func convert(_ input: [Float], endOfInput: Bool) throws(MediaError) -> [Float] {
        let frames = input.count / working
        // Never a null input pointer, which some libsamplerate versions refuse even for 0 frames.
        let input = input.isEmpty ? [Float](repeating: 0, count: working) : input
        var out: [Float] = []
        var used = 0
        while true {
            let capacity = Int(Double(frames - used) * ratio) + 1024
            var buffer = [Float](repeating: 0, count: capacity * working)
            var taken = 0, generated = 0
            let status: Int32 = input.withUnsafeBufferPointer { inp in
                buffer.withUnsafeMutableBufferPointer { outp in
                    var data = SRC_DATA()
                    data.data_in = inp.baseAddress.map { $0 + used * working }
                    data.input_frames = frames - used
                    data.data_out = outp.baseAddress
                    data.output_frames = capacity
                    data.src_ratio = ratio
                    data.end_of_input = endOfInput ? 1 : 0
                    let status = src_process(state, &data)
                    taken = data.input_frames_used
                    generated = data.output_frames_gen
                    return status
                }
            }
            guard status == 0 else {
                throw .unsupported("resampling failed: \(String(cString: src_strerror(status)))")
            }
            used += taken
            out.append(contentsOf: buffer[0..<(generated * working)])
            if used >= frames && (generated == 0 || (!endOfInput && generated < capacity)) { break }
            if taken == 0 && generated == 0 { throw .unsupported("resampling failed: the converter stopped taking input") }
        }
        return out
    }
}
