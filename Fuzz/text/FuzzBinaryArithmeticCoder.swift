// libFuzzer target for EntropyCoding's BinaryArithmeticEncoder/Decoder (built by `make fuzz-text`
// with Sources/EntropyCoding/BinaryArithmeticCoder.swift alone):
//  - the decoder on hostile bytes, with probabilities from a fixed generator, never traps;
//  - decisions and probabilities taken from the input round-trip from exactly
//    `terminatedLength` bits (which never decreases and is what `finish` writes up to its last
//    1 bit; the decoder reports the same length after every decision) and from all of
//    `finish`'s bytes, reading at most 32 bits past their end.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBinaryArithmeticCoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var state = 0x9E37_79B9 ^ UInt32(truncatingIfNeeded: size)
    var hostile = BinaryArithmeticDecoder(bytes)
    for _ in 0..<(8 * size + 64) {
        state = state &* 1_664_525 &+ 1_013_904_223
        _ = hostile.decode(probabilityOfOne: 1 + (state >> 8) % 65535)
    }

    // Two input bytes per decision: a 16-bit probability (0 and 65535 map to the extremes) and
    // the bit in the low bit of the first byte, whatever the probability says.
    var encoder = BinaryArithmeticEncoder()
    var decisions: [(bit: Int, p: UInt32)] = []
    var previous = 0
    var lengths: [Int] = []
    var i = 0
    while i + 1 < size {
        let v = UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
        let decision = (bit: Int(bytes[i] & 1), p: min(65535, max(1, v)))
        encoder.encode(decision.bit, probabilityOfOne: decision.p)
        decisions.append(decision)
        let length = encoder.terminatedLength
        if length < previous { fatalError("terminatedLength decreased from \(previous) to \(length)") }
        previous = length
        lengths.append(length)
        i += 2
    }
    let bits = encoder.finish()
    if bits.countWithoutTrailingZeros != previous { fatalError("finish wrote \(bits.countWithoutTrailingZeros) bits, promised \(previous)") }
    var cut = BinaryArithmeticDecoder(BitStreamReader(bits.bytes, bitRange: 0..<previous))
    for (d, length) in zip(decisions, lengths) {
        if cut.decode(probabilityOfOne: d.p) != d.bit { fatalError("round trip mismatch (cut stream)") }
        if cut.terminatedLength != length { fatalError("decoder's terminated length \(cut.terminatedLength), encoder's \(length)") }
    }
    var whole = BinaryArithmeticDecoder(bits.bytes)
    for d in decisions where whole.decode(probabilityOfOne: d.p) != d.bit { fatalError("round trip mismatch") }
    if whole.bitsPastEnd > 32 { fatalError("read \(whole.bitsPastEnd) bits past the end") }
    return 0
}
