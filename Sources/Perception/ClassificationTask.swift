import CodecKit
import Foundation
import MediaIO
import Neural

/// A task whose engine is one of the classifiers trained here (`ConvClassifier`): MNIST digits,
/// FSDD spoken digits, CIFAR-10 objects. A prediction is a class index; an input's errors are 1
/// of 1 when the label is wrong, so a corpus rate is an error rate and accuracy is 1 − rate.
///
/// Ground truth comes from the datasets' own labels (`ClassifierDatasets`), and only their test
/// splits are scored: a training item given by name is refused, a dataset folder lists its test
/// split only.
public struct ClassificationTask: PerceptionTask {
    public let info: TaskInfo
    public let modelID: String
    let dataset: ClassifierDatasets.Kind

    public func makeEngine() throws(PerceptionError) -> any PerceptionEngine {
        ClassifierEngine(task: info.id, model: try ConvClassifier.load(modelID))
    }

    public func reference(for path: String) throws(PerceptionError) -> Prediction? {
        try ClassifierDatasets.label(of: path, in: dataset).map { .label($0) }
    }

    public func errors(of hypothesis: Prediction, against reference: Prediction) -> ErrorTally {
        ErrorTally(edits: hypothesis == reference ? 0 : 1, length: 1)
    }

    public func listing(folder: String) throws(PerceptionError) -> [String]? {
        try ClassifierDatasets.testSplit(in: folder, dataset)
    }

    public func media(at path: String) throws(PerceptionError) -> Media? {
        dataset == .mnist ? try ClassifierDatasets.mnistImage(at: path) : nil
    }

    public static let digitsImage = ClassificationTask(
        info: TaskInfo(id: "digits-image", media: .image, metric: "error",
                       summary: "handwritten digits, classifier-mnist (28x28 grayscale); classification error; labels from MNIST's IDX (test split 8000-9999)"),
        modelID: "classifier-mnist", dataset: .mnist)
    public static let digitsSpeech = ClassificationTask(
        info: TaskInfo(id: "digits-speech", media: .audio, metric: "error",
                       summary: "spoken digits, classifier-fsdd (log-mel of 1 s at 8 kHz); classification error; labels from FSDD names (test split: index 0-4)"),
        modelID: "classifier-fsdd", dataset: .fsdd)
    public static let cifar10 = ClassificationTask(
        info: TaskInfo(id: "cifar10", media: .image, metric: "error",
                       summary: "CIFAR-10 objects, classifier-cifar10 (32x32 RGB); classification error; labels from the class folder (test split 0800-0999)"),
        modelID: "classifier-cifar10", dataset: .cifar10)
}

/// Runs a classifier on one input: the media made into the network's input, the argmax.
final class ClassifierEngine: PerceptionEngine {
    let task: String
    let model: ConvClassifier

    init(task: String, model: ConvClassifier) {
        self.task = task
        self.model = model
    }

    func predict(_ media: Media) throws(PerceptionError) -> Prediction {
        .label(ConvClassifier.argmax(model.logits(try ClassifierInput.tensor(media, for: model, task: task))))
    }
}

/// Media as a classifier's input tensor `[1, C, H, W]`.
public enum ClassifierInput {
    /// Images: samples / max value; RGB(A) to one channel by the mean of R, G, B; gray to three
    /// channels by repetition; alpha dropped. Audio: the log-mel of the model's codec.json, from
    /// the audio mixed to mono and resampled to its rate. With `exactSize` (classification) an
    /// image must have the training size (28x28, 32x32): the network was never shown any other.
    public static func tensor(_ media: Media, for model: ConvClassifier, task: String,
                              exactSize: Bool = true) throws(PerceptionError) -> Tensor {
        let c = model.configuration
        if let mel = c.logMel {
            let audio = try media.audio(for: task)
            let mono = try SpeechResampler.floats(audio, sampleRate: mel.sampleRate)
            guard !mono.isEmpty else { throw .unreadable("the audio has no samples") }
            let (frames, values) = mel.features(mono, wholeClip: !exactSize)
            return Tensor(shape: [1, 1, mel.mels, frames], scalars: values)
        }
        let image = try media.image(for: task)
        let side = c.channels == 1 ? 28 : 32
        if exactSize {
            guard image.width == side, image.height == side else {
                throw .unreadable("\(model.configuration.task) reads \(side)x\(side) images, and this is \(image.width)x\(image.height)")
            }
            return planes(image, channels: c.channels)
        }
        guard image.width > 0, image.height > 0 else { throw .unreadable("the image is empty") }
        let factor = (max(image.width, image.height) + maxSide - 1) / maxSide
        return shrunk(planes(image, channels: c.channels), by: factor)
    }

