import CodecKit
import Container
import Foundation
import MediaIO
import Metrics
import Neural
import Testing
import TestSupport
@testable import WaLLoC
import Wavelets

let store = ModelStore(searchPaths: [repositoryRoot + "/Codecs"])

/// The released RGB model, loaded once for all tests.
let rgb16x = Result { try WaLLoCCodec(modelID: "walloc-rgb-16x", store: store) }

func psnr(_ a: Image, _ b: Image) -> Double { Fidelity(original: .image(a), decoded: .image(b)).psnr ?? 0 }

func roundTrip(_ codec: WaLLoCCodec, _ media: Media) throws -> (Media, ContainerFile) {
    let file = try codec.encode(media, options: CodecOptions())
    let parsed = try ContainerFile(parsing: file.serialized())
    return (try codec.decode(parsed), parsed)
}

@Suite struct WaLLoCParityTests {
    /// Swift against the PyTorch model on the golden input exported with the weights.
    @Test func matchesPyTorch() throws {
        let codec = try rgb16x.get()
        let golden = try SafeTensors(contentsOfFile: repositoryRoot + "/Codecs/walloc-rgb-16x/golden.safetensors")
        let input = try golden.tensor("input"), bands = try golden.tensor("bands")
        let swiftBands = WaveletPacket.forward2D(input.scalars, channels: 3, height: input.shape[2], width: input.shape[3], levels: 3)
        #expect(zip(swiftBands, bands.scalars).map { abs($0 - $1) }.max()! < 1e-4)
        try expectMatchesGolden(codec, model: "walloc-rgb-16x", latentChannels: 12)
    }

    /// The latent prior's integer predictions and contexts equal Python's (walloc_prior.py) on
    /// the golden latents of a larger synthetic image, and the coder round-trips them.
    @Test func priorMatchesPython() throws {
        let codec = try rgb16x.get()
        let golden = try SafeTensors(contentsOfFile: repositoryRoot + "/Codecs/walloc-rgb-16x/golden.safetensors")
        let latents = try golden.tensor("prior_latents")
        let (h, w) = (latents.shape[1], latents.shape[2])
        let q = latents.scalars.map { Int8($0) }
        #expect(Set(q).count > 10, "the golden latents should exercise many values")
        let (prediction, context) = codec.model.latentCoder.predictions(q, height: h, width: w)
        #expect(prediction == (try golden.tensor("prior_prediction")).scalars.map { Int32($0) })
        #expect(context == (try golden.tensor("prior_context")).scalars.map { Int($0) })
        #expect(Set(context).count > 5)
        let stream = codec.model.latentCoder.encode(q, height: h, width: w)
        #expect(try codec.model.latentCoder.decode(stream, height: h, width: w) == q)
    }
}

@Suite struct WaLLoCCodecTests {
    @Test func photoRoundTrip() throws {
        let codec = try rgb16x.get()
        guard case .image(let image) = try MediaFile.decode(Array(FileManager.default.contents(atPath: repositoryRoot + "/SampleMedia/chelsea.png")!)) else { throw CodecError.internalFailure("not an image") }
        let (decoded, file) = try roundTrip(codec, .image(image))
        guard case .image(let out) = decoded else { throw CodecError.internalFailure("not an image") }
        #expect(MediaDescriptor(decoded) == file.media)
        let ratio = Double(image.samples.count) / Double(file.serialized().count)
        #expect(psnr(image, out) > 24)
        #expect(ratio > 16)
        // Deterministic: the same bytes again.
        #expect(try codec.encode(.image(image), options: CodecOptions()).payload == file.payload)
    }

    @Test func grayAlphaAndSixteenBit() throws {
        let codec = try rgb16x.get()
        var rng = SplitMix64(seed: 3)
        for (channels, depth) in [(1, 8), (2, 8), (4, 8), (3, 16), (4, 16)] {
            let (w, h) = (21, 13)
            let maxValue = UInt64((1 << depth) - 1)
            var samples: [UInt16] = []
            for y in 0..<h {
                for x in 0..<w {
                    for c in 0..<channels {
                        let isAlpha = channels % 2 == 0 && c == channels - 1
                        samples.append(UInt16(isAlpha ? rng.next() % (maxValue + 1) : UInt64(x * 7 + y * 3 + c * 40) * maxValue / 300))
                    }
                }
            }
            let image = Image(width: w, height: h, channels: channels, bitDepth: depth, samples: samples)
            let (decoded, file) = try roundTrip(codec, .image(image))
            guard case .image(let out) = decoded else { throw CodecError.internalFailure("not an image") }
            #expect(MediaDescriptor(decoded) == file.media)
            if channels % 2 == 0 {
                let alpha = stride(from: channels - 1, to: samples.count, by: channels)
                #expect(alpha.allSatisfy { out.samples[$0] == samples[$0] }, "alpha must be exact")
            }
            #expect(psnr(image, out) > 15, "\(channels) channels, \(depth) bits")
        }
    }

    @Test(arguments: [(1, 1), (1, 1000), (1000, 1), (9, 17)])
    func oddSizes(width: Int, height: Int) throws {
        let codec = try rgb16x.get()
        let image = Image(width: width, height: height, channels: 3, bitDepth: 8,
                          samples: (0..<(width * height * 3)).map { UInt16($0 % 251) })
        let (decoded, _) = try roundTrip(codec, .image(image))
        #expect(MediaDescriptor(decoded) == MediaDescriptor(.image(image)))
    }

