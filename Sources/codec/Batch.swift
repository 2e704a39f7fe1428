import ArgumentParser
import CodecKit
import Dispatch
import Foundation

/// The inputs and outputs options shared by `encode` and `decode`.
struct FileOptions: ParsableArguments {
    @Argument(help: "Input files ('-' for standard input).")
    var inputs: [String] = []

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Output file ('-' for standard output), or a directory when there are several inputs.",
        valueName: "path"))
    var output: String?

    @Option(name: .customLong("from"), help: ArgumentHelp("Read further input paths from a file, one per line ('-' for standard input).", valueName: "list"))
    var listFile: String?

    @Option(help: ArgumentHelp(
        "Process only share i of n (0 ≤ i < n) of the inputs: those at positions k with k mod n = i. Deterministic, so a job array can split a dataset with no coordination.",
        valueName: "i/n"))
    var shard: String?

    @Option(name: .shortAndLong, help: "Parallel jobs (default: every core).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Overwrite existing outputs.")
    var force = false

    @Flag(name: .shortAndLong, help: "No progress line and no summary.")
    var quiet = false

    /// Every input, after --from and --shard.
    func resolvedInputs() throws(CLIError) -> [String] {
        var all = inputs
        if let listFile {
            let text = String(decoding: try FileIO.read(listFile), as: UTF8.self)
            all += text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
        }
        guard !all.isEmpty else { throw .usage("no input files (give paths, or --from LIST)") }
        guard let shard else { return all }
        let parts = shard.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n > 0, (0..<n).contains(i) else {
            throw .usage("--shard takes i/n with 0 ≤ i < n, for example 0/4; got '\(shard)'")
        }
        return all.enumerated().filter { $0.offset % n == i }.map(\.element)
    }
}

/// Runs one job per input on all cores, with one progress line and a summary.
enum Batch {
    struct Job: Sendable { var input: String; var output: String }

    /// Returns the exit code: 0 if every job succeeded, else the worst failure's code.
    static func run(_ jobs: [Job], verb: String, options: FileOptions,
                    work: @Sendable @escaping (Job) throws(CLIError) -> Pipeline.Sizes) -> Int32 {
        let progress = Progress(verb: verb, total: jobs.count, quiet: options.quiet)
        let results = Locked([Result<Pipeline.Sizes, CLIError>?](repeating: nil, count: jobs.count))
        let next = Locked(0)
        let start = Date()
        let workers = max(1, min(options.jobs, jobs.count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let index = next.withValue { n -> Int in defer { n += 1 }; return n }
                guard index < jobs.count else { return }
                progress.started(FileIO.fileName(of: jobs[index].input))
                let result: Result<Pipeline.Sizes, CLIError>
                do throws(CLIError) { result = .success(try work(jobs[index])) } catch { result = .failure(error) }
                results.withValue { $0[index] = result }
                progress.finished()
            }
        }
        progress.end()
        let all = results.withValue { $0 }
        var worst: Int32 = 0
        var inBytes = 0, outBytes = 0, ok = 0
        for case let r? in all {
            switch r {
            case .success(let s): ok += 1; inBytes += s.input; outBytes += s.output
            case .failure(let e): printError("error: \(e.message)"); worst = max(worst, e.exitCode)
            }
        }
        if !options.quiet && (jobs.count > 1 || ok == 1) {
            let seconds = Date().timeIntervalSince(start)
            let failed = jobs.count - ok
            let ratio = outBytes > 0 ? String(format: "%.2fx", Double(inBytes) / Double(outBytes)) : "-"
            printError("\(verb) \(ok) file\(ok == 1 ? "" : "s")\(failed > 0 ? ", \(failed) failed" : ""): "
                + "\(formatBytes(inBytes)) → \(formatBytes(outBytes)) (\(ratio)) in \(String(format: "%.2f", seconds)) s")
        }
        return worst
    }
}

func formatBytes(_ n: Int) -> String {
    let v = Double(n)
    if n >= 1 << 30 { return String(format: "%.2f GiB", v / Double(1 << 30)) }
    if n >= 1 << 20 { return String(format: "%.2f MiB", v / Double(1 << 20)) }
    if n >= 1 << 10 { return String(format: "%.1f KiB", v / Double(1 << 10)) }
    return "\(n) B"
}
