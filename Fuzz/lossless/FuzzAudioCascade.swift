// libFuzzer target for `lossless`'s audio cascade (format 3), built by `make fuzz-lossless` from
// Sources/Lossless/AudioCascade.swift and EntropyCoding's sources as one module:
//  - the decoder on hostile bytes (depth, channel count and length from the first two bytes)
//    returns samples or throws, never traps;
//  - samples taken from the input (any depth 8...32, 1...3 channels, extremes included) round-trip
//    exactly.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAudioCascade(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard bytes.count >= 2 else { return 0 }
    let bits = [8, 16, 24, 32][Int(bytes[0] & 3)]
    let channels = 1 + Int(bytes[0] >> 2) % 3
    let count = channels * Int(bytes[1]) * 8
    if var hostile = try? RangeDecoder(bytes, from: 2) {
        if let samples = try? AudioCascade.decode(count: count, bits: bits, channels: channels, from: &hostile) {
            precondition(samples.count == count)
        }
    }

    // The rest of the input as samples: 4 bytes each, left-justified to the depth.
    var samples: [Int32] = []
    var i = 2
    while i + 3 < size {
        let v = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
        samples.append(Int32(bitPattern: (v >> UInt32(32 - bits)) << UInt32(32 - bits)))
        i += 4
    }
    samples.removeLast(samples.count % channels)
    var encoder = RangeEncoder()
    AudioCascade.encode(samples, bits: bits, channels: channels, into: &encoder)
    let coded = encoder.finish()
    var decoder = try! RangeDecoder(coded)
    let back = try! AudioCascade.decode(count: samples.count, bits: bits, channels: channels, from: &decoder)
    try! decoder.finish()
    precondition(back == samples, "audio cascade round trip differs")
    return 0
}
