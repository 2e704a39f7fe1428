import TestSupport
import Foundation
import Testing
import MediaIO

@Suite struct AudioFileTests {
    @Test(arguments: [8, 16, 24, 32])
    func wavIntegerRoundTripIsExact(bits: Int) throws {
        for channels in [1, 2, 5] {
            let audio = randomPCM(frames: 1_001, channels: channels, bits: bits, seed: UInt64(bits * 10 + channels))
            let wav = try AudioFile.encode(audio, as: .wav)
            #expect(FileFormat.detect(wav) == .wav)
            #expect(try AudioFile.decode(wav) == audio, "\(bits)-bit \(channels) ch")
        }
    }

    @Test func wavFloatAndDoubleRoundTripsAreExact() throws {
        var rng = SplitMix64(seed: 3)
        let floats = (0..<2_000).map { _ in Float(Int64(bitPattern: rng.next()) % 3_000_000) / 1_000_000 }  // beyond ±1 too
        let float = Audio(sampleRate: 22_050, channels: 2, samples: .float(floats))
        #expect(try AudioFile.decode(AudioFile.encode(float, as: .wav)) == float)
        let doubles = (0..<999).map { _ in Double(Int64(bitPattern: rng.next())) / 0x1p63 }
        let double = Audio(sampleRate: 96_000, channels: 3, samples: .double(doubles))
        #expect(try AudioFile.decode(AudioFile.encode(double, as: .wav)) == double)
    }

    @Test(arguments: [8, 16, 24])
    func flacRoundTripIsExact(bits: Int) throws {
        var audio = randomPCM(frames: 4_097, channels: 2, bits: bits, seed: UInt64(bits))
        audio.source = .flac
        audio.sampleRate = 48_000
        let flac = try AudioFile.encode(audio, as: .flac)
        #expect(FileFormat.detect(flac) == .flac)
        #expect(try AudioFile.decode(flac) == audio)
    }

    @Test func flacOfFloatsIsSixteenBitPCM() throws {
        let floats: [Float] = [0, 0.5, -0.5, 1, -1, 2, -2, 1.0 / 65_536, .nan]
        let audio = Audio(sampleRate: 8_000, channels: 1, floats: floats, source: .flac)
        let decoded = try AudioFile.decode(AudioFile.encode(audio, as: .flac))
        #expect(decoded.samples == audio.quantized(bits: 16).samples)
        let expected: [Int32] = [0, 16_384, -16_384, 32_767, -32_768, 32_767, -32_768, 1, 0].map { $0 << 16 }  // 0.5 rounds away from 0
        #expect(decoded.samples == .integer(bits: 16, expected))
        #expect(throws: MediaError.self) { try AudioFile.encode(randomPCM(frames: 10, channels: 1, bits: 32, seed: 1), as: .flac) }
    }

    /// A 440 Hz tone through a lossy codec: same rate, channels and length, and still the tone.
    @Test(arguments: [AudioSource.oggVorbis, .oggOpus])
    func oggDecodesToTheSameTone(codec: AudioSource) throws {
        let rate = 48_000
        let tone = (0..<rate).map { Float(0.5 * sin(2 * Double.pi * 440 * Double($0) / Double(rate))) }
        let audio = Audio(sampleRate: rate, channels: 1, floats: tone, source: codec)
        let ogg = try AudioFile.encode(audio, as: .ogg)
        #expect(FileFormat.detect(ogg) == .ogg)
        let decoded = try AudioFile.decode(ogg)
        #expect(decoded.source == codec)
        #expect(decoded.sampleRate == rate && decoded.channels == 1)
        #expect(abs(decoded.frames - rate) <= rate / 100, "\(decoded.frames) frames")
        guard case .float(let out) = decoded.samples else { Issue.record("lossy audio should decode as float"); return }
        // Best alignment within ±1000 samples (codec delay), then the signal-to-noise ratio.
        let middle = rate / 4..<3 * rate / 4
        var best = -Double.infinity
        for lag in -1000...1000 {
            var signal = 0.0, noise = 0.0
            for i in middle where i + lag >= 0 && i + lag < out.count {
                signal += Double(tone[i] * tone[i])
                noise += Double((out[i + lag] - tone[i]) * (out[i + lag] - tone[i]))
            }
            best = max(best, 10 * log10(signal / max(noise, 1e-20)))
        }
        #expect(best > 15, "SNR \(best) dB")
    }

    @Test func opusRefusesRatesItCannotCode() {
        let audio = Audio(sampleRate: 44_100, channels: 1, floats: [0, 0, 0], source: .oggOpus)
        #expect(throws: MediaError.self) { try AudioFile.encode(audio, as: .ogg) }
    }

