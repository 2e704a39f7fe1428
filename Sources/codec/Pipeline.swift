import CodecKit
import Container
import Foundation
import MediaIO

/// The work behind `encode` and `decode` for one file, shared by the single and batch forms.
enum Pipeline {
    struct Sizes { var input: Int; var output: Int }

    static func encode(_ input: String, to output: String, codec id: String?, options: CodecOptions,
                       force: Bool) throws(CLIError) -> Sizes {
        if let (container, inputBytes) = try encodeStreaming(input, codec: id, options: options) {
            let out = container.serialized()
            try FileIO.write(out, to: output, force: force)
            return Sizes(input: inputBytes, output: out.count)
        }
        let bytes = try FileIO.read(input)
        let container = try encodeMedia(bytes, codec: id, options: options, name: input)
        let out = container.serialized()
        try FileIO.write(out, to: output, force: force)
        return Sizes(input: bytes.count, output: out.count)
    }

    static func encodeMedia(_ bytes: [UInt8], codec id: String?, options: CodecOptions,
                            name: String) throws(CLIError) -> ContainerFile {
        let media = try readMedia(bytes, name: name)
        do {
            let codec = try registry.codec(id, for: media.kind)
            return try codec.encode(media, options: options)
        } catch {
            throw CLIError(error, context: name)
        }
    }

    /// An audio file on disk whose codec codes audio block by block (`StreamingAudioCodec`):
    /// encoded from the file in place, a block at a time, so memory does not grow with its length.
    /// `nil` for every other input (standard input, other media, other codecs, a codec that
    /// refuses audio), which the whole-file path then reads and reports on as always.
    static func encodeStreaming(_ input: String, codec id: String?, options: CodecOptions) throws(CLIError) -> (ContainerFile, Int)? {
        guard input != "-", [.wav, .flac, .ogg].contains(FileFormat.detect(FileIO.readPrefix(input, count: 12))),
              let codec = (try? registry.codec(id, for: .audio)) as? any StreamingAudioCodec else { return nil }
        let (fd, size) = try FileIO.openRegular(input)
        defer { close(fd) }
        do {
            let reader: AudioReader
            do { reader = try AudioReader(descriptor: fd) } catch { throw CodecError.media(error) }
            return (try codec.encode(reader, options: options), size)
        } catch {
            throw CLIError(error, context: input)
        }
    }

    /// An input file's media (its type from its magic bytes).
    static func readMedia(_ bytes: [UInt8], name: String) throws(CLIError) -> Media {
        do { return try MediaFile.decode(bytes, name: name == "-" ? nil : name) } catch { throw CLIError(error, context: name) }
    }

    static func decode(_ input: String, to output: String, pngLevel: Int, force: Bool) throws(CLIError) -> Sizes {
        let bytes = try FileIO.read(input)
        if let sizes = try decodeStreaming(bytes, name: input, to: output, force: force) { return sizes }
        let media = try decodeContainer(bytes, name: input)
        let (format, note) = try OutputFormats.check(output, for: media)
        if let note { printError("note: \(note)") }
        let out: [UInt8]
        do {
            out = try MediaFile.encode(media, as: format, pngLevel: pngLevel)
        } catch {
            throw CLIError(error, context: output)
        }
        try FileIO.write(out, to: output, force: force)
        return Sizes(input: bytes.count, output: out.count)
    }

    /// A container of audio whose codec decodes block by block (`StreamingAudioCodec`), written to
    /// a regular file: each decoded block goes to the output's temporary file as it comes (renamed
    /// into place at the end, removed on any failure), so memory does not grow with the length.
    /// `nil` for everything else (standard output, a FIFO, other media or codecs, a container that
    /// does not parse or whose codec is missing), which the whole-file path handles and reports.
    static func decodeStreaming(_ bytes: [UInt8], name: String, to output: String, force: Bool) throws(CLIError) -> Sizes? {
        guard output != "-", ContainerFile.looksLikeContainer(bytes), let file = try? ContainerFile(parsing: bytes),
              case let .audio(sampleRate, channels, frames, sampleFormat, _) = file.media,
              let codec = (try? registry.codec(decoding: file)) as? any StreamingAudioCodec else { return nil }
        switch FileIO.target(output) {
        case .absent, .regular: break
        default: return nil
        }
        // The blocks' form, as the header declares it: what the output format is checked against.
        let samples: Audio.Samples = switch sampleFormat {
        case -64: .double([])
        case 8, 16, 24, 32: .integer(bits: sampleFormat, [])
        default: .float([])
        }
        let template = Audio(sampleRate: max(1, sampleRate), channels: max(1, channels), samples: samples, source: file.media.audioSource)
        let (checked, note) = try OutputFormats.check(output, for: .audio(template))
        if let note { printError("note: \(note)") }
        let format = checked ?? MediaFile.naturalFormat(of: template.source)
        try FileIO.checkWritable(output, force: force)
        try FileIO.writeAtomically(to: output, force: force) { fd throws(CLIError) in
            let writer: AudioWriter
            do { writer = try AudioWriter(descriptor: fd, as: format, like: template, frames: frames) } catch {
                throw CLIError(error, context: output)
            }
            // A failed write is the environment's (disk full, I/O error), reported as such.
            var writeFailure: MediaError? = nil
            do {
                try codec.decodeChecked(file) { (block: Audio) throws(CodecError) in
                    do throws(MediaError) { try writer.write(block) } catch { writeFailure = error; throw CodecError.media(error) }
                }
                do throws(MediaError) { try writer.finish() } catch { writeFailure = error; throw CodecError.media(error) }
            } catch {
                if let writeFailure { throw .environment("cannot write \(output): \(writeFailure)") }
                throw CLIError(error, context: name)
            }
        }
        return Sizes(input: bytes.count, output: FileIO.size(of: output))
    }

    /// Decodes a container, or another input form a registered codec declares (a token .npy),
    /// checked against what it declares: the file's one read and one check.
    static func decodeContainer(_ bytes: [UInt8], name: String) throws(CLIError) -> Media {
        do {
            return try registry.decode(bytes)
        } catch {
            throw CLIError(error, context: name)
        }
    }

    /// The default name for an encoded file: the input's name plus `.nc`.
    static func encodedName(for input: String) -> String {
        (FileIO.fileName(of: input)) + ".nc"
    }

    /// The default name for a decoded file: `.nc` removed, and an extension added when the name
    /// has none that suits the media (`photo.png.nc` → `photo.png`, `x.nc` holding an image → `x.png`).
    static func decodedName(for input: String, kind: MediaKind?) -> String {
        var name = FileIO.fileName(of: input)
        if name.hasSuffix(".nc") { name.removeLast(3) }
        if name.isEmpty { name = "decoded" }
        let ext = FileFormat.forOutput(path: name)
        switch kind {
        case .image? where ext != .png: name += ".png"
        case .audio? where ext == nil || ext == .png: name += ".wav"
        default: break
        }
        return name
    }
}
