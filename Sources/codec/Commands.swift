import ArgumentParser
import CodecKit
import Container
import Foundation
import MediaIO

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compress files into NeuralCodecs containers.",
        discussion: """
            The input's type comes from its magic bytes: PNG → image, WAV/FLAC/Ogg → audio, \
            anything else → bytes. Without --codec each type gets its default codec (`codec list`). \
            Without -o, INPUT.nc is written beside each input. The summary compares file sizes \
            (inputs against containers); `info` and `roundtrip` compare against raw samples.
              codec encode photo.png -o photo.nc
              codec encode --codec store -o out/ *.flac        (all cores, one progress line)
              codec encode --from list.txt --shard 3/16 -o out/  (one job of a 16-way array)
            """)

    @Option(help: ArgumentHelp("A codec or model id from `codec list`.", valueName: "id"))
    var codec: String?

    @Option(name: [.customShort("p"), .customLong("param")],
            help: ArgumentHelp("A codec option, name=value (repeatable; `codec list` shows each codec's).", valueName: "name=value"))
    var params: [String] = []

    @OptionGroup var files: FileOptions

    func run() throws {
        let inputs = try files.resolvedInputs()
        let options = try wrap { () throws(CodecError) in try CodecOptions(parsing: params) }
        if let codec { _ = try wrap { () throws(CodecError) in try registry.entry(codec) } }
        let jobs = try plan(inputs)
        for job in jobs { try FileIO.checkWritable(job.output, force: files.force) }
        let codec = self.codec, force = files.force
        let code = Batch.run(jobs, verb: "encoded", options: files) { job throws(CLIError) in
            try Pipeline.encode(job.input, to: job.output, codec: codec, options: options, force: force)
        }
        if code != 0 { throw ExitCode(code) }
    }

    private func plan(_ inputs: [String]) throws(CLIError) -> [Batch.Job] {
        try planJobs(inputs, output: files.output) { Pipeline.encodedName(for: $0) }
    }
}

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decompress NeuralCodecs containers back to PNG, WAV/FLAC or bytes.",
        discussion: """
            The output format follows the output's extension: .png for images; .wav, .flac or \
            .ogg for audio (Ogg Vorbis is lossy, and FLAC holds float audio as 16-bit PCM: both \
            say when the result is not exact); an extension of another media kind, or one this \
            tool cannot write (.jpg, .mp3, ...), is refused. Without an extension (or to standard \
            output) images become PNG, audio FLAC if it came from FLAC and WAV otherwise (an Ogg \
            source too), bytes stay bytes. Without -o, the output goes beside the input, named \
            without .nc (plus .png or .wav when that name has no fitting extension).
              codec decode photo.nc -o photo.png
              codec decode -o restored/ out/*.nc
              codec decode --png-level 9 photo.nc -o photo.png   (smallest PNG, slower)
            A codec whose payload carries its own per-block checks (vqgan) decodes a damaged file: \
            blocks that fail their checks are restored and a warning on standard error says how \
            many; --strict refuses such a file instead (exit 2). Every other codec's damaged \
            file is refused (exit 2).
            """)

    @OptionGroup var files: FileOptions

    @Flag(help: "Refuse a damaged file (exit 2) instead of letting a codec with per-block checks restore its damaged blocks.")
    var strict = false

    @Option(help: ArgumentHelp("zlib level of PNG outputs, 0-9 (default 3): 9 is about 2% smaller and ten times slower.", valueName: "n"))
    var pngLevel: Int = PNGFile.defaultLevel

    func run() throws {
        guard (0...9).contains(pngLevel) else { throw CLIError.usage("--png-level takes 0 to 9, not \(pngLevel)") }
        let inputs = try files.resolvedInputs()
        let jobs = try planJobs(inputs, output: files.output) { input in
            // Peek at the header (no CRC check: the file is read and checked once, when it is
            // decoded) so the default name gets a fitting extension.
            let kind = ContainerFile.declaredKind(FileIO.readPrefix(input, count: 512))
            return Pipeline.decodedName(for: input, kind: kind)
        }
        for job in jobs { try FileIO.checkWritable(job.output, force: files.force) }
        let force = files.force, pngLevel = pngLevel, options = DecodeOptions(strict: strict)
        let code = Batch.run(jobs, verb: "decoded", options: files) { job throws(CLIError) in
            try Pipeline.decode(job.input, to: job.output, pngLevel: pngLevel, force: force, options: options)
        }
        if code != 0 { throw ExitCode(code) }
    }
}

