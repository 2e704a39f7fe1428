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
let stereo20x = Result { try WaLLoCCodec(modelID: "walloc-stereo-20x", store: store) }

@Suite struct WaLLoCStereoTests {
    @Test func matchesPyTorch() throws {
        try expectMatchesGolden(try stereo5x.get(), model: "walloc-stereo-5x", latentChannels: 108)
    }

    @Test func matchesPyTorch20x() throws {
        try expectMatchesGolden(try stereo20x.get(), model: "walloc-stereo-20x", latentChannels: 27)
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
