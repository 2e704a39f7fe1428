// Shared by the entropy fuzz targets (compiled into each; see mk/entropy.mk).

/// Reads parameters off the front of the fuzz input; the rest is the coded data.
struct FuzzInput {
    var bytes: [UInt8]
    var position = 0
    init(_ data: UnsafePointer<UInt8>, _ count: Int) { bytes = Array(UnsafeBufferPointer(start: data, count: count)) }

    mutating func byte() -> Int {
        defer { position += 1 }
        return position < bytes.count ? Int(bytes[position]) : 0
    }

    var rest: [UInt8] { position < bytes.count ? Array(bytes[position...]) : [] }

    /// A model chosen by the input: alphabet 1...300, skew and zeros from the input bytes.
    mutating func model(precision: Int) -> CategoricalModel {
        let n = 1 + byte() + byte() / 4
        let decay = 0.5 + Double(byte()) / 512
        var p = [Double](repeating: 0, count: n)
        var weight = 1.0
        for i in 0..<n {
            p[i] = i % 7 == byte() % 7 && i > 0 ? 0 : weight
            weight *= decay
            if weight < 1e-30 { weight = 1 }
        }
        p[0] = max(p[0], 1e-3)
        let floor: FrequencyQuantizer.Floor = n <= 1 << precision ? .allSymbols : .nonzeroSymbols
        if let model = try? CategoricalModel(probabilities: p, precision: precision, floor: floor) { return model }
        return try! CategoricalModel(frequencies: [UInt32(1) << UInt32(precision)], precision: precision)
    }
}

/// Encodes symbols derived from the input and checks they decode back: a crash or a
/// mismatch is a bug.
func roundTrip(_ message: [UInt8], model: CategoricalModel,
               encode: ([UInt16]) throws -> [UInt8], decode: ([UInt8], Int) throws -> [UInt16]) {
    let symbols = message.compactMap { model.interval(of: Int($0)) != nil ? UInt16($0) : nil }
    guard let coded = try? encode(symbols) else { fatalError("encoding codable symbols failed") }
    guard let decoded = try? decode(coded, symbols.count), decoded == symbols else { fatalError("round trip mismatch") }
}
