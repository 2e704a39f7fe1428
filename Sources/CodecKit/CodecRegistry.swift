import Container
import MediaIO

/// Every codec and released model the toolkit knows, by the id a user types.
///
/// The CLI knows codecs only through a registry; adding a codec is one `Entry` in
/// `Sources/codec/Registry.swift`. Entries are cheap: a codec (and its weights) is only built
/// when first asked for, then kept, so a batch of files builds each codec once.
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
    /// Codecs built so far, by entry id; `building` is held while one is built, so concurrent
    /// first requests build it once.
    private let built = Locked([String: any Codec]())
    private let building = Locked(())

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
        return try make(entry)
    }

    /// The codec of `entry`, built on first use. A failure (a missing model) is not kept, so a
    /// later call tries again.
    public func make(_ entry: Entry) throws(CodecError) -> any Codec {
        if let codec = built.withValue({ $0[entry.info.id] }) { return codec }
        let made: Result<any Codec, CodecError> = building.withValue { _ in
            if let codec = built.withValue({ $0[entry.info.id] }) { return .success(codec) }
            do throws(CodecError) {
                let codec = try entry.make()
                built.withValue { $0[entry.info.id] = codec }
                return .success(codec)
            } catch { return .failure(error) }
        }
        return try made.get()
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
        return try make(e)
    }

    /// Decodes a container with the codec that wrote it, checked against its header.
    public func decode(_ file: ContainerFile) throws(CodecError) -> Media {
        try codec(decoding: file).decodeChecked(file)
    }

    /// The same under `options`, with the codec's warnings (`Codec.decodeChecked(_:options:)`).
    public func decode(_ file: ContainerFile, options: DecodeOptions) throws(CodecError) -> DecodeResult {
        try codec(decoding: file).decodeChecked(file, options: options)
    }

    /// Decodes a file exactly (every check must pass, nothing restored): a container, or an input
    /// form a registered codec declares (a token `.npy`). Bytes in no known form are reported as a
    /// container error.
    public func decode(_ bytes: [UInt8]) throws(CodecError) -> Media {
        try decode(bytes, options: DecodeOptions(strict: true)).media
    }

    /// Decodes a file under `options`. A container whose payload fails its CRC-32 but declares
    /// itself self-checked (its header passing its own CRC) reaches its codec only if that codec
    /// declares it too (`CodecInfo.selfCheckedPayload`), strict or not, so that a strict refusal
    /// can say which blocks are damaged; any other CRC mismatch is refused, as always.
    public func decode(_ bytes: [UInt8], options: DecodeOptions) throws(CodecError) -> DecodeResult {
        if !ContainerFile.looksLikeContainer(bytes) {
            for e in entries {
                if let form = e.info.inputForms.first(where: { $0.recognizes(bytes) }) {
                    return DecodeResult(media: try make(e).decode(bytes, form: form.name))
                }
            }
        }
        let file: ContainerFile
        do { file = try ContainerFile(parsing: bytes, allowingPayloadDamage: true) } catch { throw .container(error) }
        return try decode(file, options: options)
    }

    /// The names of every exporter the registered codecs offer, in registration order.
    public var exporterNames: [String] {
        var names: [String] = []
        for e in entries { for x in e.info.exporters where !names.contains(x.name) { names.append(x.name) } }
        return names
    }

    /// The notes (`Codec.notes`) of the codec that wrote a container.
    public func notes(_ file: ContainerFile) throws(CodecError) -> [String] {
        try codec(decoding: file).notes(file)
    }

    /// `exporter` applied to a container, by the codec that wrote it.
    public func export(_ file: ContainerFile, as exporter: String) throws(CodecError) -> [UInt8] {
        let codec = try codec(decoding: file)
        guard codec.info.exporters.contains(where: { $0.name == exporter }) else {
            let offering = entries.filter { $0.info.exporters.contains { $0.name == exporter } }.map(\.info.id)
            throw .invalidOption("\(exporter) export needs a file encoded with \(offering.joined(separator: " or ")), not \(file.codecID)")
        }
        return try codec.export(file, as: exporter)
    }

    /// The codec that makes `exporter` from `kind` media: `id` if given, else the first entry
    /// offering it for that kind.
    public func codec(exporting exporter: String, id: String?, for kind: MediaKind) throws(CodecError) -> any Codec {
        if let id {
            let e = try entry(id)
            guard e.info.exporters.contains(where: { $0.name == exporter }) else {
                throw .invalidOption("\(id) offers no '\(exporter)' export")
            }
            return try codec(id, for: kind)
        }
        guard let e = entries.first(where: { $0.info.modalities.contains(kind) && $0.info.exporters.contains { $0.name == exporter } }) else {
            throw .invalidOption("no codec makes '\(exporter)' from \(kind.rawValue) input")
        }
        return try make(e)
    }
}
