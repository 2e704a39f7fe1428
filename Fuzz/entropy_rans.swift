// libFuzzer target: RANS32 and RANS64 decoders (bulk with slot table, bulk by search, and
// symbol by symbol) on hostile bytes, plus a round trip of symbols taken from the input.

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
