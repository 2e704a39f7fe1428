import Foundation
import MediaIO

/// Mono 16-bit PCM at a speech recogniser's rate, from audio at any rate and channel count.
///
/// A private, minimal band-limited resampler (Kaiser-windowed sinc, 32 zero crossings each side,
/// cut-off 0.95 × the lower Nyquist frequency), in Double arithmetic with a fixed evaluation
/// order, so it gives the same samples everywhere. It stands in for MediaIO's libsamplerate
/// resampler (`Audio.resampled(to:)`, branch `kit`, issue 16) until that lands; switch to it then.
public enum SpeechResampler {
    public static func pcm16(_ audio: Audio, sampleRate: Int) -> [Int16] {
        let mono = mixToMono(audio)
        let resampled = audio.sampleRate == sampleRate ? mono : resample(mono, from: audio.sampleRate, to: sampleRate)
        return resampled.map { Int16(clamping: Int(($0 * 32768).rounded())) }
    }

    /// Mono float samples: channels averaged.
    public static func mixToMono(_ audio: Audio) -> [Double] {
        let f = audio.floats, c = audio.channels
        if c == 1 { return f.map(Double.init) }
        return (0..<audio.frames).map { i in
            var sum = 0.0
            for k in 0..<c { sum += Double(f[i * c + k]) }
            return sum / Double(c)
        }
    }

    /// `x` at `to` Hz, round(count × to / from) samples, aligned with the input. The filter taps
    /// depend only on an output sample's phase (position modulo the reduced ratio), so they are
    /// computed once per phase.
    public static func resample(_ x: [Double], from: Int, to: Int) -> [Double] {
        guard from > 0, to > 0, !x.isEmpty else { return [] }
        let g = gcd(from, to)
        let up = to / g, down = from / g            // output n sits at input n·down/up
        let count = Int((Double(x.count) * Double(to) / Double(from)).rounded())
        let cutoff = 0.95 * min(1, Double(to) / Double(from))  // in units of the input Nyquist frequency
        let halfWidth = 32 / cutoff                 // 32 zero crossings each side, in input samples
        let reach = Int(halfWidth.rounded(.up))
        let taps = 2 * reach
        let beta = 8.6, i0beta = besselI0(beta)
        func weight(_ d: Double) -> Double {
            let u = d / halfWidth
            guard abs(u) < 1 else { return 0 }
            let a = Double.pi * cutoff * d
            let sinc = abs(a) < 1e-12 ? 1 : sin(a) / a
            return cutoff * sinc * besselI0(beta * (1 - u * u).squareRoot()) / i0beta
        }
        let phases = min(up, 4096)
        var table = [Double](repeating: 0, count: phases * taps)
        for p in 0..<phases {
            for j in 0..<taps { table[p * taps + j] = weight(Double(j - reach + 1) - Double(p) / Double(up)) }
        }
        var out = [Double](repeating: 0, count: count)
        x.withUnsafeBufferPointer { src in
            for n in 0..<count {
                let position = n * down
                let base = position / up, phase = position % up
                var sum = 0.0
                for j in 0..<taps {
                    let k = base - reach + 1 + j
                    guard k >= 0, k < src.count else { continue }
                    let w = phase < phases ? table[phase * taps + j]
                        : weight(Double(j - reach + 1) - Double(phase) / Double(up))
                    sum += src[k] * w
                }
                out[n] = sum
            }
        }
        return out
    }

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    /// The zeroth-order modified Bessel function of the first kind (Kaiser window), by its series.
    static func besselI0(_ x: Double) -> Double {
        var sum = 1.0, term = 1.0
        let q = x * x / 4
        for k in 1..<40 {
            term *= q / Double(k * k)
            sum += term
            if term < 1e-17 * sum { break }
        }
        return sum
    }
}
