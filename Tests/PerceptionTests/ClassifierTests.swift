import CodecKit
import Foundation
import MediaIO
import Neural
import Testing
@testable import Perception

/// The classifiers and the feature similarity: Swift against PyTorch on the committed golden
/// vectors (synthetic inputs made by the recipe, never data), the datasets' labels and splits,
/// and the JSON form of the new predictions.
@Suite struct ClassifierTests {
    static let models = ModelStore(searchPaths: [repositoryRoot + "/Codecs"])

    func golden(_ id: String) throws -> SafeTensors {
        try SafeTensors(contentsOfFile: repositoryRoot + "/Codecs/\(id)/golden.safetensors")
    }

    func expectClose(_ a: [Float], _ b: [Float], tolerance: Float, _ what: String) {
        #expect(a.count == b.count, "\(what): \(a.count) vs \(b.count) values")
        let worst = zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        #expect(worst <= tolerance, "\(what): worst difference \(worst)")
    }

    @Test(arguments: ["classifier-mnist", "classifier-cifar10"])
    func imageClassifierMatchesPyTorch(id: String) throws {
        let model = try ConvClassifier.load(id, store: Self.models)
        let g = try golden(id)
        let x = try g.tensor("image"), x2 = try g.tensor("image2")
        let input = x.reshaped([1] + x.shape), input2 = x2.reshaped([1] + x2.shape)
        expectClose(model.logits(input), try g.tensor("logits").scalars, tolerance: 1e-3, "\(id) logits")
        expectClose(model.logits(input2), try g.tensor("logits2").scalars, tolerance: 1e-3, "\(id) logits2")
        let d = ConvClassifier.distance(model.features(input), model.features(input2))
        let expected = Double(try g.tensor("distance").scalars[0])
        #expect(abs(d - expected) <= 1e-4 + 1e-3 * expected, "\(id) distance \(d) vs \(expected)")
        #expect(ConvClassifier.distance(model.features(input), model.features(input)) == 0)
    }

