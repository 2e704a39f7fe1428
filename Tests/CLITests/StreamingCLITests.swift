import Container
import Foundation
import MediaIO
import Testing
import TestSupport

/// `codec encode`/`decode` with a streaming audio codec (grvq-16k): a WAV/FLAC file on disk is
/// encoded block by block and decoded block by block into the output file; standard input and
/// output take the whole-file path. Both give the same bytes, and every bad input fails the
/// same way on both, leaving no output behind.
@Suite struct StreamingCLITests {
    let cli: CLITests

    init() throws { cli = try CLITests() }

    /// Speech-like 16-bit audio: a gliding pulse train under a syllable envelope.
    static func speech(rate: Int, channels: Int, frames: Int) -> Audio {
        var phase = 0.0
        var s = [Int32](repeating: 0, count: frames * channels)
        for i in 0..<frames {
            let t = Double(i) / Double(rate)
            phase += (110 + 40 * sin(2 * .pi * 0.3 * t)) / Double(rate)
            var v = 0.0
            for k in 1..<12 { v += sin(2 * .pi * Double(k) * phase) / Double(k) }
            v *= 0.15 * (0.6 + 0.4 * sin(2 * .pi * 3 * t))
            for c in 0..<channels { s[i * channels + c] = Int32(v * (1 - 0.2 * Double(c)) * 32767) << 16 }
        }
        return Audio(sampleRate: rate, channels: channels, samples: .integer(bits: 16, s))
    }

    @Test func streamedFilesEqualTheWholeFilePath() throws {
        let wav = try AudioFile.encode(Self.speech(rate: 44_100, channels: 2, frames: 12 * 44_100 + 77), as: .wav)
        let input = cli.write("long.wav", wav)
        let streamed = cli.run(["encode", "--codec", "grvq-16k", "-p", "kbps=2", input, "-o", "\(cli.dir)/long.nc", "-q"])
        #expect(streamed.status == 0, "\(streamed.stderr)")
        let whole = cli.run(["encode", "--codec", "grvq-16k", "-p", "kbps=2", "-", "-o", "-", "-q"], stdin: wav)
        #expect(whole.status == 0, "\(whole.stderr)")
        #expect(cli.read("long.nc") == whole.stdout)

        let decoded = cli.run(["decode", "\(cli.dir)/long.nc", "-o", "\(cli.dir)/back.wav", "-q"])
        #expect(decoded.status == 0, "\(decoded.stderr)")
        let toStdout = cli.run(["decode", "-", "-o", "-", "-q"], stdin: whole.stdout)
        #expect(toStdout.status == 0)
        let back = try #require(cli.read("back.wav"))
        #expect(back == toStdout.stdout)
        #expect(try AudioFile.decode(back).frames == 12 * 44_100 + 77)
        // FLAC output, block by block, holds the same samples.
        #expect(cli.run(["decode", "\(cli.dir)/long.nc", "-o", "\(cli.dir)/back.flac", "-q"]).status == 0)
        #expect(try AudioFile.decode(cli.read("back.flac") ?? []).samples == AudioFile.decode(back).samples)
        // No temporary left beside the outputs.
        let left = try FileManager.default.contentsOfDirectory(atPath: cli.dir).filter { $0.hasPrefix(".") }
        #expect(left.isEmpty, "\(left)")
    }

    @Test func badAudioFailsAsOnTheWholeFilePath() throws {
        let flac = try AudioFile.encode(Self.speech(rate: 16_000, channels: 1, frames: 20_000), as: .flac)
        let wav = try AudioFile.encode(Self.speech(rate: 16_000, channels: 1, frames: 20_000), as: .wav)
        let cases: [(String, [UInt8])] = [
            ("empty.wav", []),
            ("one.wav", try AudioFile.encode(Self.speech(rate: 16_000, channels: 1, frames: 1), as: .wav)),
            ("eight.wav", try AudioFile.encode(Self.speech(rate: 16_000, channels: 8, frames: 8_000), as: .wav)),
            ("hi.wav", try AudioFile.encode(Self.speech(rate: 192_000, channels: 1, frames: 19_200), as: .wav)),
            ("lo.flac", try AudioFile.encode(Self.speech(rate: 8_000, channels: 1, frames: 4_000), as: .flac)),
            ("cut.flac", Array(flac.prefix(flac.count / 2))),
            ("cut.wav", Array(wav.prefix(wav.count - 101))),
            ("header.wav", Array(wav.prefix(30))),
        ]
        for (name, bytes) in cases {
            let input = cli.write(name, bytes)
            let file = cli.run(["encode", "--codec", "grvq-16k", input, "-o", "\(cli.dir)/\(name).nc", "-q"])
            if bytes.isEmpty {
                // Not audio (no signature), so never streamed; a name saying WAV makes it an error.
                #expect(file.status == 2 && file.stderr.contains("empty") && !cli.exists("\(name).nc"), "\(file.stderr)")
                continue
            }
            let piped = cli.run(["encode", "--codec", "grvq-16k", "-", "-o", "-", "-q"], stdin: bytes)
            #expect(file.status == piped.status, "\(name): \(file.stderr) vs \(piped.stderr)")
            if file.status == 0 {
                #expect(cli.read("\(name).nc") == piped.stdout, "\(name)")
                let back = cli.run(["decode", "\(cli.dir)/\(name).nc", "-o", "\(cli.dir)/\(name).out.wav", "-q"])
                #expect(back.status == 0, "\(name): \(back.stderr)")
            } else {
                #expect(!cli.exists("\(name).nc"), "\(name)")
                // The same message, naming the file instead of standard input ("-", and the name
                // check a file name adds for an empty file).
                #expect(file.stderr.replacingOccurrences(of: input, with: "-").contains(
                    piped.stderr.replacingOccurrences(of: "error: -: ", with: "")), "\(name): \(file.stderr) vs \(piped.stderr)")
            }
        }
    }

    @Test func aDamagedContainerLeavesNoOutput() throws {
        let wav = try AudioFile.encode(Self.speech(rate: 16_000, channels: 1, frames: 48_000), as: .wav)
        let input = cli.write("s.wav", wav)
        #expect(cli.run(["encode", "--codec", "grvq-16k", input, "-o", "\(cli.dir)/s.nc", "-q"]).status == 0)
        let nc = try #require(cli.read("s.nc"))
        for (name, bad) in [("cut.nc", Array(nc.prefix(nc.count - 9))), ("flip.nc", flipped(nc))] {
            let path = cli.write(name, bad)
            let r = cli.run(["decode", path, "-o", "\(cli.dir)/\(name).wav", "-q"])
            #expect(r.status == 2, "\(name): \(r.stderr)")
            #expect(!cli.exists("\(name).wav"))
            let left = try FileManager.default.contentsOfDirectory(atPath: cli.dir).filter { $0.hasPrefix(".") }
            #expect(left.isEmpty, "\(left)")
        }
    }

    /// A payload byte changed and the CRC resealed, so the damage reaches the codec.
    func flipped(_ nc: [UInt8]) -> [UInt8] {
        guard var file = try? ContainerFile(parsing: nc) else { return nc }
        var payload = file.payload
        payload[payload.count / 2] ^= 0x5A
        payload[9] ^= 0x11
        file.payload = payload
        return file.serialized()
    }
}
