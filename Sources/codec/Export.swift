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
    @Argument(help: "Media to encode first, or a container written by a codec offering the export.")
    var input: String

    @Option(name: .shortAndLong, help: ArgumentHelp("The file to write ('-' for standard output).", valueName: "path"))
    var output: String

    @Option(help: ArgumentHelp("The codec or model id to encode media with (default: the first that offers the export).", valueName: "id"))
    var codec: String?

    @Option(name: [.customShort("p"), .customLong("param")],
            help: ArgumentHelp("An encode option, name=value (repeatable; `codec list` shows each codec's).", valueName: "name=value"))
    var params: [String] = []

    @Flag(help: "Overwrite an existing output.")
    var force = false

    func run(_ exporter: String) throws {
        try FileIO.checkWritable(output, force: force)
        let bytes = try FileIO.read(input)
        let out: [UInt8]
        if ContainerFile.looksLikeContainer(bytes) {
            let file = try wrap { () throws(ContainerError) in try ContainerFile(parsing: bytes) }
            out = try wrap { () throws(CodecError) in try registry.export(file, as: exporter) }
        } else {
            let options = try wrap { () throws(CodecError) in try CodecOptions(parsing: params) }
            let media = try Pipeline.readMedia(bytes, name: input)
            out = try wrap { () throws(CodecError) in
                let codec = try registry.codec(exporting: exporter, id: codec, for: media.kind)
                return try codec.export(try codec.encode(media, options: options), as: exporter)
            }
        }
        try FileIO.write(out, to: output, force: force)
    }
}
