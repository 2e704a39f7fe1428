import Foundation
import Neural
import Testing
@testable import VQGAN

/// The Swift VQGAN networks against PyTorch on the committed fixture (`make golden-vqgan`: a tiny
/// seeded random model written by the same code as a real export, with its golden vectors).
enum Fixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func file(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static func config() throws -> Data { try Data(contentsOf: directory.appendingPathComponent("codec.json")) }

    static func model() throws -> VQGANModel {
        try VQGANModel(configuration: try config(), weights: try SafeTensors(contentsOfFile: file("model.safetensors")))
    }

    static func golden() throws -> SafeTensors { try SafeTensors(contentsOfFile: file("golden.safetensors")) }
}

/// Largest |actual − expected| over the largest |expected|.
func worstError(_ actual: Tensor, _ expected: Tensor) -> Float {
    precondition(actual.shape == expected.shape, "shape \(actual.shape) vs \(expected.shape)")
    let scale = max(expected.scalars.map(abs).max() ?? 0, 1e-30)
    return zip(actual.scalars, expected.scalars).map { $0.isFinite ? abs($0 - $1) : .infinity }.max()! / scale
}

func ints(_ t: Tensor) -> [Int] { t.scalars.map { Int($0) } }

@Suite struct VQGANModelTests {
    @Test func encoderMatchesPyTorch() throws {
        let (model, golden) = (try Fixture.model(), try Fixture.golden())
        let latent = model.encoder(try golden.tensor("input"))
        #expect(latent.shape == [1, 4, 4, 6])
        #expect(worstError(latent, try golden.tensor("latent")) < 1e-4)
        #expect(worstError(model.encoder(try golden.tensor("input"), path: .deterministic), try golden.tensor("latent")) < 1e-4)
    }

    @Test func indicesOfEveryCodebookMatchPyTorch() throws {
        let (model, golden) = (try Fixture.model(), try Fixture.golden())
        let latent = try golden.tensor("latent")
        for k in [model.architecture.codes] + model.architecture.rateCodes {
            #expect(model.nearest(latent, book: model.codebook(k)) == ints(try golden.tensor("indices.k\(k)")), "k=\(k)")
            #expect(model.encode(try golden.tensor("input"), k: k) == ints(try golden.tensor("indices.k\(k)")), "k=\(k)")
        }
    }

    @Test func decoderMatchesPyTorchAtEveryRate() throws {
        let (model, golden) = (try Fixture.model(), try Fixture.golden())
        for k in [model.architecture.codes] + model.architecture.rateCodes {
            let indices = ints(try golden.tensor("indices.k\(k)"))
            let out = model.decode(indices, height: 4, width: 6, k: k)
            #expect(out.shape == [1, 3, 64, 96])
            #expect(worstError(out, try golden.tensor("output.k\(k)")) < 1e-4, "k=\(k)")
        }
    }

    @Test func codingAndRestorationLogitsMatchPyTorch() throws {
        let (model, golden) = (try Fixture.model(), try Fixture.golden())
        for k in model.architecture.rateCodes {
            let index = try #require(model.indexModels[k])
            let window = ints(try golden.tensor("prior.k\(k).indices"))
            let coding = index.codingLogits(window, height: 8, width: 8)
            #expect(worstError(coding, try golden.tensor("prior.k\(k).logits").reshaped([64, k])) < 1e-4, "k=\(k)")
            let tokens = ints(try golden.tensor("restore.k\(k).tokens"))
            #expect(tokens.filter { $0 == index.maskToken }.count == 16)
            let restored = index.logits(tokens, height: 8, width: 8)
            #expect(worstError(restored, try golden.tensor("restore.k\(k).logits").reshaped([64, k])) < 1e-4, "k=\(k)")
        }
    }

    /// A phase's logits must not depend on indices of its own or later phases: that is what lets the
    /// decoder compute them before it knows those indices.
    @Test func codingLogitsSeeOnlyEarlierPhases() throws {
        let index = try #require(try Fixture.model().indexModels[16])
        let (h, w) = (5, 7)
        let base = (0..<h * w).map { ($0 * 7) % 16 }
        let reference = index.codingLogits(base, height: h, width: w)
        for s in 0..<IndexTransformer.phases {
            let changed = base.enumerated().map { p, v in
                IndexTransformer.phase(row: p / w, col: p % w) >= s ? (v + 5) % 16 : v
            }
            let logits = index.codingLogits(changed, height: h, width: w)
            for p in 0..<h * w where IndexTransformer.phase(row: p / w, col: p % w) == s {
                #expect(Array(logits.scalars[p * 16..<(p + 1) * 16]) == Array(reference.scalars[p * 16..<(p + 1) * 16]))
            }
        }
    }

    @Test func phaseMapMatchesTheReference() {
        var counts = [0, 0, 0, 0]
        for r in 0..<8 { for c in 0..<8 { counts[IndexTransformer.phase(row: r, col: c)] += 1 } }
        #expect(counts == [4, 12, 16, 32])
        #expect((0..<3).map { IndexTransformer.phase(row: 0, col: $0) } == [0, 3, 1])
    }

    @Test func rejectsAnotherCodecsConfigAndMissingWeights() throws {
        let weights = try SafeTensors(contentsOfFile: Fixture.file("model.safetensors"))
        var json = try #require(try JSONSerialization.jsonObject(with: try Fixture.config()) as? [String: Any])
        json["codec"] = "walloc"
        #expect(throws: VQGANModelError.self) {
            try VQGANModel(configuration: try JSONSerialization.data(withJSONObject: json), weights: weights)
        }
        json["codec"] = "vqgan"
        var arch = try #require(json["architecture"] as? [String: Any])
        arch["rate_codes"] = [16, 4, 8]  // no codebook.k8 in the weights
        json["architecture"] = arch
        #expect(throws: SafeTensorsError.missingTensor(name: "codebook.k8")) {
            try VQGANModel(configuration: try JSONSerialization.data(withJSONObject: json), weights: weights)
        }
        #expect(throws: VQGANModelError.self) {
            try VQGANModel(configuration: Data("{}".utf8), weights: weights)
        }
    }
}
