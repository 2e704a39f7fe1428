import Foundation
import MediaIO
import Perception

/// The classical codecs `codec score --sweep --baselines` puts beside ours, run through their
/// Debian command-line tools in a private temporary folder. Rates count the coded file as the
/// tool writes it (headers included). Qualities reach down to where OCR of 200-dpi pages starts
/// to fail; JPEG XL runs at effort 5 and AVIF at speed 8 (the tools' defaults, 7 and 6, take
/// 2.5x the CPU and would put a 20-page sweep past 10 minutes on 2 shared cores).
struct Baseline: Sendable {
    /// Its name in tables, what it codes, and what a quality value means (`q`, `d`, `kbps`, `mode`).
    var name: String, media: MediaKind, qualityName: String
    /// The sweep's values, lowest rate first.
    var qualities: [String]
    /// The tools it needs, and the Debian package that has them.
    var tools: [String], package: String
    /// The file extensions of the tool's input, coded and output files.
    var files: (input: String, coded: String, output: String)
    /// The encode and decode command lines for (input, coded, output) paths and a quality.
    var commands: @Sendable (_ input: String, _ coded: String, _ output: String, _ quality: String) -> [[String]]

    /// The coded size and the decoded media, conformed to the original's shape (gray stays gray;
    /// audio comes back at the original's rate when the tool decodes at another).
    func run(_ original: Media, quality: String, name: String) throws(CLIError) -> (bits: Int, media: Media) {
        let dir = NSTemporaryDirectory() + "codec-score-\(getpid())-\(UUID().uuidString)"
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw .internalFailure("cannot make a temporary folder \(dir): \(error)")
        }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let input = "\(dir)/in.\(files.input)", coded = "\(dir)/coded.\(files.coded)", output = "\(dir)/out.\(files.output)"
        let inputBytes: [UInt8]
        do {
            switch (original, files.input) {
            case (.image(let image), "pnm"): inputBytes = PNM.encode(image)
            case (.audio(let audio), "raw"):
                inputBytes = try perceptionCall { () throws(PerceptionError) in try SpeechResampler.pcm16(audio, sampleRate: 8000) }
                    .withUnsafeBytes { Array($0) }
            case (.audio(let audio), _):
                inputBytes = try AudioFile.encode(audio.resampled(to: audio.sampleRate, channels: 1).quantized(bits: 16), as: .wav)
            default: inputBytes = try MediaFile.encode(original, as: .png)
            }
        } catch {
            throw CLIError(error, context: name)
        }
        guard FileManager.default.createFile(atPath: input, contents: Data(inputBytes)) else {
            throw .internalFailure("cannot write \(input)")
        }
        for command in commands(input, coded, output, quality) { try Self.execute(command, for: name) }
        guard let codedSize = (try? FileManager.default.attributesOfItem(atPath: coded))?[.size] as? Int,
              let out = FileManager.default.contents(atPath: output) else {
            throw .internalFailure("\(self.name) wrote no output for \(name)")
        }
        let decoded: Media
        switch (original, files.output) {
        case (.image(let a), "pnm"):
            guard let image = PNM.decode([UInt8](out)) else { throw .internalFailure("\(self.name): cannot parse its PNM output for \(name)") }
            decoded = .image(Baselines.conform(image, toChannelsOf: a))
        case (.image(let a), _):
            guard case .image(let image) = try ScoreInputs.decodeMedia([UInt8](out), path: output) else {
                throw .internalFailure("\(self.name) did not decode an image for \(name)")
            }
            decoded = .image(Baselines.conform(image, toChannelsOf: a))
        case (.audio(let a), "raw"):
            let samples = out.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
            decoded = .audio(try Baselines.conform(Audio(sampleRate: 8000, channels: 1, samples: .integer(bits: 16, samples.map { Int32($0) << 16 })), to: a))
        case (.audio(let a), _):
            guard case .audio(let audio) = try ScoreInputs.decodeMedia([UInt8](out), path: output) else {
                throw .internalFailure("\(self.name) did not decode audio for \(name)")
            }
            decoded = .audio(try Baselines.conform(audio, to: a))
        default:
            decoded = try ScoreInputs.decodeMedia([UInt8](out), path: output)
        }
        return (codedSize * 8, decoded)
    }

    /// Runs one tool, its output discarded, failing with its last stderr line.
    static func execute(_ command: [String], for name: String) throws(CLIError) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = command
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        p.standardError = err
        do { try p.run() } catch { throw .internalFailure("cannot run \(command[0]): \(error)") }
        let message = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let last = String(decoding: message, as: UTF8.self).split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
            throw .badInput("\(name): \(command[0]) failed (exit \(p.terminationStatus)): \(last)")
        }
    }
}

