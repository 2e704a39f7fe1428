import CZlib
import MediaIO

/// The one file format every codec writes. Layout byte by byte: docs/FORMAT.md.
///
/// Reading treats the bytes as hostile: every length is checked against `Limits` and against the
/// bytes actually present before anything is allocated, and the CRC-32 is checked before any field
/// is believed.
public struct ContainerFile: Sendable, Equatable {
    public static let magic: [UInt8] = Array("NCDC".utf8)
    /// The newest format version this build reads and writes. A file is written at the lowest
    /// version that holds it: version 1 when no flag is set (every file before flags existed, byte
    /// for byte), version 2 when one is, so a reader that predates a flag refuses the file by its
    /// version instead of misreading it.
    public static let formatVersion: UInt8 = 2
    public static let readableVersions: ClosedRange<UInt8> = 1...2

    /// What the codec declares about its payload (the flags byte; version 2 on).
    public struct Flags: OptionSet, Sendable, Equatable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// The payload carries its own per-block integrity checks (VQGAN's index blocks): a
        /// payload that fails the file's CRC-32 may still be handed to its codec, which decodes the
        /// blocks that pass their checks and restores or refuses the others. The header keeps its
        /// own CRC-32, so no damaged header field is ever believed.
        public static let selfCheckedPayload = Flags(rawValue: 1)
        public static let known: Flags = [.selfCheckedPayload]
    }

    /// Registered codec id, for example `store` or `lm-ac`.
    public var codecID: String
    /// Released model id (`Codecs/<model-id>/`), empty for codecs without weights.
    public var modelID: String
    /// 64-bit FNV-1a hash of the model's weights file; 0 when there is no model.
    public var modelHash: UInt64
    /// What the payload decodes to.
    public var media: MediaDescriptor
    /// The codec's own bytes.
    public var payload: [UInt8]
    public var flags: Flags
    /// Set only on a file read with `allowingPayloadDamage` whose self-checked payload failed the
    /// file's CRC-32 (its header passed its own): the mismatch, for the codec and the user to be
    /// told. `nil` when the whole file checked out. Not serialized: writing recomputes the CRC.
    public var payloadDamage: ContainerError?

    public init(codecID: String, modelID: String = "", modelHash: UInt64 = 0,
                media: MediaDescriptor, payload: [UInt8], flags: Flags = []) {
        self.codecID = codecID
        self.modelID = modelID
        self.modelHash = modelHash
        self.media = media
        self.payload = payload
        self.flags = flags
        self.payloadDamage = nil
    }

    /// The format version this file is written at: 1 without flags, 2 with.
    public var version: UInt8 { flags.isEmpty ? 1 : 2 }
}

/// Hard ceilings a reader enforces before allocating. Generous for real media, small enough that
/// a forged header cannot make the decoder ask for terabytes.
public enum Limits {
    public static let maxPixels = 1 << 28            // 268 M pixels (16384 x 16384)
    public static let maxDimension = 1 << 20
    public static let maxAudioSamples = 1 << 31      // frames x channels
    public static let maxAudioChannels = 256
    public static let maxSampleRate = 1 << 22
    public static let maxBytes = 1 << 34             // 16 GiB of decoded bytes
    public static let maxPayload = 1 << 34
    public static let maxIDLength = 64
}

public enum ContainerError: Error, Sendable, Equatable, CustomStringConvertible {
    case notAContainer
    case unsupportedVersion(UInt8)
    case truncated(needed: Int, present: Int)
    case checksumMismatch(stored: UInt32, computed: UInt32)
    /// Version 2: the header's own CRC-32 failed, so not even a self-checked payload can be located.
    case headerChecksumMismatch(stored: UInt32, computed: UInt32)
    case invalidField(String)
    case beyondLimits(String)

    public var description: String {
        switch self {
        case .notAContainer: "not a NeuralCodecs file (bad magic bytes)"
        case .unsupportedVersion(let v): "container format version \(v) is not supported (this build reads versions \(ContainerFile.readableVersions.lowerBound) to \(ContainerFile.readableVersions.upperBound))"
        case .truncated(let needed, let present): "file is truncated: \(needed) bytes needed, \(present) present"
        case .checksumMismatch(let s, let c): "file is corrupt: CRC-32 mismatch (stored \(hex(s)), computed \(hex(c)))"
        case .headerChecksumMismatch(let s, let c): "file is corrupt: header CRC-32 mismatch (stored \(hex(s)), computed \(hex(c)))"
        case .invalidField(let what): "file is corrupt: \(what)"
        case .beyondLimits(let what): "file declares sizes beyond this reader's limits: \(what)"
        }
    }
}

