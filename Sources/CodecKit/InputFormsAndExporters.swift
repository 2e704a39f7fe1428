import Container
import MediaIO

/// An input other than a container that a codec decodes: eiw's token `.npy`, a latent `.npy`.
/// `codec decode` tries every registered codec's forms on a file that is not a container.
public struct InputForm: Sendable, Equatable {
    /// Short name, as `decode(_:form:)` receives it (`tokens`, `latents`).
    public var name: String
    /// One line for `codec list`.
    public var summary: String
    /// Whether `bytes` are in this form. Cheap and model-free: the registry asks before it
    /// builds (and loads the model of) the codec that will decode them.
    public var recognizes: @Sendable (_ bytes: [UInt8]) -> Bool

    public init(_ name: String, summary: String, recognizes: @escaping @Sendable (_ bytes: [UInt8]) -> Bool) {
        self.name = name
        self.summary = summary
        self.recognizes = recognizes
    }

    public static func == (a: InputForm, b: InputForm) -> Bool { a.name == b.name && a.summary == b.summary }
}

/// Another output a codec makes from its containers, offered as the command `codec <name>`
/// (`tokens` now, `latents` next): for training models on what the codec produces.
public struct Exporter: Sendable, Equatable {
    /// The command name (`tokens`, `latents`), as `export(_:as:)` receives it.
    public var name: String
    /// One line for `codec list` and the command's help.
    public var summary: String
    /// Extension of the files it writes, without the dot (`npy`).
    public var fileExtension: String

    public init(_ name: String, summary: String, fileExtension: String) {
        self.name = name
        self.summary = summary
        self.fileExtension = fileExtension
    }
}

extension Codec {
    /// Codecs declare forms in `info.inputForms`; one that declares none never gets here.
    public func decode(_ bytes: [UInt8], form: String) throws(CodecError) -> Media {
        throw .invalidOption("\(info.id) decodes no '\(form)' input")
    }

    /// Codecs declare exporters in `info.exporters`; one that declares none never gets here.
    public func export(_ file: ContainerFile, as exporter: String) throws(CodecError) -> [UInt8] {
        throw .invalidOption("\(info.id) offers no '\(exporter)' export")
    }

    /// `decode`, then the check every caller needs: the media is exactly what the header
    /// promised (a codec that returns anything else has read a corrupt payload).
    public func decodeChecked(_ file: ContainerFile) throws(CodecError) -> Media {
        let media = try decode(file)
        guard MediaDescriptor(media).matchesShape(of: file.media) else {
            throw .corruptPayload("decoded media does not match the header (\(info.id))")
        }
        return media
    }
}
