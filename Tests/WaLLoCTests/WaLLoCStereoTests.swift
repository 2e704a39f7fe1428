import CodecKit
import Container
import Foundation
import MediaIO
import Metrics
import Neural
import Testing
import TestSupport
@testable import WaLLoC

/// The released stereo model at 5x, loaded once for these tests.
let stereo5x = Result { try WaLLoCCodec(modelID: "walloc-stereo-5x", store: store) }

@Suite struct WaLLoCStereoTests {
    /// Swift against the PyTorch model on the golden stereo input exported with the weights.
    @Test func matchesPyTorch() throws {
        let codec = try stereo5x.get()
        let golden = try SafeTensors(contentsOfFile: repositoryRoot + "/Codecs/walloc-stereo-5x/golden.safetensors")
        let input = try golden.tensor("input"), latents = try golden.tensor("latents"), output = try golden.tensor("output")
        let frames = input.shape[2]
        #expect(latents.shape[1] == 108)
        // Latents: equal but for a rare ±1 where PyTorch's float sum lands across a rounding boundary.
        let swiftLatents = codec.model.encode(input.scalars, height: 1, width: frames)
        let diffs = zip(swiftLatents, latents.scalars).map { abs(Float($0) - $1) }
        #expect(diffs.max()! <= 1)
        #expect(diffs.filter { $0 > 0 }.count * 100 <= diffs.count)
        let decoded = codec.model.decode(latents.scalars.map { Int8($0) }, height: 1, width: frames / 256)
        #expect(zip(decoded, output.scalars).map { abs($0 - $1) }.max()! < 2e-3)
    }

    /// The sample melody (stereo FLAC) codes at more than 10:1 and keeps its waveform.
    @Test func musicRoundTrip() throws {
        let codec = try stereo5x.get()
        guard case .audio(let audio) = try MediaFile.decode(Array(FileManager.default.contents(atPath: repositoryRoot + "/SampleMedia/melody.flac")!)) else { throw CodecError.internalFailure("not audio") }
        let file = try ContainerFile(parsing: try codec.encode(.audio(audio), options: CodecOptions()).serialized())
        let decoded = try codec.decodeChecked(file)
        #expect(MediaDescriptor(decoded) == MediaDescriptor(.audio(audio)))
        let fidelity = Fidelity(original: .audio(audio), decoded: decoded)
        #expect(Double(audio.frames * audio.channels * 2) / Double(file.serialized().count) > 10)
        #expect((fidelity.snr ?? 0) > 15)
    }
}