enum Baselines {
    static let all: [Baseline] = [
        Baseline(name: "jpeg", media: .image, qualityName: "q", qualities: ["2", "5", "15"], tools: ["cjpeg", "djpeg"],
                 package: "libjpeg-turbo-progs", files: ("pnm", "jpg", "pnm")) { i, c, o, q in
            [["cjpeg", "-quality", q, "-optimize", "-outfile", c, i], ["djpeg", "-pnm", "-outfile", o, c]]
        },
        Baseline(name: "webp", media: .image, qualityName: "q", qualities: ["0", "5", "20"], tools: ["cwebp", "dwebp"],
                 package: "webp", files: ("png", "webp", "pnm")) { i, c, o, q in
            [["cwebp", "-quiet", "-q", q, i, "-o", c], ["dwebp", "-quiet", "-ppm", c, "-o", o]]
        },
        Baseline(name: "jxl", media: .image, qualityName: "d", qualities: ["25", "12", "4"], tools: ["cjxl", "djxl"],
                 package: "libjxl-tools", files: ("png", "jxl", "png")) { i, c, o, q in
            [["cjxl", "--quiet", "-e", "5", "-d", q, i, c], ["djxl", "--quiet", c, o]]
        },
        Baseline(name: "avif", media: .image, qualityName: "quantizer", qualities: ["63", "58", "45"], tools: ["avifenc", "avifdec"],
                 package: "libavif-bin", files: ("png", "avif", "png")) { i, c, o, q in
            [["avifenc", "--jobs", "1", "--speed", "8", "--min", q, "--max", q, i, c], ["avifdec", "--jobs", "1", c, o]]
        },
        Baseline(name: "opus", media: .audio, qualityName: "kbps", qualities: ["6", "12", "24"], tools: ["opusenc", "opusdec"],
                 package: "opus-tools", files: ("wav", "opus", "wav")) { i, c, o, q in
            [["opusenc", "--quiet", "--bitrate", q, i, c], ["opusdec", "--quiet", "--rate", "16000", c, o]]
        },
        Baseline(name: "mp3", media: .audio, qualityName: "kbps", qualities: ["8", "16", "32"], tools: ["lame"],
                 package: "lame", files: ("wav", "mp3", "wav")) { i, c, o, q in
            [["lame", "--quiet", "-b", q, i, c], ["lame", "--quiet", "--decode", c, o]]
        },
        Baseline(name: "codec2", media: .audio, qualityName: "mode", qualities: ["700C", "1600", "3200"], tools: ["c2enc", "c2dec"],
                 package: "codec2", files: ("raw", "bit", "raw")) { i, c, o, q in
            [["c2enc", q, i, c], ["c2dec", q, c, o]]
        },
    ]

    static func find(_ name: String) -> Baseline? { all.first { $0.name == name } }

