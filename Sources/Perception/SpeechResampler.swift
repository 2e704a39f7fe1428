import MediaIO

/// Mono 16-bit PCM at a speech recogniser's rate, from audio at any rate and channel count:
/// channels averaged, then MediaIO's libsamplerate resampler (`Audio.resampled`, best sinc).
public enum SpeechResampler {
    public static func pcm16(_ audio: Audio, sampleRate: Int) throws(PerceptionError) -> [Int16] {
        let mono: Audio
        do {
            mono = audio.sampleRate == sampleRate && audio.channels == 1 ? audio
                : try audio.resampled(to: sampleRate, channels: 1)
        } catch {
            throw .unreadable("cannot resample \(audio.sampleRate) Hz to \(sampleRate) Hz: \(error)")
        }
        return mono.floats.map { Int16(clamping: Int(($0 * 32768).rounded())) }
    }
}
