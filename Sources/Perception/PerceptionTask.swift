import Foundation
import MediaIO

/// What a perception model says about one input: the text OCR or speech recognition reads, the
/// class a classifier picks, or (the similarity task, which compares decoded media with the
/// original directly) a feature distance.
public enum Prediction: Sendable, Equatable, Codable {
    case text(String)
    case label(Int)
    case distance(Double)

    public var text: String? {
        if case .text(let t) = self { t } else { nil }
    }

    public var distance: Double? {
        if case .distance(let d) = self { d } else { nil }
    }

    /// In JSON (`codec score --json`, sweep state files) a text prediction is a plain string, a
    /// label a plain integer, a distance `{"distance": d}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let t = try? container.decode(String.self) {
            self = .text(t)
        } else if let l = try? container.decode(Int.self) {
            self = .label(l)
        } else {
            self = .distance(try container.decode([String: Double].self)["distance"] ?? .nan)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let t): try container.encode(t)
        case .label(let l): try container.encode(l)
        case .distance(let d): try container.encode(["distance": d])
        }
    }
}

/// A task's self-description, for `codec score` and its tables.
public struct TaskInfo: Sendable, Equatable {
    /// What `--task` takes: `ocr`, `asr`.
    public var id: String
    /// The one media kind the task reads.
    public var media: MediaKind
    /// The error measure its `ErrorTally` gives: `CER`, `WER` (a classifier: `error`).
    public var metric: String
    public var summary: String
}

/// A model run on one input at a time. Engines are not thread-safe: make one per thread
/// (`PerceptionTask.makeEngine`); each is deterministic, so the same input gives the same
/// prediction on every run and whichever thread runs it.
public protocol PerceptionEngine: AnyObject {
    func predict(_ media: Media) throws(PerceptionError) -> Prediction
    /// For tasks that judge decoded media against the original directly (the feature
    /// similarity): the prediction for `decoded`. nil (the default): `predict(decoded)` is used.
    func compare(_ decoded: Media, with original: Media) throws(PerceptionError) -> Prediction?
}

extension PerceptionEngine {
    public func compare(_ decoded: Media, with original: Media) throws(PerceptionError) -> Prediction? { nil }
}

/// One way of measuring what a machine still perceives in decoded media: the engine that
/// perceives, where the ground truth of an input lives, and how two predictions compare.
public protocol PerceptionTask: Sendable {
    var info: TaskInfo { get }
    func makeEngine() throws(PerceptionError) -> any PerceptionEngine
    /// The ground truth for the input at `path`, or nil when the dataset has none (scores are then
    /// against the prediction on the original only).
    func reference(for path: String) throws(PerceptionError) -> Prediction?
    /// The errors of `hypothesis` against `reference` (corpus rates sum the tallies).
    func errors(of hypothesis: Prediction, against reference: Prediction) -> ErrorTally
    /// The inputs of a folder that is one of the task's datasets (its test split only), or nil
    /// to take the folder's media files.
    func listing(folder: String) throws(PerceptionError) -> [String]?
    /// The media of an input the task reads itself (an image inside MNIST's IDX file), or nil to
    /// read the file at `path`.
    func media(at path: String) throws(PerceptionError) -> Media?
}

extension PerceptionTask {
    public func listing(folder: String) throws(PerceptionError) -> [String]? { nil }
    public func media(at path: String) throws(PerceptionError) -> Media? { nil }

    /// Fails unless `media` is the kind this task reads.
    public func check(_ media: Media) throws(PerceptionError) {
        guard media.kind == info.media else { throw .wrongMedia(task: info.id, expects: info.media, got: media.kind) }
    }
}

/// A task whose engine reads text (OCR, speech recognition), scored by an edit distance against
/// a text ground truth: `TextRecognitionTask.ocr` and `.asr`.
public struct TextRecognitionTask: PerceptionTask {
    public let info: TaskInfo
    let engine: @Sendable () throws(PerceptionError) -> any PerceptionEngine
    let groundTruth: @Sendable (String) throws(PerceptionError) -> String?
    let measure: @Sendable (String, String) -> ErrorTally

