// Times the Swift side of `make bench-neural`; Training/parity/bench_neural.py drives it with the
// same weights and input as PyTorch and writes Benchmarks/results/neural.md.
//
//   NeuralBench conv <dir> <blocks> <threads> <fast|deterministic> <runs>
//   NeuralBench lm   <dir> <threads> <fast|deterministic> <steps> <runs>
//
// <dir> holds the files bench_neural.py wrote. Prints one JSON object: the fastest run in seconds,
// the mean CPU seconds (user + system, all threads) per run, and
// the largest relative error against PyTorch's output.
import Foundation
import Neural

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Fastest run: on a shared machine other jobs only ever add time.
func best(_ v: [Double]) -> Double { v.min()! }

/// User + system CPU seconds of this process so far (all threads). On a machine shared with
/// other jobs this counts the work done, not the time spent waiting for a core.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return s(usage.ru_utime) + s(usage.ru_stime)
}

func maxRelativeError(_ a: [Float], _ b: [Float]) -> Float {
    let rms = (b.reduce(Float(0)) { $0 + $1 * $1 } / Float(b.count)).squareRoot()
    return zip(a, b).map { abs($0 - $1) / max(abs($1), rms) }.max() ?? 0
}

let args = CommandLine.arguments
guard args.count >= 7 else {
    FileHandle.standardError.write(Data("usage: NeuralBench conv|lm <dir> ... (see main.swift)\n".utf8))
    exit(2)
}
let dir = args[2]
do {
    switch args[1] {
    case "conv":
        let blocks = Int(args[3])!, threads = Int(args[4])!, runs = Int(args[6])!
        let path: KernelPath = args[5] == "fast" ? .fast(threads: threads) : .deterministic(threads: threads)
        let w = try SafeTensors(contentsOfFile: dir + "/conv.safetensors")
        let stack = try (0..<blocks).map { try ResidualConvBlock2d(w, "blocks.\($0)") }
        let x = try w.tensor("input"), expected = try w.tensor("output")
        var y = x
        func forward() { y = x; for b in stack { y = b(y, path: path) } }
        forward()
        let cpu0 = cpuSeconds()
        let times = (0..<runs).map { _ in seconds(forward) }
        let cpu = (cpuSeconds() - cpu0) / Double(runs)
        print(#"{"seconds": \#(best(times)), "cpu": \#(cpu), "error": \#(maxRelativeError(y.scalars, expected.scalars))}"#)
    case "lm":
        let threads = Int(args[3])!, steps = Int(args[5])!, runs = Int(args[6])!
        let lm0 = try TransformerLM(config: try Data(contentsOf: URL(fileURLWithPath: dir + "/lm.json")),
                                    weights: try Data(contentsOf: URL(fileURLWithPath: dir + "/lm.safetensors"), options: .alwaysMapped))
        var lm = lm0
        lm.path = args[4] == "fast" ? .fast(threads: threads) : .deterministic(threads: threads)
        let io = try SafeTensors(contentsOfFile: dir + "/lm_io.safetensors")
        let tokens = try io.tensor("tokens").scalars.prefix(steps).map { Int($0) }
        let expected = try io.tensor("logits").scalars
        var logits: [Float] = []
        func decode() throws {
            var state = lm.makeState()
            logits.removeAll(keepingCapacity: true)
            for t in tokens { logits += try lm.step(t, &state) }
        }
        try decode()
        let cpu0 = cpuSeconds()
        let times = try (0..<runs).map { _ in try seconds(decode) / Double(tokens.count) }
        let cpu = (cpuSeconds() - cpu0) / Double(runs * tokens.count)
        print(#"{"seconds": \#(best(times)), "cpu": \#(cpu), "error": \#(maxRelativeError(logits, Array(expected.prefix(logits.count))))}"#)
    default:
        FileHandle.standardError.write(Data("unknown benchmark \(args[1])\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("NeuralBench: \(error)\n".utf8))
    exit(1)
}
