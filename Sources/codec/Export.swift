import ArgumentParser
import CodecKit
import Container

/// `codec tokens` and `codec latents`: one command per exporter name a codec may offer
/// (`Exporter` in CodecKit). The codec is found through the registry: the one that wrote a
/// container input, or, for media input, `--codec` or the first codec offering the export.
struct Tokens: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a text's Equal-Info-Window token stream as a NumPy .npy array.",
        discussion: """
            The tokens are the `eiw` codec's bit stream cut into 8- or 16-bit tokens (uint8 or \
            uint16), after a short header (window size, byte count, model hash), for training \
            language models on compressed text. `codec decode FILE.npy -o text.txt` restores the text.
              codec tokens book.txt -o book.npy
              codec tokens -p window=32 -p token=8 book.txt -o book.npy
            INPUT may also be a container already encoded with `--codec eiw`.
            """)

    @OptionGroup var export: ExportOptions

    func run() throws { try export.run("tokens") }
}

struct Latents: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a codec's quantized latents as a NumPy .npy array.",
        discussion: """
            For codecs that offer it (`codec list`): the latents the codec codes, as a uint8 \
            .npy, for training models on them. `codec decode FILE.npy` reconstructs the media.
              codec latents --codec ID photo.png -o photo.npy
            INPUT may also be a container already encoded with such a codec.
            """)

    @OptionGroup var export: ExportOptions

    func run() throws { try export.run("latents") }
}

/// What every export command takes.
struct ExportOptions: ParsableArguments {
    @Argument(help: "Media to encode first, or containers written by a codec offering the export. Several inputs of one shape give one array with a leading batch dimension.")
    var inputs: [String] = []

    @Option(name: .customLong("from"), help: ArgumentHelp("Read further input paths from a file, one per line.", valueName: "list"))
    var listFile: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("The file to write ('-' for standard output).", valueName: "path"))
    var output: String

    @Option(help: ArgumentHelp("The codec or model id to encode media with (default: the first that offers the export).", valueName: "id"))
    var codec: String?

    @Option(name: [.customShort("p"), .customLong("param")],
            help: ArgumentHelp("An encode option, name=value (repeatable; `codec list` shows each codec's).", valueName: "name=value"))
    var params: [String] = []

    @Flag(help: "Overwrite an existing output.")
    var force = false

    @Flag(name: .shortAndLong, help: "No progress line.")
    var quiet = false

    func run(_ exporter: String) throws {
        try FileIO.checkWritable(output, force: force)
        var inputs = self.inputs
        if let listFile {
            inputs += String(decoding: try FileIO.read(listFile), as: UTF8.self).split(whereSeparator: \.isNewline)
                .map(String.init).filter { !$0.allSatisfy(\.isWhitespace) }
        }
        guard !inputs.isEmpty else { throw CLIError.usage("no input files (give paths, or --from LIST)") }
        let options = try wrap { () throws(CodecError) in try CodecOptions(parsing: params) }
        let progress = Progress(verb: "exported", total: inputs.count, quiet: quiet || inputs.count == 1)
        var arrays: [[UInt8]] = []
        defer { progress.end() }
        for input in inputs {
            progress.started(input)
            do { arrays.append(try exportOne(input, exporter, options)) } catch { throw CLIError(error, context: input) }
            progress.finished()
        }
        let out = inputs.count == 1 ? arrays[0] : try wrap { () throws(CodecError) in try NumPyArray.stacking(arrays, names: inputs).serialized() }
        try FileIO.write(out, to: output, force: force)
    }

    func exportOne(_ input: String, _ exporter: String, _ options: CodecOptions) throws -> [UInt8] {
        let bytes = try FileIO.read(input)
        if ContainerFile.looksLikeContainer(bytes) {
            let file = try wrap { () throws(ContainerError) in try ContainerFile(parsing: bytes) }
            return try wrap { () throws(CodecError) in try registry.export(file, as: exporter) }
        }
        let media = try Pipeline.readMedia(bytes, name: input)
        return try wrap { () throws(CodecError) in
            let codec = try registry.codec(exporting: exporter, id: codec, for: media.kind)
            return try codec.export(try codec.encode(media, options: options), as: exporter)
        }
    }
}
