import Circuits
import CodecKit
import Container
import CZlib
import Foundation
import MediaIO
import PCCodec
import Testing
import TestSupport

/// 4x4 synthetic digits: a bright bar in a random row or column over a dark noisy background.
func barImages(_ n: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    func next() -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int(truncatingIfNeeded: (z ^ (z >> 31)) >> 1)
    }
    var pixels: [UInt8] = []
    for _ in 0..<n {
        let line = next() % 8
        for v in 0..<16 {
            let on = line < 4 ? v / 4 == line : v % 4 == line - 4
            pixels.append(on ? UInt8(180 + next() % 76) : UInt8(next() % 3 == 0 ? next() % 40 : 0))
        }
    }
    return pixels
}

/// A small PC learned by the real trainer on the synthetic images (shared by the tests).
let smallModel: HiddenChowLiuTree = {
    var options = TrainingOptions()
    options.stateCount = 4
    options.miniBatchEpochs = 2
    options.batchSize = 100
    options.fullBatchEpochs = 4
    let data = { (n: Int, s: UInt64) in try! Dataset(variableCount: 16, values: barImages(n, seed: s)) }
    return train(data(400, 1), validation: data(100, 2), options: options).model.roundedToHalf
}()
let smallCodec = try! PCCodec(model: smallModel, rows: 4, columns: 4, modelID: "pc-test", modelHash: 42)

func grayImage(_ pixels: some Collection<UInt8>, rows: Int = 4, columns: Int = 4) -> Media {
    .image(Image(width: columns, height: rows, channels: 1, bitDepth: 8, samples: pixels.map { UInt16($0) }))
}

@Suite struct PCCodecTests {
    @Test func imageRoundTripsExactly() throws {
        let pixels = barImages(30, seed: 9)
        for i in 0..<30 {
            let media = grayImage(pixels[(i * 16)..<((i + 1) * 16)])
            let file = try smallCodec.encode(media, options: CodecOptions())
            let reread = try ContainerFile(parsing: file.serialized())
            #expect(try smallCodec.decode(reread) == media)
        }
    }

    @Test func idxRoundTripsAndEachImageDecodesAlone() throws {
        let pixels = barImages(200, seed: 5)
        let idx = IDXImages(rows: 4, columns: 4, pixels: pixels).serialized()
        let file = try smallCodec.encode(.bytes(idx), options: CodecOptions())
        #expect(try smallCodec.decode(file) == .bytes(idx))
        for i in [0, 57, 199] {
            #expect(try smallCodec.decodeImage(at: i, of: file) == Array(pixels[(i * 16)..<((i + 1) * 16)]))
        }
        // The payload costs what the model says (-log2 p(x) per image) plus less than 8 bits per
        // image for the stream length table and the rANS tails (4.8 when written; layout 1 spent
        // 8 bits on each length byte alone).
        let marginals = Marginals(smallModel)
        var modelBits = 0.0
        for i in 0..<200 { modelBits -= marginals.logMarginal(pixels[(i * 16)..<((i + 1) * 16)].map(Int.init)) / log(2.0) }
        let payloadBits = Double(file.payload.count * 8)
        #expect(payloadBits > modelBits)
        #expect(payloadBits < modelBits + 200 * 8, "\((payloadBits - modelBits) / 200) bits per image above the model")
        // Deterministic: the same input gives the same bytes.
        #expect(try smallCodec.encode(.bytes(idx), options: CodecOptions()) == file)
    }

    /// One image: the payload is the layout byte and the image's stream, nothing else.
    @Test func oneImagePayloadHasNoTable() throws {
        let pixels = Array(barImages(1, seed: 12))
        let single = try smallCodec.encode(grayImage(pixels), options: CodecOptions())
        let idx = try smallCodec.encode(.bytes(IDXImages(rows: 4, columns: 4, pixels: pixels).serialized()), options: CodecOptions())
        #expect(single.payload == [2] + (try smallCodec.encodeImage(pixels[...])))
        #expect(idx.payload == single.payload)
        #expect(try smallCodec.decodeImage(at: 0, of: idx) == pixels)
    }

    /// The empty stream is the all-black image, so a header may declare many images in a few
    /// bytes; decoding them costs no model evaluation.
    @Test func manyBlackImagesAreAFewBytes() throws {
        let idx = IDXImages(rows: 4, columns: 4, pixels: [UInt8](repeating: 0, count: 16 * 100_000)).serialized()
        let file = try smallCodec.encode(.bytes(idx), options: CodecOptions())
        #expect(file.payload == [2, 0, 0, 0, 1, 0])  // version; shortest 0, span 0, centre 0, deviation ¼, no table bytes
        #expect(try smallCodec.decode(file) == .bytes(idx))
        #expect(try smallCodec.encode(.bytes(IDXImages(rows: 4, columns: 4, pixels: []).serialized()), options: CodecOptions()).payload == [2])
    }

    @Test func extremeImagesRoundTrip() throws {
        for pixels in [[UInt8](repeating: 0, count: 16), [UInt8](repeating: 255, count: 16), (0..<16).map { UInt8($0 * 17) }] {
            let file = try smallCodec.encode(grayImage(pixels), options: CodecOptions())
            #expect(try smallCodec.decode(file) == grayImage(pixels))
        }
    }