    @Test func everyTruncatedWAVIsAnError() throws {
        let wav = try AudioFile.encode(randomPCM(frames: 300, channels: 2, bits: 16, seed: 5), as: .wav)
        for length in 0..<wav.count {
            #expect(throws: MediaError.self, "prefix of \(length) of \(wav.count) bytes") { try AudioFile.decode(Array(wav.prefix(length))) }
        }
    }

    @Test func truncatedFLACIsAnError() throws {
        var audio = randomPCM(frames: 20_000, channels: 2, bits: 16, seed: 9)
        audio.source = .flac
        let flac = try AudioFile.encode(audio, as: .flac)
        for length in stride(from: flac.count / 10, to: flac.count - 1, by: flac.count / 10) {
            #expect(throws: MediaError.self, "prefix of \(length) of \(flac.count) bytes") { try AudioFile.decode(Array(flac.prefix(length))) }
        }
    }

    @Test func corruptWAVHeadersAreErrors() throws {
        let wav = try AudioFile.encode(randomPCM(frames: 100, channels: 1, bits: 16, seed: 6), as: .wav)
        #expect(Array(wav[36..<40]) == Array("data".utf8), "expects the canonical 44-byte header")
        func corrupted(_ at: Int, _ bytes: [UInt8]) -> [UInt8] {
            var bad = wav
            bad.replaceSubrange(at..<at + bytes.count, with: bytes)
            return bad
        }
        let cases: [(String, [UInt8])] = [
            ("RIFF tag", corrupted(0, Array("RIFX".utf8).reversed())),
            ("WAVE tag", corrupted(8, Array("WAVF".utf8))),
            ("fmt chunk size", corrupted(16, [2, 0, 0, 0])),
            ("format tag", corrupted(20, [0x34, 0x12])),
            ("zero channels", corrupted(22, [0, 0])),
            ("zero sample rate", corrupted(24, [0, 0, 0, 0])),
            ("zero bits per sample", corrupted(34, [0, 0])),
            ("data tag", corrupted(36, Array("dada".utf8))),
            ("data size past the end", corrupted(40, [0xFF, 0xFF, 0, 0])),
        ]
        for (what, bad) in cases {
            #expect(throws: MediaError.self, "\(what)") { try AudioFile.decode(bad) }
        }
        // Any single damaged header byte: an error or audio of a sane shape, never a crash.
        for at in 0..<44 {
            for pattern: UInt8 in [0xFF, 0x80, 0x01] {
                var bad = wav
                bad[at] ^= pattern
                if let audio = try? AudioFile.decode(bad) {
                    #expect(audio.samples.count == audio.frames * audio.channels)
                }
            }
        }
    }

    @Test func integerDepthComesFromTheFile() throws {
        let audio = randomPCM(frames: 10, channels: 1, bits: 24, seed: 2)
        guard case .integer(let bits, _) = try AudioFile.decode(AudioFile.encode(audio, as: .wav)).samples else {
            Issue.record("24-bit PCM should decode as integers"); return
        }
        #expect(bits == 24)
    }

    @Test func quantizedKeepsTopBitsOfIntegers() {
        let audio = Audio(sampleRate: 8_000, channels: 1, samples: .integer(bits: 24, [0x1234_5600, -0x100]))
        #expect(audio.quantized(bits: 16).samples == .integer(bits: 16, [0x1234_0000, -0x10000]))
    }

    @Test func garbageIsAnError() {
        #expect(throws: MediaError.self) { try AudioFile.decode([]) }
        #expect(throws: MediaError.self) { try AudioFile.decode(Array("RIFF\u{0}\u{0}\u{0}\u{0}WAVEfmt ".utf8)) }
        #expect(throws: MediaError.self) { try AudioFile.decode(Array("fLaC".utf8) + [UInt8](repeating: 0, count: 64)) }
        #expect(throws: MediaError.self) { try AudioFile.decode(Array("OggS".utf8) + [UInt8](repeating: 7, count: 64)) }
    }
}

@Suite struct AudioEdgeCaseTests {
    /// Found by fuzz-media: a valid WAV with no frames must round-trip too.
    @Test(arguments: [8, 16, 24])
    func emptyAudioRoundTrips(bits: Int) throws {
        let audio = Audio(sampleRate: 11_025, channels: 1, samples: .integer(bits: bits, []))
        let wav = try AudioFile.encode(audio, as: .wav)
        #expect(try AudioFile.decode(wav) == audio)
    }
}
