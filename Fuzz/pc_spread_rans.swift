// libFuzzer target: the SpreadCompactRANS64 decoder (the pc-mnist stream coder) on hostile
// bytes, with a categorical model and with the lazy quantizer over the same frequencies, plus
// round trips of symbols taken from the input. Built from EntropyCoding's sources (mk/pc.mk).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSpreadRANS(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var input = FuzzInput(data, size)
    let precision = 1 + input.byte() % 24
    let count = input.byte() * 8 + input.byte()
    let model = input.model(precision: precision)
    let coded = input.rest
    func decode<M: EntropyModel>(_ bytes: [UInt8], _ n: Int, _ model: M) throws -> [UInt16] {
        var decoder = SpreadCompactRANS64.Decoder(bytes)
        let symbols = try (0..<n).map { _ in UInt16(try decoder.decode(model: model)) }
        try decoder.finish()
        return symbols
    }
    // Hostile bytes: exactly `count` symbols, each inside the alphabet, or an error; never a trap.
    var decoder = SpreadCompactRANS64.Decoder(coded)
    for _ in 0..<count {
        guard let s = try? decoder.decode(model: model) else { break }
        if s < 0 || s >= model.alphabetSize { fatalError("symbol outside the alphabet") }
    }
    _ = try? decoder.finish()
    var sum = 0.0
    let prefix = [0.0] + (0..<model.alphabetSize).map { s in sum += Double(model.interval(of: s)?.frequency ?? 0); return sum }
    if let lazy = try? QuantizedCumulative(SpreadFuzzPrefixSums(prefix: prefix), precision: model.precision),
       let s = try? decode(coded, count, lazy), s.count != count { fatalError("count") }
    roundTrip(coded, model: model, encode: { symbols in
        var encoder = SpreadCompactRANS64.Encoder()
        for s in symbols.reversed() { try encoder.push(Int(s), model: model) }
        return encoder.finish()
    }, decode: { try decode($0, $1, model) })
    return 0
}

struct SpreadFuzzPrefixSums: CumulativeDistribution {
    let prefix: [Double]
    var valueCount: Int { prefix.count - 1 }
    func cumulative(_ x: Int) -> Double { prefix[x] }
}
