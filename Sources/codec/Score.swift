import ArgumentParser
import CodecKit
import Foundation
import MediaIO
import Perception

/// `codec score`: how much of what a machine perceives survives a codec (issue 19).
struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure what a perception model still gets from decoded media: OCR, speech recognition, digit and object classification, deep feature similarity.",
        discussion: """
            Each input is scored as it is (clean) and, with --codec or --decoded, after coding: \
            against its ground truth where the dataset has one (document pages: NAME.txt; \
            LibriSpeech: transcripts.tsv; LJSpeech: metadata.csv) and against the recognition of \
            the original. Inputs may be folders. Error rates are corpus rates: total edits over \
            total reference length (docs/SCORE.md has the normalisation). The classifiers \
            (digits-image: MNIST, digits-speech: FSDD, cifar10) score a dataset's test split, \
            labels from the dataset; similarity gives the deep feature distance of the decoded \
            media to the original (images, or audio when the inputs are audio).
              codec score --task ocr ../shared/data/images/documents
              codec score --task digits-image --codec pc-mnist ../shared/data/perception/mnist
              codec score --task similarity --codec walloc-rgb-16x ../shared/data/images/kodak
              codec score --task ocr --codec lossless page_00.png page_01.png --json
              codec score --task asr --decoded decoded/ clips/*.flac
              codec score --sweep --task ocr --codec ID -g name=v1,v2 --baselines ../shared/data/images/documents
            A sweep scores every --grid setting of the codec (its defaults when none is given) and, \
            with --baselines, JPEG/WebP/JPEG XL/AVIF or Opus/MP3/Codec2 at three qualities each, \
            giving rate against task error and, with --fidelity, the Spearman rank correlation of \
            the task's drop with PSNR, MS-SSIM (audio: SNR, SI-SDR) and the feature distance. It records each measurement in --state as it completes \
            and skips those already there when run again: an interrupted sweep resumes where it stopped. \
            Exit codes: 1 usage (including a file or codec that does not fit the task's media); \
            2 bad input (a file that cannot be decoded, missing or mismatched decoded files, \
            missing engine data or tools); rows measured are printed whatever failed.
            """)

    @Option(help: ArgumentHelp("The perception task: ocr, digits-image, cifar10 (images); asr, digits-speech (audio); similarity (either).", valueName: "task"))
    var task: String

    @Argument(help: "Input files, or folders of them (a sweep's dataset).")
    var inputs: [String]

    @OptionGroup(title: "What the engine sees decoded")
    var source: ScoreSource

    @OptionGroup(title: "Sweeps")
    var sweeping: ScoreSweepOptions

    @Option(help: ArgumentHelp("Score only the first N inputs (after expanding folders).", valueName: "n"))
    var limit: Int?

    @Option(help: ArgumentHelp("Threads, each with its own engine (default: one per core).", valueName: "n"))
    var jobs: Int?

    @Flag(help: "Also measure fidelity beside each task score: PSNR, MS-SSIM and the deep feature distance for images, SNR, SI-SDR and the feature distance for audio (MS-SSIM costs about twice the OCR of a 1700x2200 page); sweeps then give their rank correlations with the task's drop.")
    var fidelity = false

    @Flag(help: "Print machine-readable JSON (per point and per file) instead of tables.")
    var json = false

    @Flag(name: .shortAndLong, help: "No progress.")
    var quiet = false

    var codec: String? { source.codec }
    var params: [String] { source.params }
    var decoded: String? { source.decoded }
    var sweep: Bool { sweeping.sweep }
    var grid: [String] { sweeping.grid }
    var baselines: Bool { sweeping.baselines || !sweeping.only.isEmpty }
    var state: String? { sweeping.state }

    func run() throws {
        let media = ScoreInputs.mediaKind(of: inputs)
        let task = try perceptionCall { () throws(PerceptionError) in try PerceptionTasks.task(self.task, media: media) }
        guard codec == nil || decoded == nil else { throw CLIError.usage("give --codec or --decoded, not both") }
        guard params.isEmpty || codec != nil else { throw CLIError.usage("-p needs --codec") }
        if sweep {
            guard codec != nil || baselines else { throw CLIError.usage("a sweep needs --codec ID, --baselines or both") }
            guard decoded == nil else { throw CLIError.usage("a sweep codes the inputs itself; --decoded does not apply") }
        } else {
            guard grid.isEmpty, !baselines else { throw CLIError.usage("--grid, --baselines and --baseline belong to --sweep") }
        }
        guard (jobs ?? 1) >= 1, (limit ?? 1) >= 1 else { throw CLIError.usage("--jobs and --limit take a positive number") }
        if let decoded {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: decoded, isDirectory: &isDir), isDir.boolValue else {
                throw CLIError.usage("--decoded \(decoded) is not a folder")
            }
        }

        // The variants to measure, every codec option checked before any work.
        var variants: [ScoreVariant] = [.original]
        if let codec {
            let entry = try wrap { () throws(CodecError) in try registry.entry(codec) }
            guard entry.info.modalities.contains(task.info.media) else {
                throw CLIError(CodecError.unsupportedMedia(codec: codec, kind: task.info.media, accepts: entry.info.modalities))
            }
            let base = try wrap { () throws(CodecError) in try CodecOptions(parsing: params) }
            for point in try Self.gridPoints(grid) {
                var options = base
                for (k, v) in point { options.values[k] = v }
                try wrap { () throws(CodecError) in try options.validate(against: entry.info) }
                variants.append(.codec(id: codec, params: options.values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }))
            }
        }
        if let decoded { variants.append(.decoded(dir: decoded)) }
        if baselines {
            for b in try Baselines.available(for: task.info.media, only: sweeping.only) {
                variants += b.qualities.map { .baseline(name: b.name, quality: $0) }
            }
        }

        // Inputs: every file read and checked once; one that fails is reported and left out.
        var files = try ScoreInputs.expand(inputs, task: task)
        if let limit { files = Array(files.prefix(limit)) }
        var worst: Int32 = 0
        var sizes: [String: MediaSize] = [:]
        var usable: [String] = []
        for file in files {
            do {
                sizes[file] = MediaSize(try ScoreInputs.load(file, task: task))
                usable.append(file)
            } catch {
                worst = max(worst, error.exitCode)
                printError("error: \(error.message)")
            }
        }

        let statePath = state ?? (sweep ? "\(task.info.id)-\(codec ?? "baselines").sweep.jsonl" : nil)
        let store = try ScoreState(path: statePath)
        if let statePath, !store.done.isEmpty, !quiet {
            printError("resuming: \(store.done.count) measurements already in \(statePath)")
        }
        let started = Date()
        let tty = isatty(STDERR_FILENO) != 0
        let progress = Progress(verb: "score", total: variants.count * usable.count, quiet: quiet)
        let total = variants.count
        let finishedPoints = Locked(0)
        let showPoints = sweep && !quiet && !tty
        let runner = ScoreRunner(
            task: task, inputs: usable, variants: variants, jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount,
            state: store, fidelity: fidelity,
            onVariantDone: { v, n in
                let k = finishedPoints.withValue { (c: inout Int) -> Int in c += 1; return c }
                if showPoints {
                    printError(String(format: "score: %d/%d %@ %@ done (%d files, %.0f s so far)",
                                      k, total, v.codecName, v.setting, n, Date().timeIntervalSince(started)))
                }
            },
            progress: progress)
        let failures = runner.run()
        progress.end()
        for f in failures.sorted(by: { ($0.variant, $0.file) < ($1.variant, $1.file) }) {
            worst = max(worst, f.error.exitCode)
            printError("error: \(f.error.message)")
        }

        let report = try ScoreReport(task: task, files: usable, sizes: sizes, variants: variants, state: store,
                                     seconds: Date().timeIntervalSince(started))
        worst = max(worst, report.groundTruthFailures.map { $0.exitCode }.max() ?? 0)
        for e in report.groundTruthFailures { printError("error: \(e.message)") }
        if json {
            print(report.json())
        } else {
            report.printTables(perFile: !sweep, fidelity: fidelity, correlations: sweep)
        }
        if worst != 0 { throw ExitCode(worst) }
    }

    /// Every combination of the --grid values (one empty point when there is no grid).
    static func gridPoints(_ grid: [String]) throws(CLIError) -> [[(String, String)]] {
        var points: [[(String, String)]] = [[]]
        for spec in grid {
            guard let eq = spec.firstIndex(of: "="), eq != spec.startIndex else {
                throw .usage("--grid '\(spec)' is not of the form name=v1,v2,...")
            }
            let name = String(spec[..<eq])
            let values = spec[spec.index(after: eq)...].split(separator: ",").map(String.init)
            guard !values.isEmpty else { throw .usage("--grid '\(spec)' gives no values") }
            points = points.flatMap { p in values.map { p + [(name, $0)] } }
        }
        return points
    }
}

