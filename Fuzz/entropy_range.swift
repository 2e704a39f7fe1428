// libFuzzer target: the range decoder on hostile bytes (static and adaptive models, bits,
// bypass bits), plus a round trip of symbols taken from the input.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRange(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var input = FuzzInput(data, size)
    let precision = 1 + input.byte() % 24
    let count = input.byte() * 8 + input.byte()
    let model = input.model(precision: precision)
    let coded = input.rest
    if let s = try? RangeCoder.decode(coded, count: count, model: model, as: UInt16.self), s.count != count { fatalError("count") }
    if var d = try? RangeDecoder(coded), var adaptive = try? AdaptiveFrequencyModel(alphabetSize: 1 + count % 300, precision: 12) {
        var bit = AdaptiveBitModel()
        // Keeps going after errors on purpose: a decoder used after it threw must not trap either.
        for i in 0..<count {
            switch i % 3 {
            case 0: if let s = try? d.decode(model: adaptive) { adaptive.update(s) }
            case 1: _ = try? d.decodeBit(model: &bit)
            default: _ = try? d.decodeBypass(bitCount: i % 33)
            }
        }
        _ = try? d.finish()
    }
    roundTrip(coded, model: model, encode: { try RangeCoder.encode($0, model: model) },
              decode: { try RangeCoder.decode($0, count: $1, model: model, as: UInt16.self) })
    return 0
}
