import ArgumentParser
import CodecKit
import Container
import Foundation
import MediaIO
import Metrics

struct Roundtrip: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode and decode files, and report size, rate, speed and fidelity.",
        discussion: """
            Nothing is written. Fidelity: exactness for every path; PSNR and MS-SSIM for images; \
            SNR, SI-SDR and PSNR for audio. Ratio is raw sample bytes over container bytes.
              codec roundtrip photo.png
              codec roundtrip --all-codecs --json SampleMedia/*
            """)

    @Argument(help: "Input files.")
    var inputs: [String]

    @Option(help: ArgumentHelp("A codec or model id from `codec list` (default: each input's default codec).", valueName: "id"))
    var codec: String?

    @Flag(help: "Run every registered codec that takes each input.")
    var allCodecs = false

    @Option(name: [.customShort("p"), .customLong("param")], help: ArgumentHelp("A codec option, name=value (repeatable).", valueName: "name=value"))
    var params: [String] = []

    @Flag(help: "Print machine-readable JSON instead of a table.")
    var json = false

    @Flag(help: "Decode as `codec decode --strict` does: anything a codec would restore fails (exit 2).")
    var strict = false

    @Flag(name: .shortAndLong, help: "No progress line.")
    var quiet = false

    struct Row: Codable {
        var file: String
        var codec: String
        var media: String
        var rawBytes: Int
        var encodedBytes: Int
        var rate: Double?
        var rateUnit: String?
        var ratio: Double
        var encodeSeconds: Double
        var decodeSeconds: Double
        /// CPU time of the process over the same spans: on a shared machine, time spent waiting
        /// for a core inflates the wall clock but not these.
        var encodeCPUSeconds: Double
        var decodeCPUSeconds: Double
        var fidelity: Fidelity
        var error: String?
    }

    func run() throws {
        guard codec == nil || !allCodecs else { throw CLIError.usage("give --codec or --all-codecs, not both") }
        let options = try wrap { () throws(CodecError) in try CodecOptions(parsing: params) }
        if let codec { _ = try wrap { () throws(CodecError) in try registry.entry(codec) } }
        var rows: [Row] = []
        var failures: [RoundtripJSON.Failure] = []
        var worst: Int32 = 0
        let progress = Progress(verb: "round trip", total: inputs.count, quiet: quiet || json)
        for input in inputs {
            progress.started(FileIO.fileName(of: input))
            do {
                let bytes = try FileIO.read(input)
                let media = try wrap(context: input) { () throws(MediaError) in try MediaFile.decode(bytes, name: input) }
                let ids = allCodecs ? registry.entries.filter { $0.info.modalities.contains(media.kind) }.map(\.info.id)
                                    : [codec ?? registry.defaults[media.kind] ?? "store"]
                for id in ids {
                    do {
                        guard let row = try measure(media, file: input, codec: id, options: allCodecs ? CodecOptions() : options) else {
                            continue  // --all-codecs: this codec takes this kind of media, but not this shape
                        }
                        rows.append(row)
                    } catch {
                        worst = max(worst, error.exitCode)
                        printError("error: \(input) with \(id): \(error.message)")
                        failures.append(.init(position: rows.count, file: input, codec: id, error: error))
                    }
                }
            } catch {
                worst = max(worst, error.exitCode)
                printError("error: \(error.message)")
                failures.append(.init(position: rows.count, file: input, codec: nil, error: error))
            }
            progress.finished()
        }
        progress.end()
        if json {
            print(try RoundtripJSON.text(rows, failures: failures))
        } else {
            printTable(header: ["file", "codec", "media", "raw", "encoded", "rate", "ratio", "enc ms", "dec ms", "fidelity"],
                       rows: rows.map(Self.cells))
        }
        if worst != 0 { throw ExitCode(worst) }
    }

    /// One round trip; `nil` when running every codec and this one cannot take this input's shape
    /// (pc-mnist and a photo, say).
    private func measure(_ media: Media, file: String, codec id: String, options: CodecOptions) throws(CLIError) -> Row? {
        let codec = try wrap { () throws(CodecError) in try registry.codec(id, for: media.kind) }
        let t0 = Date(), c0 = Self.cpuSeconds()
        let container: ContainerFile
        do {
            container = try codec.encode(media, options: options)
        } catch {
            if allCodecs, case .unsupportedShape = error { return nil }
            throw CLIError(error, context: file)
        }
        let encoded = container.serialized()
        let t1 = Date(), c1 = Self.cpuSeconds()
        let decoded = try Pipeline.decodeContainer(encoded, name: file, options: DecodeOptions(strict: strict))
        let t2 = Date(), c2 = Self.cpuSeconds()
        let descriptor = MediaDescriptor(media)
        let raw = descriptor.rawByteCount
        let rate = bitsPerUnit(bits: encoded.count * 8, media: descriptor)
        return Row(file: FileIO.fileName(of: file), codec: id, media: describeShort(descriptor),
                   rawBytes: raw, encodedBytes: encoded.count, rate: rate?.value, rateUnit: rate?.unit,
                   ratio: Double(raw) / Double(encoded.count),
                   encodeSeconds: t1.timeIntervalSince(t0), decodeSeconds: t2.timeIntervalSince(t1),
                   encodeCPUSeconds: c1 - c0, decodeCPUSeconds: c2 - c1,
                   fidelity: Fidelity(original: media, decoded: decoded))
    }

    /// CPU time used by this process (all its threads) so far.
    static func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    private static func cells(_ r: Row) -> [String] {
        let f = r.fidelity
        var fidelity = f.exact ? "exact" : ""
        if !f.exact {
            var parts: [String] = []
            if let v = f.psnr { parts.append(String(format: "PSNR %.2f dB", v)) }
            if let v = f.msssim { parts.append(String(format: "MS-SSIM %.4f", v)) }
            if let v = f.snr { parts.append(String(format: "SNR %.2f dB", v)) }
            if let v = f.sisdr { parts.append(String(format: "SI-SDR %.2f dB", v)) }
            fidelity = parts.joined(separator: ", ")
        }
        let unit = (r.rateUnit ?? "").replacingOccurrences(of: "bits/", with: "b/")
        return [r.file, r.codec, r.media, formatBytes(r.rawBytes), formatBytes(r.encodedBytes),
                r.rate.map { String(format: "%.3f %@", $0, unit) } ?? "-", String(format: "%.2fx", r.ratio),
                String(format: "%.1f", r.encodeSeconds * 1000), String(format: "%.1f", r.decodeSeconds * 1000), fidelity]
    }
}

func describeShort(_ m: MediaDescriptor) -> String {
    switch m {
    case .image(let w, let h, let c, let d, _): "\(w)x\(h)x\(c) \(d)-bit"
    case .audio(let rate, let c, let f, _, _): "\(c)ch \(rate) Hz \(String(format: "%.1f", Double(f) / Double(rate))) s"
    case .bytes(let n): "\(n) bytes"
    }
}
