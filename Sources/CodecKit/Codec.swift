import Container
import MediaIO

/// A codec turns media into a container and back.
///
/// Contract (docs/ARCHITECTURE.md): deterministic, so the same media, options and weights give
/// the same bytes on every machine and thread count; `decode` treats the container as hostile
/// and fails with a `CodecError` rather than crashing or allocating what the header merely claims.
public protocol Codec: Sendable {
    /// What the registry and `codec list` show about this codec or model.
    var info: CodecInfo { get }
    func encode(_ media: Media, options: CodecOptions) throws(CodecError) -> ContainerFile
    /// Decodes exactly, or fails: a codec with no way to say what it repaired never repairs.
    func decode(_ file: ContainerFile) throws(CodecError) -> Media
    /// Decodes under `options`, returning what the user must be told besides the media (blocks
    /// restored). By default `decode(_:)` with no warnings. A codec that declares
    /// `info.selfCheckedPayload` implements it: its payload's damaged blocks are restored and
    /// counted in a warning, or, with `options.strict`, refused (exit 2).
    func decode(_ file: ContainerFile, options: DecodeOptions) throws(CodecError) -> DecodeResult
    /// Decodes an input in one of `info.inputForms` (InputFormsAndExporters.swift); by default none.
    func decode(_ bytes: [UInt8], form: String) throws(CodecError) -> Media
    /// Writes one of `info.exporters` for a container this codec wrote; by default none.
    func export(_ file: ContainerFile, as exporter: String) throws(CodecError) -> [UInt8]
    /// What encoding did to the input to fit the codec (resampled, channels mapped, padded...),
    /// one line each, for `codec info`; by default nothing.
    func notes(_ file: ContainerFile) throws(CodecError) -> [String]
}

extension Codec {
    public func notes(_ file: ContainerFile) throws(CodecError) -> [String] { [] }

    public func decode(_ file: ContainerFile, options: DecodeOptions) throws(CodecError) -> DecodeResult {
        DecodeResult(media: try decode(file))
    }
}

/// How to decode (`codec decode --strict`).
public struct DecodeOptions: Sendable, Equatable {
    /// Refuse (exit 2) any damage a codec could otherwise restore: a self-checked payload's failing
    /// blocks, or its failing the file's CRC-32 at all.
    public var strict: Bool
    public init(strict: Bool = false) { self.strict = strict }
}

/// Decoded media and the warnings that go with it ("restored 12 of 384 index blocks ..."): the
/// channel by which a decoder that repaired something says so, so that damage is never passed
/// on silently. The CLI prints each warning on standard error.
public struct DecodeResult: Sendable {
    public var media: Media
    public var warnings: [String]
    public init(media: Media, warnings: [String] = []) {
        self.media = media
        self.warnings = warnings
    }
}

/// A codec's self-description.
public struct CodecInfo: Sendable, Equatable {
    /// The id a user passes to `--codec`: the codec's own id, or a released model's id.
    public var id: String
    /// The codec family written into the container (`store`, `lm-ac`, ...).
    public var codecID: String
    /// The released model the codec runs, if any (`Codecs/<modelID>/`).
    public var modelID: String?
    public var modalities: [MediaKind]
    public var lossless: Bool
    /// One line for `codec list`.
    public var summary: String
    /// The options `encode` understands, with their defaults.
    public var parameters: [CodecParameter]
    /// Inputs besides containers that `decode(_:form:)` takes (a token or latent `.npy`).
    public var inputForms: [InputForm]
    /// Outputs besides containers that `export(_:as:)` writes (`tokens`, `latents`).
    public var exporters: [Exporter]
    /// The payload carries its own per-block checks, and the codec writes its containers with
    /// `ContainerFile.Flags.selfCheckedPayload`: the registry hands it a payload that fails the
    /// file's CRC-32 (through `decode(_:options:)`) instead of refusing the file. Every other
    /// codec's files are refused on a CRC mismatch, flag or not.
    public var selfCheckedPayload: Bool

    public init(id: String, codecID: String? = nil, modelID: String? = nil, modalities: [MediaKind],
                lossless: Bool, summary: String, parameters: [CodecParameter] = [],
                inputForms: [InputForm] = [], exporters: [Exporter] = [], selfCheckedPayload: Bool = false) {
        self.id = id
        self.codecID = codecID ?? id
        self.modelID = modelID
        self.modalities = modalities
        self.lossless = lossless
        self.summary = summary
        self.parameters = parameters
        self.inputForms = inputForms
        self.exporters = exporters
        self.selfCheckedPayload = selfCheckedPayload
    }
}