    @Test func wrongShapesAreRejectedNamingTheExpectedShape() {
        let bad: [Media] = [
            grayImage([UInt8](repeating: 0, count: 20), rows: 5, columns: 4),
            .image(Image(width: 4, height: 4, channels: 3, bitDepth: 8, samples: .init(repeating: 0, count: 48))),
            .image(Image(width: 4, height: 4, channels: 1, bitDepth: 16, samples: .init(repeating: 0, count: 16))),
            .bytes(IDXImages(rows: 3, columns: 3, pixels: .init(repeating: 0, count: 18)).serialized()),
            .bytes(Array("definitely not an IDX file".utf8)),
        ]
        for media in bad {
            #expect {
                _ = try smallCodec.encode(media, options: CodecOptions())
            } throws: { error in
                guard case CodecError.unsupportedShape(let why) = error else { return false }
                return why.contains("4x4 8-bit grayscale")
            }
        }
        #expect(throws: CodecError.self) {
            _ = try smallCodec.encode(.audio(Audio(sampleRate: 8000, channels: 1, floats: [0])), options: CodecOptions())
        }
    }

    @Test func corruptPayloadsAreRejected() throws {
        let idx = IDXImages(rows: 4, columns: 4, pixels: barImages(10, seed: 3)).serialized()
        let file = try smallCodec.encode(.bytes(idx), options: CodecOptions())
        func damaged(_ change: (inout [UInt8]) -> Void) -> ContainerFile {
            var f = file
            change(&f.payload)
            return f
        }
        // The table: shortest, span, centre, 4 x deviation, table bytes (one-byte varints here).
        #expect(file.payload[0] == 2 && file.payload[1...5].allSatisfy { $0 < 0x80 })
        let tableEnd = 6 + Int(file.payload[5])
        let cases = [
            damaged { $0.append(0) },                    // trailing bytes
            damaged { $0[0] = 1 },                       // layout 1 (this decoder reads layout 2 only)
            damaged { $0 = [] },
            damaged { $0 = [2] },                        // ten images, no table
            damaged { $0[1] = 0x7F },                    // shortest stream longer than the payload
            damaged { $0[2] = 0x7F },                    // span beyond the payload
            damaged { $0[3] = $0[2] + 1 },               // centre outside the span
            damaged { $0[4] = 0 },                       // deviation 0
            damaged { $0[5] = 0x7F },                    // table bytes beyond the payload
            damaged { $0[1...5] = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F] },  // a length near 2^31
            damaged { $0.removeSubrange(6..<tableEnd) }, // the table cut out
        ]
        for f in cases {
            #expect(throws: CodecError.self) { _ = try smallCodec.decode(f) }
        }
        // Every truncation is caught: the lengths no longer add up to the payload.
        for cut in 1..<file.payload.count {
            #expect(throws: CodecError.self, "cut \(cut)") { _ = try smallCodec.decode(damaged { $0.removeLast(cut) }) }
        }
        // Random damage (fixed seed): every decode either throws or returns a same-size IDX file;
        // none may crash or hang.
        var state: UInt64 = 99
        for _ in 0..<1000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            var f = file
            let position = Int(state >> 33) % f.payload.count
            f.payload[position] ^= UInt8(truncatingIfNeeded: state >> 17) | 1
            if state & 1 == 0 { f.payload.removeLast(Int(state >> 40) % 3) }
            if case .bytes(let b)? = try? smallCodec.decode(f) { #expect(b.count == idx.count) }
        }
        var other = file
        other.modelHash = 7
        #expect(throws: CodecError.modelMismatch(modelID: "pc-test", expectedHash: 7, foundHash: 42)) {
            _ = try smallCodec.decode(other)
        }
    }
}

// MARK: - The released model on real MNIST test images (skipped without ../shared or the model)

let mnistImages = repositoryRoot + "/../shared/data/perception/mnist/t10k-images-idx3-ubyte.gz"
let releasedModelPresent = FileManager.default.fileExists(atPath: repositoryRoot + "/Codecs/pc-mnist/codec.json")

func gunzip(_ path: String) -> [UInt8]? {
    guard let file = gzopen(path, "rb") else { return nil }
    defer { gzclose(file) }
    var out: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = buffer.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
        if n <= 0 { return n == 0 ? out : nil }
        out += buffer[0..<Int(n)]
    }
}

@Suite(.enabled(if: FileManager.default.fileExists(atPath: mnistImages) && releasedModelPresent,
                "needs ../shared MNIST and Codecs/pc-mnist"))
struct PCCodecMNISTTests {
    @Test func testImagesRoundTripWithTheReleasedModel() throws {
        let codec = try PCCodec(store: ModelStore(searchPaths: [repositoryRoot + "/Codecs"]))
        let all = try IDXImages(parsing: try #require(gunzip(mnistImages)))
        // 50 images of the test split (8000-9999), spread over it.
        let picked = stride(from: 8000, to: 10000, by: 40).flatMap { all.pixels[($0 * 784)..<(($0 + 1) * 784)] }
        let idx = IDXImages(rows: 28, columns: 28, pixels: picked).serialized()
        let file = try codec.encode(.bytes(idx), options: CodecOptions())
        #expect(try codec.decode(try ContainerFile(parsing: file.serialized())) == .bytes(idx))
        let bitsPerPixel = Double(file.serialized().count * 8) / Double(picked.count)
        #expect(bitsPerPixel < 1.6)
        let single = grayImage(all.pixels[(9000 * 784)..<(9001 * 784)], rows: 28, columns: 28)
        #expect(try codec.decode(try codec.encode(single, options: CodecOptions())) == single)
    }
}
