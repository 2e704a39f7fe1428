import CodecKit
import Container
import Foundation
import MediaIO
import Testing
import TestSupport
@testable import GRVQ

/// Chunked coding equals whole-file coding: the indices (deterministic path) and the decoded
/// samples for chunks of every size, down to one frame, because each chunk's context covers the
/// networks' receptive fields (`encoderContextFrames`, `decoderContextFrames`).
struct StreamingTests {
    // 2.4 s, not a whole number of frames.
    static let signal = speechlike(samples: 38_517)

    @Test func indicesDoNotDependOnTheChunkSize() throws {
        let codec = try Released.codec.get(), levels = codec.model.architecture.levels
        let f = codec.frames(Self.signal.count)
        let whole = codec.indices(Self.signal, frames: 0..<f, levels: levels)
        for chunk in [1, 7, 40] {
            let streams = codec.encodeChunks(Self.signal, levels: levels, chunkFrames: chunk)
            #expect(streams.count == (f + chunk - 1) / chunk)
            var joined = [UInt16](repeating: 0, count: whole.count)
            let blocks = codec.model.architecture.groups * levels
            for (c, stream) in streams.enumerated() {
                let lo = c * chunk, n = min(f, lo + chunk) - lo
                let part = try codec.model.indexCoder.decode(stream, levels: levels, frames: n)
                for b in 0..<blocks { for t in 0..<n { joined[b * f + lo + t] = part[b * n + t] } }
            }
            #expect(joined == whole, "chunks of \(chunk) frames")
        }
    }

    @Test func samplesDoNotDependOnTheChunkSize() throws {
        let codec = try Released.codec.get(), levels = 2
        let f = codec.frames(Self.signal.count)
        let indices = codec.indices(Self.signal, frames: 0..<f, levels: levels)
        let whole = codec.reconstruct(indices, levels: levels, samples: Self.signal.count, chunkFrames: f)
        #expect(whole.count == Self.signal.count)
        for chunk in [1, 9, 50] {
            #expect(codec.reconstruct(indices, levels: levels, samples: Self.signal.count, chunkFrames: chunk) == whole,
                    "chunks of \(chunk) frames")
        }
    }

    /// A long file coded as the CLI codes it, block by block from disk (`encode(_: AudioReader)`)
    /// and to disk (`decode(_:blocks:)` through an `AudioWriter`), gives the container bytes and
    /// decoded samples of the whole-buffer path as it was before streaming: the whole signal
    /// resampled at once, `encodeChunks`, `reconstruct`, resampled back and restored.
    /// 44.1 kHz stereo, 31.3 s: 7 chunks and 21 reader blocks, neither aligned with the other.
    @Test(arguments: [(44_100, 2, 1_380_330, 3), (16_000, 1, 180_007, 1)])
    func streamingAFileEqualsCodingItWhole(rate: Int, channels: Int, frames: Int, kbps: Int) throws {
        let codec = try Released.codec.get()
        let input = audio(rate: rate, channels: channels, frames: frames)
        let wav = try AudioFile.encode(input, as: .wav)
        let dir = NSTemporaryDirectory() + "grvq-stream-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = FileManager.default.createFile(atPath: dir + "/in.wav", contents: Data(wav))

        // Today's path, from its parts.
        let options = CodecOptions(["kbps": "\(kbps)"])
        let samples = try input.resampled(to: 16_000, channels: 1).floats
        var w = ByteWriter()
        w.u8(1); w.u8(UInt8(kbps)); w.u32(UInt32(samples.count)); w.u16(UInt16(GRVQCodec.chunkFrames))
        for stream in codec.encodeChunks(samples, levels: kbps, chunkFrames: GRVQCodec.chunkFrames) { w.u32(UInt32(stream.count)); w.bytes(stream) }
        let reference = ContainerFile(codecID: GRVQCodec.codecID, modelID: codec.model.id, modelHash: codec.model.identity.hash,
                                      media: MediaDescriptor(.audio(input)), payload: w.data).serialized()

        // Streamed from the file on disk, and whole from memory.
        let fd = open(dir + "/in.wav", O_RDONLY)
        let streamed = try codec.encode(try AudioReader(descriptor: fd), options: options).serialized()
        close(fd)
        #expect(streamed == reference)
        #expect(try codec.encode(.audio(input), options: options).serialized() == reference)

        // Decoded to a file block by block, against the parts and the whole-buffer decode.
        let file = try ContainerFile(parsing: streamed)
        let p = try codec.payload(of: file)
        let rebuilt = try Audio(sampleRate: 16_000, channels: 1,
                                floats: codec.reconstruct(p.indices, levels: p.levels, samples: p.samples, chunkFrames: p.chunkFrames))
            .resampled(to: rate, channels: channels)
            .restored(frames: frames, sampleFormat: 16, source: .wav, codec: "grvq")
        guard case .audio(let whole) = try codec.decodeChecked(file) else { throw CodecError.internalFailure("not audio") }
        #expect(whole == rebuilt)
        let out = open(dir + "/out.wav", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let writer = try AudioWriter(descriptor: out, as: .wav, like: whole, frames: frames)
        var blocks = 0
        try codec.decodeChecked(file) { (block: Audio) throws(CodecError) in
            blocks += 1
            do throws(MediaError) { try writer.write(block) } catch { throw .media(error) }
        }
        try writer.finish()
        close(out)
        #expect(blocks > 2)
        let written = [UInt8](FileManager.default.contents(atPath: dir + "/out.wav") ?? Data())
        #expect(try AudioFile.decode(written) == rebuilt)
        #expect(written == (try AudioFile.encode(rebuilt, as: .wav)))
    }
}
