import CodecKit
import Container
import Foundation
import MediaIO
import TextLM

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
        do {
            let media = try MediaFile.decode(bytes, name: name == "-" ? nil : name)
            let codec = try registry.codec(id, for: media.kind)
            return try codec.encode(media, options: options)
        } catch {
            throw CLIError(error, context: name)
        }
    }

    static func decode(_ input: String, to output: String, force: Bool) throws(CLIError) -> Sizes {
        let bytes = try FileIO.read(input)
        let media = try decodeContainer(bytes, name: input)
        let (format, note) = try OutputFormats.check(output, for: media)
        if let note { printError("note: \(note)") }
        let out: [UInt8]
        do {
            out = try MediaFile.encode(media, as: format)
        } catch {
            throw CLIError(error, context: output)
        }
        try FileIO.write(out, to: output, force: force)
        return Sizes(input: bytes.count, output: out.count)
    }

    static func decodeContainer(_ bytes: [UInt8], name: String) throws(CLIError) -> Media {
        do {
            // `codec tokens` writes eiw token streams as .npy files; they decode like containers.
            let file = EIWTokens.isNPY(bytes) ? try EIWTokens.container(fromNPY: bytes) : try ContainerFile(parsing: bytes)
            let media = try registry.codec(decoding: file).decode(file)
            // A codec must give back exactly what the header promised; anything else is corrupt.
            guard MediaDescriptor(media).matchesShape(of: file.media) else {
                throw CodecError.corruptPayload("decoded media does not match the header")
            }
            return media
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

extension MediaDescriptor {
    /// Same kind and size; the audio source container may differ.
    func matchesShape(of other: MediaDescriptor) -> Bool {
        switch (self, other) {
        case let (.audio(r1, c1, f1, s1, _), .audio(r2, c2, f2, s2, _)): r1 == r2 && c1 == c2 && f1 == f2 && s1 == s2
        default: self == other
        }
    }
}
