import CodecKit
import Container
import Dispatch
import Foundation
import MediaIO
import PCCodec
import Testing
import TestSupport
import TextLM

/// The one model-loading path: a batch loads each model once, whether the codec is built once
/// (the registry) or per file, and every damaged model fails naming it.
@Suite struct ModelLoadTests {
    /// A fresh folder of links to the released models, so this test's load counts are its own
    /// (the cache is per process and keyed by folder).
    static func freshStore() throws -> ModelStore {
        let dir = NSTemporaryDirectory() + "models-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for id in ["pc-mnist", "eiw-m1"] {
            try FileManager.default.createSymbolicLink(atPath: dir + "/" + id, withDestinationPath: repositoryRoot + "/Codecs/" + id)
        }
        return ModelStore(searchPaths: [dir])
    }

    static let modelsPresent = ["pc-mnist", "eiw-m1"].allSatisfy {
        FileManager.default.fileExists(atPath: repositoryRoot + "/Codecs/\($0)/model.safetensors")
    }

    @Test(.enabled(if: modelsPresent)) func aBatchLoadsEachModelOnce() throws {
        let store = try Self.freshStore()
        let registry = CodecRegistry([
            CodecRegistry.Entry(info: PCCodec.info()) { () throws(CodecError) in try PCCodec(store: store) },
            CodecRegistry.Entry(info: LMACCodec().info) { LMACCodec(store: store) },
        ], defaults: [:])
        var rng = SplitMix64(seed: 16)
        for i in 0..<100 {  // 100 small images through pc-mnist, each encoded and decoded alone
            var pixels = [UInt16](repeating: 0, count: 784)
            for _ in 0..<40 { pixels[Int(rng.next() % 784)] = UInt16(rng.next() % 256) }
            let image = Media.image(Image(width: 28, height: 28, channels: 1, bitDepth: 8, samples: pixels))
            let file = try registry.codec("pc-mnist", for: .image).encode(image, options: CodecOptions())
            #expect(try registry.decode(file.serialized()) == image, "image \(i)")
        }
        for i in 0..<20 {  // 20 texts through lm-ac
            let text = Media.bytes(Array("text \(i): the same model codes every file of a batch.".utf8))
            let file = try registry.codec("lm-ac", for: .bytes).encode(text, options: CodecOptions())
            #expect(try registry.decode(file.serialized()) == text, "text \(i)")
        }
        #expect(store.diskLoadCount("pc-mnist") == 1)
        #expect(store.diskLoadCount("eiw-m1") == 1)
        // A codec built per file (as a library user might) still shares the one loaded model.
        for _ in 0..<5 { _ = try PCCodec(store: store) }
        #expect(store.diskLoadCount("pc-mnist") == 1)
    }

    /// The workers of a batch all start by asking for the codec: it is built, and its model
    /// loaded, once.
    @Test(.enabled(if: modelsPresent)) func concurrentFirstRequestsLoadOnce() throws {
        let store = try Self.freshStore()
        let builds = Locked(0)
        let registry = CodecRegistry([
            CodecRegistry.Entry(info: PCCodec.info()) { () throws(CodecError) in
                builds.withValue { $0 += 1 }
                return try PCCodec(store: store)
            },
        ], defaults: [:])
        let image = Media.image(Image(width: 28, height: 28, channels: 1, bitDepth: 8, samples: (0..<784).map { UInt16($0 % 5 * 40) }))
        let failures = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            do { _ = try registry.codec("pc-mnist", for: .image).encode(image, options: CodecOptions()) } catch {
                failures.withValue { $0 += 1 }
            }
        }
        #expect(failures.withValue { $0 } == 0)
        #expect(builds.withValue { $0 } == 1)
        #expect(store.diskLoadCount("pc-mnist") == 1)
        // Other codec instances built concurrently share the one loaded model too.
        DispatchQueue.concurrentPerform(iterations: 8) { _ in _ = try? PCCodec(store: store) }
        #expect(store.diskLoadCount("pc-mnist") == 1)
    }

    @Test func damagedModelsFailNamingTheModel() throws {
        let dir = NSTemporaryDirectory() + "models-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir + "/m", withIntermediateDirectories: true)
        let store = ModelStore(searchPaths: [dir])
        #expect(throws: CodecError.missingModel(modelID: "nope", searched: [dir])) { try store.load("nope") }

        struct Config: Decodable { var width: Int }
        _ = FileManager.default.createFile(atPath: dir + "/m/codec.json", contents: Data(#"{"width": 4}"#.utf8))
        _ = FileManager.default.createFile(atPath: dir + "/m/model.safetensors", contents: Data([1, 2, 3]))
        let loaded = try store.load("m")
        #expect(try loaded.configuration(Config.self).width == 4)
        struct Other: Decodable { var height: Int }
        #expect(throws: CodecError.corruptModel(modelID: "m", reason: "codec.json: missing height")) { try loaded.configuration(Other.self) }

        // Whatever a codec's builder throws about the weights is reported against the model.
        struct Truncated: Error, CustomStringConvertible { var description: String { "3 bytes" } }
        #expect(throws: CodecError.corruptModel(modelID: "m", reason: "3 bytes")) {
            try store.model("m", as: Int.self) { _ in throw Truncated() }
        }
        // A container written with other weights.
        let file = ContainerFile(codecID: "x", modelID: "m", modelHash: loaded.hash ^ 1, media: .bytes(count: 0), payload: [])
        #expect(throws: CodecError.modelMismatch(modelID: "m", expectedHash: loaded.hash ^ 1, foundHash: loaded.hash)) {
            try loaded.identity.check(file)
        }
    }
}
