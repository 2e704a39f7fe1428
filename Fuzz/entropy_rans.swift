// libFuzzer target: RANS32 and RANS64 decoders (bulk with slot table, bulk by search, and
// symbol by symbol) and the CompactRANS64 decoder (with the categorical model and with the
// lazy quantizer over the same frequencies) on hostile bytes, plus round trips of symbols taken
// from the input.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRANS(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var input = FuzzInput(data, size)
    let use64 = input.byte() & 1 == 1
    let precision = use64 ? 1 + input.byte() % 24 : 1 + input.byte() % 16
    let ways = 1 + input.byte() % 32
    let count = input.byte() * 8 + input.byte()
    let model = input.model(precision: precision)
    let coded = input.rest
    if use64 {
        if let s = try? RANS64.decode(coded, count: count, model: model, ways: ways, as: UInt16.self), s.count != count { fatalError("count") }
        if var d = try? RANSDecoder<RANS64>(coded, ways: ways) {
            for _ in 0..<count { _ = try? d.decode(model: model) }  // on after errors too: must not trap
            _ = try? d.finish()
        }
        roundTrip(coded, model: model, encode: { try RANS64.encode($0, model: model, ways: ways) },
                  decode: { try RANS64.decode($0, count: $1, model: model, ways: ways, as: UInt16.self) })
        fuzzCompact(coded, count: count, model: model)
    } else {
        if let s = try? RANS32.decode(coded, count: count, model: model, ways: ways, as: UInt16.self), s.count != count { fatalError("count") }
        if var d = try? RANSDecoder<RANS32>(coded, ways: ways) {
            for _ in 0..<count { _ = try? d.decode(model: model) }  // on after errors too: must not trap
            _ = try? d.finish()
        }
        roundTrip(coded, model: model, encode: { try RANS32.encode($0, model: model, ways: ways) },
                  decode: { try RANS32.decode($0, count: $1, model: model, ways: ways, as: UInt16.self) })
    }
    return 0
}

/// The model's frequencies read as a cumulative distribution, for the lazy quantizer.
struct PrefixSums: CumulativeDistribution {
    let prefix: [Double]
    var valueCount: Int { prefix.count - 1 }
    func cumulative(_ x: Int) -> Double { prefix[x] }
}

func fuzzCompact(_ coded: [UInt8], count: Int, model: CategoricalModel) {
    func decode<M: EntropyModel>(_ bytes: [UInt8], _ n: Int, _ model: M) throws -> [UInt16] {
        var decoder = CompactRANS64.Decoder(bytes)
        let symbols = try (0..<n).map { _ in UInt16(try decoder.decode(model: model)) }
        try decoder.finish()
        return symbols
    }
    var sum = 0.0
    let prefix = [0.0] + (0..<model.alphabetSize).map { s in sum += Double(model.interval(of: s)?.frequency ?? 0); return sum }
    if let s = try? decode(coded, count, model), s.count != count { fatalError("count") }
    if let lazy = try? QuantizedCumulative(PrefixSums(prefix: prefix), precision: model.precision),
       let s = try? decode(coded, count, lazy), s.count != count { fatalError("count") }
    roundTrip(coded, model: model, encode: { symbols in
        var encoder = CompactRANS64.Encoder()
        for s in symbols.reversed() { try encoder.push(Int(s), model: model) }
        return encoder.finish()
    }, decode: { try decode($0, $1, model) })
}
