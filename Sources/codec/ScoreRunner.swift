import CodecKit
import Container
import Foundation
import MediaIO
import Metrics
import Perception

/// The work behind `codec score`: what each (variant, file) pair measures, run on every core with
/// one perception engine per thread, appended to a resumable state file as it completes.

/// One way of producing the media a perception engine sees.
enum ScoreVariant: Hashable, Sendable {
    /// The input itself (its recognition is the reference where no ground truth exists).
    case original
    /// A registered codec with options, encoded and decoded in memory through the registry.
    case codec(id: String, params: [String])
    /// A classical codec run through its Debian tools (`Baselines.swift`).
    case baseline(name: String, quality: String)
    /// Files already decoded elsewhere, found in a folder by the input's name.
    case decoded(dir: String)

    /// The key in the state file.
    var key: String {
        switch self {
        case .original: "original"
        case .codec(let id, let params): "codec:\(id):\(params.joined(separator: ","))"
        case .baseline(let name, let quality): "baseline:\(name):\(quality)"
        case .decoded(let dir): "decoded:\(dir)"
        }
    }

    var codecName: String {
        switch self {
        case .original: "original"
        case .codec(let id, _): id
        case .baseline(let name, _): name
        case .decoded(let dir): "decoded \(FileIO.fileName(of: dir))"
        }
    }

    var setting: String {
        switch self {
        case .original, .decoded: ""
        case .codec(_, let params): params.isEmpty ? "default" : params.joined(separator: " ")
        case .baseline(let name, let quality): Baselines.find(name).map { "\($0.qualityName)=\(quality)" } ?? quality
        }
    }
}

/// What one engine run gave: the prediction, the coded size, the fidelity beside it.
struct ScoreMeasurement: Codable, Sendable {
    var variant, file: String
    var prediction: Prediction
    /// Coded size in bits (nil for the original and for --decoded files).
    var bits: Int?
    var fidelity: Fidelity?
    /// The similarity task's feature distance to the original, measured with --fidelity.
    var featureDistance: Double?
    var seconds: Double
}

/// A failure tied to one file and variant, reported and counted, never fatal to the others.
struct ScoreFailure: Sendable {
    var file, variant: String
    var error: CLIError
}

/// The resumable record of a run: one JSON line per measurement, appended as each completes.
/// A line cut short by an interrupt is ignored when reading it back.
final class ScoreState: @unchecked Sendable {
    private let lock = NSLock()
    private var handle: FileHandle?
    private(set) var done: [String: ScoreMeasurement] = [:]
    let path: String?

    init(path: String?) throws(CLIError) {
        self.path = path
        guard let path else { return }
        if FileManager.default.fileExists(atPath: path) {
            guard let data = FileManager.default.contents(atPath: path) else { throw .usage("cannot read the state file \(path)") }
            let decoder = JSONDecoder()
            decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            for line in data.split(separator: UInt8(ascii: "\n")) {
                if let m = try? decoder.decode(ScoreMeasurement.self, from: Data(line)) { done[Self.key(m.variant, m.file)] = m }
            }
        } else {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw .usage("cannot create the state file \(path) (does its directory exist?)")
            }
        }
        guard let h = FileHandle(forWritingAtPath: path) else { throw .usage("cannot write the state file \(path)") }
        h.seekToEndOfFile()
        // A previous run interrupted mid-line: start on a fresh line.
        if h.offsetInFile > 0, let last = FileManager.default.contents(atPath: path)?.last, last != UInt8(ascii: "\n") {
            h.write(Data("\n".utf8))
        }
        handle = h
    }

    static func key(_ variant: String, _ file: String) -> String { variant + "\u{0}" + file }

    func lookup(_ variant: ScoreVariant, _ file: String) -> ScoreMeasurement? {
        lock.withLock { done[Self.key(variant.key, file)] }
    }

    func record(_ m: ScoreMeasurement) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let line = (try? encoder.encode(m)).map { $0 + Data("\n".utf8) }
        lock.withLock {
            done[Self.key(m.variant, m.file)] = m
            if let line { handle?.write(line) }
        }
    }
}

/// Runs every (variant, file) pair not yet in the state, on `jobs` threads.
struct ScoreRunner {
    var task: any PerceptionTask
    var inputs: [String]
    var variants: [ScoreVariant]
    var jobs: Int
    var state: ScoreState
    /// Whether to measure PSNR, MS-SSIM / SNR, SI-SDR beside the task.
    var fidelity: Bool
    /// Called when every file of a variant is done (for progress lines).
    var onVariantDone: @Sendable (ScoreVariant, Int) -> Void = { _, _ in }
    var progress: Progress?

