import ArgumentParser
import Foundation

struct CodecCLI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec",
        abstract: "NeuralCodecs: learned codecs for images, audio and text.",
        discussion: """
            Exit codes: 0 ok; 1 usage (bad arguments, unknown codec, output exists without --force \
            or its directory is missing); 2 bad or corrupt input (including a missing or \
            different model); 3 internal error. Outputs appear only when complete.
            """,
        subcommands: [Encode.self, Decode.self, Roundtrip.self, Info.self, List.self, Tokens.self, Latents.self])
}

/// Parses and runs, mapping every failure to the documented exit codes.
func runCLI() -> Never {
    TempFiles.shared.installSignalHandlers()
    do {
        var command = try CodecCLI.parseAsRoot()
        try command.run()
        exit(0)
    } catch let error as CLIError {
        printError("error: \(error.message)")
        exit(error.exitCode)
    } catch let error as ExitCode {
        exit(error.rawValue)
    } catch {
        let code = CodecCLI.exitCode(for: error)
        if code == .success {  // --help, --version
            print(CodecCLI.fullMessage(for: error))
            exit(0)
        }
        printError(CodecCLI.fullMessage(for: error))
        exit(1)
    }
}

runCLI()
