import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reading inputs and writing outputs so that nothing is ever left half-written.
///
/// Every byte goes through POSIX calls on files this program tracks (no Foundation write path,
/// which makes temporaries of its own). A regular output goes to a hidden temporary file beside
/// the destination and is renamed into place only when complete; an interrupt (SIGINT, SIGTERM,
/// SIGHUP) removes every temporary file still open. A character device or a FIFO is written
/// through, as `cat` would, and never replaced; a socket or a block device is refused.
/// Failures name the path and the system's reason: exit 3, an environment failure.
enum FileIO {
    /// The longest file name (one path component) in bytes on Linux file systems.
    static let nameMax = 255

    static func read(_ path: String) throws(CLIError) -> [UInt8] {
        if path == "-" { return try readAll(STDIN_FILENO, name: "standard input") }
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT { throw .usage("no such file: \(path)") }
            throw .environment("cannot read \(path): \(systemReason())")
        }
        guard !isKind(st, S_IFDIR) else { throw .usage("\(path) is a directory, not a file") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .environment("cannot read \(path): \(systemReason())") }
        defer { close(fd) }
        return try readAll(fd, name: path, sizeHint: isKind(st, S_IFREG) ? Int(st.st_size) : 0)
    }

    private static func readAll(_ fd: Int32, name: String, sizeHint: Int = 0) throws(CLIError) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(sizeHint)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return out }
            if n < 0 {
                if errno == EINTR { continue }
                throw .environment("cannot read \(name): \(systemReason())")
            }
            out.append(contentsOf: chunk[0..<n])
        }
    }

    /// What an existing output path is, for deciding how to write it.
    enum Target { case absent, regular, writeThrough, directory, refused(String) }

    static func target(_ path: String) -> Target {
        var st = stat()
        guard stat(path, &st) == 0 else { return .absent }
        if isKind(st, S_IFREG) { return .regular }
        if isKind(st, S_IFDIR) { return .directory }
        if isKind(st, S_IFCHR) || isKind(st, S_IFIFO) { return .writeThrough }
        if isKind(st, S_IFSOCK) { return .refused("it is a socket") }
        if isKind(st, S_IFBLK) { return .refused("it is a block device (write it with dd if you mean to)") }
        return .refused("it is not a regular file")
    }

    /// Up to `count` leading bytes of a regular file, or none (standard input, unreadable files):
    /// for a look at a header before the file's one full read.
    static func readPrefix(_ path: String, count: Int) -> [UInt8] {
        guard path != "-", (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType == .typeRegular,
              let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        return [UInt8]((try? handle.read(upToCount: count)) ?? Data())
    }

    /// Fails early, before any work, if `path` cannot be written as an output.
    static func checkWritable(_ path: String, force: Bool) throws(CLIError) {
        guard path != "-" else { return }
        let dir = directory(of: path)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw .usage("cannot write \(path): directory \(dir) does not exist")
        }
        switch target(path) {
        case .absent, .writeThrough: break
        case .regular: if !force { throw .usage("\(path) exists; pass --force to overwrite it") }
        case .directory: throw .usage("cannot write \(path): it is a directory")
        case .refused(let why): throw .usage("cannot write \(path): \(why)")
        }
        if fileName(of: path).utf8.count > nameMax {
            throw .environment("cannot write \(path): \(String(cString: strerror(ENAMETOOLONG)))")
        }
    }

    /// Writes `bytes` to `path` atomically (or to stdout for `-`, or through a device or FIFO).
    static func write(_ bytes: [UInt8], to path: String, force: Bool) throws(CLIError) {
        if path == "-" {
            try writeAll(STDOUT_FILENO, bytes, name: "standard output")
            return
        }
        try checkWritable(path, force: force)
        if case .writeThrough = target(path) {
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .environment("cannot write \(path): \(systemReason())") }
            do { try writeAll(fd, bytes, name: path) } catch { close(fd); throw error }
            guard close(fd) == 0 else { throw .environment("cannot write \(path): \(systemReason())") }
            return
        }
        try writeAtomically(to: path, force: force) { fd throws(CLIError) in try writeAll(fd, bytes, name: path) }
    }

    /// Runs `body` on a hidden temporary file beside `path` and renames it into place when `body`
    /// and the close succeed; on any failure the temporary is removed, so `path` is never left
    /// half-written (a streaming decoder writes its blocks this way).
    static func writeAtomically(to path: String, force: Bool, _ body: (Int32) throws(CLIError) -> Void) throws(CLIError) {
        let temp = temporaryName(for: path)
        let fd = TempFiles.shared.create(temp)
        guard fd >= 0 else { throw .environment("cannot write \(path): \(systemReason())") }
        do {
            try body(fd)
        } catch {
            close(fd)
            TempFiles.shared.discard(temp)
            throw error
        }
        guard close(fd) == 0 else {
            let reason = systemReason()
            TempFiles.shared.discard(temp)
            throw .environment("cannot write \(path): \(reason)")
        }
        if !force && target(path).exists {
            TempFiles.shared.discard(temp)
            throw .usage("\(path) exists; pass --force to overwrite it")
        }
        if let reason = TempFiles.shared.commit(temp, to: path) {
            TempFiles.shared.discard(temp)
            throw .environment("cannot write \(path): \(reason)")
        }
    }

    /// A regular file opened for reading, and its size: for readers that take it in place.
    static func openRegular(_ path: String) throws(CLIError) -> (fd: Int32, size: Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .environment("cannot read \(path): \(systemReason())") }
        var st = stat()
        guard fstat(fd, &st) == 0, isKind(st, S_IFREG) else {
            close(fd)
            throw .usage("\(path) is not a regular file")
        }
        return (fd, Int(st.st_size))
    }

    /// The size of a file, or 0.
    static func size(of path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : 0
    }

    /// Writes every byte, retrying short writes. A reader that closed standard output's pipe ends
    /// the program quietly, as other Unix tools do (exit 141, 128 + SIGPIPE).
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], name: String) throws(CLIError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, min($0.count - offset, 1 << 30)) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE && fd == STDOUT_FILENO { TempFiles.shared.removeAllAndExit(128 + SIGPIPE) }
                throw .environment("cannot write \(name): \(systemReason())")
            }
            offset += n
        }
    }

    /// A hidden name beside `path`, unique to this process, within NAME_MAX bytes.
    static func temporaryName(for path: String) -> String {
        let suffix = ".part-\(getpid())-\(TempFiles.shared.nextSerial())"
        let budget = nameMax - 1 - suffix.utf8.count
        var stem = ""
        var used = 0
        for scalar in fileName(of: path).unicodeScalars {
            let size = String(scalar).utf8.count
            if used + size > budget { break }
            stem.unicodeScalars.append(scalar)
            used += size
        }
        return join(directory(of: path), "." + stem + suffix)
    }

    /// The directory part of a path (`.` for a bare name). Written out because Foundation's
    /// `NSString.deletingLastPathComponent` traps on some one-character paths on Linux.
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The last component of a path.
    static func fileName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// `directory/name` with exactly one slash between them (`out/` + `a.nc` → `out/a.nc`).
    static func join(_ directory: String, _ name: String) -> String {
        var dir = directory
        while dir.count > 1 && dir.hasSuffix("/") { dir.removeLast() }
        return dir == "/" ? "/" + name : dir + "/" + name
    }

    static func systemReason() -> String { String(cString: strerror(errno)) }

    private static func isKind(_ st: stat, _ kind: mode_t) -> Bool { st.st_mode & S_IFMT == kind }
}

