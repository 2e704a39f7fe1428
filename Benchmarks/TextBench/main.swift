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
guard args.count >= 3 else { print("usage: TextBench lm-ac|eiw FILE [options]"); exit(1) }
let text = readFile(args[2])
let options = CodecOptions(Dictionary(uniqueKeysWithValues: args.dropFirst(3).map { a -> (String, String) in
    let p = a.split(separator: "=", maxSplits: 1); return (String(p[0]), String(p[1]))
}))
let codec: any Codec = args[1] == "eiw" ? EIWCodec() : LMACCodec()
do {
    let t0 = now()
    let file = try codec.encode(.bytes(text), options: options)
    let t1 = now()
    let bytes = file.serialized()
    let back = try codec.decode(try ContainerFile(parsing: bytes))
    let t2 = now()
    guard case .bytes(let decoded) = back, decoded == text else { print("ROUND TRIP FAILED"); exit(2) }
    let bpb = Double(bytes.count * 8) / Double(max(1, text.count))
    var perToken = ""
    if args[1] == "eiw" {
        let tokens = try EIWTokens.tokens(of: file)
        let n = tokens.tokens.count - EIWTokens.headerTokens(tokenBits: tokens.tokenBits)
        perToken = String(format: "  %.3f bytes/token(%d)", Double(text.count) / Double(max(1, n)), tokens.tokenBits)
    }
    print(String(format: "%@ %@ %d bytes -> %d (container) %.4f bpb  encode %.2f KB/s  decode %.2f KB/s%@",
                 args[1], (args[2] as NSString).lastPathComponent, text.count, bytes.count, bpb,
                 Double(text.count) / 1000 / (t1 - t0), Double(text.count) / 1000 / (t2 - t1), perToken))
} catch {
    print("error: \(error)"); exit(3)
}
