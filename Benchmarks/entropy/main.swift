// EntropyBench: the Swift half of `make bench-entropy` (Benchmarks/entropy/README in docs/ENTROPY.md).
// Builds the benchmark models and messages, times every coder of EntropyCoding on them, and
// writes the messages, models and results to OUTDIR for constriction_bench.py, which times
// constriction on the very same symbols and models and writes Benchmarks/results/entropy.md.
//
// Usage: EntropyBench <book1 path> <OUTDIR> [symbols, default 10_000_000]
import Foundation

struct Xoshiro {  // xoshiro256** for sampling messages reproducibly
    var s: (UInt64, UInt64, UInt64, UInt64)
    init(seed: UInt64) {
        var x = seed
        func next() -> UInt64 { x &+= 0x9E37_79B9_7F4A_7C15; var z = x; z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9; z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB; return z ^ (z >> 31) }
        s = (next(), next(), next(), next())
    }
    mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3; s.2 ^= t; s.3 = s.3 << 45 | s.3 >> 19
        return result
    }
}

func entropy(_ model: CategoricalModel) -> Double {
    let total = Double(1 << model.precision)
    return model.frequencies.reduce(0.0) { h, f in f == 0 ? h : h - Double(f) / total * log2(Double(f) / total) }
}

/// A 256-symbol model (values −128...127) of `family` whose quantized entropy is `target` bits.
func parametricModel(_ family: ParametricModelTable.Family, entropy target: Double, precision: Int) throws -> (CategoricalModel, Double) {
    func model(_ scale: Double) throws -> CategoricalModel {
        try CategoricalModel(probabilities: family.discretized(scale: scale, values: -128...127), precision: precision)
    }
    var low = log(0.01), high = log(2000.0)
    for _ in 0..<60 {
        let mid = (low + high) / 2
        if entropy(try model(exp(mid))) < target { low = mid } else { high = mid }
    }
    return (try model(exp(high)), exp(high))
}

func sample(_ model: CategoricalModel, count: Int, seed: UInt64) -> [UInt8] {
    var rng = Xoshiro(seed: seed)
    let mask = UInt64(1 << model.precision) - 1
    return (0..<count).map { _ in UInt8(model.symbol(atSlot: UInt32(rng.next() >> 20 & mask)).symbol) }
}

/// Best of `runs` CPU times of this thread in seconds. CPU time rather than wall time because
/// the benchmark machine is shared: it is what one core spends on the work.
func time<R>(runs: Int, _ body: () throws -> R) rethrows -> (Double, R) {
    func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
    var best = Double.infinity
    var result: R? = nil
    for _ in 0..<runs {
        let start = now()
        result = try body()
        best = min(best, now() - start)
    }
    return (best, result!)
}

struct Coder {
    var name: String
    var encode: ([UInt8], CategoricalModel) throws -> [UInt8]
    var decode: ([UInt8], Int, CategoricalModel) throws -> [UInt8]
}

let coders: [Coder] = [
    Coder(name: "rANS32 ×1", encode: { try RANS32.encode($0, model: $1, ways: 1) }, decode: { try RANS32.decode($0, count: $1, model: $2, ways: 1, as: UInt8.self) }),
    Coder(name: "rANS32 ×4", encode: { try RANS32.encode($0, model: $1, ways: 4) }, decode: { try RANS32.decode($0, count: $1, model: $2, ways: 4, as: UInt8.self) }),
    Coder(name: "rANS64 ×1", encode: { try RANS64.encode($0, model: $1, ways: 1) }, decode: { try RANS64.decode($0, count: $1, model: $2, ways: 1, as: UInt8.self) }),
    Coder(name: "rANS64 ×4", encode: { try RANS64.encode($0, model: $1, ways: 4) }, decode: { try RANS64.decode($0, count: $1, model: $2, ways: 4, as: UInt8.self) }),
    Coder(name: "rANS64 ×8", encode: { try RANS64.encode($0, model: $1, ways: 8) }, decode: { try RANS64.decode($0, count: $1, model: $2, ways: 8, as: UInt8.self) }),
    Coder(name: "range", encode: { try RangeCoder.encode($0, model: $1) }, decode: { try RangeCoder.decode($0, count: $1, model: $2, as: UInt8.self) }),
]

