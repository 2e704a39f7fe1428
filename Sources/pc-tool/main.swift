// pc-tool: trains the pc-mnist hidden Chow-Liu tree (`train`) and measures the PC codec (`bench`).
// Run from the repository root, in release (`make train-pc-mnist`, `make bench-circuits`).
import Circuits
import CodecKit
import Container
import CZlib
import EntropyCoding
import Foundation
import MediaIO
import PCCodec

/// The gzip-compressed MNIST t10k images, read in place from ../shared.
let mnistPath = "../shared/data/perception/mnist/t10k-images-idx3-ubyte.gz"

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("pc-tool: \(message)\n".utf8))
    exit(1)
}

func loadMNIST() -> IDXImages {
    do { return try IDXImages(parsing: Deflate.gunzipFile(mnistPath)) } catch { fail("\(error) (\(mnistPath))") }
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
    let validationEnd = 8000  // validation: train-count ..< 8000
    let runDir = o["run"] ?? "Training/runs/pc-mnist"
    let images = loadMNIST()
    guard images.rows == 28, images.columns == 28, images.count >= validationEnd, trainCount < validationEnd else {
        fail("expected at least 8000 28x28 images and --train-count below 8000")
    }
    let all = try! Dataset(variableCount: 784, values: Array(images.pixels[0..<(validationEnd * 784)]))
    let shift = number(o, "shift", 0)
    let training = all.slice(0..<trainCount).withShiftedCopies(rows: 28, columns: 28, upTo: shift), validation = all.slice(trainCount..<validationEnd)
    print("training on MNIST t10k images 0..<\(trainCount) (\(training.count) with shifts up to \(shift) px), validating on \(trainCount)..<\(validationEnd); M=\(opt.stateCount)")
    var log = "phase,epoch,train_bpd,validation_bpd,seconds\n"
    var initial: HiddenChowLiuTree? = nil
    if let path = o["init"] {
        do { initial = try ModelFile.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path)))) } catch { fail("--init \(path): \(error)") }
        opt.stateCount = initial!.stateCount
        print("continuing from \(path)")
    }
    let result = train(training, validation: validation, options: opt, startingFrom: initial, progress: { p in
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

/// Measures the released model on the test split (MNIST t10k 8000-9999): actual file bits per
/// image and for one container of all 2000, single-core encode/decode speed, exact round trips,
/// and the fast scheme against the from-scratch one. Prints a Markdown section.
func benchCommand(_ o: [String: String]) {
    let images = loadMNIST()
    let test = Array(images.pixels[(8000 * 784)..<(10000 * 784)])
    let n = test.count / 784
    let codec: PCCodec
    do { codec = try PCCodec(store: ModelStore(searchPaths: [o["models"] ?? "Codecs"])) } catch { fail(error.description) }
    let model: HiddenChowLiuTree
    do { model = try ModelFile.parse(Array(try Data(contentsOf: URL(fileURLWithPath: (o["models"] ?? "Codecs") + "/pc-mnist/model.safetensors")))) } catch { fail("\(error)") }
    func image(_ i: Int) -> Media {
        .image(Image(width: 28, height: 28, channels: 1, bitDepth: 8, samples: test[(i * 784)..<((i + 1) * 784)].map { UInt16($0) }))
    }
    // Per image: each test image its own .ncdc file; one thread, one image at a time.
    var fileBytes = 0, streamBytes = 0
    var files: [ContainerFile] = []
    var clock = Date()
    for i in 0..<n {
        let f = try! codec.encode(image(i), options: CodecOptions())
        files.append(f)
    }
    let encodeSeconds = Date().timeIntervalSince(clock)
    clock = Date()
    var mismatches = 0
    for i in 0..<n where (try? codec.decode(files[i])) != image(i) { mismatches += 1 }
    let decodeSeconds = Date().timeIntervalSince(clock)
    for f in files { fileBytes += f.serialized().count; streamBytes += f.payload.count }
    // All 2000 as one IDX file in one container.
    let idx = IDXImages(rows: 28, columns: 28, pixels: test).serialized()
    clock = Date()
    let all = try! codec.encode(.bytes(idx), options: CodecOptions())
    let allEncodeSeconds = Date().timeIntervalSince(clock)
    clock = Date()
    let allOK = (try? codec.decode(all)) == .bytes(idx)
    let allDecodeSeconds = Date().timeIntervalSince(clock)
    // The model's own cross-entropy (what an ideal coder would spend).
    let marginals = Marginals(model)
    var nats = 0.0
    for i in 0..<n { nats -= marginals.logMarginal(test[(i * 784)..<((i + 1) * 784)].map(Int.init)) }
    let pixels = Double(n * 784)
    let ideal = nats / log(2.0) / pixels
    let overhead = codingOverhead(model, test, container: all)
    // Fast scheme against the from-scratch scheme on the same images.
    let fast = SequentialConditionals(model)
    let simpleImages = number(o, "simple-images", 2)
    clock = Date()
    for i in 0..<simpleImages {
        var evidence = [Int](repeating: -1, count: 784)
        for v in fast.order {
            _ = marginals.conditional(of: v, given: evidence)
            evidence[v] = Int(test[i * 784 + v])
        }
    }
    let simpleSeconds = Date().timeIntervalSince(clock) / Double(simpleImages)
    clock = Date()
    var sink = 0.0
    for i in 0..<n {
        fast.walk { c in  // what coding a value needs: P(X = x | earlier) from three cumulatives
            let x = Int(test[i * 784 + c.variable])
            sink += (c.cumulative(x + 1) - c.cumulative(x)) / c.cumulative(256)
            return x
        }
    }
    precondition(sink > 0)
    let fastSeconds = Date().timeIntervalSince(clock) / Double(n)
    func f(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }
    print("""
    | PC codec (pc-mnist, M=\(model.stateCount)) | bits/dim |
    |---|---|
    | model cross-entropy (-log2 p, no coder) | \(f(ideal)) |
    | 2000 images, one container (IDX in, \(all.serialized().count) bytes) | \(f(Double(all.serialized().count * 8) / pixels)) |
    | per image: payloads only (layout byte + rANS stream) | \(f(Double(streamBytes * 8) / pixels)) |
    | per image: whole .ncdc files (container header and CRC: \((fileBytes - streamBytes) / n) bytes per file) | \(f(Double(fileBytes * 8) / pixels)) |

    Round trips: \(n - mismatches)/\(n) per-image files exact, one-container IDX exact: \(allOK).

    Where the bits of the one-container file go, per image (\(n) images):

    | | bits per image |
    |---|---|
    | model cross-entropy | \(f(nats / log(2.0) / Double(n), 2)) |
    | information under the 24-bit quantized conditionals | \(f(overhead.quantized, 2)) |
    | rANS streams (`SpreadCompactRANS64`) | \(f(overhead.streams, 2)) |
    | the same intervals with `CompactRANS64` (layout 1, for comparison) | \(f(overhead.compactStreams, 2)) |
    | stream table: lengths and leading bytes | \(f(overhead.table, 2)) |
    | leading bytes taken out of the streams (stored in the table) | \(f(-overhead.leadingBytes, 2)) |
    | layout byte, container header and CRC (1 + \(all.serialized().count - all.payload.count) bytes), shared | \(f(overhead.rest, 2)) |
    | total (file bits / \(n)) | \(f(Double(all.serialized().count * 8) / Double(n), 2)) |

    | speed (release, this machine) | images/s |
    |---|---|
    | encode, one thread, one image per file | \(f(Double(n) / encodeSeconds, 0)) |
    | decode, one thread, one image per file | \(f(Double(n) / decodeSeconds, 0)) |
    | encode, 2000 images in one container (all cores) | \(f(Double(n) / allEncodeSeconds, 0)) |
    | decode, 2000 images in one container (all cores) | \(f(Double(n) / allDecodeSeconds, 0)) |
    | conditionals only, fast scheme (\(n) images) | \(f(1 / fastSeconds, 1)) |
    | conditionals only, from-scratch marginals (\(simpleImages) images) | \(f(1 / simpleSeconds, 3)) |

    Fast scheme speed-up over from-scratch marginals: \(f(simpleSeconds / fastSeconds, 0))x.
    """)
    if mismatches > 0 || !allOK { fail("round trip failed") }
    // --json PATH: the headline numbers as JSON lines for Benchmarks/sidecar.py (circuits.json, read by
    // `make bench`'s report; Benchmarks/pc_baselines.py adds the classical coders' rows).
    if let path = o["json"] {
        let data = "MNIST t10k 8000-9999 (\(n) images)"
        let lines = [
            #"{"kind": "fidelity", "data": "\#(data)", "codec": "pc-mnist", "setting": "one container", "rate": \#(f(Double(all.serialized().count * 8) / pixels, 4)), "rate_unit": "bits/dim", "exact": true}"#,
            #"{"kind": "fidelity", "data": "\#(data)", "codec": "pc-mnist", "setting": "one file per image", "rate": \#(f(Double(fileBytes * 8) / pixels, 4)), "rate_unit": "bits/dim", "exact": true}"#,
            #"{"kind": "speed", "what": "circuits encode, one file per image", "ours": "pc-mnist", "ours_value": \#(f(Double(n) / encodeSeconds, 1)), "peer": null, "peer_value": null, "unit": "images/s"}"#,
            #"{"kind": "speed", "what": "circuits decode, one file per image", "ours": "pc-mnist", "ours_value": \#(f(Double(n) / decodeSeconds, 1)), "peer": null, "peer_value": null, "unit": "images/s"}"#,
        ]
        write(Array((lines.joined(separator: "\n") + "\n").utf8), to: path)
    }
}

/// Bits per image of each part of the coded size: the quantized information content, the
/// streams of both rANS layouts (the same intervals), the length table and the rest of the file.
func codingOverhead(_ model: HiddenChowLiuTree, _ pixels: [UInt8], container: ContainerFile) -> (quantized: Double, streams: Double, compactStreams: Double, table: Double, leadingBytes: Double, rest: Double) {
    let conditionals = SequentialConditionals(model)
    let n = pixels.count / 784
    var information = 0.0, spreadBytes = 0, compactBytes = 0, nonempty = 0
    for i in 0..<n {
        var intervals: [SymbolInterval] = []
        try! conditionals.walk { (c) throws(EntropyCodingError) -> Int in
            let x = Int(pixels[i * 784 + c.variable])
            intervals.append(try QuantizedCumulative(c, precision: 24).interval(of: x)!)
            return x
        }
        var spread = SpreadCompactRANS64.Encoder(), compact = CompactRANS64.Encoder()
        for interval in intervals.reversed() {
            information += 24 - log2(Double(interval.frequency))
            spread.push(interval, precision: 24)
            compact.push(interval, precision: 24)
        }
        let stream = spread.finish()
        spreadBytes += stream.count
        if !stream.isEmpty { nonempty += 1 }
        compactBytes += compact.finish().count
    }
    let headerBytes = container.serialized().count - container.payload.count + 1  // + the layout byte
    let tableBytes = container.payload.count - 1 - (spreadBytes - nonempty)
    let perImage = { (bytes: Int) in Double(bytes * 8) / Double(n) }
    return (information / Double(n), perImage(spreadBytes), perImage(compactBytes), perImage(tableBytes), perImage(nonempty), perImage(headerBytes))
}

let args = CommandLine.arguments
switch args.count > 1 ? args[1] : "" {
case "train": trainCommand(options(args.dropFirst(2)))
case "bench": benchCommand(options(args.dropFirst(2)))
default:
    fail("usage: pc-tool train [--states M --mini-epochs N --full-epochs N --batch B --leaf-pseudocount a --transition-pseudocount a --train-count N --run DIR]")
}
