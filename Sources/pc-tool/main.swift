// pc-tool: trains the pc-mnist hidden Chow-Liu tree (`train`) and measures the PC codec (`bench`).
// Run from the repository root, in release (`make train-pc-mnist`, `make bench-circuits`).
import Circuits
import CZlib
import Foundation

/// The gzip-compressed MNIST t10k images, read in place from ../shared.
let mnistPath = "../shared/data/perception/mnist/t10k-images-idx3-ubyte.gz"

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("pc-tool: \(message)\n".utf8))
    exit(1)
}

/// Decompresses a whole gzip file with zlib.
func gunzip(_ path: String) -> [UInt8] {
    guard let file = gzopen(path, "rb") else { fail("cannot open \(path)") }
    defer { gzclose(file) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = buffer.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
        if n < 0 { fail("\(path) is not valid gzip") }
        if n == 0 { return out }
        out += buffer[0..<Int(n)]
    }
}

func loadMNIST() -> IDXImages {
    do { return try IDXImages(parsing: gunzip(mnistPath)) } catch { fail("\(error) (\(mnistPath))") }
}

/// `--name value` arguments.
func options(_ args: ArraySlice<String>) -> [String: String] {
    var out: [String: String] = [:]
    var i = args.startIndex
    while i < args.endIndex {
        guard args[i].hasPrefix("--"), i + 1 < args.endIndex else { fail("expected --name value, got '\(args[i])'") }
        out[String(args[i].dropFirst(2))] = args[i + 1]
        i += 2
    }
    return out
}

func number<T: LosslessStringConvertible>(_ o: [String: String], _ name: String, _ value: T) -> T {
    guard let s = o[name] else { return value }
    guard let v = T(s) else { fail("--\(name) '\(s)' is not a number") }
    return v
}

func write(_ bytes: [UInt8], to path: String) {
    try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { fail("cannot write \(path)") }
}

func trainCommand(_ o: [String: String]) {
    var opt = TrainingOptions()
    opt.stateCount = number(o, "states", opt.stateCount)
    opt.miniBatchEpochs = number(o, "mini-epochs", opt.miniBatchEpochs)
    opt.fullBatchEpochs = number(o, "full-epochs", opt.fullBatchEpochs)
    opt.batchSize = number(o, "batch", opt.batchSize)
    opt.leafPseudocount = number(o, "leaf-pseudocount", opt.leafPseudocount)
    opt.transitionPseudocount = number(o, "transition-pseudocount", opt.transitionPseudocount)
    opt.stepSizeStart = number(o, "step-start", opt.stepSizeStart)
    opt.stepSizeEnd = number(o, "step-end", opt.stepSizeEnd)
    opt.seed = number(o, "seed", opt.seed)
    if let prior = o["leaf-prior"] {
        guard let p = LeafPrior(rawValue: prior) else { fail("--leaf-prior must be uniform or value-histogram") }
        opt.leafPrior = p
    }
    // MNIST t10k images 0-7999 may be trained on; 8000-9999 are the test split, never read here.
    let trainCount = number(o, "train-count", 7000)
    let validationEnd = 8000
    let runDir = o["run"] ?? "Training/runs/pc-mnist"
    let images = loadMNIST()
    guard images.rows == 28, images.columns == 28, images.count >= validationEnd, trainCount < validationEnd else {
        fail("expected at least 8000 28x28 images and --train-count below 8000")
    }
    let all = try! Dataset(variableCount: 784, values: Array(images.pixels[0..<(validationEnd * 784)]))
    let training = all.slice(0..<trainCount), validation = all.slice(trainCount..<validationEnd)
    print("training on MNIST t10k images 0..<\(trainCount), validating on \(trainCount)..<\(validationEnd); M=\(opt.stateCount)")
    var log = "phase,epoch,train_bpd,validation_bpd,seconds\n"
    let result = train(training, validation: validation, options: opt, progress: { p in
        let line = "\(p.phase.rawValue),\(p.epoch),\(String(format: "%.4f", p.trainBitsPerDimension)),\(String(format: "%.4f", p.validationBitsPerDimension)),\(String(format: "%.1f", p.seconds))"
        print(line)
        fflush(nil)
        log += line + "\n"
        write(Array(log.utf8), to: runDir + "/training-log.csv")
    }, checkpoint: { model in
        write(ModelFile.serialize(model), to: runDir + "/checkpoint.safetensors")
    })
    write(ModelFile.serialize(result.model), to: runDir + "/model.safetensors")
    print("best validation bpd \(String(format: "%.4f", result.bestValidationBitsPerDimension)); wrote \(runDir)/model.safetensors")
}

let args = CommandLine.arguments
switch args.count > 1 ? args[1] : "" {
case "train": trainCommand(options(args.dropFirst(2)))
default:
    fail("usage: pc-tool train [--states M --mini-epochs N --full-epochs N --batch B --leaf-pseudocount a --transition-pseudocount a --train-count N --run DIR]")
}
