// libFuzzer target for `lossless`'s decoders that read hostile bytes, built by
// `make fuzz-lossless` from Sources/Lossless/{AudioCascade,ImageMixing}.swift and EntropyCoding's
// sources as one module. The first byte's top bit picks the decoder:
//  - 0, the audio cascade (format 3): its decoder on hostile bytes (depth, channel count and
//    length from the first two bytes) returns samples or throws, never traps; samples taken from
//    the input (any depth 8...32, 1...3 channels, extremes included) round-trip exactly;
//  - 1, the image model (format 5, or format 4 when bit 3 is set): the same for images of
//    1...16 × 1...16 pixels, 1-4 channels, 8 or 16 bits, from the first three bytes.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLossless(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard bytes.count >= 3 else { return 0 }
    if bytes[0] & 0x80 == 0 { fuzzAudio(bytes) } else { fuzzImage(bytes) }
    return 0
}

func fuzzAudio(_ bytes: [UInt8]) {
    let bits = [8, 16, 24, 32][Int(bytes[0] & 3)]
    let channels = 1 + Int(bytes[0] >> 2 & 0x1F) % 3
    let count = channels * Int(bytes[1]) * 8
    if var hostile = try? RangeDecoder(bytes, from: 2) {
        if let samples = try? AudioCascade.decode(count: count, bits: bits, channels: channels, from: &hostile) {
            precondition(samples.count == count)
        }
    }

    // The rest of the input as samples: 4 bytes each, left-justified to the depth.
    var samples: [Int32] = []
    var i = 2
    while i + 3 < bytes.count {
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
}

func fuzzImage(_ bytes: [UInt8]) {
    let width = 1 + Int(bytes[1] & 15), height = 1 + Int(bytes[1] >> 4)
    let channels = 1 + Int(bytes[0] & 3), bitDepth = bytes[0] & 4 == 0 ? 8 : 16
    let learned = bytes[0] & 8 == 0  // format 5's model, or format 4's
    let count = width * height * channels
    if var hostile = try? RangeDecoder(bytes, from: 3) {
        if let samples = try? ImageMixing.decode(width: width, height: height, channels: channels, bitDepth: bitDepth, learned: learned, from: &hostile) {
            precondition(samples.count == count && samples.allSatisfy { Int($0) < 1 << bitDepth })
        }
    }

    // The rest of the input as samples (two bytes each at 16 bits), repeated to fill the image.
    let step = bitDepth / 8
    let source = Array(bytes[3...])
    guard source.count >= step else { return }
    let samples = (0..<count).map { k -> UInt16 in
        let j = (k * step) % (source.count - step + 1)
        return step == 1 ? UInt16(source[j]) : UInt16(source[j]) << 8 | UInt16(source[j + 1])
    }
    var encoder = RangeEncoder()
    ImageMixing.encode(samples, width: width, height: height, channels: channels, bitDepth: bitDepth, learned: learned, into: &encoder)
    let coded = encoder.finish()
    var decoder = try! RangeDecoder(coded)
    let back = try! ImageMixing.decode(width: width, height: height, channels: channels, bitDepth: bitDepth, learned: learned, from: &decoder)
    try! decoder.finish()
    precondition(back == samples, "image model round trip differs")
}