/// `--codec ID [-p name=value]` or `--decoded DIR`.
struct ScoreSource: ParsableArguments {
    @Option(help: ArgumentHelp("A codec or model id from `codec list`: score its decoded output.", valueName: "id"))
    var codec: String?

    @Option(name: [.customShort("p"), .customLong("param")], help: ArgumentHelp("A codec option, name=value (repeatable).", valueName: "name=value"))
    var params: [String] = []

    @Option(help: ArgumentHelp("A folder of files already decoded, named as the inputs (same name or same stem).", valueName: "dir"))
    var decoded: String?
}

/// `--sweep [-g name=v1,v2] [--baselines] [--state FILE]`.
struct ScoreSweepOptions: ParsableArguments {
    @Flag(help: "Sweep the codec's settings (see --grid) and, with --baselines, classical codecs.") var sweep = false

    @Option(name: [.customShort("g"), .customLong("grid")], help: ArgumentHelp("A codec option's values, name=v1,v2,... (repeatable; every combination is scored).", valueName: "name=values"))
    var grid: [String] = []

    @Flag(help: "Add the classical codecs of the task's media through their Debian tools.")
    var baselines = false

    @Option(name: .customLong("baseline"), help: ArgumentHelp("Add one classical codec: jpeg, webp, jxl, avif; opus, mp3, codec2 (repeatable).", valueName: "name"))
    var only: [String] = []

    @Option(help: ArgumentHelp("Record measurements here as they complete, and skip those already recorded (default for a sweep: TASK-CODEC.sweep.jsonl in the current folder).", valueName: "file"))
    var state: String?
}

/// Runs a Perception call, mapping its error to the CLI's.
func perceptionCall<T>(_ body: () throws(PerceptionError) -> T) throws(CLIError) -> T {
    do { return try body() } catch { throw CLIError(message: error.description, exitCode: error.exitCode) }
}

/// How much media an input holds, for rates: pixels of an image, seconds of audio.
struct MediaSize: Sendable {
    var pixels: Int?
    var seconds: Double?
    init(_ media: Media) {
        switch media {
        case .image(let i): pixels = i.pixelCount
        case .audio(let a): seconds = a.duration
        case .bytes: break
        }
    }
}

/// `CLIError(error, context:)` that also knows Perception's errors (kept here, so the shared
/// CLIError needs no knowledge of the score command).
func scoreError(_ error: any Error, context: String? = nil) -> CLIError {
    if let e = error as? PerceptionError {
        return CLIError(message: (context.map { "\($0): " } ?? "") + e.description, exitCode: e.exitCode)
    }
    return CLIError(error, context: context)
}
