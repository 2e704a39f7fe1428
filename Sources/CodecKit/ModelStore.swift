import Foundation

/// Finds released models (`Codecs/<model-id>/`) and checks their weights.
///
/// Search order: `$NEURALCODECS_MODELS`, the `Codecs/` folder of the source tree the running
/// binary was built in (`.build/<config>/codec` → `../../Codecs`), then `./Codecs`.
public struct ModelStore: Sendable {
    public let searchPaths: [String]

    public init(searchPaths: [String]? = nil) {
        self.searchPaths = searchPaths ?? ModelStore.defaultSearchPaths()
    }

    public static func defaultSearchPaths() -> [String] {
        var paths: [String] = []
        if let env = ProcessInfo.processInfo.environment["NEURALCODECS_MODELS"], !env.isEmpty { paths.append(env) }
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<4 {  // .build/x86_64-unknown-linux-gnu/release/codec → repository root
            let candidate = dir.appendingPathComponent("Codecs").path
            if !paths.contains(candidate) { paths.append(candidate) }
            dir = dir.deletingLastPathComponent()
        }
        paths.append(FileManager.default.currentDirectoryPath + "/Codecs")
        return paths
    }

    /// The folder holding `modelID`, or `missingModel` naming every place looked in.
    public func folder(for modelID: String) throws(CodecError) -> String {
        for base in searchPaths {
            let dir = base + "/" + modelID
            if FileManager.default.fileExists(atPath: dir + "/codec.json") { return dir }
        }
        throw .missingModel(modelID: modelID, searched: searchPaths)
    }

    /// A model's files, read and hashed.
    public func load(_ modelID: String) throws(CodecError) -> LoadedModel {
        let dir = try folder(for: modelID)
        guard let config = FileManager.default.contents(atPath: dir + "/codec.json") else {
            throw .corruptModel(modelID: modelID, reason: "cannot read codec.json")
        }
        let weightsPath = dir + "/model.safetensors"
        let weights: Data
        do {
            weights = try Data(contentsOf: URL(fileURLWithPath: weightsPath), options: .alwaysMapped)
        } catch {
            throw .corruptModel(modelID: modelID, reason: "cannot read model.safetensors")
        }
        return LoadedModel(id: modelID, folder: dir, config: config, weights: weights, hash: fnv1a64(weights))
    }
}

/// A model's configuration and weights as loaded from disk.
public struct LoadedModel: Sendable {
    public let id: String
    public let folder: String
    /// The raw codec.json.
    public let config: Data
    /// The raw model.safetensors (memory-mapped).
    public let weights: Data
    /// FNV-1a 64 of the weights; written into every container the model encodes.
    public let hash: UInt64

    /// Fails unless a container's recorded hash matches these weights.
    public func check(containerHash: UInt64) throws(CodecError) {
        guard containerHash == hash else { throw .modelMismatch(modelID: id, expectedHash: containerHash, foundHash: hash) }
    }
}

/// 64-bit FNV-1a: detects a different or damaged weights file (not a cryptographic hash).
public func fnv1a64(_ data: some DataProtocol) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for region in data.regions {
        region.withUnsafeBytes { buf in
            for b in buf { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        }
    }
    return h
}
