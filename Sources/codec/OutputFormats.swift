import MediaIO

/// What `decode` may write for a given output name and media, decided before any bytes are
/// written: an extension of another media kind is a usage error, as is one of a format this tool
/// cannot write (`.jpg`, `.mp3`); writing to a lossy format, or one that narrows the samples,
/// gives a note that the result is not exact.
enum OutputFormats {
    /// Extensions of formats this tool reads or recognises but cannot write, by media kind.
    static let unwritableImage: Set<String> = [
        "jpg", "jpeg", "jpe", "jfif", "gif", "bmp", "tif", "tiff", "webp", "heic", "heif", "avif",
        "jxl", "jp2", "ico", "tga", "ppm", "pgm", "pbm", "pnm", "exr", "psd", "svg", "qoi",
    ]
    static let unwritableAudio: Set<String> = [
        "mp3", "mp2", "m4a", "aac", "aif", "aiff", "aifc", "wma", "mka", "au", "snd", "caf", "amr",
        "ape", "wv", "alac", "w64",
    ]

    /// The lower-cased extension of a path's file name, if it has one.
    static func fileExtension(_ path: String) -> String? {
        let name = FileIO.fileName(of: path)
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
        let ext = name[name.index(after: dot)...].lowercased()
        return ext.isEmpty ? nil : ext
    }

    /// The format to write `media` to `path` in (`nil`: the media's natural format), and a note
    /// for the user when the result will not be exact.
    static func check(_ path: String, for media: Media) throws(CLIError) -> (format: FileFormat?, note: String?) {
        guard path != "-" else { return (nil, nil) }
        let format = FileFormat.forOutput(path: path)
        let ext = fileExtension(path)
        func refuse(_ why: String) -> CLIError { .usage("cannot write \(path): \(why)") }
        switch media {
        case .image:
            if let ext, unwritableImage.contains(ext) {
                throw refuse("this tool writes images as PNG only, not .\(ext); name the output .png")
            }
            if let format, format != .png {
                throw refuse("the file holds an image, and .\(ext ?? "") is an audio extension; name the output .png")
            }
            if let ext, unwritableAudio.contains(ext) {
                throw refuse("the file holds an image, and .\(ext) is an audio extension; name the output .png")
            }
            return (format, nil)
        case .audio(let audio):
            if let ext, unwritableAudio.contains(ext) {
                throw refuse("this tool writes audio as WAV, FLAC or Ogg, not .\(ext)")
            }
            if format == .png || ext.map(unwritableImage.contains) == true {
                throw refuse("the file holds audio, and .\(ext ?? "") is an image extension; name the output .wav, .flac or .ogg")
            }
            switch (format, audio.samples) {
            case (.ogg?, _):
                return (format, "\(path): Ogg \(audio.source == .oggOpus ? "Opus" : "Vorbis") is lossy; "
                    + "the written audio is not exactly the decoded samples (use .wav or .flac for that)")
            case (.flac?, .float), (.flac?, .double):
                return (format, "\(path): FLAC holds integers, so these float samples are written as "
                    + "16-bit PCM and are not exact (use .wav for that)")
            default:
                return (format, nil)
            }
        case .bytes:
            if let format, format != .bytes {
                throw refuse("the file holds plain bytes, not \(format == .png ? "an image" : "audio"); "
                    + "give the output another extension")
            }
            return (nil, nil)
        }
    }
}