private func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - s.count) + s
}

// MARK: - Writing

extension ContainerFile {
    /// The serialized file: header, (version 2: the header's CRC-32), payload, CRC-32 of all before it.
    public func serialized() -> [UInt8] {
        var out = ByteWriter()
        out.bytes(Self.magic)
        out.u8(version)
        out.u8(flags.rawValue)
        out.string(codecID)
        out.string(modelID)
        out.u64(modelHash)
        switch media {
        case .image(let w, let h, let c, let d, let sbit):
            out.u8(1); out.u32(UInt32(w)); out.u32(UInt32(h)); out.u8(UInt8(c)); out.u8(UInt8(d)); out.u8(UInt8(sbit))
        case .audio(let rate, let channels, let frames, let format, let source):
            out.u8(2); out.u32(UInt32(rate)); out.u16(UInt16(channels)); out.u64(UInt64(frames))
            out.u8(UInt8(bitPattern: Int8(clamping: format))); out.u8(UInt8(source))
        case .bytes(let n):
            out.u8(3); out.u64(UInt64(n))
        }
        out.u64(UInt64(payload.count))
        if version >= 2 { out.u32(crc32(out.data[...])) }
        out.bytes(payload)
        out.u32(crc32(out.data[...]))
        return out.data
    }
}

// MARK: - Reading

extension ContainerFile {
    /// The smallest possible file (version 1): magic, version, flags, two empty ids, hash, kind,
    /// bytes count, payload length, CRC. Version 2 adds the header's CRC-32.
    public static let minimumSize = 4 + 1 + 1 + 1 + 1 + 8 + 1 + 8 + 8 + 4