    @Test func speechClassifierFeaturesAndLogitsMatchPyTorch() throws {
        let model = try ConvClassifier.load("classifier-fsdd", store: Self.models)
        let g = try golden("classifier-fsdd")
        let mel = try #require(model.configuration.logMel)
        let (frames, values) = mel.features(try g.tensor("wave").scalars)
        let expected = try g.tensor("features")
        #expect([1, mel.mels, frames] == expected.shape)
        let worst = zip(values, expected.scalars).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-3, "log-mel differs by \(worst)")
        let input = Tensor(shape: [1, 1, mel.mels, frames], scalars: values)
        expectClose(model.logits(input), try g.tensor("logits").scalars, tolerance: 2e-3, "fsdd logits")
        let other = mel.features(try g.tensor("wave2").scalars).values
        let d = ConvClassifier.distance(model.features(input), model.features(Tensor(shape: [1, 1, mel.mels, frames], scalars: other)))
        let want = Double(try g.tensor("distance").scalars[0])
        #expect(abs(d - want) <= 1e-4 + 2e-3 * want, "fsdd distance \(d) vs \(want)")
    }

    @Test func logMelIsGainInvariantAndPadsToOneSecond() throws {
        let mel = LogMel(sampleRate: 8000, samples: 8000, fft: 256, hop: 80, mels: 32, floor: 1e-6)
        // Noise over the whole second: every mel band far above the floor, so a gain of 2 (a
        // constant ln 4 in every band) is removed by the mean.
        var state: UInt32 = 1
        let noise: [Float] = (0..<8000).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(Int32(bitPattern: state)) / 2_147_483_648 * 0.3
        }
        let (frames, a) = mel.features(noise)
        #expect(frames == 97)
        let b = mel.features(noise.map { $0 * 2 }).values
        #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-3 })
        // Shorter clips are zero-padded to the second; the whole clip when asked.
        #expect(mel.features(Array(noise[0..<4000])).frames == 97)
        #expect(mel.features(Array(noise[0..<4000]), wholeClip: true).frames == 1 + (4000 - 256) / 80)
    }

    @Test func datasetLabelsAndSplits() throws {
        #expect(try ClassifierDatasets.label(of: "/d/3_theo_2.flac", in: .fsdd) == 3)
        #expect(throws: PerceptionError.trainingItem("/d/3_theo_12.flac", split: "FSDD recording index 0-4")) {
            try ClassifierDatasets.label(of: "/d/3_theo_12.flac", in: .fsdd)
        }
        #expect(try ClassifierDatasets.label(of: "/d/speech.flac", in: .fsdd) == nil)
        #expect(try ClassifierDatasets.label(of: "/c/cat/0800.png", in: .cifar10) == 3)
        #expect(try ClassifierDatasets.label(of: "/c/truck/0999.png", in: .cifar10) == 9)
        #expect(throws: PerceptionError.self) { try ClassifierDatasets.label(of: "/c/cat/0799.png", in: .cifar10) }
        #expect(try ClassifierDatasets.label(of: "/c/photos/0900.png", in: .cifar10) == nil)
        do { _ = try ClassifierDatasets.label(of: "/c/cat/0001.png", in: .cifar10) } catch {
            #expect(error.exitCode == 1 && error.description.contains("/c/cat/0001.png"))
        }

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fsdd-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in ["0_a_0.flac", "0_a_7.flac", "9_b_4.flac", "notes.txt"] {
            _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data())
        }
        #expect(try ClassificationTask.digitsSpeech.listing(folder: dir) == [dir + "/0_a_0.flac", dir + "/9_b_4.flac"])
        #expect(try ClassificationTask.cifar10.listing(folder: dir) == nil)
        #expect(try ClassificationTask.digitsImage.listing(folder: dir) == nil)
    }

    @Test func mnistItemsComeFromTheIDXFile() throws {
        let mnist = repositoryRoot + "/../shared/data/perception/mnist"
        guard FileManager.default.fileExists(atPath: mnist + "/t10k-images-idx3-ubyte.gz") else { return }
        let items = try #require(try ClassificationTask.digitsImage.listing(folder: mnist))
        #expect(items.count == 2000 && items.first == mnist + "/8000.png")
        guard case .image(let image)? = try ClassificationTask.digitsImage.media(at: items[0]) else {
            Issue.record("no image for \(items[0])"); return
        }
        #expect(image.width == 28 && image.height == 28 && image.samples.contains { $0 > 200 })
        #expect(try ClassificationTask.digitsImage.reference(for: items[0]) != nil)
        #expect(throws: PerceptionError.self) { try ClassificationTask.digitsImage.reference(for: mnist + "/12.png") }
    }

    @Test func predictionsRoundTripThroughJSON() throws {
        for p in [Prediction.text("a b"), .label(7), .label(0), .distance(0), .distance(0.25)] {
            let data = try JSONEncoder().encode(p)
            #expect(try JSONDecoder().decode(Prediction.self, from: data) == p, "\(String(decoding: data, as: UTF8.self))")
        }
    }

    @Test func classifierEnginesRefuseTheWrongMediaAndSize() throws {
        let engine = try ClassificationTask.digitsImage.makeEngine()
        let audio = Media.audio(Audio(sampleRate: 8000, channels: 1, floats: [Float](repeating: 0, count: 800)))
        #expect(throws: PerceptionError.wrongMedia(task: "digits-image", expects: .image, got: .audio)) { try engine.predict(audio) }
        let big = Media.image(Image(width: 32, height: 32, channels: 1, bitDepth: 8, samples: [UInt16](repeating: 0, count: 1024)))
        #expect(throws: PerceptionError.self) { try engine.predict(big) }
        let similarity = try SimilarityTask.image.makeEngine()
        #expect(try similarity.compare(big, with: big) == .distance(0))
    }
}