    public func makeEngine() throws(PerceptionError) -> any PerceptionEngine { try engine() }

    public func reference(for path: String) throws(PerceptionError) -> Prediction? {
        try groundTruth(path).map { .text($0) }
    }

    public func errors(of hypothesis: Prediction, against reference: Prediction) -> ErrorTally {
        measure(hypothesis.text ?? "", reference.text ?? "")
    }
}

/// The tasks this build offers, by `--task` id.
public enum PerceptionTasks {
    public static let all: [any PerceptionTask] = [
        TextRecognitionTask.ocr, TextRecognitionTask.asr, ClassificationTask.digitsImage, ClassificationTask.digitsSpeech,
        ClassificationTask.cifar10, SimilarityTask.image,
    ]
    /// Tasks issue 19 plans that have not landed; named in the error for an unknown task.
    public static let planned: [String] = []

    /// The task `id`; `similarity` exists for images and for audio, and `media` (the kind of the
    /// first input, when known) picks one.
    public static func task(_ id: String, media: MediaKind? = nil) throws(PerceptionError) -> any PerceptionTask {
        if id == SimilarityTask.audio.info.id, media == .audio { return SimilarityTask.audio }
        if let t = all.first(where: { $0.info.id == id }) { return t }
        throw .unknownTask(id, available: all.map(\.info.id), planned: planned)
    }
}

/// Why a perception task could not run. `exitCode` follows the CLI's convention.
public enum PerceptionError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownTask(String, available: [String], planned: [String])
    /// The engine or its model data is missing (a Debian package not installed).
    case engineUnavailable(String)
    case wrongMedia(task: String, expects: MediaKind, got: MediaKind)
    /// The engine refused the input (too large, no samples, ...).
    case unreadable(String)
    /// A ground-truth file exists but cannot be read or parsed.
    case badGroundTruth(String)
    /// An item of a dataset's training split given to a task that scores its test split only.
    case trainingItem(String, split: String)

    public var description: String {
        switch self {
        case .unknownTask(let id, let available, let planned):
            "unknown task '\(id)'; available: \(available.joined(separator: ", "))"
                + (planned.isEmpty ? "" : " (planned, not yet built: \(planned.joined(separator: ", ")))")
        case .engineUnavailable(let why): "perception engine unavailable: \(why)"
        case .wrongMedia(let task, let expects, let got):
            "task '\(task)' reads \(expects.rawValue), and this is \(got == .bytes ? "not a PNG image or WAV/FLAC/Ogg audio" : got.rawValue)"
        case .unreadable(let why): "the engine cannot read it: \(why)"
        case .badGroundTruth(let why): "bad ground truth: \(why)"
        case .trainingItem(let path, let split): "\(path) is in the dataset's training split; this task scores \(split) only"
        }
    }

    /// 1 usage (an unknown task, one given media of the other kind, as the CLI treats a codec of
    /// the wrong media kind, or a dataset's training item), 2 bad input (unreadable, bad ground
    /// truth, missing engine data).
    public var exitCode: Int32 {
        switch self {
        case .unknownTask, .wrongMedia, .trainingItem: 1
        default: 2
        }
    }
}

extension Media {
    /// The image an image task reads, or the error naming the task.
    func image(for task: String) throws(PerceptionError) -> Image {
        if case .image(let image) = self { return image }
        throw .wrongMedia(task: task, expects: .image, got: kind)
    }

    /// The audio a speech task reads, or the error naming the task.
    func audio(for task: String) throws(PerceptionError) -> Audio {
        if case .audio(let audio) = self { return audio }
        throw .wrongMedia(task: task, expects: .audio, got: kind)
    }
}

/// Serialises the setup of the C engines: sphinxbase keeps its log stream in a global, and
/// neither library documents concurrent initialisation as safe.
let engineSetupLock = NSLock()