/// One encode option (`codec encode -p name=value`).
public struct CodecParameter: Sendable, Equatable {
    public var name: String
    public var defaultValue: String
    public var help: String
    public init(_ name: String, default defaultValue: String, help: String) {
        self.name = name
        self.defaultValue = defaultValue
        self.help = help
    }
}

/// Encode options as given on the command line, with typed, validated access.
public struct CodecOptions: Sendable, Equatable {
    public var values: [String: String]
    public init(_ values: [String: String] = [:]) { self.values = values }

    /// Parses `name=value` pairs.
    public init(parsing pairs: [String]) throws(CodecError) {
        var values: [String: String] = [:]
        for pair in pairs {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw .invalidOption("'\(pair)' is not of the form name=value")
            }
            values[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
        self.values = values
    }

    /// Fails if an option is not one the codec declares, so a typo is never silently ignored.
    public func validate(against info: CodecInfo) throws(CodecError) {
        let known = Set(info.parameters.map(\.name))
        for name in values.keys.sorted() where !known.contains(name) {
            let list = known.isEmpty ? "none" : known.sorted().joined(separator: ", ")
            throw .invalidOption("\(info.id) has no option '\(name)' (its options: \(list))")
        }
    }

    public func integer(_ name: String, default value: Int, in range: ClosedRange<Int>) throws(CodecError) -> Int {
        guard let text = values[name] else { return value }
        guard let v = Int(text), range.contains(v) else {
            throw .invalidOption("\(name) must be an integer in \(range.lowerBound)...\(range.upperBound), not '\(text)'")
        }
        return v
    }

    public func string(_ name: String, default value: String, oneOf allowed: [String]) throws(CodecError) -> String {
        guard let v = values[name] else { return value }
        guard allowed.contains(v) else { throw .invalidOption("\(name) must be one of \(allowed.joined(separator: ", ")), not '\(v)'") }
        return v
    }
}

/// Why a codec could not do its work. `exitCode` is what the CLI returns for it.
public enum CodecError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownCodec(String, available: [String])
    /// A container names a codec this build does not have.
    case codecNotAvailable(String)
    case invalidOption(String)
    case unsupportedMedia(codec: String, kind: MediaKind, accepts: [MediaKind])
    /// The input is valid media but not a shape the codec can take (for example not 28x28).
    case unsupportedShape(String)
    case missingModel(modelID: String, searched: [String])
    case modelMismatch(modelID: String, expectedHash: UInt64, foundHash: UInt64)
    case corruptModel(modelID: String, reason: String)
    case corruptPayload(String)
    case container(ContainerError)
    case media(MediaError)
    case internalFailure(String)

    public var description: String {
        switch self {
        case .unknownCodec(let id, let available):
            "unknown codec '\(id)'; available: \(available.joined(separator: ", ")) (see `codec list`)"
        case .codecNotAvailable(let id): "file was written by codec '\(id)', which this build does not have (see `codec list`)"
        case .invalidOption(let why): "invalid option: \(why)"
        case .unsupportedMedia(let codec, let kind, let accepts):
            "codec '\(codec)' does not take \(kind.rawValue) input (it takes \(accepts.map(\.rawValue).joined(separator: ", ")))"
        case .unsupportedShape(let why): "unsupported input: \(why)"
        case .missingModel(let id, let searched):
            "model '\(id)' is not installed (looked in \(searched.joined(separator: ", "))); set NEURALCODECS_MODELS to the folder holding Codecs/\(id)"
        case .modelMismatch(let id, let expected, let found):
            "file was encoded with different weights of model '\(id)' (file wants hash \(hex64(expected)), installed weights hash \(hex64(found))): install the matching model to decode it"
        case .corruptModel(let id, let why): "model '\(id)' is damaged: \(why)"
        case .corruptPayload(let why): "file is corrupt: \(why)"
        case .container(let e): e.description
        case .media(let e): e.description
        case .internalFailure(let why): "internal error: \(why)"
        }
    }

    /// 1 usage, 2 bad or corrupt input (including a missing or different model), 3 internal error.
    public var exitCode: Int32 {
        switch self {
        case .unknownCodec, .invalidOption: 1
        case .internalFailure: 3
        default: 2
        }
    }
}

func hex64(_ v: UInt64) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
}
