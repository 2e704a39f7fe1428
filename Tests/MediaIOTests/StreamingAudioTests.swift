import CSampleRate
import Foundation
import MediaIO
import Testing
import TestSupport

/// Audio block by block (`AudioReader`, `AudioWriter`, `AudioResampler`) gives exactly what the
/// whole-buffer calls give: the same samples read, the same file bytes written, the same
/// resampled samples as libsamplerate's one-call `src_simple`, and the same errors.
@Suite struct StreamingAudioTests {
    /// A smooth two-tone signal with a little deterministic noise, interleaved.
    static func signal(frames: Int, channels: Int, rate: Int) -> [Float] {
        var rng = SplitMix64(seed: 9)
        return (0..<frames * channels).map { i in
            let t = Double(i / channels) / Double(rate)
            let c = Double(i % channels)
            return Float(0.4 * sin(2 * .pi * (440 + 60 * c) * t) + 0.2 * sin(2 * .pi * 3100 * t))
                + Float(rng.next() % 1000) / 40_000
        }
    }

    /// Resampling as it was done before streaming: channels mixed (averaged) first, one
    /// `src_simple` call, then cut or padded to round(frames × ratio); duplicated to more channels after.
    static func reference(_ x: [Float], channels: Int, from rate: Int, to outRate: Int, outChannels: Int) -> [Float] {
        var mono = x, working = channels
        if outChannels < channels {
            mono = stride(from: 0, to: x.count, by: channels).map { f in
                var s: Float = 0
                for c in 0..<channels { s += x[f + c] }
                return s * (1 / Float(channels))
            }
            working = outChannels
        }
        let frames = mono.count / working, ratio = Double(outRate) / Double(rate)
        let wanted = Int((Double(frames) * ratio).rounded())
        var out = [Float](repeating: 0, count: (wanted + 16) * working)
        var generated = 0
        mono.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                var data = SRC_DATA()
                data.data_in = input.baseAddress
                data.data_out = output.baseAddress
                data.input_frames = frames
                data.output_frames = wanted + 16
                data.src_ratio = ratio
                data.end_of_input = 1
                #expect(src_simple(&data, Int32(SRC_SINC_BEST_QUALITY), Int32(working)) == 0)
                generated = data.output_frames_gen
            }
        }
        let kept = min(generated, wanted) * working
        var result = Array(out[0..<kept]) + [Float](repeating: 0, count: wanted * working - kept)
        if outChannels > working { result = result.flatMap { v in [Float](repeating: v, count: outChannels) } }
        return result
    }

    @Test(arguments: [(44_100, 2, 16_000, 1), (16_000, 1, 44_100, 2), (48_000, 1, 16_000, 1), (22_050, 1, 16_000, 1)])
    func blocksResampleExactlyAsOneCall(rate: Int, channels: Int, outRate: Int, outChannels: Int) throws {
        let frames = 20_011
        let x = Self.signal(frames: frames, channels: channels, rate: rate)
        let expected = Self.reference(x, channels: channels, from: rate, to: outRate, outChannels: outChannels)
        #expect(expected.count == Int((Double(frames) * Double(outRate) / Double(rate)).rounded()) * outChannels)
        let whole = try Audio(sampleRate: rate, channels: channels, floats: x).resampled(to: outRate, channels: outChannels)
        #expect(whole.floats == expected, "Audio.resampled")
        for block in [1, 7, 1000, 8192] {
            let r = try AudioResampler(from: rate, channels: channels, to: outRate, channels: outChannels)
            var out: [Float] = []
            for lo in stride(from: 0, to: frames, by: block) {
                out += try r.process(Array(x[(lo * channels)..<(min(frames, lo + block) * channels)]))
            }
            out += try r.finish()
            #expect(out == expected, "blocks of \(block) frames")
        }
    }

    func temporaryFile(_ bytes: [UInt8]) -> String {
        let path = NSTemporaryDirectory() + "audio-stream-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    /// Every block `AudioReader` gives for the file at `path`, joined; or its error.
    func readInBlocks(_ path: String, block: Int) throws(MediaError) -> Audio {
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let reader = try AudioReader(descriptor: fd)
        var samples = reader.emptySamples()
        while let b = try reader.read(maxFrames: block) { samples.append(b.samples) }
        #expect(reader.framesRead == samples.count / reader.channels)
        return Audio(sampleRate: reader.sampleRate, channels: reader.channels, samples: samples, source: reader.source)
    }

    @Test func aFileReadInBlocksIsTheFileReadWhole() throws {
        let cases: [(Audio, FileFormat)] = [
            (randomPCM(frames: 70_001, channels: 2, bits: 16, seed: 3), .wav),
            (randomPCM(frames: 9_000, channels: 1, bits: 24, seed: 4), .flac),
            (Audio(sampleRate: 16_000, channels: 1, floats: Self.signal(frames: 5_000, channels: 1, rate: 16_000)), .wav),
        ]
        for (audio, format) in cases {
            let bytes = try AudioFile.encode(audio, as: format)
            let path = temporaryFile(bytes)
            defer { try? FileManager.default.removeItem(atPath: path) }
            for block in [1000, AudioReader.blockFrames] {
                #expect(try readInBlocks(path, block: block) == AudioFile.decode(bytes), "\(format) in blocks of \(block)")
            }
        }
    }

    @Test func damagedFilesFailInBlocksAsWhole() throws {
        let wav = try AudioFile.encode(randomPCM(frames: 3000, channels: 2, bits: 16, seed: 5), as: .wav)
        let flac = try AudioFile.encode(randomPCM(frames: 3000, channels: 1, bits: 16, seed: 6), as: .flac)
        for bad in [Array(wav.prefix(wav.count - 7)), Array(wav.prefix(40)), Array(flac.prefix(flac.count / 2)), Array(wav.prefix(12))] {
            let path = temporaryFile(bad)
            defer { try? FileManager.default.removeItem(atPath: path) }
            var whole: MediaError? = nil, streamed: MediaError? = nil
            do { _ = try AudioFile.decode(bad) } catch { whole = error }
            do { _ = try readInBlocks(path, block: 500) } catch { streamed = error }
            #expect(whole != nil && streamed == whole, "\(String(describing: streamed)) vs \(String(describing: whole))")
        }
    }

    @Test func aFileWrittenInBlocksIsTheFileWrittenWhole() throws {
        let cases: [(Audio, FileFormat)] = [
            (randomPCM(frames: 30_001, channels: 2, bits: 16, seed: 7), .wav),
            (randomPCM(frames: 30_001, channels: 1, bits: 24, seed: 8), .flac),
            (Audio(sampleRate: 16_000, channels: 1, floats: Self.signal(frames: 9_000, channels: 1, rate: 16_000)), .wav),
            (Audio(sampleRate: 16_000, channels: 1, floats: Self.signal(frames: 9_000, channels: 1, rate: 16_000)), .flac),
        ]
        for (audio, format) in cases {
            let path = temporaryFile([])
            defer { try? FileManager.default.removeItem(atPath: path) }
            let fd = open(path, O_WRONLY)
            let writer = try AudioWriter(descriptor: fd, as: format, like: audio, frames: audio.frames)
            let all = audio.samples, c = audio.channels
            for lo in stride(from: 0, to: audio.frames, by: 4097) {
                let r = (lo * c)..<(min(audio.frames, lo + 4097) * c)
                let part: Audio.Samples = switch all {
                case .integer(let bits, let s): .integer(bits: bits, Array(s[r]))
                case .float(let s): .float(Array(s[r]))
                case .double(let s): .double(Array(s[r]))
                }
                try writer.write(Audio(sampleRate: audio.sampleRate, channels: c, samples: part, source: audio.source))
            }
            try writer.finish()
            close(fd)
            let written = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
            #expect(written == (try AudioFile.encode(audio, as: format)), "\(format)")
        }
    }
}
