import ArgumentParser
import Container
import Foundation

/// The version `codec --version` prints, with the container format it writes.
let codecVersion = "0.1.0"

struct CodecCLI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec",
        abstract: "NeuralCodecs: learned codecs for images, audio and text.",
        discussion: """
            Exit codes: 0 ok; 1 usage (bad arguments, unknown codec, a codec or output extension \
            of the wrong media kind or one this tool cannot write, output exists without --force \
            or its directory is missing); 2 bad or corrupt input (including a missing or \
            different model); 3 a file cannot be read or written (disk full, permission, I/O \
            error, name too long) or an internal error; 128+n interrupted by signal n (130 for \
            Ctrl-C), leaving no partial output. A reader that closes standard output early (| head) \
            ends the command quietly (141). Outputs appear only when complete.
            """,
        version: "codec \(codecVersion) (container format version \(ContainerFile.formatVersion))",
        subcommands: [Encode.self, Decode.self, Roundtrip.self, Info.self, List.self, Tokens.self, Latents.self, Score.self])
}

/// The codecs allocate and free arrays of megabytes per file (wavelet bands, feature maps). By
/// default glibc serves those with fresh mmaps or trims them off the heap when freed, so every
/// file touches new pages: 75,000 page faults in a one-core `encode` of the 24 Kodak photos with
/// walloc-rgb-16x, about 10 % of its CPU time. Keeping freed memory in the heap for reuse cut them
/// to 13,600 and its CPU time by 8 to 15 % (measured with `perf stat`). Both settings are needed
/// (either alone turns off glibc's adaptive threshold and faults more); 32 MiB is the largest
/// mmap threshold glibc accepts, so larger arrays are still mapped and unmapped. Freed memory is
/// reused by the process rather than returned to the system before it exits.
/// `mallopt` is declared in malloc.h, which Swift's Glibc module does not import: it is looked up
/// in the process (glibc always has it), with the constants of malloc.h.
func keepFreedMemory() {
    #if canImport(Glibc)
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "mallopt") else { return }
    let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
    let mmapThreshold: Int32 = -3, trimThreshold: Int32 = -1  // M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
    _ = mallopt(mmapThreshold, 1 << 25)
    _ = mallopt(trimThreshold, Int32.max)
    #endif
}

/// Parses and runs, mapping every failure to the documented exit codes.
func runCLI() -> Never {
    TempFiles.shared.installSignalHandlers()
    keepFreedMemory()
    do {
        var command = try CodecCLI.parseAsRoot()
        if command is CodecCLI {  // no subcommand: the help, as a usage error
            printError(CodecCLI.helpMessage())
            exit(1)
        }
        try command.run()
        try flushStandardOutput()
        exit(0)
    } catch let error as CLIError {
        try? flushStandardOutput()
        if error.exitCode == 0 {
            if !error.message.isEmpty { printError(error.message) }
        } else {
            printError("error: \(error.message)")
        }
        exit(error.exitCode)
    } catch let error as ExitCode {
        try? flushStandardOutput()
        exit(error.rawValue)
    } catch {
        let code = CodecCLI.exitCode(for: error)
        if code == .success {  // --help, --version
            print(CodecCLI.fullMessage(for: error))
            do { try flushStandardOutput() } catch { printError("error: \(error.message)"); exit(error.exitCode) }
            exit(0)
        }
        printError(CodecCLI.fullMessage(for: error))
        exit(1)
    }
}

runCLI()