    /// The longest side the similarity looks at: larger images are shrunk by a whole factor
    /// (box average) to at most this. It bounds the cost (a 1700x2200 page would take seconds)
    /// and brings photographs nearer the scale the CIFAR-10 features were learned at.
    public static let maxSide = 256

    /// `x` averaged over `factor` x `factor` blocks (a remainder at the right or bottom dropped).
    static func shrunk(_ x: Tensor, by factor: Int) -> Tensor {
        guard factor > 1 else { return x }
        let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
        let (ho, wo) = (max(1, h / factor), max(1, w / factor))
        let (fy, fx) = (min(factor, h), min(factor, w))
        var out = [Float](repeating: 0, count: c * ho * wo)
        for ch in 0..<c {
            for i in 0..<ho {
                for j in 0..<wo {
                    var s: Float = 0
                    for dy in 0..<fy { for dx in 0..<fx { s += x.scalars[ch * h * w + (i * fy + dy) * w + j * fx + dx] } }
                    out[ch * ho * wo + i * wo + j] = s / Float(fy * fx)
                }
            }
        }
        return Tensor(shape: [1, c, ho, wo], scalars: out)
    }

    /// `[1, channels, H, W]` in [0, 1].
    public static func planes(_ image: Image, channels: Int) -> Tensor {
        let (w, h, ic) = (image.width, image.height, image.channels)
        let scale = 1 / Float(image.maxValue)
        let colour = ic >= 3
        var out = [Float](repeating: 0, count: channels * w * h)
        for p in 0..<(w * h) {
            let base = p * ic
            if channels == 1 {
                out[p] = colour
                    ? (Float(image.samples[base]) + Float(image.samples[base + 1]) + Float(image.samples[base + 2])) / 3 * scale
                    : Float(image.samples[base]) * scale
            } else {
                for ch in 0..<channels {
                    out[ch * w * h + p] = Float(image.samples[base + (colour ? ch : 0)]) * scale
                }
            }
        }
        return Tensor(shape: [1, channels, h, w], scalars: out)
    }
}

/// Where the classifier datasets in `../shared/data` keep their labels, and which of their items
/// are the test split (`../shared/data/README.md`):
///
/// - MNIST (`perception/mnist`): one gzip IDX file of images, one of labels; test images
///   8000-9999. An image is named `<folder>/<index>.png` (no such file exists: the task reads it
///   from the IDX file, and `--decoded DIR` looks for `<index>.png`, what `codec decode` of that
///   image would write).
/// - FSDD (`audio/speech/fsdd`): `<digit>_<speaker>_<index>.flac`; test split index 0-4.
/// - CIFAR-10 (`perception/cifar10`): `<class>/<nnnn>.png`; test split 0800-0999 of each class.
///
/// Files that follow none of these patterns have no ground truth (scored against the prediction
/// on the original only).
public enum ClassifierDatasets {
    enum Kind: Sendable { case mnist, fsdd, cifar10 }

    static let mnistImages = "t10k-images-idx3-ubyte.gz", mnistLabels = "t10k-labels-idx1-ubyte.gz"
    static let mnistTest = 8000..<10000, fsddTest = 0...4, cifarTest = 800..<1000
    public static let cifarClasses = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    static func label(of path: String, in kind: Kind) throws(PerceptionError) -> Int? {
        let url = URL(fileURLWithPath: path)
        let stem = url.deletingPathExtension().lastPathComponent
        switch kind {
        case .mnist:
            guard let index = mnistIndex(path) else { return nil }
            guard mnistTest.contains(index) else { throw .trainingItem(path, split: "MNIST images 8000-9999") }
            let labels = try gunzip(url.deletingLastPathComponent().appendingPathComponent(mnistLabels).path)
            guard labels.count == 8 + 10000 else { throw .badGroundTruth("\(mnistLabels) does not hold 10000 labels") }
            return Int(labels[8 + index])
        case .fsdd:
            let parts = stem.split(separator: "_")
            guard parts.count == 3, let digit = Int(parts[0]), (0...9).contains(digit), let index = Int(parts[2]) else { return nil }
            guard fsddTest.contains(index) else { throw .trainingItem(path, split: "FSDD recording index 0-4") }
            return digit
        case .cifar10:
            let folder = url.deletingLastPathComponent().lastPathComponent
            guard let label = cifarClasses.firstIndex(of: folder), stem.count == 4, let index = Int(stem) else { return nil }
            guard cifarTest.contains(index) else { throw .trainingItem(path, split: "CIFAR-10 images 0800-0999 of each class") }
            return label
        }
    }

