import Foundation
import Neural

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

    /// Parses a model with Neural's safetensors reader (the one reader of the toolkit), which
    /// checks every size and offset against the bytes present.
    public static func parse(_ bytes: [UInt8]) throws(CircuitError) -> HiddenChowLiuTree {
        try parse(Data(bytes))
    }

    public static func parse(_ data: Data) throws(CircuitError) -> HiddenChowLiuTree {
        let file: SafeTensors
        do { file = try SafeTensors(data: data) } catch { throw .invalidModelFile("\(error)") }
        func tensor(_ name: String, _ dtype: SafeTensors.DType) throws(CircuitError) -> Tensor {
            guard let entry = file.entries[name], entry.dtype == dtype,
                  !entry.shape.isEmpty, entry.shape.allSatisfy({ $0 > 0 && $0 < 1 << 24 }),
                  let t = try? file.tensor(name) else {
                throw .invalidModelFile("tensor '\(name)' (\(dtype.rawValue)) is missing or malformed")
            }
            return t
        }
        let p = try tensor("parent", .i32), pr = try tensor("prior", .f16)
        let t = try tensor("transitions", .f16), l = try tensor("leaves", .f16)
        let d = p.shape[0], m = pr.shape[0]
        guard p.shape.count == 1, pr.shape.count == 1, t.shape == [d, m, m], l.shape.count == 3,
              l.shape[0] == d, l.shape[1] == m else {
            throw .invalidModelFile("tensor shapes disagree: parent \(p.shape), prior \(pr.shape), transitions \(t.shape), leaves \(l.shape)")
        }
        // I32 parents below 2^24 come back exactly as Float.
        let parent = p.scalars.map { Int($0) }
        let prior = pr.scalars, transitions = t.scalars, leaves = l.scalars
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

    static func le(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    static func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
}

extension HiddenChowLiuTree {
    /// The model as the released file stores it: every parameter rounded to float16.
    public var roundedToHalf: HiddenChowLiuTree { try! ModelFile.parse(ModelFile.serialize(self)) }
}
