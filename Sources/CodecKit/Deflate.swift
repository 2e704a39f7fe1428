import CZlib

/// zlib deflate with the checks a decoder of hostile input needs.
public enum Deflate {
    /// Deflate cannot expand data by more than about 1032:1, so a header that claims more output
    /// than that from the payload present is a lie, caught before anything is allocated.
    static let maxRatio = 1032

    public static func compress(_ input: [UInt8], level: Int) throws(CodecError) -> [UInt8] {
        var bound = compressBound(uLong(input.count))
        var out = [UInt8](repeating: 0, count: Int(bound))
        let status = out.withUnsafeMutableBufferPointer { o in
            (input.isEmpty ? [0] : input).withUnsafeBufferPointer { i in
                compress2(o.baseAddress, &bound, i.baseAddress, uLong(input.count), Int32(level))
            }
        }
        guard status == Z_OK else { throw .internalFailure("zlib compress2 returned \(status)") }
        out.removeSubrange(Int(bound)...)
        return out
    }

    public static func decompress(_ input: [UInt8], expectedCount: Int) throws(CodecError) -> [UInt8] {
        try checkRatio(input.count, expectedCount)
        var out = [UInt8](repeating: 0, count: max(expectedCount, 1))
        var length = uLong(expectedCount)
        let status = out.withUnsafeMutableBufferPointer { o in
            (input.isEmpty ? [0] : input).withUnsafeBufferPointer { i in
                uncompress(o.baseAddress, &length, i.baseAddress, uLong(input.count))
            }
        }
        guard status == Z_OK else {
            throw .corruptPayload(status == Z_BUF_ERROR ? "deflate stream holds more or fewer bytes than the header says" : "deflate stream is damaged (zlib \(status))")
        }
        guard Int(length) == expectedCount else {
            throw .corruptPayload("deflate stream holds \(length) bytes, the header says \(expectedCount)")
        }
        out.removeSubrange(expectedCount...)
        return out
    }

    /// A whole gzip file (MNIST's IDX files), read with zlib's gz reader; at most `limit` bytes.
    public static func gunzipFile(_ path: String, limit: Int = 1 << 30) throws(CodecError) -> [UInt8] {
        guard let file = gzopen(path, "rb") else { throw .unsupportedShape("cannot open \(path)") }
        defer { gzclose(file) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if n < 0 { throw .corruptPayload("\(path) is not valid gzip") }
            if n == 0 { return out }
            out += buffer[0..<Int(n)]
            if out.count > limit { throw .unsupportedShape("\(path) holds more than \(limit) bytes") }
        }
    }

    static func checkRatio(_ inputCount: Int, _ expectedCount: Int) throws(CodecError) {
        guard expectedCount <= inputCount * maxRatio + 64 else {
            throw .corruptPayload("header claims \(expectedCount) bytes from a \(inputCount)-byte deflate stream")
        }
    }

    /// A z_stream at a fixed address (zlib keeps a pointer to it), set up by `initialize`.
    static func newStream(_ name: String, _ initialize: (UnsafeMutablePointer<z_stream>) -> Int32) throws(CodecError) -> UnsafeMutablePointer<z_stream> {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = initialize(stream)
        guard status == Z_OK else {
            stream.deallocate()
            throw .internalFailure("zlib \(name) returned \(status)")
        }
        return stream
    }

    /// A zlib stream fed in pieces: the bytes `compress(_:level:)` gives for all the pieces at
    /// once (zlib's output does not depend on how its input is split), kept in one growing array.
    public final class Compressor {
        private let stream: UnsafeMutablePointer<z_stream>  // zlib keeps a pointer to it: it must not move
        private var output = [UInt8]()
        private var chunk = [UInt8](repeating: 0, count: 1 << 16)

        public init(level: Int) throws(CodecError) {
            stream = try newStream("deflateInit") { deflateInit_($0, Int32(level), ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) }
        }

        deinit {
            deflateEnd(stream)
            stream.deallocate()
        }

        public func add(_ bytes: UnsafeBufferPointer<UInt8>) throws(CodecError) {
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
            stream.pointee.next_in = UnsafeMutablePointer(mutating: base)
            stream.pointee.avail_in = uInt(bytes.count)
            while stream.pointee.avail_in > 0 { try run(Z_NO_FLUSH) }
        }