/// One output per input: a named file for a single input, else files in an output directory.
func planJobs(_ inputs: [String], output: String?, name: (String) -> String) throws(CLIError) -> [Batch.Job] {
    var isDir: ObjCBool = false
    let outputIsDir = output.map { FileManager.default.fileExists(atPath: $0, isDirectory: &isDir) && isDir.boolValue } ?? false
    if inputs.count == 1 && !outputIsDir {
        let input = inputs[0]
        let out = output ?? (input == "-" ? "-" : FileIO.join(FileIO.directory(of: input), name(input)))
        return [Batch.Job(input: input, output: out)]
    }
    guard let dir = output else { throw .usage("several inputs need -o DIRECTORY") }
    guard outputIsDir else { throw .usage("several inputs need -o DIRECTORY, and \(dir) is not an existing directory") }
    guard !inputs.contains("-") else { throw .usage("'-' (standard input) can only be used alone") }
    var seen = Set<String>()
    return try inputs.map { input throws(CLIError) in
        let out = FileIO.join(dir, name(input))
        guard seen.insert(out).inserted else { throw .usage("two inputs would both be written to \(out)") }
        return Batch.Job(input: input, output: out)
    }
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show what a compressed file holds.")

    @Argument(help: "A NeuralCodecs container.")
    var file: String

    func run() throws {
        let bytes = try FileIO.read(file)
        let c: ContainerFile
        // A self-checked payload that fails the file's CRC is still described (its codec's notes
        // count the blocks failing their checks); any other CRC mismatch is refused.
        do { c = try ContainerFile(parsing: bytes, allowingPayloadDamage: true) } catch { throw CLIError(error, context: file) }
        print("file:      \(file) (\(bytes.count) bytes)")
        let check = c.payloadDamage.map { "header CRC-32 ok, payload damaged (\($0)): its blocks are checked on decoding" } ?? "CRC-32 ok"
        print("format:    NeuralCodecs container, version \(bytes[4]), \(check)")
        print("codec:     \(c.codecID)")
        if !c.modelID.isEmpty { print("model:     \(c.modelID) (weights hash \(String(c.modelHash, radix: 16)))") }
        print("media:     \(describe(c.media))")
        // What the codec did to fit the input; needs the codec (and its model), so a file whose
        // model is not installed is still described, without these lines.
        do {
            for (i, note) in try registry.notes(c).enumerated() { print((i == 0 ? "coding:    " : "           ") + note) }
        } catch {
            print("coding:    not described (\(error))")
        }
        print("payload:   \(c.payload.count) bytes")
        let raw = c.media.rawByteCount
        if raw > 0 { print("rate:      \(rateDescription(bits: bytes.count * 8, media: c.media)), \(String(format: "%.2f", Double(raw) / Double(bytes.count)))x smaller than raw samples") }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the codecs and models this build offers.")

    func run() {
        let rows = registry.entries.map { e -> [String] in
            let i = e.info
            let params = i.parameters.map { "\($0.name)=\($0.defaultValue)" }.joined(separator: " ")
            return [i.id, i.modalities.map(\.rawValue).joined(separator: ","), i.lossless ? "lossless" : "lossy",
                    i.modelID ?? "-", i.summary + (params.isEmpty ? "" : "  [\(params)]")]
        }
        printTable(header: ["id", "media", "kind", "model", "what"], rows: rows)
        let defaults = registry.defaults.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) → \($0.value)" }
        print("\ndefaults: " + defaults.joined(separator: ", "))
        for e in registry.entries where !e.info.parameters.isEmpty {
            print("\n\(e.info.id) options (-p name=value):")
            for p in e.info.parameters { print("  \(p.name) (default \(p.defaultValue)): \(p.help)") }
        }
        for e in registry.entries where !e.info.exporters.isEmpty || !e.info.inputForms.isEmpty {
            print("\n\(e.info.id) also:")
            for x in e.info.exporters { print("  codec \(x.name): \(x.summary)") }
            for f in e.info.inputForms { print("  decodes \(f.name): \(f.summary)") }
        }
    }
}

/// Runs a typed-throwing call, converting its error for the CLI.
func wrap<T, E: Error>(_ body: () throws(E) -> T) throws(CLIError) -> T {
    do { return try body() } catch { throw CLIError(error) }
}

func describe(_ m: MediaDescriptor) -> String {
    switch m {
    case .image(let w, let h, let c, let d, let sbit):
        "image \(w)x\(h), \(["gray", "gray+alpha", "RGB", "RGBA"][c - 1]), \(d)-bit" + (sbit > 0 ? " (\(sbit) significant)" : "")
    case .audio(let rate, let c, let frames, let format, _):
        "audio \(rate) Hz, \(c) channel\(c == 1 ? "" : "s"), \(frames) frames (\(String(format: "%.2f", Double(frames) / Double(rate))) s), "
            + (format > 0 ? "\(format)-bit PCM" : format == -32 ? "float" : "double") + ", from \(m.audioSource.rawValue)"
    case .bytes(let n):
        "bytes, \(n) byte\(n == 1 ? "" : "s")"
    }
}

/// Bits per pixel (images), per sample (audio) or per byte (bytes).
func bitsPerUnit(bits: Int, media m: MediaDescriptor) -> (value: Double, unit: String)? {
    switch m {
    case .image(let w, let h, _, _, _): w * h > 0 ? (Double(bits) / Double(w * h), "bits/pixel") : nil
    case .audio(_, let c, let f, _, _): c * f > 0 ? (Double(bits) / Double(c * f), "bits/sample") : nil
    case .bytes(let n): n > 0 ? (Double(bits) / Double(n), "bits/byte") : nil
    }
}

func rateDescription(bits: Int, media: MediaDescriptor) -> String {
    guard let r = bitsPerUnit(bits: bits, media: media) else { return "-" }
    return String(format: "%.4f ", r.value) + r.unit
}

func printTable(header: [String], rows: [[String]]) {
    let all = [header] + rows
    let widths = header.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
    for (k, row) in all.enumerated() {
        let line = row.enumerated().map { c, cell in
            c == row.count - 1 ? cell : padded(cell, to: widths[c])
        }.joined(separator: "  ")
        print(line)
        if k == 0 { print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
    }
}
