import Foundation
import MediaIO
import Testing

/// Resampling through libsamplerate: frequency kept, noise far below the signal, channels mixed.
@Suite struct ResamplingTests {
    static func sine(_ hz: Double, rate: Int, seconds: Double, amplitude: Double = 0.5) -> [Float] {
        (0..<Int(Double(rate) * seconds)).map { Float(amplitude * sin(2 * Double.pi * hz * Double($0) / Double(rate))) }
    }

    /// Power of `x` at `hz` (Goertzel), per sample.
    static func power(_ x: ArraySlice<Float>, at hz: Double, rate: Int) -> Double {
        let w = 2 * Double.pi * hz / Double(rate), k = 2 * cos(w)
        var s1 = 0.0, s2 = 0.0
        for v in x { let s = Double(v) + k * s1 - s2; s2 = s1; s1 = s }
        return (s1 * s1 + s2 * s2 - k * s1 * s2) / Double(x.count * x.count)
    }

    /// SNR of `y` against `x` over samples away from both ends (the filters' edges).
    static func snr(_ x: [Float], _ y: [Float], margin: Int) -> Double {
        var signal = 0.0, noise = 0.0
        for i in margin..<(x.count - margin) {
            signal += Double(x[i]) * Double(x[i])
            noise += (Double(x[i]) - Double(y[i])) * (Double(x[i]) - Double(y[i]))
        }
        return 10 * log10(signal / noise)
    }

    @Test func sineThrough16kHzKeepsItsFrequencyAndSNR() throws {
        let x = Self.sine(1000, rate: 44_100, seconds: 1)
        let original = Audio(sampleRate: 44_100, channels: 1, floats: x)
        let down = try original.resampled(to: 16_000)
        #expect(down.sampleRate == 16_000 && down.frames == 16_000)
        let d = down.floats[1000..<15_000]
        // The tone is still at 1 kHz: its power there dwarfs the power 50 Hz either side.
        let at = Self.power(d, at: 1000, rate: 16_000)
        #expect(at > 1000 * Self.power(d, at: 950, rate: 16_000) && at > 1000 * Self.power(d, at: 1050, rate: 16_000))
        let back = try down.resampled(to: 44_100)
        #expect(back.frames == 44_100)
        let snr = Self.snr(x, back.floats, margin: 2000)
        print("resampling 44.1 → 16 → 44.1 kHz, 1 kHz sine: SNR \(String(format: "%.1f", snr)) dB")
        #expect(snr >= 60)
    }

    @Test func everyQualityKeepsAnInBandToneAbove60dB() throws {
        let x = Self.sine(3000, rate: 48_000, seconds: 0.5)
        for quality in ResamplingQuality.allCases {
            let round = try Audio(sampleRate: 48_000, channels: 1, floats: x).resampled(to: 22_050, quality: quality)
                .resampled(to: 48_000, quality: quality)
            #expect(Self.snr(x, round.floats, margin: 2000) >= 60, "\(quality)")
        }
    }

    @Test func channelsMixUpAndDown() throws {
        let left = Self.sine(440, rate: 16_000, seconds: 0.1), right = Self.sine(880, rate: 16_000, seconds: 0.1)
        let stereo = Audio(sampleRate: 16_000, channels: 2, floats: zip(left, right).flatMap { [$0, $1] })
        let mono = try stereo.resampled(to: 16_000, channels: 1)
        #expect(mono.channels == 1 && mono.frames == left.count)
        #expect(mono.floats[100] == (left[100] + right[100]) / 2)
        let up = try mono.resampled(to: 32_000, channels: 2)
        #expect(up.channels == 2 && up.frames == 2 * left.count && up.sampleRate == 32_000)
        #expect(up.floats[2 * 500] == up.floats[2 * 500 + 1])
        #expect(throws: MediaError.self) { try stereo.resampled(to: 16_000, channels: 3) }
        #expect(throws: MediaError.self) { try mono.resampled(to: 16_000 * 300) }
    }
}
