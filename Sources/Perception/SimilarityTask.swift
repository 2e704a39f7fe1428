import Foundation
import MediaIO
import Neural

/// `--task similarity`: a deep feature distance between the original and the decoded media, in
/// the spirit of LPIPS (images) and CDPAM (audio), from the convolution features of a classifier
/// trained here, since the ImageNet networks LPIPS uses cannot be had offline:
///
/// - images: classifier-cifar10, the only one of ours trained on natural photographs (in colour);
///   its features are convolutional, so it runs on an image of any size (gray images as three
///   equal channels), shrunk by a whole factor to at most 256 pixels on its longest side
///   (`ClassifierInput.maxSide`);
/// - audio: classifier-fsdd, the only one trained on audio (speech); its log-mel features run on
///   the whole clip (resampled to 8 kHz mono), not the classifier's one second.
///
/// The distance is `ConvClassifier.distance` over all the network's convolution layers (0 for
/// identical media). A prediction is `.distance(d)`: 0 for the original, d for the decoded media.
public struct SimilarityTask: PerceptionTask {
    public let info: TaskInfo
    public let modelID: String

    public func makeEngine() throws(PerceptionError) -> any PerceptionEngine {
        FeatureSimilarity(task: info.id, model: try ConvClassifier.load(modelID))
    }

    public func reference(for path: String) throws(PerceptionError) -> Prediction? { nil }

    /// Not an error count: the report reads the distance itself (`Prediction.distance`).
    public func errors(of hypothesis: Prediction, against reference: Prediction) -> ErrorTally { ErrorTally() }

    public static let image = SimilarityTask(
        info: TaskInfo(id: "similarity", media: .image, metric: "distance",
                       summary: "deep feature distance (LPIPS-like) from classifier-cifar10's convolution features; also for audio, from classifier-fsdd's"),
        modelID: "classifier-cifar10")
    public static let audio = SimilarityTask(
        info: TaskInfo(id: "similarity", media: .audio, metric: "distance",
                       summary: "deep feature distance (CDPAM-like) from classifier-fsdd's convolution features on the log-mel of the whole clip"),
        modelID: "classifier-fsdd")

    /// The similarity of `kind`'s media.
    public static func of(_ kind: MediaKind) -> SimilarityTask? {
        switch kind {
        case .image: image
        case .audio: audio
        case .bytes: nil
        }
    }
}

/// Runs the similarity's network on both media and compares their features.
public final class FeatureSimilarity: PerceptionEngine {
    let task: String
    let model: ConvClassifier

    init(task: String, model: ConvClassifier) {
        self.task = task
        self.model = model
    }

    public func predict(_ media: Media) throws(PerceptionError) -> Prediction {
        _ = try features(media)  // the original: checked and readable, at distance 0 from itself
        return .distance(0)
    }

    public func compare(_ decoded: Media, with original: Media) throws(PerceptionError) -> Prediction? {
        .distance(try distance(decoded, original))
    }

    public func distance(_ a: Media, _ b: Media) throws(PerceptionError) -> Double {
        ConvClassifier.distance(try features(a), try features(b))
    }

    func features(_ media: Media) throws(PerceptionError) -> [Tensor] {
        model.features(try ClassifierInput.tensor(media, for: model, task: task, exactSize: false))
    }
}
