import MediaIO

/// Mono audio at a model's rate, from audio at any rate and channel count: channels averaged,
/// then MediaIO's libsamplerate resampler (`Audio.resampled`, best sinc). Audio already at that
/// rate and mono passes unchanged.
public enum SpeechResampler {
    /// Float samples in [-1, 1) (the classifiers' input).
    public static func floats(_ audio: Audio, sampleRate: Int) throws(PerceptionError) -> [Float] {
        let mono: Audio
        do {
            mono = audio.sampleRate == sampleRate && audio.channels == 1 ? audio
                : try audio.resampled(to: sampleRate, channels: 1)
        } catch {
            throw .unreadable("cannot resample \(audio.sampleRate) Hz to \(sampleRate) Hz: \(error)")
        }
        return mono.floats
    }

    /// 16-bit PCM (a speech recogniser's input).
    public static func pcm16(_ audio: Audio, sampleRate: Int) throws(PerceptionError) -> [Int16] {
        try floats(audio, sampleRate: sampleRate).map { Int16(clamping: Int(($0 * 32768).rounded())) }
    }
}