    /// The encoder reads images a row at a time, converted and padded on the fly; its bands (bit
    /// for bit) and latents equal those of the whole padded planes built the plain way (x/max − 0.5, gray feeding all
    /// three, last row and column repeated), for RGB, gray + alpha at 16 bits and RGBA of sizes
    /// that need padding on both sides.
    @Test(arguments: [(3, 8, 9, 17), (2, 16, 13, 5), (4, 8, 16, 8)])
    func rowSourceEqualsWholePlanes(channels: Int, bitDepth: Int, width: Int, height: Int) throws {
        let codec = try rgb16x.get()
        let image = Image(width: width, height: height, channels: channels, bitDepth: bitDepth,
                          samples: (0..<(width * height * channels)).map { UInt16(($0 * 7919) % (1 << bitDepth)) })
        let grid = LatentGrid(image: width, height, stride: 8)
        let (pw, ph) = (grid.paddedWidth, grid.paddedHeight)
        var planes = [Float](repeating: 0, count: 3 * ph * pw)
        for p in 0..<3 {
            for y in 0..<ph {
                for x in 0..<pw {
                    let v = image.samples[(min(y, height - 1) * width + min(x, width - 1)) * channels + (channels >= 3 ? p : 0)]
                    planes[(p * ph + y) * pw + x] = Float(v) * (1 / Float(image.maxValue)) - 0.5
                }
            }
        }
        let bands = WaLLoCCodec.withColorRows(image, padded: grid) { row in
            WaveletPacket.forward2D(channels: 3, height: ph, width: pw, levels: 3, row: row)
        }
        #expect(bands.map(\.bitPattern) == WaveletPacket.forward2D(planes, channels: 3, height: ph, width: pw, levels: 3).map(\.bitPattern))
        let latents = WaLLoCCodec.withColorRows(image, padded: grid) { row in
            codec.model.encode(channels: 3, height: ph, width: pw, row: row)
        }
        #expect(latents == codec.model.encode(planes, height: ph, width: pw))
    }

    @Test func refusesWhatItCannotTake() throws {
        let codec = try rgb16x.get()
        #expect(throws: CodecError.unsupportedMedia(codec: "walloc-rgb-16x", kind: .audio, accepts: [.image])) {
            try codec.encode(.audio(Audio(sampleRate: 44100, channels: 2, floats: [0, 0])), options: CodecOptions())
        }
        #expect(throws: CodecError.self) { try codec.encode(.bytes([1, 2, 3]), options: CodecOptions()) }
    }

    @Test func latentsExportAndDecodeBack() throws {
        let codec = try rgb16x.get()
        let image = Image(width: 45, height: 30, channels: 3, bitDepth: 8, samples: (0..<(45 * 30 * 3)).map { UInt16($0 * 7 % 256) })
        let file = try codec.encode(.image(image), options: CodecOptions())
        let npy = try codec.export(file, as: "latents")
        let array = try NumPyArray(parsing: npy)
        #expect(array.dtype == .uint8 && array.shape == [12, 4, 6])
        #expect(codec.info.inputForms[0].recognizes(npy))
        // The latents are the encoder's: decoding them gives the container's reconstruction, padded.
        guard case .image(let fromNPY) = try codec.decode(npy, form: "latents"),
              case .image(let fromFile) = try codec.decode(file) else { throw CodecError.internalFailure("not images") }
        #expect(fromNPY.width == 48 && fromNPY.height == 32)
        for y in 0..<30 { for x in 0..<45 { for c in 0..<3 { #expect(fromNPY.samples[(y * 48 + x) * 3 + c] == fromFile.samples[(y * 45 + x) * 3 + c]) } } }
        // Hostile arrays: wrong channel count, a zero value, wrong dtype.
        #expect(!codec.info.inputForms[0].recognizes(NumPyArray(dtype: .uint8, shape: [11, 4, 6], values: .init(repeating: 128, count: 264)).serialized()))
        #expect(throws: CodecError.self) { try codec.decode(NumPyArray(dtype: .uint8, shape: [12, 1, 1], values: .init(repeating: 0, count: 12)).serialized(), form: "latents") }
        #expect(throws: CodecError.self) { try codec.decode(NumPyArray(dtype: .uint16, shape: [12, 1, 1], values: .init(repeating: 128, count: 12)).serialized(), form: "latents") }
    }

    @Test func hostileContainersFailCleanly() throws {
        let codec = try rgb16x.get()
        let image = Image(width: 40, height: 24, channels: 3, bitDepth: 8, samples: (0..<(40 * 24 * 3)).map { UInt16($0 % 256) })
        let file = try codec.encode(.image(image), options: CodecOptions())
        var cut = file
        cut.payload.removeLast(3)
        #expect(throws: CodecError.self) { try codec.decode(cut) }
        var flipped = file
        flipped.payload[flipped.payload.count / 2] ^= 0x5A
        #expect(throws: CodecError.self) { try codec.decode(flipped) }
        var otherShape = file
        otherShape.media = .image(width: 80, height: 24, channels: 3, bitDepth: 8)
        #expect(throws: CodecError.self) { try codec.decode(otherShape) }
        var otherModel = file
        otherModel.modelHash ^= 1
        #expect(throws: CodecError.self) { try codec.decode(otherModel) }
        var rng = SplitMix64(seed: 9)
        for _ in 0..<200 {
            var junk = file
            junk.payload = (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            _ = try? codec.decode(junk)  // must not crash
        }
    }
}
