import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One progress line on stderr, for work over about a second; silent when stderr is not a
/// terminal or with --quiet.
final class Progress: @unchecked Sendable {
    private let lock = NSLock()
    private let enabled: Bool
    private let total: Int
    private let verb: String
    private var done = 0
    private var current = ""
    private let start = Date()
    private var timer: (any DispatchSourceTimer)?
    private var shown = false

    init(verb: String, total: Int, quiet: Bool) {
        self.verb = verb
        self.total = total
        self.enabled = !quiet && isatty(STDERR_FILENO) != 0
        guard enabled else { return }
        let t = DispatchSource.makeTimerSource(queue: .global())
        t.schedule(deadline: .now() + 1.0, repeating: 0.25)
        t.setEventHandler { [weak self] in self?.draw() }
        t.resume()
        timer = t
    }

    func started(_ name: String) { lock.withLock { current = name } }
    func finished() { lock.withLock { done += 1 } }

    private func draw() {
        lock.withLock {
            let elapsed = Date().timeIntervalSince(start)
            let width = 24
            let filled = total > 0 ? width * done / total : 0
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let line = total > 1
                ? "\(verb) [\(bar)] \(done)/\(total)  \(String(format: "%.1f", elapsed)) s  \(current)"
                : "\(verb) \(current)  \(String(format: "%.1f", elapsed)) s"
            writeStandardError("\r\u{1B}[K" + line)
            shown = true
        }
    }

    /// Stops drawing and clears the line.
    func end() {
        timer?.cancel()
        lock.withLock { if shown { writeStandardError("\r\u{1B}[K") } }
    }
}

/// Writes a line to stderr.
func printError(_ message: String) {
    writeStandardError(message + "\n")
}
