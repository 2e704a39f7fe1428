import CodecKit
import Container
import MediaIO

/// A failure the CLI reports: a message for the user and the documented exit code.
///
/// Exit codes: 0 ok, 1 usage (bad arguments, unknown codec, output that may not be written),
/// 2 bad or corrupt input (including a missing or different model), 3 internal error.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    var exitCode: Int32

    static func usage(_ message: String) -> CLIError { CLIError(message: message, exitCode: 1) }
    static func badInput(_ message: String) -> CLIError { CLIError(message: message, exitCode: 2) }
    static func internalFailure(_ message: String) -> CLIError { CLIError(message: message, exitCode: 3) }

    var description: String { message }

    /// Any error thrown below the CLI, classified.
    init(_ error: any Error, context: String? = nil) {
        let prefix = context.map { "\($0): " } ?? ""
        switch error {
        case let e as CLIError: self = CLIError(message: prefix + e.message, exitCode: e.exitCode)
        case let e as CodecError: self = CLIError(message: prefix + e.description, exitCode: e.exitCode)
        case let e as ContainerError: self = CLIError(message: prefix + e.description, exitCode: 2)
        case let e as MediaError: self = CLIError(message: prefix + e.description, exitCode: 2)
        default: self = CLIError(message: prefix + "internal error: \(error)", exitCode: 3)
        }
    }

    init(message: String, exitCode: Int32) {
        self.message = message
        self.exitCode = exitCode
    }
}