    /// The baselines for a media kind (those named in `only`, when given), failing with the
    /// apt-get line when a tool is missing.
    static func available(for kind: MediaKind, only: [String] = []) throws(CLIError) -> [Baseline] {
        let ofKind = all.filter { $0.media == kind }
        for name in only where !ofKind.contains(where: { $0.name == name }) {
            throw .usage("no \(kind.rawValue) baseline '\(name)'; there are \(ofKind.map(\.name).joined(separator: ", "))")
        }
        let wanted = ofKind.filter { only.isEmpty || only.contains($0.name) }
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        let missing = wanted.filter { b in !b.tools.allSatisfy { t in path.contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(t)") } } }
        guard missing.isEmpty else {
            throw .badInput("--baselines needs \(missing.flatMap(\.tools).joined(separator: ", ")): apt-get install \(missing.map(\.package).joined(separator: " "))")
        }
        return wanted
    }

    /// Mono decoded audio back at the original's rate and length (the tools pad, and Codec2 runs
    /// at 8 kHz), so fidelity compares sample for sample; a stereo original gets the mono mix twice.
    static func conform(_ audio: Audio, to like: Audio) throws(CLIError) -> Audio {
        let same: Audio
        do { same = try audio.resampled(to: like.sampleRate, channels: like.channels) } catch { throw CLIError(error) }
        var floats = same.floats
        let wanted = like.frames * like.channels
        floats = Array(floats.prefix(wanted)) + [Float](repeating: 0, count: max(0, wanted - floats.count))
        return Audio(sampleRate: like.sampleRate, channels: like.channels, floats: floats)
    }

    /// `image` with the channel layout of `like`: colour to gray by BT.601 luma (what the tools
    /// return for a gray original is gray in RGB), alpha dropped or made opaque.
    static func conform(_ image: Image, toChannelsOf like: Image) -> Image {
        var image = image
        if image.bitDepth != like.bitDepth {
            let s = image.samples.map { like.bitDepth == 8 ? $0 >> 8 : $0 * 257 }
            image = Image(width: image.width, height: image.height, channels: image.channels, bitDepth: like.bitDepth, samples: s)
        }
        guard image.channels != like.channels else { return image }
        let colourIn = image.channels >= 3, colourOut = like.channels >= 3
        let alphaOut = like.channels == 2 || like.channels == 4
        var out = [UInt16]()
        out.reserveCapacity(image.pixelCount * like.channels)
        for p in 0..<image.pixelCount {
            let b = p * image.channels
            let rgb: [UInt16] = colourIn ? [image.samples[b], image.samples[b + 1], image.samples[b + 2]] : [image.samples[b]]
            if colourOut {
                out += rgb.count == 3 ? rgb : [rgb[0], rgb[0], rgb[0]]
            } else {
                out.append(rgb.count == 3 ? luma(rgb[0], rgb[1], rgb[2]) : rgb[0])
            }
            if alphaOut { out.append(UInt16(like.maxValue)) }
        }
        return Image(width: image.width, height: image.height, channels: like.channels, bitDepth: like.bitDepth, samples: out)
    }
}

/// BT.601 luma, rounded.
func luma(_ r: UInt16, _ g: UInt16, _ b: UInt16) -> UInt16 {
    let sum: Int = 299 * Int(r) + 587 * Int(g) + 114 * Int(b) + 500
    return UInt16(sum / 1000)
}

/// Netpbm P5 (gray) and P6 (RGB), 8-bit: cjpeg's input and djpeg's and dwebp's output.
enum PNM {
    static func encode(_ image: Image) -> [UInt8] {
        let gray = image.channels <= 2
        let plane = gray ? 1 : 3
        var out = Array("\(gray ? "P5" : "P6")\n\(image.width) \(image.height)\n255\n".utf8)
        out.reserveCapacity(out.count + image.pixelCount * plane)
        let shift = UInt16(image.bitDepth - 8)
        for p in 0..<image.pixelCount {
            for c in 0..<plane { out.append(UInt8(image.samples[p * image.channels + c] >> shift)) }
        }
        return out
    }

    static func decode(_ bytes: [UInt8]) -> Image? {
        var fields: [Int] = [], i = 2
        guard bytes.count > 2, bytes[0] == UInt8(ascii: "P"), bytes[1] == UInt8(ascii: "5") || bytes[1] == UInt8(ascii: "6") else { return nil }
        while fields.count < 3 && i < bytes.count {
            if bytes[i] == UInt8(ascii: "#") { while i < bytes.count && bytes[i] != 10 { i += 1 } }
            else if (48...57).contains(bytes[i]) {
                var v = 0
                while i < bytes.count, (48...57).contains(bytes[i]), v < 1 << 20 { v = v * 10 + Int(bytes[i] - 48); i += 1 }
                fields.append(v)
                continue
            }
            i += 1
        }
        let channels = bytes[1] == UInt8(ascii: "5") ? 1 : 3
        guard fields.count == 3, fields[2] == 255, fields[0] > 0, fields[1] > 0 else { return nil }
        let start = i + 1  // one whitespace byte follows maxval
        let count = fields[0] * fields[1] * channels
        guard bytes.count - start >= count else { return nil }
        return Image(width: fields[0], height: fields[1], channels: channels, bitDepth: 8,
                     samples: bytes[start..<start + count].map(UInt16.init))
    }
}
