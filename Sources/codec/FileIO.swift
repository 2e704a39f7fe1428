import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reading inputs and writing outputs so that nothing is ever left half-written.
///
/// Outputs go to a hidden temporary file beside the destination and are renamed into place only
/// when complete; an interrupt (SIGINT, SIGTERM, SIGHUP) removes every temporary file still open.
enum FileIO {
    static func read(_ path: String) throws(CLIError) -> [UInt8] {
        if path == "-" {
            return [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw .usage("no such file: \(path)")
        }
        guard !isDir.boolValue else { throw .usage("\(path) is a directory, not a file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw .usage("cannot read \(path) (permission?)") }
        return [UInt8](data)
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
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            if isDir.boolValue { throw .usage("cannot write \(path): it is a directory") }
            if !force { throw .usage("\(path) exists; pass --force to overwrite it") }
        }
    }

    /// Writes `bytes` to `path` atomically (or to stdout for `-`).
    static func write(_ bytes: [UInt8], to path: String, force: Bool) throws(CLIError) {
        if path == "-" {
            FileHandle.standardOutput.write(Data(bytes))
            return
        }
        try checkWritable(path, force: force)
        let name = fileName(of: path)
        let temp = directory(of: path) + "/.\(name).part-\(getpid())-\(TempFiles.shared.nextSerial())"
        TempFiles.shared.add(temp)
        defer { TempFiles.shared.remove(temp) }
        guard FileManager.default.createFile(atPath: temp, contents: Data(bytes)) else {
            throw .usage("cannot write \(path) (permission or disk space?)")
        }
        if !force && FileManager.default.fileExists(atPath: path) {
            unlink(temp)
            throw .usage("\(path) exists; pass --force to overwrite it")
        }
        guard rename(temp, path) == 0 else {
            unlink(temp)
            throw .usage("cannot move the finished output to \(path): \(String(cString: strerror(errno)))")
        }
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
}

/// The temporary files being written right now, removed if the process is interrupted.
final class TempFiles: @unchecked Sendable {
    static let shared = TempFiles()
    private let lock = NSLock()
    private var paths = Set<String>()
    private var serial = 0
    private var sources: [any DispatchSourceSignal] = []

    func nextSerial() -> Int { lock.withLock { serial += 1; return serial } }
    func add(_ path: String) { lock.withLock { _ = paths.insert(path) } }
    func remove(_ path: String) { lock.withLock { _ = paths.remove(path) } }

    /// Routes SIGINT/SIGTERM/SIGHUP to a handler that deletes unfinished outputs, then exits
    /// with 128 + signal as a shell expects.
    func installSignalHandlers() {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in
                lock.withLock { for p in paths { unlink(p) } }
                exit(128 + sig)
            }
            source.resume()
            sources.append(source)
        }
    }
}
