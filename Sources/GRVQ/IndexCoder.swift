import CodecKit
import EntropyCoding

/// Codes GRVQ indices with interleaved rANS under one fixed frequency table per codebook
/// (`prior.frequencies` [groups, levels, codes], integers ≥ 1 summing to 2^16 per codebook, counted
/// on training speech at export; `Training/recipes/grvq_export.py`). Being in model.safetensors,
/// the tables are covered by the weights hash, so a file always decodes under the tables it was
/// coded with.
///
/// A chunk of F frames coded at `levels` levels is one rANS stream of its indices in the order
/// group, level, frame (the `[groups, levels, F]` layout). Every table gives every code a
/// frequency of at least 1, so any index is codable; a decoded symbol is always < codes, so a
/// stream cannot carry an out-of-range index.
public struct IndexCoder: Sendable {
    public static let precision = 16
    public static let ways = 4
    let models: [CategoricalModel]  // [group·levels + level]
    public let groups: Int, levels: Int, codes: Int

    init(frequencies: [Float], groups: Int, levels: Int, codes: Int, modelID: String) throws(CodecError) {
        func corrupt(_ reason: String) -> CodecError { .corruptModel(modelID: modelID, reason: reason) }
        var models: [CategoricalModel] = []
        for b in 0..<(groups * levels) {
            let row = frequencies[(b * codes)..<((b + 1) * codes)]
            guard row.allSatisfy({ $0 >= 1 && $0 <= 65536 && $0.rounded() == $0 }) else {
                throw corrupt("prior.frequencies codebook \(b) holds a frequency outside 1...65536")
            }
            do { models.append(try CategoricalModel(frequencies: row.map { UInt32($0) }, precision: Self.precision)) } catch {
                throw corrupt("prior.frequencies codebook \(b): \(error)")
            }
        }
        self.models = models
        self.groups = groups
        self.levels = levels
        self.codes = codes
    }

    func model(group g: Int, level l: Int) -> CategoricalModel { models[g * levels + l] }

    /// Indices `[groups, levels, frames]` (the first `levels` levels, each < codes) → rANS stream.
    public func encode(_ indices: [UInt16], levels: Int, frames f: Int) -> [UInt8] {
        precondition(levels <= self.levels && indices.count == groups * levels * f, "index count does not match the shape")
        var encoder = try! RANSEncoder<RANS64>(ways: Self.ways)  // `ways` is a supported constant
        for n in stride(from: indices.count - 1, through: 0, by: -1) {
            let block = n / f
            // Every code has a frequency of at least 1 (checked on load), so this holds.
            encoder.push(model(group: block / levels, level: block % levels).interval(of: Int(indices[n]))!, precision: Self.precision)
        }
        return encoder.finish()
    }

    /// rANS stream → indices `[groups, levels, frames]`; fails on a stream that is not the encoder's.
    public func decode(_ stream: [UInt8], levels: Int, frames f: Int) throws(CodecError) -> [UInt16] {
        precondition(levels <= self.levels)
        var out = [UInt16](repeating: 0, count: groups * levels * f)
        do {
            var decoder = try RANSDecoder<RANS64>(stream, ways: Self.ways)
            for n in 0..<out.count {
                let block = n / f
                out[n] = UInt16(try decoder.decode(model: model(group: block / levels, level: block % levels)))
            }
            try decoder.finish()
        } catch {
            throw .corruptPayload("grvq index stream: \(error)")
        }
        return out
    }

    /// The ideal code length, in bits, of `indices` under the tables (the entropy coding's rate
    /// before the rANS stream's few bytes of overhead).
    public func idealBits(_ indices: [UInt16], levels: Int, frames f: Int) -> Double {
        var bits = 0.0
        for b in 0..<(groups * levels) {
            bits += model(group: b / levels, level: b % levels).idealBits(of: indices[(b * f)..<((b + 1) * f)])
        }
        return bits
    }
}