    /// Parses and validates a container. Never allocates more than `data.count` bytes for the payload.
    ///
    /// A file whose CRC-32 fails is refused, except with `allowingPayloadDamage` when its codec
    /// declared a self-checked payload (`Flags.selfCheckedPayload`, version 2) and the header
    /// passes its own CRC-32: then the file is returned with `payloadDamage` set, for the codec to
    /// find and restore (or refuse) its damaged blocks. Only callers that pass that damage on to a
    /// codec declaring it (`CodecRegistry.decode(_:options:)`) or report it (`codec info`) allow it.
    public init(parsing data: [UInt8], allowingPayloadDamage: Bool = false) throws(ContainerError) {
        guard data.count >= 4, Array(data[0..<4]) == Self.magic else { throw .notAContainer }
        guard data.count >= 5 else { throw .truncated(needed: Self.minimumSize, present: data.count) }
        let version = data[4]
        guard Self.readableVersions.contains(version) else { throw .unsupportedVersion(version) }
        let minimum = Self.minimumSize + (version >= 2 ? 4 : 0)
        guard data.count >= minimum else { throw .truncated(needed: minimum, present: data.count) }
        let header = Self.walkHeader(data)
        // A cut-short file fails its CRC too; the declared size only picks the clearer message.
        if let declared = header?.size, declared > data.count {
            throw .truncated(needed: declared, present: data.count)
        }
        // The CRC covers everything but itself; check it first so no corrupt field is believed.
        let body = data[0..<(data.count - 4)]
        let stored = Self.u32(data, at: data.count - 4)
        let computed = crc32(body)
        var damage: ContainerError?
        if stored != computed {
            // Passed on only for a self-checked payload whose header checks out (verified next).
            guard allowingPayloadDamage, version >= 2, Flags(rawValue: data[5]).contains(.selfCheckedPayload),
                  header?.headerLength != nil else {
                throw .checksumMismatch(stored: stored, computed: computed)
            }
            damage = .checksumMismatch(stored: stored, computed: computed)
        }
        if version >= 2 {
            // The header's own CRC-32 (its last 4 bytes, after the payload length).
            guard let end = header?.headerLength, end <= body.count else { throw .invalidField("header runs past the end of the file") }
            let headerStored = Self.u32(data, at: end - 4), headerComputed = crc32(data[0..<(end - 4)])
            guard headerStored == headerComputed else { throw .headerChecksumMismatch(stored: headerStored, computed: headerComputed) }
        }

        var r = ByteReader(body)
        r.offset = 5
        let flags = Flags(rawValue: try r.u8())
        guard version >= 2 ? Flags.known.isSuperset(of: flags) : flags.isEmpty else { throw .invalidField("unknown flags set") }
        self.flags = flags
        payloadDamage = damage
        codecID = try r.string(field: "codec id")
        guard !codecID.isEmpty else { throw .invalidField("empty codec id") }
        modelID = try r.string(field: "model id")
        modelHash = try r.u64()
        switch try r.u8() {
        case 1:
            let w = Int(try r.u32()), h = Int(try r.u32()), c = Int(try r.u8()), d = Int(try r.u8()), sbit = Int(try r.u8())
            guard w <= Limits.maxDimension, h <= Limits.maxDimension, w * h <= Limits.maxPixels else {
                throw .beyondLimits("\(w)x\(h) pixels (at most \(Limits.maxPixels))")
            }
            guard (1...4).contains(c), d == 8 || d == 16 else { throw .invalidField("image with \(c) channels at \(d) bits") }
            guard sbit < d else { throw .invalidField("\(sbit) significant bits in a \(d)-bit image") }
            media = .image(width: w, height: h, channels: c, bitDepth: d, significantBits: sbit)
        case 2:
            let rate = Int(try r.u32()), channels = Int(try r.u16()), frames64 = try r.u64()
            let format = Int(Int8(bitPattern: try r.u8())), source = Int(try r.u8())
            guard rate > 0, rate <= Limits.maxSampleRate else { throw .invalidField("sample rate \(rate)") }
            guard channels > 0, channels <= Limits.maxAudioChannels else { throw .invalidField("\(channels) audio channels") }
            guard frames64 <= UInt64(Limits.maxAudioSamples / channels) else {
                throw .beyondLimits("\(frames64) frames of \(channels) channels (at most \(Limits.maxAudioSamples) samples)")
            }
            guard [8, 16, 24, 32, -32, -64].contains(format) else { throw .invalidField("audio sample format \(format)") }
            // Decoded audio holds 4 bytes per sample (Int32, Float) or 8 (Double): MediaIO's byte limit.
            guard Int(frames64) * channels * (format == -64 ? 8 : 4) <= MediaLimits.maxSampleBytes else {
                throw .beyondLimits("\(frames64) frames of \(channels) channels need more than \(MediaLimits.maxSampleBytes) bytes of samples in memory")
            }
            media = .audio(sampleRate: rate, channels: channels, frames: Int(frames64), sampleFormat: format, source: source)
        case 3:
            let n = try r.u64()
            guard n <= UInt64(Limits.maxBytes) else { throw .beyondLimits("\(n) bytes (at most \(Limits.maxBytes))") }
            media = .bytes(count: Int(n))
        case let kind:
            throw .invalidField("unknown media kind \(kind)")
        }
        let length = try r.u64()
        if version >= 2 { _ = try r.u32() }  // the header's CRC-32, checked above
        guard length <= UInt64(Limits.maxPayload) else { throw .beyondLimits("payload of \(length) bytes") }
        guard length <= UInt64(r.remaining) else { throw .truncated(needed: r.offset + Int(length) + 4, present: data.count) }
        guard length == UInt64(r.remaining) else { throw .invalidField("\(r.remaining - Int(length)) stray bytes after the payload") }
        payload = Array(body[r.offset...])
    }

    private static func u32(_ data: [UInt8], at i: Int) -> UInt32 {
        UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24
    }

    /// The total file size the header declares, or `nil` if the header cannot be walked.
    /// Used only to report truncation; nothing is allocated from it.
    static func declaredSize(_ data: [UInt8]) -> Int? { walkHeader(data)?.size }

    /// The media kind the header declares, read from the first bytes of a file without checking
    /// its CRC: only for choosing a decoded file's default name before the file is read.
    public static func declaredKind(_ prefix: [UInt8]) -> MediaKind? {
        guard looksLikeContainer(prefix), let kind = walkHeader(prefix)?.kind else { return nil }
        return [1: .image, 2: .audio, 3: .bytes][kind]
    }

