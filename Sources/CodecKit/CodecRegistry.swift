import Container
import MediaIO

/// Every codec and released model the toolkit knows, by the id a user types.
///
/// The CLI knows codecs only through a registry; adding a codec is one `Entry` in
/// `Sources/codec/Registry.swift`. Entries are cheap: a codec (and its weights) is only built
/// when `make()` is called.
public struct CodecRegistry: Sendable {
    public struct Entry: Sendable {
        public var info: CodecInfo
        public var make: @Sendable () throws(CodecError) -> any Codec
        public init(info: CodecInfo, make: @escaping @Sendable () throws(CodecError) -> any Codec) {
            self.info = info
            self.make = make
        }
    }

    public let entries: [Entry]
    /// The id used for each media kind when `--codec` is not given.
    public let defaults: [MediaKind: String]

    public init(_ entries: [Entry], defaults: [MediaKind: String]) {
        var seen = Set<String>()
        for e in entries { precondition(seen.insert(e.info.id).inserted, "codec id '\(e.info.id)' registered twice") }
        self.entries = entries
        self.defaults = defaults
    }

    public var ids: [String] { entries.map(\.info.id) }

    public func entry(_ id: String) throws(CodecError) -> Entry {
        guard let e = entries.first(where: { $0.info.id == id }) else { throw .unknownCodec(id, available: ids) }
        return e
    }

    /// The codec for `--codec ID`, or the default for the media kind.
    public func codec(_ id: String?, for kind: MediaKind) throws(CodecError) -> any Codec {
        let chosen = id ?? defaults[kind] ?? "store"
        let entry = try entry(chosen)
        guard entry.info.modalities.contains(kind) else {
            throw .unsupportedMedia(codec: chosen, kind: kind, accepts: entry.info.modalities)
        }
        return try entry.make()
    }

    /// The codec that wrote a container: the entry with its codec id and model id. A container
    /// that names no model was written without one (for example `lm-ac` with `lm=off`): any entry
    /// of its codec decodes it.
    public func codec(decoding file: ContainerFile) throws(CodecError) -> any Codec {
        let family = entries.filter { $0.info.codecID == file.codecID }
        guard !family.isEmpty else { throw .codecNotAvailable(file.codecID) }
        let match = family.first { ($0.info.modelID ?? "") == file.modelID }
        guard let e = match ?? (file.modelID.isEmpty ? family.first : nil) else {
            throw .missingModel(modelID: file.modelID, searched: ["the models registered for codec '\(file.codecID)' in this build"])
        }
        return try e.make()
    }
}

extension MediaDescriptor {
    /// The header description of `media`.
    public init(_ media: Media) {
        switch media {
        case .image(let i):
            self = .image(width: i.width, height: i.height, channels: i.channels, bitDepth: i.bitDepth,
                          significantBits: i.significantBits ?? 0)
        case .audio(let a):
            let format: Int
            switch a.samples {
            case .integer(let bits, _): format = bits
            case .float: format = -32
            case .double: format = -64
            }
            let source = MediaDescriptor.audioSources.firstIndex(of: a.source) ?? 255
            self = .audio(sampleRate: a.sampleRate, channels: a.channels, frames: a.frames, sampleFormat: format, source: source)
        case .bytes(let b):
            self = .bytes(count: b.count)
        }
    }

    public var kind: MediaKind {
        switch self {
        case .image: .image
        case .audio: .audio
        case .bytes: .bytes
        }
    }

    /// The audio containers by their code in the header (docs/FORMAT.md); 255 is any other.
    static let audioSources: [AudioSource] = [.wav, .flac, .oggVorbis, .oggOpus]

    /// The `AudioSource` an audio descriptor records.
    public var audioSource: AudioSource {
        guard case .audio(_, _, _, _, let s) = self, Self.audioSources.indices.contains(s) else { return .other }
        return Self.audioSources[s]
    }

    /// Number of samples (pixels x channels, frames x channels, or bytes) the media holds.
    public var sampleCount: Int {
        switch self {
        case .image(let w, let h, let c, _, _): w * h * c
        case .audio(_, let c, let f, _, _): f * c
        case .bytes(let n): n
        }
    }
}
