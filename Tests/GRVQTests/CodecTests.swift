import CodecKit
import Container
import Foundation
import MediaIO
import Testing
import TestSupport
@testable import GRVQ

/// The index stream, edge inputs and damaged files.
struct IndexStreamTests {
    @Test(arguments: [(1, 1), (2, 7), (3, 250)]) func roundTripIsExact(levels: Int, frames: Int) throws {
        let coder = try Released.codec.get().model.indexCoder
        var rng = SplitMix64(seed: UInt64(levels * 1000 + frames))
        let indices = (0..<(coder.groups * levels * frames)).map { _ in UInt16(rng.next() % UInt64(coder.codes)) }
        let stream = coder.encode(indices, levels: levels, frames: frames)
        #expect(try coder.decode(stream, levels: levels, frames: frames) == indices)
        // rANS stays within a few bytes of the ideal code length under the tables.
        #expect(Double(stream.count * 8) <= coder.idealBits(indices, levels: levels, frames: frames) + 160)
    }

    @Test func damagedStreamsFailOrDecodeInRange() throws {
        let coder = try Released.codec.get().model.indexCoder
        var rng = SplitMix64(seed: 5)
        let indices = (0..<(coder.groups * 3 * 50)).map { _ in UInt16(rng.next() % UInt64(coder.codes)) }
        let stream = coder.encode(indices, levels: 3, frames: 50)
        for trial in 0..<200 {
            var bad = stream
            if trial < 100 { bad = Array(bad.prefix(Int(rng.next() % UInt64(bad.count)))) } else {
                bad[Int(rng.next() % UInt64(bad.count))] ^= UInt8(1 + rng.next() % 255)
            }
            do {
                let decoded = try coder.decode(bad, levels: 3, frames: 50)
                #expect(decoded.allSatisfy { Int($0) < coder.codes })  // a symbol is never outside the alphabet
            } catch {
                #expect(error.exitCode == 2)
            }
        }
    }
}

struct CodecRoundTripTests {
    func roundTrip(_ audio: Audio, _ options: [String: String] = [:]) throws -> (ContainerFile, Audio) {
        let codec = try Released.codec.get()
        let file = try ContainerFile(parsing: try codec.encode(.audio(audio), options: CodecOptions(options)).serialized())
        guard case .audio(let out) = try codec.decodeChecked(file) else { throw CodecError.internalFailure("not audio") }
        return (file, out)
    }

    /// Empty, one sample, 8 channels, 192 kHz, 8 kHz, 44.1 kHz stereo: each codes and comes back
    /// with the original's shape (rate, channels, frames, sample format).
    @Test(arguments: [(16000, 1, 0), (16000, 1, 1), (192000, 1, 1), (16000, 8, 8000), (192000, 2, 57_600), (8000, 1, 4000),
                      (44100, 2, 22_050)])
    func edgeInputsKeepTheirShape(rate: Int, channels: Int, frames: Int) throws {
        let input = audio(rate: rate, channels: channels, frames: frames)
        let (file, out) = try roundTrip(input, ["kbps": "2"])
        #expect(MediaDescriptor(.audio(out)) == MediaDescriptor(.audio(input)))
        if channels > 1 && frames > 0 {  // mono copied to every channel
            #expect((0..<out.frames).allSatisfy { i in (1..<channels).allSatisfy { out.floats[i * channels + $0] == out.floats[i * channels] } })
        }
        // `codec info` says what was done to fit the model's 16 kHz mono.
        let notes = try Released.codec.get().notes(file).joined(separator: "\n")
        #expect(notes.contains("2 of 3 residual levels"))
        #expect(notes.contains("resampled from \(rate) Hz") == (rate != 16000))
        #expect(notes.contains("\(channels) channels mixed to mono") == (channels > 1))
    }

    @Test func levelsSetTheRate() throws {
        let input = audio(rate: 16000, channels: 1, frames: 48_000)
        var sizes: [Int] = []
        for kbps in 1...3 {
            let (file, _) = try roundTrip(input, ["kbps": "\(kbps)"])
            sizes.append(file.payload.count)
            // No index costs more than 16 bits (every table frequency is at least 1 of 2^16): at
            // most 1.6 times the fixed 10-bit rate for the 150 frames, plus the headers.
            #expect(file.payload.count <= (2 * kbps * 150 * 16 + 7) / 8 + 8 + 4 + 8)
        }
        #expect(sizes[0] < sizes[1] && sizes[1] < sizes[2])
    }

