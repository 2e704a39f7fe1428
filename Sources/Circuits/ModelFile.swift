import Foundation

/// Reads and writes an HCLT as safetensors: `parent` (I32 [D]), `prior` (F16 [M]),
/// `transitions` (F16 [D, M, M]) and `leaves` (F16 [D, M, K]), little-endian.
///
/// Parameters are stored as float16 to keep released models small. Every stored value is at
/// least the smallest positive float16, so no probability the coder sees is ever zero.
public enum ModelFile {
    public static func serialize(_ model: HiddenChowLiuTree) -> [UInt8] {
        let d = model.variableCount, m = model.stateCount, k = model.valueCount
        var data: [UInt8] = []
        var header: [String: Any] = ["__metadata__": ["format": "pt", "model": "hidden-chow-liu-tree"]]
        func add(_ name: String, _ dtype: String, _ shape: [Int], _ bytes: [UInt8]) {
            header[name] = ["dtype": dtype, "shape": shape, "data_offsets": [data.count, data.count + bytes.count]]
            data += bytes
        }
        add("parent", "I32", [d], model.parent.flatMap { le(UInt32(bitPattern: Int32($0))) })
        add("prior", "F16", [m], half(model.prior))
        add("transitions", "F16", [d, m, m], half(model.transitions))
        add("leaves", "F16", [d, m, k], half(model.leaves))
        var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while (json.count + 8) % 8 != 0 { json.append(0x20) }
        return le64(UInt64(json.count)) + Array(json) + data
    }

    /// Parses a model, checking every size and offset against the bytes present.
    public static func parse(_ bytes: [UInt8]) throws(CircuitError) -> HiddenChowLiuTree {
        guard bytes.count >= 8 else { throw .invalidModelFile("shorter than the 8-byte header length") }
        let n = bytes[0..<8].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        guard n <= UInt64(bytes.count - 8), n < 1 << 24 else { throw .invalidModelFile("header length \(n) exceeds the file") }
        let body = 8 + Int(n)
        guard let header = (try? JSONSerialization.jsonObject(with: Data(bytes[8..<body]))) as? [String: Any] else {
            throw .invalidModelFile("header is not a JSON object")
        }
        func tensor(_ name: String, _ dtype: String) throws(CircuitError) -> (shape: [Int], bytes: ArraySlice<UInt8>) {
            guard let t = header[name] as? [String: Any], t["dtype"] as? String == dtype,
                  let shape = t["shape"] as? [Int], let off = t["data_offsets"] as? [Int], off.count == 2,
                  shape.allSatisfy({ $0 > 0 && $0 < 1 << 24 }), off[0] >= 0, off[0] <= off[1],
                  off[1] <= bytes.count - body else {
                throw .invalidModelFile("tensor '\(name)' (\(dtype)) is missing or malformed")
            }
            let elements = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
            guard elements != Int.max, off[1] - off[0] == elements * (dtype == "I32" ? 4 : 2) else {
                throw .invalidModelFile("tensor '\(name)' has \(off[1] - off[0]) bytes for shape \(shape)")
            }
            return (shape, bytes[(body + off[0])..<(body + off[1])])
        }
        let p = try tensor("parent", "I32"), pr = try tensor("prior", "F16")
        let t = try tensor("transitions", "F16"), l = try tensor("leaves", "F16")
        let d = p.shape[0], m = pr.shape[0]
        guard p.shape.count == 1, pr.shape.count == 1, t.shape == [d, m, m], l.shape.count == 3,
              l.shape[0] == d, l.shape[1] == m else {
            throw .invalidModelFile("tensor shapes disagree: parent \(p.shape), prior \(pr.shape), transitions \(t.shape), leaves \(l.shape)")
        }
        let parent = stride(from: p.bytes.startIndex, to: p.bytes.endIndex, by: 4).map { i in
            Int(Int32(bitPattern: UInt32(p.bytes[i]) | UInt32(p.bytes[i + 1]) << 8 | UInt32(p.bytes[i + 2]) << 16 | UInt32(p.bytes[i + 3]) << 24))
        }
        let prior = float(pr.bytes), transitions = float(t.bytes), leaves = float(l.bytes)
        // Coders divide by sums of these: a zero or non-finite value could make a conditional 0/0.
        guard (prior + transitions + leaves).allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw .invalidModelFile("every probability must be positive and finite")
        }
        return try HiddenChowLiuTree(parent: parent, stateCount: m, valueCount: l.shape[2],
                                     prior: prior, transitions: transitions, leaves: leaves)
    }

    static func half(_ values: [Float]) -> [UInt8] {
        values.flatMap { v -> [UInt8] in
            let h = max(Float16(v), Float16.leastNonzeroMagnitude)
            return [UInt8(truncatingIfNeeded: h.bitPattern), UInt8(h.bitPattern >> 8)]
        }
    }

    static func float(_ bytes: ArraySlice<UInt8>) -> [Float] {
        stride(from: bytes.startIndex, to: bytes.endIndex, by: 2).map { i in
            Float(Float16(bitPattern: UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8))
        }
    }

    static func le(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    static func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
}

extension HiddenChowLiuTree {
    /// The model as the released file stores it: every parameter rounded to float16.
    public var roundedToHalf: HiddenChowLiuTree { try! ModelFile.parse(ModelFile.serialize(self)) }
}
