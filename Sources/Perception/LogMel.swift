import Foundation

/// The log-mel spectrogram the spoken-digit classifier reads, computed exactly as its training
/// recipe does (`Training/neuralcodecs/classifiers.py`, `log_mel`); the golden test checks the two
/// agree. Its parameters come from the model's codec.json (`log_mel`), so they cannot drift apart:
///
/// - mono samples at `sampleRate`, cut or zero-padded at the end to `samples` (the classifier's
///   one second; nil keeps the whole clip, as the feature similarity does);
/// - frames of `fft` samples every `hop`, no centering, a periodic Hann window;
/// - the power spectrum (`fft`/2 + 1 bins, a direct DFT in Double);
/// - `mels` triangular filters of peak 1 with edges equally spaced in HTK mel (2595·log10(1 + f/700))
///   over 0 to `sampleRate`/2;
/// - the natural log of each mel energy + `floor`, minus the mean over the whole spectrogram (so a
///   change of gain does not change the features).
public struct LogMel: Sendable, Codable, Equatable {
    public var sampleRate: Int
    public var samples: Int?
    public var fft: Int
    public var hop: Int
    public var mels: Int
    public var floor: Double

    /// `[mels, frames]`, row-major (Float32, as the network reads it).
    public func features(_ mono: [Float], wholeClip: Bool = false) -> (frames: Int, values: [Float]) {
        var x = mono.map(Double.init)
        let length = wholeClip ? max(x.count, fft) : (samples ?? max(x.count, fft))
        if x.count > length { x.removeLast(x.count - length) } else { x += [Double](repeating: 0, count: length - x.count) }
        let frames = 1 + (length - fft) / hop
        let bins = fft / 2 + 1
        let window = (0..<fft).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(fft)) }
        // cos/sin of 2πkn/fft by (k·n) mod fft, exact table lookups instead of fft² cos calls.
        let cosTable = (0..<fft).map { cos(2 * Double.pi * Double($0) / Double(fft)) }
        let sinTable = (0..<fft).map { sin(2 * Double.pi * Double($0) / Double(fft)) }
        let filters = melFilters()
        var out = [Float](repeating: 0, count: mels * frames)
        var power = [Double](repeating: 0, count: bins)
        var frame = [Double](repeating: 0, count: fft)
        var energies = [Double](repeating: 0, count: mels * frames)
        for t in 0..<frames {
            for n in 0..<fft { frame[n] = x[t * hop + n] * window[n] }
            for k in 0..<bins {
                var re = 0.0, im = 0.0
                for n in 0..<fft {
                    let i = (k * n) % fft
                    re += frame[n] * cosTable[i]
                    im -= frame[n] * sinTable[i]
                }
                power[k] = re * re + im * im
            }
            for m in 0..<mels {
                var e = 0.0
                for k in 0..<bins { e += filters[m * bins + k] * power[k] }
                energies[m * frames + t] = Foundation.log(e + floor)
            }
        }
        let mean = energies.reduce(0, +) / Double(energies.count)
        for i in 0..<energies.count { out[i] = Float(energies[i] - mean) }
        return (frames, out)
    }

    /// `[mels, fft/2 + 1]` triangles, as `mel_filters` in the recipe.
    func melFilters() -> [Double] {
        let bins = fft / 2 + 1
        func toMel(_ f: Double) -> Double { 2595 * log10(1 + f / 700) }
        func toHz(_ m: Double) -> Double { 700 * (pow(10, m / 2595) - 1) }
        let top = toMel(Double(sampleRate) / 2)
        let edges = (0..<(mels + 2)).map { toHz(top * Double($0) / Double(mels + 1)) }
        var fb = [Double](repeating: 0, count: mels * bins)
        for m in 0..<mels {
            let (lo, c, hi) = (edges[m], edges[m + 1], edges[m + 2])
            for k in 0..<bins {
                let f = Double(k) * Double(sampleRate) / Double(fft)
                fb[m * bins + k] = max(0, min((f - lo) / (c - lo), (hi - f) / (hi - c)))
            }
        }
        return fb
    }
}
