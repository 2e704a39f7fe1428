import CodecKit
import Container
import Foundation
import MediaIO
import Neural
import Testing
import TestSupport
@testable import WaLLoC

/// The audio path on a tiny stereo model with random weights written here (no audio model is
/// released yet): shapes, rates, channel counts and bad input, not quality.
struct AudioPathTests {
    static let codec: Result<WaLLoCCodec, any Error> = Result {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("walloc-audio-\(getpid())/walloc-tiny-stereo")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var rng = SplitMix64(seed: 11)
        func random(_ shape: [Int], scale: Float) -> Tensor {
            Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in (Float(rng.next() % 2001) / 1000 - 1) * scale })
        }
        let (bands, latent, width) = (512, 4, 8)
        var t: [String: Tensor] = [
            "encoder.weight": random([latent, bands, 1], scale: 0.5), "encoder.bias": random([latent], scale: 0),
            "decoder.conv_in.weight": random([width, latent, 3], scale: 0.1), "decoder.conv_in.bias": random([width], scale: 0),
            "decoder.norm_out.weight": random([width], scale: 1), "decoder.norm_out.bias": random([width], scale: 0),
            "decoder.conv_out.weight": random([bands, width, 3], scale: 0.01), "decoder.conv_out.bias": random([bands], scale: 0),
            "decoder.skip.weight": random([bands, latent, 1], scale: 0.01), "decoder.skip.bias": random([bands], scale: 0),
        ]
        for n in ["norm1", "norm2"] {
            t["decoder.blocks.0.\(n).weight"] = random([width], scale: 1)
            t["decoder.blocks.0.\(n).bias"] = random([width], scale: 0)
        }
        for n in ["conv1", "conv2"] {
            t["decoder.blocks.0.\(n).weight"] = random([width, width, 3], scale: 0.1)
            t["decoder.blocks.0.\(n).bias"] = random([width], scale: 0)
        }
        // A flat prior: 509 residual symbols, 128 each but for a larger zero (sum 2^16); predicts 0.
        var freq = [Float](repeating: 128, count: LatentCoder.alphabet)
        freq[2 * LatentCoder.maxLatent] += Float(65536 - 128 * LatentCoder.alphabet)
        t["prior.frequencies"] = Tensor(shape: [LatentCoder.contexts, LatentCoder.alphabet],
                                        scalars: Array((0..<LatentCoder.contexts).map { _ in freq }.joined()))
        t["prior.weights"] = Tensor(shape: [latent, 6 + 5 * (latent - 1)], scalars: [Float](repeating: 0, count: latent * (6 + 5 * (latent - 1))))
        try Data(SafeTensors.encode(t)).write(to: dir.appendingPathComponent("model.safetensors"))
        let config = #"{"codec": "walloc", "architecture": {"kind": "audio", "channels": 2, "levels": 8, "latent": 4, "width": 8, "blocks": 1, "groups": 2, "kernel": 3, "sample_rate": 44100}}"#
        try Data(config.utf8).write(to: dir.appendingPathComponent("codec.json"))
        return try WaLLoCCodec(modelID: "walloc-tiny-stereo", store: ModelStore(searchPaths: [dir.deletingLastPathComponent().path]))
    }

    func tone(rate: Int, channels: Int, frames: Int) -> Audio {
        let floats = (0..<(frames * channels)).map { i in Float(0.3 * sin(Double(i / channels) * 0.05) + (i % channels == 1 ? 0.1 : 0)) }
        let ints = floats.map { Int32($0 * 32767) << 16 }
        return Audio(sampleRate: rate, channels: channels, samples: .integer(bits: 16, ints), source: .flac)
    }

    @Test(arguments: [(44100, 2, 5000), (44100, 1, 300), (16000, 1, 4000), (48000, 2, 1), (22050, 2, 2048)])
    func roundTripKeepsTheShape(rate: Int, channels: Int, frames: Int) throws {
        let codec = try Self.codec.get()
        let audio = tone(rate: rate, channels: channels, frames: frames)
        let file = try ContainerFile(parsing: try codec.encode(.audio(audio), options: CodecOptions()).serialized())
        let decoded = try codec.decodeChecked(file)
        #expect(MediaDescriptor(decoded) == MediaDescriptor(.audio(audio)))
    }

    @Test func latentsOfAudio() throws {
        let codec = try Self.codec.get()
        let file = try codec.encode(.audio(tone(rate: 44100, channels: 2, frames: 1000)), options: CodecOptions())
        let array = try NumPyArray(parsing: try codec.export(file, as: "latents"))
        #expect(array.shape == [4, 4])
        guard case .audio(let a) = try codec.decode(array.serialized(), form: "latents") else { throw CodecError.internalFailure("not audio") }
        #expect(a.channels == 2 && a.frames == 1024 && a.sampleRate == 44100)
    }

    @Test func refusesWhatItCannotTake() throws {
        let codec = try Self.codec.get()
        #expect(throws: CodecError.self) { try codec.encode(.audio(tone(rate: 44100, channels: 8, frames: 100)), options: CodecOptions()) }
        let file = try codec.encode(.audio(tone(rate: 44100, channels: 2, frames: 1000)), options: CodecOptions())
        var lying = file
        lying.media = .audio(sampleRate: 44100, channels: 2, frames: 1_000_000, sampleFormat: 16, source: 1)
        #expect(throws: CodecError.self) { try codec.decode(lying) }
        var cut = file
        cut.payload = Array(cut.payload.prefix(9))
        #expect(throws: CodecError.self) { try codec.decode(cut) }
    }
}
