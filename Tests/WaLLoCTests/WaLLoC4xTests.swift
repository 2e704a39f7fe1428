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
    @Test func matchesPyTorch() throws {
        try expectMatchesGolden(try rgb4x.get(), model: "walloc-rgb-4x", latentChannels: 48)
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
