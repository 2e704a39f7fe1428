import CodecKit
import Container
import Foundation
import MediaIO
import Metrics
import Neural
import Testing
import EntropyCoding
import TestSupport
@testable import VQGAN

/// The released `Codecs/vqgan-f16`, loaded once for all tests.
let released = Result { try VQGANCodec(modelID: "vqgan-f16", store: ModelStore(searchPaths: [repositoryRoot + "/Codecs"])) }

/// The released model against PyTorch on the golden vectors its export wrote from the same float16
/// weights (`Codecs/vqgan-f16/golden.safetensors`, a 64x96 synthetic picture and an 8x8 index
/// window per K), then the codec on a real photograph.
@Suite struct ReleasedModelTests {
    static let golden = Result { try SafeTensors(contentsOfFile: repositoryRoot + "/Codecs/vqgan-f16/golden.safetensors") }

    static func photo(_ name: String) throws -> Image {
        let bytes = try #require(FileManager.default.contents(atPath: repositoryRoot + "/SampleMedia/" + name))
        guard case .image(let image) = try MediaFile.decode(Array(bytes)) else { throw CodecError.internalFailure("not an image") }
        return image
    }

    static func msssim(_ a: Image, _ b: Media) -> Double {
        Fidelity(original: .image(a), decoded: b).msssim ?? 0
    }

    /// The trained network is deeper than the fixture and sums in another order than PyTorch, so
    /// its outputs agree to a relative 1e-3 (measured about 1e-5) rather than the fixture's 1e-4.
    @Test func networksMatchPyTorch() throws {
        let (model, golden) = (try released.get().model, try Self.golden.get())
        let input = try golden.tensor("input")
        #expect(worstError(model.encoder(input, path: .deterministic), try golden.tensor("latent")) < 1e-3)
        for k in [model.architecture.codes] + model.architecture.rateCodes {
            let expected = ints(try golden.tensor("indices.k\(k)"))
            // Nearest codes agree but where two codes are within float rounding of each other.
            let same = zip(model.encode(input, k: k), expected).filter { $0 == $1 }.count
            #expect(same >= expected.count - 1, "k=\(k): \(same) of \(expected.count) indices as PyTorch")
            let out = model.decode(expected, height: 4, width: 6, k: k)
            #expect(worstError(out, try golden.tensor("output.k\(k)")) < 1e-3, "k=\(k)")
        }
        for k in model.architecture.rateCodes {
            let index = try #require(model.indexModels[k])
            let coding = index.codingLogits(ints(try golden.tensor("prior.k\(k).indices")), height: 8, width: 8)
            #expect(worstError(coding, try golden.tensor("prior.k\(k).logits").reshaped([64, k])) < 1e-3, "k=\(k)")
            let restored = index.logits(ints(try golden.tensor("restore.k\(k).tokens")), height: 8, width: 8)
            #expect(worstError(restored, try golden.tensor("restore.k\(k).logits").reshaped([64, k])) < 1e-3, "k=\(k)")
        }
    }

    /// chelsea.png (451x300, not a multiple of 16: 29x19 indices) at every K: the index blocks under
    /// the learned prior cost less than the paper's log2(K) bits per index, the picture keeps its
    /// shape, and rate and fidelity stay near what the released model measured (2026-12-06: 726,
    /// 594, 462, 352 bytes; MS-SSIM 0.824, 0.806, 0.774, 0.720), so a broken model or coder fails.
    @Test(arguments: [(1024, 0.045, 0.80), (256, 0.037, 0.78), (64, 0.029, 0.75), (16, 0.022, 0.69)])
    func photoRoundTripAtEveryRate(k: Int, maxBitsPerPixel: Double, minMSSSIM: Double) throws {
        let codec = try released.get()
        let image = try Self.photo("chelsea.png")
        let file = try codec.encode(.image(image), options: CodecOptions(["k": "\(k)"]))
        let bytes = file.serialized()
        let bpp = Double(bytes.count * 8) / Double(image.width * image.height)
        let (grid, _, blocks) = try codec.readPayload(file.payload, width: image.width, height: image.height)
        let priorBits = 8 * blocks.map { $0.bytes!.count }.reduce(0, +)
        let fixedBits = Double(grid.rows * grid.columns) * log2(Double(k))
        #expect(Double(priorBits) < fixedBits, "k=\(k): \(priorBits) bits under the prior, \(fixedBits) at log2(K) each")
        let decoded = try codec.decode(try ContainerFile(parsing: bytes))
        #expect(MediaDescriptor(decoded) == file.media)
        #expect(bpp <= maxBitsPerPixel, "k=\(k): \(bpp) bits per pixel")
        #expect(Self.msssim(image, decoded) >= minMSSSIM, "k=\(k): MS-SSIM \(Self.msssim(image, decoded))")
        // Deterministic: the same file again.
        #expect(try codec.encode(.image(image), options: CodecOptions(["k": "\(k)"])).serialized() == bytes)
    }

    /// A fifth of the index blocks lost (unit 4: 8 of 40 blocks of 4x4 indices): restored by the
    /// index transformer, counted, and the picture stays near the undamaged decode (measured drop
    /// 0.145 MS-SSIM on 2026-12-06; issue 21's target, within 0.03 on Kodak's mean, is measured by
    /// `make bench-vqgan`).
    @Test func restorationOfAFifthOfTheBlocksStaysCloseToTheUndamagedDecode() throws {
        let codec = try released.get()
        let image = try Self.photo("chelsea.png")
        let file = try codec.encode(.image(image), options: CodecOptions(["k": "1024", "unit": "4"]))
        let clean = try codec.decode(file)
        // A byte flipped in the middle of each lost block (blocks end the payload, in order).
        let lengths = try codec.readPayload(file.payload, width: image.width, height: image.height).2.map { $0.bytes!.count }
        var rng = SplitMix64(seed: 21)
        let lost = Array(0..<lengths.count).shuffled(using: &rng).prefix(lengths.count / 5)
        var bytes = file.serialized()
        let payloadEnd = bytes.count - 4
        for b in lost { bytes[payloadEnd - lengths[b...].reduce(0, +) + lengths[b] / 2] ^= 0x5A }
        let damaged = try codec.decode(try ContainerFile(parsing: bytes, allowingPayloadDamage: true), strict: false)
        #expect(damaged.damagedBlocks == lost.count && damaged.blocks == lengths.count)
        let drop = Self.msssim(image, clean) - Self.msssim(image, damaged.media)
        #expect(drop < 0.2, "MS-SSIM drop \(drop) with \(lost.count) of \(lengths.count) blocks lost")
    }
}