    @Test(arguments: ["0", "4", "two"]) func badRateIsAUsageError(kbps: String) throws {
        let codec = try Released.codec.get()
        #expect(throws: CodecError.self) { try codec.encode(.audio(audio(rate: 16000, channels: 1, frames: 100)), options: CodecOptions(["kbps": kbps])) }
        do { _ = try codec.encode(.audio(audio(rate: 16000, channels: 1, frames: 100)), options: CodecOptions(["kbps": kbps])) } catch {
            #expect(error.exitCode == 1)
        }
    }

    @Test func imagesAreRefused() throws {
        let codec = try Released.codec.get()
        let image = Image(width: 2, height: 2, channels: 1, bitDepth: 8, samples: [0, 1, 2, 3])
        #expect(throws: CodecError.unsupportedMedia(codec: "grvq-16k", kind: .image, accepts: [.audio])) {
            try codec.encode(.image(image), options: CodecOptions())
        }
    }
}

/// Damaged containers: exit 2 (`CodecError.exitCode`), never a crash or a hang.
struct CorruptInputTests {
    static let file: Result<ContainerFile, any Error> = Result {
        try Released.codec.get().encode(.audio(audio(rate: 16000, channels: 1, frames: 100_000)), options: CodecOptions(["kbps": "3"]))
    }

    func decode(_ payload: [UInt8], media: MediaDescriptor? = nil) throws -> CodecError? {
        let codec = try Released.codec.get(), good = try Self.file.get()
        let file = ContainerFile(codecID: good.codecID, modelID: good.modelID, modelHash: good.modelHash, media: media ?? good.media, payload: payload)
        do { _ = try codec.decodeChecked(file); return nil } catch { return error }
    }

    @Test func everyTruncationFails() throws {
        let payload = try Self.file.get().payload
        for n in Array(0..<16) + Array(stride(from: 16, to: payload.count, by: 37)) + [payload.count - 1] {
            let error = try decode(Array(payload.prefix(n)))
            #expect(error?.exitCode == 2, "cut at \(n) of \(payload.count)")
        }
    }

    @Test func headerFieldsOutOfRangeFail() throws {
        let payload = try Self.file.get().payload
        func patched(_ offset: Int, _ bytes: [UInt8]) -> [UInt8] {
            var p = payload
            p.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
            return p
        }
        let cases: [(String, [UInt8])] = [
            ("layout 9", patched(0, [9])), ("0 levels", patched(1, [0])), ("4 levels (the model has 3)", patched(1, [4])),
            ("sample count disagrees with the header", patched(2, [0x00, 0x00, 0x01, 0x00])),
            ("0 frames per chunk", patched(6, [0, 0])), ("chunk longer than the payload", patched(8, [0xFF, 0xFF, 0xFF, 0x7F])),
            ("a byte after the last chunk", payload + [0]),
        ]
        for (what, p) in cases { #expect(try decode(p)?.exitCode == 2, "\(what)") }
    }

    @Test func frameCountDisagreeingWithTheHeaderFails() throws {
        let good = try Self.file.get()
        guard case let .audio(rate, channels, frames, format, source) = good.media else { return }
        for wrong in [frames + 1000, frames / 2, 0] {
            let error = try decode(good.payload, media: .audio(sampleRate: rate, channels: channels, frames: wrong, sampleFormat: format, source: source))
            #expect(error?.exitCode == 2, "header frames \(wrong)")
        }
    }

    @Test func randomDamageNeverCrashes() throws {
        let payload = try Self.file.get().payload
        var rng = SplitMix64(seed: 20)
        for _ in 0..<40 {
            var p = payload
            for _ in 0..<(1 + rng.next() % 4) { p[Int(rng.next() % UInt64(p.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            if let error = try decode(p) { #expect(error.exitCode == 2) }
        }
    }
}