    /// Walks the header: the media kind code, and (when the prefix reaches them) the header's
    /// length (to the payload) and the total size.
    private static func walkHeader(_ data: [UInt8]) -> (kind: Int, headerLength: Int?, size: Int?)? {
        guard data.count > 5 else { return nil }
        let headerCRC = data[4] >= 2 ? 4 : 0
        var r = ByteReader(data)
        r.offset = 6
        do throws(ContainerError) {
            _ = try r.take(Int(try r.u8()))  // codec id
            _ = try r.take(Int(try r.u8()))  // model id
            _ = try r.u64()                  // model hash
            let kind = Int(try r.u8())
            guard let metadata = [1: 11, 2: 16, 3: 8][kind] else { return nil }
            guard r.remaining >= metadata + 8 + headerCRC else { return (kind, nil, nil) }
            _ = try r.take(metadata)
            let length = try r.u64()
            let headerLength = r.offset + headerCRC
            guard length <= UInt64(Limits.maxPayload) else { return (kind, headerLength, nil) }
            return (kind, headerLength, headerLength + Int(length) + 4)
        } catch {
            return nil
        }
    }

    /// Reads only as far as needed to tell whether `data` starts like a container.
    public static func looksLikeContainer(_ data: some Collection<UInt8>) -> Bool {
        data.count >= 4 && Array(data.prefix(4)) == magic
    }
}

/// CRC-32 (zlib's polynomial) of a byte range.
public func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var crc: uLong = CZlib.crc32(0, nil, 0)
    bytes.withUnsafeBufferPointer { buf in
        var base = buf.baseAddress
        var left = buf.count
        while left > 0 {  // zlib takes a 32-bit length: feed it in chunks
            let n = min(left, 1 << 30)
            crc = CZlib.crc32(crc, base, uInt(n))
            base = base! + n
            left -= n
        }
    }
    return UInt32(truncatingIfNeeded: crc)
}

// MARK: - Little-endian byte helpers

/// Appends little-endian fields to a byte array.
public struct ByteWriter: Sendable {
    public private(set) var data: [UInt8] = []
    public init() {}
    public mutating func u8(_ v: UInt8) { data.append(v) }
    public mutating func u16(_ v: UInt16) { for i in 0..<2 { data.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    public mutating func u32(_ v: UInt32) { for i in 0..<4 { data.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    public mutating func u64(_ v: UInt64) { for i in 0..<8 { data.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    public mutating func bytes(_ b: some Sequence<UInt8>) { data.append(contentsOf: b) }
    /// A length-prefixed (one byte) ASCII identifier.
    public mutating func string(_ s: String) {
        let b = Array(s.utf8)
        precondition(b.count <= Limits.maxIDLength, "identifier longer than \(Limits.maxIDLength) bytes")
        u8(UInt8(b.count)); bytes(b)
    }
}

/// Reads little-endian fields from untrusted bytes; every read is bounds-checked.
public struct ByteReader: Sendable {
    public let data: ArraySlice<UInt8>
    public var offset: Int
    public init(_ data: ArraySlice<UInt8>) { self.data = data; self.offset = data.startIndex }
    public init(_ data: [UInt8]) { self.init(data[...]) }

    public var remaining: Int { data.endIndex - offset }

    public mutating func take(_ n: Int) throws(ContainerError) -> ArraySlice<UInt8> {
        guard n >= 0, n <= remaining else { throw .truncated(needed: offset - data.startIndex + n, present: data.count) }
        defer { offset += n }
        return data[offset..<(offset + n)]
    }
    public mutating func u8() throws(ContainerError) -> UInt8 { try take(1).first! }
    public mutating func u16() throws(ContainerError) -> UInt16 { UInt16(truncatingIfNeeded: try uint(2)) }
    public mutating func u32() throws(ContainerError) -> UInt32 { UInt32(truncatingIfNeeded: try uint(4)) }
    public mutating func u64() throws(ContainerError) -> UInt64 { try uint(8) }
    private mutating func uint(_ n: Int) throws(ContainerError) -> UInt64 {
        var v: UInt64 = 0
        for (i, b) in try take(n).enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        return v
    }
    public mutating func string(field: String) throws(ContainerError) -> String {
        let n = Int(try u8())
        guard n <= Limits.maxIDLength else { throw .invalidField("\(field) of \(n) bytes") }
        let b = try take(n)
        guard b.allSatisfy({ (0x21...0x7E).contains($0) }) else { throw .invalidField("\(field) is not printable ASCII") }
        return String(decoding: b, as: UTF8.self)
    }
}