let arguments = CommandLine.arguments
guard arguments.count >= 3 else { fatalError("usage: EntropyBench <book1> <outdir> [symbols]") }
let outDirectory = URL(fileURLWithPath: arguments[2])
let symbolCount = arguments.count > 3 ? Int(arguments[3])! : 10_000_000
let precision = Int(ProcessInfo.processInfo.environment["ENTROPY_BENCH_PRECISION"] ?? "12")!
try FileManager.default.createDirectory(at: outDirectory, withIntermediateDirectories: true)

var datasets: [(name: String, model: CategoricalModel, symbols: [UInt8], note: String)] = []
let book1 = [UInt8](try Data(contentsOf: URL(fileURLWithPath: arguments[1])))
var counts = [Double](repeating: 0, count: 256)
for b in book1 { counts[Int(b)] += 1 }
datasets.append(("book1 order-0", try CategoricalModel(probabilities: counts, precision: precision), book1, "\(book1.count) bytes"))
for (family, target) in [(ParametricModelTable.Family.laplace, 0.1), (.gaussian, 1.0), (.laplace, 4.0), (.gaussian, 7.9)] {
    let (model, scale) = try parametricModel(family, entropy: target, precision: precision)
    datasets.append(("\(family.rawValue) H≈\(target)", model, sample(model, count: symbolCount, seed: UInt64(target * 1000)),
                     "scale \(String(format: "%.4g", scale))"))
}

// Best of 5 passes over everything, 3 runs each: the machine is shared, and spreading the runs
// over time keeps a burst of load on the other core from setting a coder's time.
let passes = 5
var best: [String: (encode: Double, decode: Double, bits: Double)] = [:]
for _ in 0..<passes {
    for (index, dataset) in datasets.enumerated() {
        let n = dataset.symbols.count
        for coder in coders {
            if coder.name.hasPrefix("rANS32") && !RANS32.supportedPrecision.contains(precision) { continue }
            let (encodeSeconds, bytes) = try time(runs: 3) { try coder.encode(dataset.symbols, dataset.model) }
            let (decodeSeconds, decoded) = try time(runs: 3) { try coder.decode(bytes, n, dataset.model) }
            guard decoded == dataset.symbols else { fatalError("\(coder.name) failed to round-trip \(dataset.name)") }
            let key = "\(index) \(coder.name)"
            let previous = best[key] ?? (.infinity, .infinity, 0)
            best[key] = (min(previous.encode, encodeSeconds), min(previous.decode, decodeSeconds), Double(bytes.count * 8))
        }
    }
}

var lines: [String] = []
for (index, dataset) in datasets.enumerated() {
    let n = dataset.symbols.count
    let ideal = dataset.model.idealBits(of: dataset.symbols)
    try Data(dataset.symbols).write(to: outDirectory.appendingPathComponent("\(index).symbols"))
    try Data(dataset.model.frequencies.flatMap { f in (0..<4).map { UInt8(truncatingIfNeeded: f >> (8 * $0)) } })
        .write(to: outDirectory.appendingPathComponent("\(index).frequencies"))
    for coder in coders {
        guard let result = best["\(index) \(coder.name)"] else { continue }
        let line = """
        {"dataset": "\(dataset.name)", "note": "\(dataset.note)", "index": \(index), "symbols": \(n), "precision": \(precision), \
        "entropy": \(entropy(dataset.model)), "coder": "\(coder.name)", "ideal_bits": \(ideal), "actual_bits": \(result.bits), \
        "encode_seconds": \(result.encode), "decode_seconds": \(result.decode)}
        """
        print(line)
        lines.append(line)
    }
}
try (lines.joined(separator: "\n") + "\n").write(to: outDirectory.appendingPathComponent("swift.jsonl"), atomically: true, encoding: .utf8)
