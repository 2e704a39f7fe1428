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
        try decodeChecked(file, options: DecodeOptions(strict: true)).media
    }

    /// `decode(_:options:)` with the same check, and the rule for damaged payloads: a file whose
    /// payload failed the container's CRC-32 (`file.payloadDamage`) reaches only a codec that
    /// declares `info.selfCheckedPayload`, is refused under `options.strict` unless the codec
    /// itself refuses first with its own account, and always comes back with at least one warning.
    public func decodeChecked(_ file: ContainerFile, options: DecodeOptions) throws(CodecError) -> DecodeResult {
        if let damage = file.payloadDamage, !info.selfCheckedPayload || !file.flags.contains(.selfCheckedPayload) {
            throw .container(damage)
        }
        var result = try decode(file, options: options)
        guard MediaDescriptor(result.media).matchesShape(of: file.media) else {
            throw .corruptPayload("decoded media does not match the header (\(info.id))")
        }
        if let damage = file.payloadDamage, result.warnings.isEmpty {
            // The codec found every block intact: the damage was elsewhere (the CRC itself).
            guard !options.strict else { throw .container(damage) }
            result.warnings.append("every block of the payload passed its own check though the file did not (\(damage)): decoded as is")
        }
        return result
    }
}
