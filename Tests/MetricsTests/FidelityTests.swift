import Foundation
import MediaIO
import Metrics
import Testing
import TestSupport

/// Fidelity's numbers on signals whose answer is known in closed form.
@Suite struct FidelityTests {
    @Test func identicalMediaIsExact() {
        let image = Media.image(Image(width: 16, height: 16, channels: 1, bitDepth: 8,
                                      samples: (0..<256).map { UInt16($0) }))
        let f = Fidelity(original: image, decoded: image)
        #expect(f.exact && f.psnr == .infinity && f.msssim == 1)
    }

    @Test func audioNoiseGivesItsSNR() {
        // A full-scale sine plus noise 1/100 of its amplitude: SNR = 20 log10(100) = 40 dB.
        var rng = SplitMix64(seed: 3)
        let n = 48_000
        let x = (0..<n).map { Float(0.5 * sin(2 * Double.pi * 440 * Double($0) / 48_000)) }
        let noise = (0..<n).map { _ in Float(rng.unit() < 0.5 ? -1 : 1) * 0.005 * Float(2).squareRoot() }
        let y = zip(x, noise).map { $0 + $1 }
        let f = Fidelity(original: .audio(Audio(sampleRate: 48_000, channels: 1, floats: x)),
                         decoded: .audio(Audio(sampleRate: 48_000, channels: 1, floats: y)))
        // Signal power 0.125, noise power 0.005² × 2 = 5e-5: 10 log10(2500) ≈ 33.98 dB.
        let expected = 10 * log10(0.125 / (0.005 * 0.005 * 2))
        #expect(abs(f.snr! - expected) < 0.1)
        #expect(f.sisdr! > expected - 0.1)
        #expect(!f.exact)
    }

    @Test func imagePSNRFromMeanSquaredError() {
        // Every sample off by one step of 255: PSNR = 20 log10(255) ≈ 48.13 dB.
        let a = Image(width: 16, height: 16, channels: 3, bitDepth: 8, samples: [UInt16](repeating: 100, count: 768))
        let b = Image(width: 16, height: 16, channels: 3, bitDepth: 8, samples: [UInt16](repeating: 101, count: 768))
        let f = Fidelity(original: .image(a), decoded: .image(b))
        #expect(abs(f.psnr! - 20 * log10(255.0)) < 1e-9)
        #expect(f.msssim! > 0.99)
    }
}