    /// The test split of a dataset folder, or nil when `folder` is not one.
    static func testSplit(in folder: String, _ kind: Kind) throws(PerceptionError) -> [String]? {
        let dir = folder.hasSuffix("/") ? String(folder.dropLast()) : folder
        let fm = FileManager.default
        switch kind {
        case .mnist:
            guard fm.fileExists(atPath: dir + "/" + mnistImages) else { return nil }
            return mnistTest.map { "\(dir)/\($0).png" }
        case .fsdd:
            let names = ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).sorted()
            let test = names.filter { name in
                let parts = URL(fileURLWithPath: name).deletingPathExtension().lastPathComponent.split(separator: "_")
                return name.hasSuffix(".flac") && parts.count == 3 && Int(parts[0]) != nil && Int(parts[2]).map(fsddTest.contains) == true
            }
            // Index-major (every digit and speaker's take 0, then take 1, ...), so that --limit N
            // keeps a balanced share of digits and speakers.
            let ordered = test.sorted { (index($0), $0) < (index($1), $1) }
            return ordered.isEmpty ? nil : ordered.map { dir + "/" + $0 }
        case .cifar10:
            guard cifarClasses.allSatisfy({ fm.fileExists(atPath: dir + "/" + $0) }) else { return nil }
            // Index-major (image 0800 of every class, then 0801, ...): --limit N stays balanced.
            return cifarTest.flatMap { i in cifarClasses.map { String(format: "%@/%@/%04d.png", dir, $0, i) } }
        }
    }

    /// The recording index of an FSDD name (`3_theo_12.flac` → 12).
    static func index(_ name: String) -> Int {
        Int(URL(fileURLWithPath: name).deletingPathExtension().lastPathComponent.split(separator: "_").last ?? "") ?? 0
    }

    /// `<folder>/<index>.png` where the folder holds MNIST's IDX images, and no such file exists.
    static func mnistIndex(_ path: String) -> Int? {
        let url = URL(fileURLWithPath: path)
        guard url.pathExtension == "png", let index = Int(url.deletingPathExtension().lastPathComponent), (0..<10000).contains(index),
              !FileManager.default.fileExists(atPath: path),
              FileManager.default.fileExists(atPath: url.deletingLastPathComponent().appendingPathComponent(mnistImages).path)
        else { return nil }
        return index
    }

    /// The MNIST image an item names, or nil when `path` is not an MNIST item.
    static func mnistImage(at path: String) throws(PerceptionError) -> Media? {
        guard let index = mnistIndex(path) else { return nil }
        let file = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(mnistImages).path
        let bytes = try gunzip(file)
        guard bytes.count == 16 + 10000 * 784 else { throw .unreadable("\(file) does not hold 10000 28x28 images") }
        let pixels = bytes[(16 + index * 784)..<(16 + (index + 1) * 784)].map { UInt16($0) }
        return .image(Image(width: 28, height: 28, channels: 1, bitDepth: 8, samples: pixels))
    }

    /// A gzip file, decompressed once per process (every MNIST item reads the same two).
    static func gunzip(_ path: String) throws(PerceptionError) -> [UInt8] {
        if let hit = cache.withValue({ $0[path] }) { return hit }
        do {
            let bytes = try Deflate.gunzipFile(path, limit: 16 << 20)
            cache.withValue { $0[path] = bytes }
            return bytes
        } catch {
            throw .unreadable("\(path): \(error)")
        }
    }

    private static let cache = Locked([String: [UInt8]]())
}
