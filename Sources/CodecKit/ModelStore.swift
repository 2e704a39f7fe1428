import Container
import Foundation

/// Finds released models (`Codecs/<model-id>/`), loads and hashes them, and keeps what codecs
/// build from them for the rest of the process: the one model-loading path of every codec.
///
/// Search order: `$NEURALCODECS_MODELS`, the `Codecs/` folder of the source tree the running
/// binary was built in (`.build/<config>/codec` → `../../Codecs`), then `./Codecs`.
///
/// A codec asks for its model with `model(_:build:)`: the first call reads codec.json and
/// model.safetensors, hashes the weights and runs `build`; later calls anywhere in the process
/// (every file of a batch, every codec sharing the model) get the same built value. The cache is
/// keyed by the model's folder and its files' size and modification time, so replacing a model
/// on disk is noticed.
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

    /// A model's files, read and hashed once per process (until they change on disk).
    public func load(_ modelID: String) throws(CodecError) -> LoadedModel {
        let dir = try folder(for: modelID)
        let key = try Self.cacheKey(modelID, folder: dir)
        if let hit = Self.loaded.withValue({ $0[key] }) { return hit }
        // One loader at a time, so the workers of a batch that all start by asking for the same
        // model wait for one load instead of each doing it.
        Self.loading.lock()
        defer { Self.loading.unlock() }
        if let hit = Self.loaded.withValue({ $0[key] }) { return hit }
        guard let config = FileManager.default.contents(atPath: dir + "/codec.json") else {
            throw .corruptModel(modelID: modelID, reason: "cannot read codec.json")
        }
        let weights: Data
        do {
            weights = try Data(contentsOf: URL(fileURLWithPath: dir + "/model.safetensors"), options: .alwaysMapped)
        } catch {
            throw .corruptModel(modelID: modelID, reason: "cannot read model.safetensors")
        }
        let model = LoadedModel(identity: ModelIdentity(id: modelID, hash: fnv1a64(weights)), folder: dir,
                                config: config, weights: weights)
        Self.loaded.withValue { $0[key] = model }
        Self.diskLoads.withValue { $0[dir, default: 0] += 1 }
        return model
    }

    /// What a codec builds from model `modelID` (a network, a circuit, a whole codec), built once
    /// per process and shared. Any error `build` throws other than a `CodecError` becomes
    /// `corruptModel` naming the model, so every codec reports a damaged model the same way.
    public func model<Built: Sendable>(_ modelID: String, as type: Built.Type = Built.self,
                                       build: (LoadedModel) throws -> Built) throws(CodecError) -> Built {
        let loaded = try load(modelID)
        let key = try Self.cacheKey(modelID, folder: loaded.folder) + "\u{0}" + String(reflecting: Built.self)
        if let hit = Self.built.withValue({ $0[key] }) as? Built { return hit }
        Self.building.lock()
        defer { Self.building.unlock() }
        if let hit = Self.built.withValue({ $0[key] }) as? Built { return hit }
        let value: Built
        do { value = try build(loaded) } catch let error as CodecError { throw error } catch {
            throw .corruptModel(modelID: modelID, reason: "\(error)")
        }
        Self.built.withValue { $0[key] = value }
        return value
    }

    /// How many times this process has read `modelID`'s files from disk (tests count loads).
    public func diskLoadCount(_ modelID: String) -> Int {
        guard let dir = try? folder(for: modelID) else { return 0 }
        return Self.diskLoads.withValue { $0[dir] ?? 0 }
    }

    private static let loaded = Locked([String: LoadedModel]())
    private static let built = Locked([String: any Sendable]())
    private static let diskLoads = Locked([String: Int]())
    /// Held while loading files, and while building (recursive: a builder may ask the store for
    /// another model; the order is always building → loading).
    private static let loading = NSLock(), building = NSRecursiveLock()

    /// Folder, model id, and the size and modification time of both files.
    private static func cacheKey(_ modelID: String, folder dir: String) throws(CodecError) -> String {
        var key = dir + "\u{0}" + modelID
        for name in ["codec.json", "model.safetensors"] {
            guard let a = try? FileManager.default.attributesOfItem(atPath: dir + "/" + name) else {
                throw .corruptModel(modelID: modelID, reason: "cannot read \(name)")
            }
            let size = (a[.size] as? NSNumber)?.int64Value ?? -1
            let time = (a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            key += "\u{0}\(size)\u{0}\(time)"
        }
        return key
    }
}

/// Which weights a codec runs: recorded in every container it writes, and checked against every
/// container it decodes. The one weights-hash check of the toolkit.
public struct ModelIdentity: Sendable, Equatable {
    public let id: String
    /// FNV-1a 64 of model.safetensors.
    public let hash: UInt64

    public init(id: String, hash: UInt64) {
        self.id = id
        self.hash = hash
    }

    /// Fails unless `file` was written with these weights.
    public func check(_ file: ContainerFile) throws(CodecError) {
        guard file.modelHash == hash else { throw .modelMismatch(modelID: id, expectedHash: file.modelHash, foundHash: hash) }
    }
}

/// A model's configuration and weights as loaded from disk.
public struct LoadedModel: Sendable {
    public let identity: ModelIdentity
    public let folder: String
    /// The raw codec.json.
    public let config: Data
    /// The raw model.safetensors (memory-mapped), for Neural's `SafeTensors(data:)`.
    public let weights: Data

    public var id: String { identity.id }
    public var hash: UInt64 { identity.hash }

    /// codec.json decoded as `T`: the one way a codec reads its hyper-parameters. Keys may be
    /// snake_case in the file (as the Python exporters write them) and camelCase in `T`.
    public func configuration<T: Decodable>(_ type: T.Type = T.self) throws(CodecError) -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do { return try decoder.decode(T.self, from: config) } catch {
            throw .corruptModel(modelID: id, reason: "codec.json: \(Self.describe(error))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, let c)?: "missing \((c.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        case .typeMismatch(_, let c)?, .valueNotFound(_, let c)?, .dataCorrupted(let c)?:
            "\(c.codingPath.map(\.stringValue).joined(separator: ".")): \(c.debugDescription)"
        default: "\(error)"
        }
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
