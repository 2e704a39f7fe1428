import CodecKit
import Container
import MediaIO

/// A failure the CLI reports: a message for the user and the documented exit code.
///
/// Exit codes: 0 ok, 1 usage (bad arguments, unknown codec, a codec or output extension of the
/// wrong media kind, output that may not be written), 2 bad or corrupt input (including a missing
/// or different model), 3 environment failure (a file that cannot be read or written: disk full,
/// permission, I/O error, name too long) or internal error; 128 + n after signal n.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    var exitCode: Int32

    static func usage(_ message: String) -> CLIError { CLIError(message: message, exitCode: 1) }
    static func badInput(_ message: String) -> CLIError { CLIError(message: message, exitCode: 2) }
    /// Not a failure: nothing to do (an empty shard). The message is a note; exit 0.
    static func nothingToDo(_ note: String) -> CLIError { CLIError(message: note, exitCode: 0) }
    static func environment(_ message: String) -> CLIError { CLIError(message: message, exitCode: 3) }
    static func internalFailure(_ message: String) -> CLIError { CLIError(message: message, exitCode: 3) }

    var description: String { message }

    /// Any error thrown below the CLI, classified.
    init(_ error: any Error, context: String? = nil) {
        let prefix = context.map { "\($0): " } ?? ""
        switch error {
        case let e as CLIError: self = CLIError(message: prefix + e.message, exitCode: e.exitCode)
        case let e as CodecError where e.isWrongMediaKind: self = CLIError(message: prefix + e.description, exitCode: 1)
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

extension CodecError {
    /// A codec chosen for media it does not take: the user's choice, so a usage error.
    var isWrongMediaKind: Bool { if case .unsupportedMedia = self { true } else { false } }
}

/// Runs a typed-throwing call, converting its error for the CLI with the file it concerns.
func wrap<T, E: Error>(context: String, _ body: () throws(E) -> T) throws(CLIError) -> T {
    do { return try body() } catch { throw CLIError(error, context: context) }
}