        public func finish() throws(CodecError) -> [UInt8] {
            stream.pointee.avail_in = 0
            while try run(Z_FINISH) != Z_STREAM_END {}
            return output
        }

        @discardableResult
        private func run(_ flush: Int32) throws(CodecError) -> Int32 {
            let stream = self.stream
            let (status, produced) = chunk.withUnsafeMutableBufferPointer { c in
                stream.pointee.next_out = c.baseAddress
                stream.pointee.avail_out = uInt(c.count)
                let status = deflate(stream, flush)
                return (status, c.count - Int(stream.pointee.avail_out))
            }
            guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                throw .internalFailure("zlib deflate returned \(status)")
            }
            output.append(contentsOf: chunk[0..<produced])
            return status
        }
    }

    /// A zlib stream read in pieces of exactly the sizes asked for, with `decompress`'s checks:
    /// the ratio before anything is allocated, and that the stream holds exactly `expectedCount`
    /// bytes and ends with a valid Adler-32.
    public final class Decompressor {
        private let stream: UnsafeMutablePointer<z_stream>
        private let input: [UInt8]
        private let expectedCount: Int
        private var delivered = 0
        private var ended = false

        public init(_ input: [UInt8], expectedCount: Int) throws(CodecError) {
            try checkRatio(input.count, expectedCount)
            self.input = input
            self.expectedCount = expectedCount
            stream = try newStream("inflateInit") { inflateInit_($0, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) }
        }

        deinit {
            inflateEnd(stream)
            stream.deallocate()
        }

        /// Fills `out` with the next `out.count` bytes of the stream.
        public func read(into out: UnsafeMutableBufferPointer<UInt8>) throws(CodecError) {
            guard !out.isEmpty, let base = out.baseAddress else { return }
            guard !ended else { throw Self.mismatch }
            let stream = self.stream
            stream.pointee.next_out = base
            stream.pointee.avail_out = uInt(out.count)
            let status: Int32 = input.withUnsafeBufferPointer { i in
                // `input` is a `let` this object keeps: its storage never moves or changes, so
                // next_in stays valid between calls.
                if delivered == 0 && stream.pointee.next_in == nil {
                    stream.pointee.next_in = UnsafeMutablePointer(mutating: i.baseAddress)
                    stream.pointee.avail_in = uInt(i.count)
                }
                return inflate(stream, Z_NO_FLUSH)
            }
            let got = out.count - Int(stream.pointee.avail_out)
            delivered += got
            switch status {
            case Z_STREAM_END:
                ended = true
                guard got == out.count else { throw Self.mismatch }
            case Z_OK:
                guard got == out.count else { throw Self.mismatch }
            case Z_BUF_ERROR:
                throw Self.mismatch  // no progress possible: the stream ends early (truncated)
            default:
                throw .corruptPayload("deflate stream is damaged (zlib \(status))")
            }
        }

        /// Checks that the stream ends (with its Adler-32) exactly after `expectedCount` bytes.
        public func finish() throws(CodecError) {
            guard delivered == expectedCount else { throw Self.mismatch }
            if ended { return }
            var extra: UInt8 = 0
            let stream = self.stream
            let status = input.withUnsafeBufferPointer { i in
                if stream.pointee.next_in == nil {  // nothing read yet: an empty image
                    stream.pointee.next_in = UnsafeMutablePointer(mutating: i.baseAddress)
                    stream.pointee.avail_in = uInt(i.count)
                }
                return withUnsafeMutablePointer(to: &extra) { e in
                    stream.pointee.next_out = e
                    stream.pointee.avail_out = 1
                    return inflate(stream, Z_NO_FLUSH)
                }
            }
            guard status == Z_STREAM_END, stream.pointee.avail_out == 1 else {
                if status == Z_OK || status == Z_BUF_ERROR { throw Self.mismatch }
                throw .corruptPayload("deflate stream is damaged (zlib \(status))")
            }
        }

        static var mismatch: CodecError { .corruptPayload("deflate stream holds more or fewer bytes than the header says") }
    }
}
