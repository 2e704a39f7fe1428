import CodecKit
import Container
import Foundation
import MediaIO
import Metrics
import Testing
import TestSupport
@testable import WaLLoC

/// Every released WaLLoC model takes every input form it claims, through the container: gray,
/// gray+alpha, RGB and RGBA at 8 and 16 bits (alpha exact), mono and stereo audio at the model's
/// rate and others. Tiny inputs, so the whole grid runs in seconds; each must keep its shape, a
/// fidelity floor that a wrong channel mapping or rate would fall far below, and notes that say
/// what was done (`codec info`). (walloc-stereo-20x joins these lists when it is released.)
@Suite struct ReleasedModelInputTests {
    static func codec(_ id: String) throws -> WaLLoCCodec {
        switch id {
        case "walloc-rgb-16x": try rgb16x.get()
        case "walloc-rgb-4x": try rgb4x.get()
        case "walloc-stereo-5x": try stereo5x.get()
        default: throw CodecError.unknownCodec(id, available: [])
        }
    }

    /// A smooth 8-bit-or-16-bit test card of 27x19 (not a multiple of the stride: padded and
    /// cropped), with a noisy alpha plane where there is one.
    static func card(channels: Int, bitDepth: Int) -> Image {
        let (w, h) = (27, 19), maxValue = (1 << bitDepth) - 1
        var rng = SplitMix64(seed: UInt64(channels * 100 + bitDepth))
        var samples: [UInt16] = []
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<channels {
                    let alpha = channels % 2 == 0 && c == channels - 1
                    let v = alpha ? Double(rng.next() % UInt64(maxValue + 1))
                        : Double(maxValue) * (0.2 + 0.6 * Double(x * (c + 1) + y * (3 - c)) / Double(w * 3 + h * 3))
                    samples.append(UInt16(v.rounded()))
                }
            }
        }
        return Image(width: w, height: h, channels: channels, bitDepth: bitDepth, samples: samples)
    }

    @Test(arguments: ["walloc-rgb-16x", "walloc-rgb-4x"], [(1, 8), (2, 8), (4, 8), (1, 16), (2, 16), (3, 16), (4, 16)])
    func imageForms(model: String, form: (channels: Int, bitDepth: Int)) throws {
        let codec = try Self.codec(model)
        let image = Self.card(channels: form.channels, bitDepth: form.bitDepth)
        let (decoded, file) = try roundTrip(codec, .image(image))
        guard case .image(let out) = decoded else { throw CodecError.internalFailure("not an image") }
        #expect(MediaDescriptor(decoded) == MediaDescriptor(.image(image)))
        let c = form.channels
        if c % 2 == 0 {
            let alpha = Swift.stride(from: c - 1, to: image.samples.count, by: c)
            #expect(alpha.allSatisfy { out.samples[$0] == image.samples[$0] }, "alpha must be exact")
        }
        // Fidelity of the colour (or gray) planes alone, as 8-bit-scale PSNR.
        let colour = c >= 3 ? 3 : 1, peak = Double((1 << form.bitDepth) - 1)
        var sum = 0.0, n = 0
        for p in 0..<(image.width * image.height) {
            for k in 0..<colour {
                let d = (Double(out.samples[p * c + k]) - Double(image.samples[p * c + k])) / peak
                sum += d * d; n += 1
            }
        }
        let psnr = 10 * log10(Double(n) / sum)
        // Measured 29.6 to 36.0 dB (16x) and 41.5 to 44.0 dB (4x) on this card.
        #expect(psnr > (model == "walloc-rgb-4x" ? 38 : 27), "\(model), \(c) channels, \(form.bitDepth) bits: \(psnr) dB")
        let notes = try codec.notes(file).joined(separator: "\n")
        #expect(notes.contains("gray:") == (c <= 2), "\(notes)")
        #expect(notes.contains("alpha: coded losslessly") == (c % 2 == 0), "\(notes)")
        #expect(notes.contains("16-bit") == (form.bitDepth == 16), "\(notes)")
        #expect(notes.contains("padded from 27x19 to 32x24"), "\(notes)")
    }

    /// A two-tone signal, channels slightly different, at `rate`.
    static func tones(rate: Int, channels: Int, seconds: Double) -> Audio {
        let frames = Int(Double(rate) * seconds)
        var ints: [Int32] = []
        for i in 0..<frames {
            let t = Double(i) / Double(rate)
            for c in 0..<channels {
                let v = 0.3 * sin(2 * Double.pi * 330 * t) + 0.1 * sin(2 * Double.pi * (880 + 110 * Double(c)) * t)
                ints.append(Int32((v * 32767).rounded()) << 16)
            }
        }
        return Audio(sampleRate: rate, channels: channels, samples: .integer(bits: 16, ints), source: .wav)
    }

    @Test(arguments: ["walloc-stereo-5x"], [(44_100, 1), (44_100, 2), (22_050, 1), (48_000, 2), (16_000, 2)])
    func audioForms(model: String, form: (rate: Int, channels: Int)) throws {
        let codec = try Self.codec(model)
        let audio = Self.tones(rate: form.rate, channels: form.channels, seconds: 0.15)
        let file = try ContainerFile(parsing: try codec.encode(.audio(audio), options: CodecOptions()).serialized())
        let decoded = try codec.decodeChecked(file)
        #expect(MediaDescriptor(decoded) == MediaDescriptor(.audio(audio)))
        let snr = Fidelity(original: .audio(audio), decoded: decoded).snr ?? 0  // measured 30.3 to 32.8 dB
        #expect(snr > 25, "\(model) at \(form.rate) Hz, \(form.channels) channels: SNR \(snr) dB")
        let notes = try codec.notes(file).joined(separator: "\n")
        #expect(notes.contains("resampled from \(form.rate) Hz") == (form.rate != 44_100), "\(notes)")
        #expect(notes.contains("mono:") == (form.channels == 1), "\(notes)")
    }
}
