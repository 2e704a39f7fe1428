import ArgumentParser
import CodecKit
import Container
import TextLM

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

    @Argument(help: "A text (any bytes), or an eiw container.")
    var input: String

    @Option(name: .shortAndLong, help: ArgumentHelp("The .npy file to write ('-' for standard output).", valueName: "path"))
    var output: String

    @Option(name: [.customShort("p"), .customLong("param")],
            help: ArgumentHelp("An eiw option, name=value: window (bits, multiple of 8 up to 128, default 16), token (8 or 16, default 16).", valueName: "name=value"))
    var params: [String] = []

    @Flag(help: "Overwrite an existing output.")
    var force = false

    func run() throws {
        try FileIO.checkWritable(output, force: force)
        let bytes = try FileIO.read(input)
        let file: ContainerFile
        if ContainerFile.looksLikeContainer(bytes) {
            file = try wrap { () throws(ContainerError) in try ContainerFile(parsing: bytes) }
        } else {
            let options = try wrap { () throws(CodecError) in try CodecOptions(parsing: params) }
            file = try Pipeline.encodeMedia(bytes, codec: EIWCodec.id, options: options, name: input)
        }
        let npy = try wrap { () throws(CodecError) in try EIWTokens.npy(of: file) }
        try FileIO.write(npy, to: output, force: force)
    }
}