    func run() -> [ScoreFailure] {
        let items = variants.flatMap { v in inputs.map { (v, $0) } }.filter { state.lookup($0.0, $0.1) == nil }
        let failures = Locked<[ScoreFailure]>([])
        let next = Locked(0)
        let remaining = Locked(Dictionary(variants.map { v in (v.key, items.filter { $0.0 == v }.count) }, uniquingKeysWith: { a, _ in a }))
        for v in variants where remaining.withValue({ $0[v.key] }) == 0 { onVariantDone(v, inputs.count) }
        guard !items.isEmpty else { return [] }
        let workers = max(1, min(jobs, items.count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            var engine: (any PerceptionEngine)?
            var engineError: CLIError?
            var similarity: (any PerceptionEngine)?
            while true {
                let index = next.withValue { (i: inout Int) -> Int in defer { i += 1 }; return i }
                guard index < items.count else { break }
                let (variant, file) = items[index]
                progress?.started("\(variant.codecName) \(variant.setting) \(FileIO.fileName(of: file))")
                do {
                    if engine == nil && engineError == nil {
                        do { engine = try task.makeEngine() } catch { engineError = scoreError(error) }
                    }
                    if let engineError { throw engineError }
                    // The feature distance beside another task (the similarity task measures it already).
                    if fidelity && similarity == nil && !(task is SimilarityTask), let kind = SimilarityTask.of(task.info.media) {
                        do { similarity = try kind.makeEngine() } catch { throw scoreError(error) }
                    }
                    state.record(try measure(variant, file: file, engine: engine!, similarity: similarity))
                } catch {
                    failures.withValue { $0.append(ScoreFailure(file: file, variant: variant.key, error: scoreError(error))) }
                }
                progress?.finished()
                let left = remaining.withValue { (r: inout [String: Int]) -> Int in r[variant.key, default: 1] -= 1; return r[variant.key]! }
                if left == 0 { onVariantDone(variant, inputs.count) }
            }
        }
        return failures.withValue { $0 }
    }

    /// One measurement: the variant's media for `file`, the engine's prediction, size and fidelity.
    func measure(_ variant: ScoreVariant, file: String, engine: any PerceptionEngine,
                 similarity: (any PerceptionEngine)? = nil) throws(CLIError) -> ScoreMeasurement {
        let original = try ScoreInputs.load(file, task: task)
        let start = Date()
        var bits: Int?
        let seen: Media
        switch variant {
        case .original:
            seen = original
        case .codec(let id, let params):
            let options = try wrap { () throws(CodecError) in try CodecOptions(parsing: params) }
            let container: ContainerFile
            do {
                container = try registry.codec(id, for: original.kind).encode(original, options: options)
            } catch {
                throw CLIError(error, context: "\(file) with \(id)")
            }
            let bytes = container.serialized()
            bits = bytes.count * 8
            seen = try Pipeline.decodeContainer(bytes, name: "\(file) with \(id)", options: DecodeOptions(strict: true))
        case .baseline(let name, let quality):
            guard let baseline = Baselines.find(name) else { throw .usage("unknown baseline '\(name)'") }
            let coded = try baseline.run(original, quality: quality, name: file)
            bits = coded.bits
            seen = coded.media
        case .decoded(let dir):
            seen = try ScoreInputs.decodedCounterpart(of: file, in: dir, original: original, task: task)
        }
        let prediction: Prediction
        var distance: Double?
        do {
            if variant == .original {
                prediction = try engine.predict(seen)
            } else {
                prediction = try engine.compare(seen, with: original) ?? engine.predict(seen)
                if fidelity { distance = try similarity?.compare(seen, with: original)?.distance }
            }
        } catch {
            throw scoreError(error, context: variant == .original ? file : "\(file) (\(variant.codecName) \(variant.setting))")
        }
        let measured: Fidelity? = variant == .original || !fidelity ? nil : Fidelity(original: original, decoded: seen)
        return ScoreMeasurement(variant: variant.key, file: file, prediction: prediction, bits: bits, fidelity: measured,
                                featureDistance: distance, seconds: Date().timeIntervalSince(start))
    }
}

/// Finding and reading the inputs of a score run.
enum ScoreInputs {
    /// The files to score: each argument a file, or a folder whose media files of the task's kind
    /// (by extension: .png for images; .wav, .flac, .ogg for audio) are taken in name order.
    static func expand(_ arguments: [String], task: any PerceptionTask) throws(CLIError) -> [String] {
        var files: [String] = []
        for arg in arguments {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: arg, isDirectory: &isDir) else {
                // An item the task reads from its dataset itself (an MNIST image in the IDX file).
                if (try? task.media(at: arg)) != nil { files.append(arg); continue }
                throw .usage("no such file or folder: \(arg)")
            }
            if isDir.boolValue {
                if let listed = try perceptionCall({ () throws(PerceptionError) in try task.listing(folder: arg) }) {
                    files += listed
                    continue
                }
                let names = ((try? FileManager.default.contentsOfDirectory(atPath: arg)) ?? []).sorted()
                let wanted: Set<String> = task.info.media == .image ? ["png"] : ["wav", "flac", "ogg"]
                let found = names.filter { wanted.contains(URL(fileURLWithPath: $0).pathExtension.lowercased()) }
                guard !found.isEmpty else {
                    throw .usage("\(arg) holds no \(task.info.media.rawValue) files (\(wanted.sorted().map { "." + $0 }.joined(separator: ", "))) for task '\(task.info.id)'")
                }
                files += found.map { (arg.hasSuffix("/") ? arg : arg + "/") + $0 }
            } else {
                files.append(arg)
            }
        }
        return files
    }

