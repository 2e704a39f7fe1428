// text-bench: measures the text codecs on files read in place (make bench-text drives it).
//   TextBench lm-ac FILE [lm=on|off]         bits per byte, encode/decode speed, round-trip check
//   TextBench eiw FILE [window=16] [token=16] the same, plus bytes per token
import CodecKit
import Container
import Foundation
import MediaIO
import TextLM

func readFile(_ path: String) -> [UInt8] {
    guard let d = FileManager.default.contents(atPath: path) else { fatalError("cannot read \(path)") }
    return [UInt8](d)
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

let args = CommandLine.arguments
func cpu() -> Double { Double(clock()) / Double(CLOCKS_PER_SEC) }
if args.count >= 2 && args[1] == "m1speed" {
    let model = try! ByteLM.load(from: ModelStore(), modelID: "eiw-m1")
    let text = Array(readFile(args[2]).prefix(2000))
    for block in [1, 8, 32] {
        var s = model.session()
        let t0 = cpu()
        _ = s.append(contentsOf: text, block: block)
        let t = cpu() - t0
        print(String(format: "M1 block %d: %.3f ms CPU per byte (%.2f KB/s of CPU time)", block, 1000 * t / Double(text.count), Double(text.count) / 1000 / t))
    }
    exit(0)
}
guard args.count >= 3 else { print("usage: TextBench lm-ac|eiw|m1speed FILE [prefix=N] [codec options]"); exit(1) }
var pairs = Dictionary(uniqueKeysWithValues: args.dropFirst(3).map { a -> (String, String) in
    let p = a.split(separator: "=", maxSplits: 1); return (String(p[0]), String(p[1]))
})
var text = readFile(args[2])
if let prefix = pairs.removeValue(forKey: "prefix").flatMap({ Int($0) }) { text = Array(text.prefix(prefix)) }
let outputPath = pairs.removeValue(forKey: "out")  // optional: where to write the container
let options = CodecOptions(pairs)
let codec: any Codec = args[1] == "eiw" ? EIWCodec() : LMACCodec()
do {
    let (w0, c0) = (now(), cpu())
    let file = try codec.encode(.bytes(text), options: options)
    let (w1, c1) = (now(), cpu())
    let bytes = file.serialized()
    if let outputPath { _ = FileManager.default.createFile(atPath: outputPath, contents: Data(bytes)) }
    let back = try codec.decode(try ContainerFile(parsing: bytes))
    let (w2, c2) = (now(), cpu())
    guard case .bytes(let decoded) = back, decoded == text else { print("ROUND TRIP FAILED"); exit(2) }
    var perToken = 0.0
    if args[1] == "eiw" {
        let tokens = try EIWTokens.tokens(of: file)
        let n = tokens.tokens.count - EIWTokens.headerTokens(tokenBits: tokens.tokenBits)
        perToken = Double(text.count) / Double(max(1, n))
    }
    let kb = Double(text.count) / 1000
    // One line, tab-separated, for Benchmarks/text_bench.py: mode file bytes container bpb
    // encode/decode KB/s by wall clock and by CPU time, bytes per token (eiw).
    print([args[1] + (pairs.isEmpty ? "" : " " + pairs.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")),
           (args[2] as NSString).lastPathComponent, "\(text.count)", "\(bytes.count)",
           String(format: "%.4f", Double(bytes.count * 8) / Double(max(1, text.count))),
           String(format: "%.2f", kb / (w1 - w0)), String(format: "%.2f", kb / (w2 - w1)),
           String(format: "%.2f", kb / max(1e-9, c1 - c0)), String(format: "%.2f", kb / max(1e-9, c2 - c1)),
           String(format: "%.3f", perToken)].joined(separator: "\t"))
} catch {
    print("error: \(error)"); exit(3)
}
