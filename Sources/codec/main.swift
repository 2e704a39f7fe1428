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

/// Parses and runs, mapping every failure to the documented exit codes.
func runCLI() -> Never {
    TempFiles.shared.installSignalHandlers()
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
