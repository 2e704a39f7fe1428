import CodecKit
import Container
import Foundation
import MediaIO
import Neural
import Testing
import TestSupport
@testable import WaLLoC
import Wavelets

/// The released 48-channel RGB model, loaded once for these tests.
let rgb4x = Result { try WaLLoCCodec(modelID: "walloc-rgb-4x", store: store) }

@Suite struct WaLLoC4xTests {
    /// Swift against the PyTorch model on the golden input exported with the weights.
    @Test func matchesPyTorch() throws {
        let codec = try rgb4x.get()
        let golden = try SafeTensors(contentsOfFile: repositoryRoot + "/Codecs/walloc-rgb-4x/golden.safetensors")
        let input = try golden.tensor("input"), latents = try golden.tensor("latents"), output = try golden.tensor("output")
        let (h, w) = (input.shape[2], input.shape[3])
        // Latents: equal but for a rare ±1 where PyTorch's float sum lands across a rounding boundary.
        let swiftLatents = codec.model.encode(input.scalars, height: h, width: w)
        let diffs = zip(swiftLatents, latents.scalars).map { abs(Float($0) - $1) }
        #expect(latents.shape[1] == 48)
        #expect(diffs.max()! <= 1)
        #expect(diffs.filter { $0 > 0 }.count * 100 <= diffs.count)
        let decoded = codec.model.decode(latents.scalars.map { Int8($0) }, height: h / 8, width: w / 8)
        #expect(zip(decoded, output.scalars).map { abs($0 - $1) }.max()! < 2e-3)
    }

    /// A photo codes at more than 4:1 and well above the 16x model's fidelity.
    @Test func photoRoundTrip() throws {
        let codec = try rgb4x.get()
        guard case .image(let image) = try MediaFile.decode(Array(FileManager.default.contents(atPath: repositoryRoot + "/SampleMedia/chelsea.png")!)) else { throw CodecError.internalFailure("not an image") }
        let (decoded, file) = try roundTrip(codec, .image(image))
        guard case .image(let out) = decoded else { throw CodecError.internalFailure("not an image") }
        #expect(MediaDescriptor(decoded) == file.media)
        #expect(Double(image.samples.count) / Double(file.serialized().count) > 4)
        #expect(psnr(image, out) > 30)
    }
}