    /// An input's media, checked against the task's kind.
    static func load(_ path: String, task: any PerceptionTask) throws(CLIError) -> Media {
        do {
            if let media = try task.media(at: path) { return media }
        } catch {
            throw scoreError(error, context: path)
        }
        let bytes = try FileIO.read(path)
        let media = try decodeMedia(bytes, path: path)
        do { try task.check(media) } catch { throw scoreError(error, context: path) }
        return media
    }

    /// The media kind the inputs hold, from the first one's extension (a folder: its files'),
    /// for tasks that exist for both kinds (`similarity`); nil when it cannot tell.
    static func mediaKind(of arguments: [String]) -> MediaKind? {
        let audio: Set<String> = ["wav", "flac", "ogg"]
        guard let first = arguments.first else { return nil }
        var isDir: ObjCBool = false
        var names = [first]
        if FileManager.default.fileExists(atPath: first, isDirectory: &isDir), isDir.boolValue {
            names = (try? FileManager.default.contentsOfDirectory(atPath: first))?.sorted() ?? []
        }
        for name in names {
            let ext = URL(fileURLWithPath: name).pathExtension.lowercased()
            if audio.contains(ext) { return .audio }
            if ext == "png" { return .image }
        }
        return nil
    }

    static func decodeMedia(_ bytes: [UInt8], path: String) throws(CLIError) -> Media {
        do { return try MediaFile.decode(bytes, name: path) } catch { throw CLIError(error, context: path) }
    }

    /// The decoded file for `original` in `dir`: the same name, or the same stem with another
    /// media extension (`codec decode -o DIR` names `page.png.nc` back to `page.png`). It must
    /// be the same kind and size: an image of the same width and height (channels may differ),
    /// audio of the same duration within 1% (rate and channels may differ; the engine converts).
    static func decodedCounterpart(of original: String, in dir: String, original media: Media,
                                   task: any PerceptionTask) throws(CLIError) -> Media {
        let name = FileIO.fileName(of: original)
        let stem = URL(fileURLWithPath: name).deletingPathExtension().lastPathComponent
        let candidates = [name] + ["png", "wav", "flac", "ogg"].map { "\(stem).\($0)" }
        guard let found = candidates.map({ "\(dir)/\($0)" }).first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw .badInput("\(dir) has no decoded file for \(original) (looked for \(candidates.joined(separator: ", ")))")
        }
        let bytes = try FileIO.read(found)
        let decoded = try decodeMedia(bytes, path: found)
        switch (media, decoded) {
        case (.image(let a), .image(let b)):
            guard a.width == b.width, a.height == b.height else {
                throw .badInput("\(found) is \(b.width)x\(b.height), but its original \(original) is \(a.width)x\(a.height)")
            }
            return .image(Baselines.conform(b, toChannelsOf: a))
        case (.audio(let a), .audio(let b)):
            guard abs(a.duration - b.duration) <= 0.01 * a.duration + 0.05 else {
                throw .badInput(String(format: "%@ lasts %.2f s, but its original %@ lasts %.2f s", found, b.duration, original, a.duration))
            }
            return decoded
        default:
            throw .badInput("\(found) is \(decoded.kind.rawValue), but its original \(original) is \(media.kind.rawValue)")
        }
    }
}
