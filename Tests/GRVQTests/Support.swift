import CodecKit
import Foundation
import MediaIO
import TestSupport
@testable import GRVQ

/// The released model (Codecs/grvq-16k), loaded once for every test.
enum Released {
    static let folder = repositoryRoot + "/Codecs"
    static let codec: Result<GRVQCodec, any Error> = Result { try GRVQCodec(modelID: "grvq-16k", store: ModelStore(searchPaths: [folder])) }
}

/// A fixed speech-like test signal (no data file): a gliding pulse train with a syllable-like
/// envelope, as Training/recipes/grvq_export.py's golden input, at any rate and length.
func speechlike(samples n: Int, rate: Int = 16000) -> [Float] {
    guard n > 0 else { return [] }
    var phase = 0.0
    return (0..<n).map { i in
        let t = Double(i) / Double(rate), u = Double(i) / Double(max(1, n - 1))
        phase += (110 + 110 * u) / Double(rate)
        var s = 0.0
        for k in 1..<20 { s += sin(2 * .pi * Double(k) * phase) / Double(k) }
        let env = 0.5 * (1 - cos(2 * .pi * u)) * (0.6 + 0.4 * sin(2 * .pi * 4 * t))
        return Float(s * env * 0.1)
    }
}

func audio(rate: Int, channels: Int, frames: Int) -> Audio {
    let mono = speechlike(samples: frames, rate: rate)
    var floats = [Float](repeating: 0, count: frames * channels)
    for i in 0..<frames { for c in 0..<channels { floats[i * channels + c] = mono[i] * (1 - 0.1 * Float(c)) } }
    return Audio(sampleRate: rate, channels: channels, samples: .integer(bits: 16, floats.map { Int32($0 * 32767) << 16 }), source: .wav)
}