extension FileIO.Target {
    var exists: Bool { if case .absent = self { false } else { true } }
}

/// The temporary files being written right now, removed if the process is interrupted.
///
/// A temporary is registered and created under one lock, and renamed into place under the same
/// lock, so the interrupt handler (which holds the lock until the process ends) sees every
/// temporary that exists and no new one can appear after it ran.
final class TempFiles: @unchecked Sendable {
    static let shared = TempFiles()
    private let lock = NSLock()
    private var paths = Set<String>()
    private var serial = 0
    private var sources: [any DispatchSourceSignal] = []
    private let signalQueue = DispatchQueue(label: "codec.signals")

    func nextSerial() -> Int { lock.withLock { serial += 1; return serial } }

    /// Creates `path` exclusively and tracks it; the descriptor, or -1 with errno set.
    func create(_ path: String) -> Int32 {
        lock.withLock {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 { paths.insert(path) }
            return fd
        }
    }

    /// Renames a finished temporary into place; the system's reason on failure.
    func commit(_ temp: String, to path: String) -> String? {
        lock.withLock {
            guard rename(temp, path) == 0 else { return FileIO.systemReason() }
            paths.remove(temp)
            return nil
        }
    }

    /// Removes an unfinished temporary.
    func discard(_ path: String) {
        lock.withLock {
            unlink(path)
            paths.remove(path)
        }
    }

    /// Deletes every unfinished output and ends the process with `code`, holding the lock so no
    /// other thread can create or rename a temporary meanwhile.
    func removeAllAndExit(_ code: Int32) -> Never {
        lock.lock()
        for p in paths { unlink(p) }
        _exit(code)
    }

    /// Routes SIGINT/SIGTERM/SIGHUP to a handler that deletes unfinished outputs, then exits
    /// with 128 + signal as a shell expects. SIGPIPE is ignored: writes report EPIPE instead.
    func installSignalHandlers() {
        signal(SIGPIPE, SIG_IGN)
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: signalQueue)
            source.setEventHandler { [self] in removeAllAndExit(128 + sig) }
            source.resume()
            sources.append(source)
        }
    }
}

/// Writes text to standard error, ignoring failures (there is nowhere left to report them).
func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        bytes = bytes.dropFirst(n)
    }
}

/// Flushes what `print` buffered for standard output: a closed pipe ends quietly (141), any other
/// failure (a full disk) is an environment error.
func flushStandardOutput() throws(CLIError) {
    // `print` writes through C's `stdout`, a mutable C global Swift 6 will not read directly.
    guard let symbol = dlsym(nil, "stdout"),
          let stream = symbol.assumingMemoryBound(to: UnsafeMutablePointer<FILE>?.self).pointee else { return }
    let failed = fflush(stream) != 0
    let reason = FileIO.systemReason()
    guard failed || ferror(stream) != 0 else { return }
    var p = pollfd(fd: STDOUT_FILENO, events: Int16(POLLOUT), revents: 0)
    if errno == EPIPE || (poll(&p, 1, 0) == 1 && p.revents & Int16(POLLERR) != 0) {
        TempFiles.shared.removeAllAndExit(128 + SIGPIPE)
    }
    throw .environment("cannot write standard output: \(reason)")
}
