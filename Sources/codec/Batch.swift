import ArgumentParser
import CodecKit
import Dispatch
import Foundation

/// The inputs and outputs options shared by `encode` and `decode`.
struct FileOptions: ParsableArguments {
    @Argument(help: "Input files ('-' for standard input).")
    var inputs: [String] = []

    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Output file ('-' for standard output; a device or FIFO is written through), or a directory when there are several inputs. Without -o, each output goes beside its input: encode writes INPUT.nc, decode writes the name without .nc.",
        valueName: "path"))
    var output: String?

    @Option(name: .customLong("from"), help: ArgumentHelp("Read further input paths from a file, one per line ('-' for standard input).", valueName: "list"))
    var listFile: String?

    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Process only share i of n (0 ≤ i < n) of the inputs: those at positions k with k mod n = i. Deterministic, so a job array can split a dataset with no coordination.",
        valueName: "i/n"))
    var shard: String?

    @Option(name: .shortAndLong, parsing: .unconditional,
            help: ArgumentHelp("Parallel jobs, at least 1 (default: every core).", valueName: "n"))
    var jobs: String?

    @Flag(help: "Overwrite existing outputs (devices and FIFOs are written through, never replaced).")
    var force = false

    @Flag(name: .shortAndLong, help: "No progress line and no summary.")
    var quiet = false

    /// --jobs, checked: every core when not given.
    var jobCount: Int {
        get throws(CLIError) {
            guard let jobs else { return ProcessInfo.processInfo.activeProcessorCount }
            guard let n = Int(jobs), n >= 1 else { throw .usage("--jobs takes a whole number of at least 1; got '\(jobs)'") }
            return n
        }
    }

    /// Every input, after --from and --shard. Blank lines in --from are skipped.
    func resolvedInputs() throws(CLIError) -> [String] {
        _ = try jobCount
        var all = inputs
        if let listFile {
            let text = String(decoding: try FileIO.read(listFile), as: UTF8.self)
            all += text.split(whereSeparator: \.isNewline).map(String.init)
                .filter { !$0.allSatisfy(\.isWhitespace) }
        }
        guard !all.isEmpty else { throw .usage("no input files (give paths, or --from LIST)") }
        guard let shard else { return all }
        let parts = shard.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n > 0, (0..<n).contains(i) else {
            throw .usage("--shard takes i/n with 0 ≤ i < n, for example 0/4; got '\(shard)'")
        }
        let share = all.enumerated().filter { $0.offset % n == i }.map(\.element)
        if share.isEmpty {
            // A job array with more tasks than inputs: this task has nothing to do, which is fine.
            throw .nothingToDo(quiet ? "" : "shard \(i)/\(n) holds no inputs (\(all.count) input\(all.count == 1 ? "" : "s") in all)")
        }
        return share
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
        let workers = max(1, min((try? options.jobCount) ?? 1, jobs.count))
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
            printError("\(verb) \(ok) file\(ok == 1 ? "" : "s")\(failed > 0 ? ", \(failed) failed" : ""): "
                + "\(formatBytes(inBytes)) → \(formatBytes(outBytes)) (\(fileRatio(inBytes, outBytes))) in \(String(format: "%.2f", seconds)) s")
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

/// The size change between input and output files, said in words: "1.46x smaller files".
/// (`info` and `roundtrip` compare against raw samples instead, and say so.)
func fileRatio(_ input: Int, _ output: Int) -> String {
    guard input > 0, output > 0 else { return "-" }
    return input >= output ? String(format: "%.2fx smaller files", Double(input) / Double(output))
                           : String(format: "%.2fx larger files", Double(output) / Double(input))
}

/// `text` padded with spaces to `width` characters; never cut (a table cell keeps every
/// character of a name, whatever its UTF-8 or UTF-16 length).
func padded(_ text: String, to width: Int) -> String {
    text + String(repeating: " ", count: max(0, width - text.count))
}
