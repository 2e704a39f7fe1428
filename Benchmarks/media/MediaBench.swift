// MediaIO speed on the SampleMedia files: decode and encode time per file (best of several runs)
// and throughput in decoded megabytes per second. Built by mk/media.mk with MediaIO's sources
// (so no `import MediaIO`); `make bench-media` writes Benchmarks/results/media.md, and with a second
// argument the same numbers as JSON lines for Benchmarks/sidecar.py (media.json, read by the report).
import Foundation

@main
struct MediaBench {
    static func best(of runs: Int, _ body: () throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return best
    }

    static func main() throws {
        let folder = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "SampleMedia"
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { !$0.hasSuffix(".md") && !$0.hasSuffix(".txt") }.sorted()
        var jsonLines: [String] = []
        print("| file | what | file bytes | decoded bytes | decode ms | decode MB/s | encode ms | encode MB/s |")
        print("|---|---|---|---|---|---|---|---|")
        for name in names {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)))
            let media = try MediaFile.decode(bytes, name: name)
            let what: String, decodedBytes: Int
            switch media {
            case .image(let i):
                what = "\(i.width)x\(i.height)x\(i.channels) \(i.bitDepth)-bit PNG"
                decodedBytes = i.samples.count * i.bitDepth / 8
            case .audio(let a):
                what = "\(a.frames) frames x \(a.channels) ch \(a.sampleRate) Hz \(a.source.rawValue)"
                decodedBytes = a.samples.count * 2
            case .bytes(let b):
                what = "bytes"
                decodedBytes = b.count
            }
            let decode = try best(of: 5) { _ = try MediaFile.decode(bytes, name: name) }
            let encode = try best(of: 5) { _ = try MediaFile.encode(media) }
            let mb = Double(decodedBytes) / 1e6
            print("| \(name) | \(what) | \(bytes.count) | \(decodedBytes) | "
                + String(format: "%.2f | %.1f | %.2f | %.1f |", decode * 1e3, mb / decode, encode * 1e3, mb / encode))
            for (direction, seconds) in [("decode", decode), ("encode", encode)] {
                jsonLines.append(#"{"kind": "speed", "what": "MediaIO \#(direction) \#(name)", "ours": "MediaIO", "#
                    + String(format: #""ours_value": %.1f, "peer": null, "peer_value": null, "unit": "MB/s"}"#, mb / seconds))
            }
        }
        if CommandLine.arguments.count > 2 {
            try (jsonLines.joined(separator: "\n") + "\n").write(toFile: CommandLine.arguments[2], atomically: true, encoding: .utf8)
        }
    }
}
