/// File formats `MediaFile` reads and writes, recognised by their magic bytes.
public enum FileFormat: String, Sendable, CaseIterable {
    case png, wav, flac, ogg, bytes

    /// What the first bytes of a file say it is. Anything unrecognised is plain bytes.
    public static func detect(_ prefix: some Collection<UInt8>) -> FileFormat {
        let b = Array(prefix.prefix(12))
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            b.count >= offset + magic.count && Array(b[offset..<offset + magic.count]) == magic
        }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if (starts(Array("RIFF".utf8)) || starts(Array("RIFX".utf8)) || starts(Array("RF64".utf8)))
            && starts(Array("WAVE".utf8), at: 8) { return .wav }
        if starts(Array("fLaC".utf8)) { return .flac }
        if starts(Array("OggS".utf8)) { return .ogg }
        return .bytes
    }

    /// The format an output path asks for by its extension (`nil` if the extension says nothing).
    public static func forOutput(path: String) -> FileFormat? {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return nil }
        switch path[path.index(after: dot)...].lowercased() {
        case "png": return .png
        case "wav", "wave": return .wav
        case "flac": return .flac
        case "ogg", "oga", "opus": return .ogg
        default: return nil
        }
    }
}

/// Why a media file could not be read or written. Every case carries a message a user can act on.
public enum MediaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The bytes are not a valid file of the format they claim (truncated, corrupt, inconsistent).
    case corrupt(format: FileFormat, reason: String)
    /// A valid file of a kind or variant this build cannot handle.
    case unsupported(String)
    /// The file declares sizes beyond `MediaLimits`; refused before allocating.
    case tooLarge(String)
    /// The media cannot be written in the requested format (for example audio as PNG).
    case cannotWrite(String)

    public var description: String {
        switch self {
        case .corrupt(let format, let reason): "not a valid \(format.rawValue.uppercased()) file: \(reason)"
        case .unsupported(let what): "unsupported input: \(what)"
        case .tooLarge(let what): "input too large: \(what)"
        case .cannotWrite(let what): "cannot write: \(what)"
        }
    }
}

/// Reads and writes whole files held in memory (so stdin/stdout and files share one path).
public enum MediaFile {
    /// Decodes a file's bytes by its magic: PNG → image, WAV/FLAC/Ogg → audio, anything else → bytes.
    ///
    /// `name`, when given, is only a cross-check: a file named like a media file (`.png`, `.wav`,
    /// `.flac`, `.ogg`, ...) whose bytes carry no such signature is refused as corrupt instead of
    /// being taken for plain bytes. The magic bytes alone decide what a file is.
    public static func decode(_ data: [UInt8], name: String? = nil) throws(MediaError) -> Media {
        let format = FileFormat.detect(data)
        if format == .bytes, let name, let claimed = FileFormat.forOutput(path: name) {
            let shown = claimed.rawValue.uppercased()
            throw .corrupt(format: claimed, reason: data.isEmpty ? "the file is empty"
                : "the name says \(shown) but the content does not start with a \(shown) signature "
                + "(rename the file to treat it as plain bytes)")
        }
        switch format {
        case .png: return .image(try PNGFile.decode(data))
        case .wav, .flac, .ogg: return .audio(try AudioFile.decode(data))
        case .bytes: return .bytes(data)
        }
    }

    /// The format audio is written in when the output names none: FLAC for audio from FLAC,
    /// WAV otherwise (an Ogg source too: Ogg is lossy).
    public static func naturalFormat(of source: AudioSource) -> FileFormat { source == .flac ? .flac : .wav }

    /// Encodes media as a file. `format` defaults to the natural one for the media:
    /// PNG for images, the audio's source container (FLAC or WAV) for audio, raw for bytes.
    /// `pngLevel`: the zlib level of a PNG (0-9).
    public static func encode(_ media: Media, as format: FileFormat? = nil,
                              pngLevel: Int = PNGFile.defaultLevel) throws(MediaError) -> [UInt8] {
        switch (media, format) {
        case (.image(let image), nil), (.image(let image), .png?):
            return try PNGFile.encode(image, level: pngLevel)
        case (.audio(let audio), nil):
            return try AudioFile.encode(audio, as: naturalFormat(of: audio.source))
        case (.audio(let audio), let f?) where f == .wav || f == .flac || f == .ogg:
            return try AudioFile.encode(audio, as: f)
        case (.bytes(let bytes), nil), (.bytes(let bytes), .bytes?):
            return bytes
        case (_, let f?):
            throw .cannotWrite("\(media.kind.rawValue) cannot be written as \(f.rawValue.uppercased())")
        }
    }
}
