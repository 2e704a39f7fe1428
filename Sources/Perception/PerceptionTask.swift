import Foundation
import MediaIO

/// What a perception model says about one input: the text OCR or speech recognition reads.
/// The classifiers and the feature similarity of issue 19 add their cases here (a label, a
/// feature vector) with their own `PerceptionTask`.
public enum Prediction: Sendable, Equatable, Codable {
    case text(String)

    public var text: String? {
        switch self {
        case .text(let t): t
        }
    }

    /// In JSON (`codec score --json`, sweep state files) a text prediction is a plain string.
    public init(from decoder: any Decoder) throws {
        self = .text(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let t): try container.encode(t)
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
}

extension PerceptionTask {
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
    public static let all: [any PerceptionTask] = [TextRecognitionTask.ocr, TextRecognitionTask.asr]
    /// Tasks issue 19 plans that have not landed; named in the error for an unknown task.
    public static let planned = ["digits-speech", "digits-image", "cifar10", "similarity"]

    public static func task(_ id: String) throws(PerceptionError) -> any PerceptionTask {
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
        }
    }

    /// 1 usage (an unknown task, or one given media of the other kind, as the CLI treats a codec
    /// of the wrong media kind), 2 bad input (unreadable, bad ground truth, missing engine data).
    public var exitCode: Int32 {
        switch self {
        case .unknownTask, .wrongMedia: 1
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
