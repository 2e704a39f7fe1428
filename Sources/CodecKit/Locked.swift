import Foundation

/// A value shared between threads behind a lock: the toolkit's one `Sendable` box (batch results,
/// per-image results of a codec's worker threads, the model cache).
public final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func withValue<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock(); defer { lock.unlock() }
        return try body(&value)
    }
}
