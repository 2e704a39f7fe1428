import CodecKit
import Container
import Foundation
import MediaIO

/// The work behind `encode` and `decode` for one file, shared by the single and batch forms.
enum Pipeline {
    struct Sizes { var input: Int; var output: Int }

    static func encode(_ input: String, to output: String, codec id: String?, options: CodecOptions,
                       force: Bool) throws(CLIError) -> Sizes {
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

    /// An input file's media (its type from its magic bytes).
    static func readMedia(_ bytes: [UInt8], name: String) throws(CLIError) -> Media {
        do { return try MediaFile.decode(bytes, name: name == "-" ? nil : name) } catch { throw CLIError(error, context: name) }
    }

    static func decode(_ input: String, to output: String, pngLevel: Int, force: Bool,
                       options: DecodeOptions) throws(CLIError) -> Sizes {
        let bytes = try FileIO.read(input)
        let media = try decodeContainer(bytes, name: input, options: options)
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

    /// Decodes a container, or another input form a registered codec declares (a token .npy),
    /// checked against what it declares: the file's one read and one check. What the codec
    /// repaired (damaged blocks it restored) is said on standard error, one line per warning,
    /// never passed on silently; `options.strict` refuses such files instead (exit 2).
    static func decodeContainer(_ bytes: [UInt8], name: String, options: DecodeOptions) throws(CLIError) -> Media {
        do {
            let result = try registry.decode(bytes, options: options)
            for warning in result.warnings { printError("warning: \(name): \(warning)") }
            return result.media
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
