#if canImport(CKernels)
import CKernels  // the vector half conversion; the fuzz target builds this file without it
#endif
import Foundation

/// Why a safetensors file could not be read. Every case names what to fix.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
    case truncated(reason: String)
    case badHeader(reason: String)
    case badEntry(name: String, reason: String)
    case missingTensor(name: String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .truncated(let r): "safetensors file is truncated: \(r); re-export or re-download the model"
        case .badHeader(let r): "safetensors header is invalid: \(r); the file is corrupt or not safetensors"
        case .badEntry(let n, let r): "safetensors tensor '\(n)' is invalid: \(r); the file is corrupt"
        case .missingTensor(let n): "model has no tensor named '\(n)'; it was exported for another architecture"
        case .shapeMismatch(let n, let e, let f): "tensor '\(n)' has shape \(f), expected \(e); codec.json and weights disagree"
        }
    }
}

/// A safetensors file (https://github.com/huggingface/safetensors): an 8-byte little-endian header
/// length, a JSON header mapping names to dtype/shape/byte range, then the raw little-endian data.
///
/// The bytes are kept as given (pass memory-mapped `Data` to avoid reading the file); the header is
/// validated completely on init, so extracting a tensor afterwards cannot go out of bounds.
/// F32, F16, BF16 and I32 tensors are converted to Float32 when extracted (I32 exactly up to
/// ±2^24, the range of token ids and indices that golden files store as I32).
public struct SafeTensors: Sendable {
    public enum DType: String, Sendable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16", i32 = "I32"
        var size: Int { self == .f32 || self == .i32 ? 4 : 2 }
    }

    public struct Entry: Sendable, Equatable {
        public let dtype: DType
        public let shape: [Int]
        /// Byte range relative to the start of the data section.
        public let range: Range<Int>
    }

    /// Header limit: far above any model we ship, low enough that a corrupt length cannot make us
    /// parse gigabytes.
    public static let maxHeaderBytes = 16 << 20

    public let entries: [String: Entry]
    public let metadata: [String: String]
    private let bytes: Data
    private let dataStart: Int

    public var names: [String] { entries.keys.sorted() }

    /// Reads a file through a memory map.
    public init(contentsOfFile path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw SafeTensorsError.truncated(reason: "cannot read \(path): \(error.localizedDescription)")
        }
        try self.init(data: data)
    }

    public init(data: Data) throws {
        // Normalise indices: a Data slice may not start at 0.
        let data = data.startIndex == 0 ? data : Data(data)
        guard data.count >= 8 else { throw SafeTensorsError.truncated(reason: "\(data.count) bytes, need at least 8") }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(Self.maxHeaderBytes) else {
            throw SafeTensorsError.badHeader(reason: "declared header length \(headerLength) exceeds \(Self.maxHeaderBytes)")
        }
        guard Int(headerLength) <= data.count - 8 else {
            throw SafeTensorsError.truncated(reason: "header length \(headerLength) but only \(data.count - 8) bytes follow")
        }
        let start = 8 + Int(headerLength)
        let dataSize = data.count - start
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<start)) } catch {
            throw SafeTensorsError.badHeader(reason: "header is not JSON")
        }
        guard let object = json as? [String: Any] else { throw SafeTensorsError.badHeader(reason: "header is not a JSON object") }

        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw SafeTensorsError.badHeader(reason: "__metadata__ is not an object") }
                for (k, v) in m { metadata[k] = (v as? String) ?? "\(v)" }
                continue
            }
            entries[name] = try Self.parseEntry(name: name, value, dataSize: dataSize)
        }
        self.entries = entries
        self.metadata = metadata
        self.bytes = data
        self.dataStart = start
    }

    private static func parseEntry(name: String, _ value: Any, dataSize: Int) throws -> Entry {
        func fail(_ r: String) -> SafeTensorsError { .badEntry(name: name, reason: r) }
        guard let dict = value as? [String: Any] else { throw fail("not an object") }
        guard let dtypeName = dict["dtype"] as? String else { throw fail("no dtype") }
        guard let dtype = DType(rawValue: dtypeName) else { throw fail("dtype \(dtypeName) is not F32, F16, BF16 or I32") }
        guard let shapeValues = dict["shape"] as? [Any] else { throw fail("no shape") }
        guard let offsetValues = dict["data_offsets"] as? [Any], offsetValues.count == 2 else { throw fail("data_offsets is not [begin, end]") }
        let shape = try shapeValues.map { v -> Int in
            guard let n = exactInt(v), n >= 0 else { throw fail("shape \(shapeValues) has a non-integer or negative dimension") }
            return n
        }
        let offsets = try offsetValues.map { v -> Int in
            guard let n = exactInt(v), n >= 0 else { throw fail("data_offsets \(offsetValues) are not non-negative integers") }
            return n
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end, end <= dataSize else { throw fail("bytes \(begin)..<\(end) outside the \(dataSize)-byte data section") }
        var count = 1
        for d in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw fail("shape \(shape) overflows") }
            count = product
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.size)
        guard !overflow, byteCount == end - begin else {
            throw fail("shape \(shape) of \(dtype.rawValue) needs \(count * dtype.size) bytes, range holds \(end - begin)")
        }
        return Entry(dtype: dtype, shape: shape, range: begin..<end)
    }

    /// JSON numbers arrive as NSNumber; accept only exact non-fractional integers.
    private static func exactInt(_ v: Any) -> Int? {
        if let n = v as? Int { return n }
        if let d = v as? Double, d.rounded() == d, abs(d) < 9e15 { return Int(d) }
        return nil
    }

    /// The tensor `name` as Float32; if `shape` is given it must match exactly.
    public func tensor(_ name: String, shape expected: [Int]? = nil) throws -> Tensor {
        guard let entry = entries[name] else { throw SafeTensorsError.missingTensor(name: name) }
        if let expected, expected != entry.shape {
            throw SafeTensorsError.shapeMismatch(name: name, expected: expected, found: entry.shape)
        }
        let count = entry.shape.reduce(1, *)
        let base = dataStart + entry.range.lowerBound
        let scalars = bytes.withUnsafeBytes { raw -> [Float] in
            [Float](unsafeUninitializedCapacity: count) { out, initialized in
                switch entry.dtype {
                case .f32:
                    for i in 0..<count {
                        out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4 * i, as: UInt32.self)))
                    }
                case .f16:
                    #if arch(x86_64) && canImport(CKernels)
                    // Model loading converts millions of halves: vcvtph2ps, the same bits.
                    if SIMDLevel.current == .avx512, count > 0 {
                        ckernels_half_to_float_avx512(raw.baseAddress! + base, out.baseAddress!, count)
                        break
                    }
                    #endif
                    for i in 0..<count {
                        out[i] = floatFromHalf(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 2 * i, as: UInt16.self)))
                    }
                case .bf16:
                    for i in 0..<count {
                        out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 2 * i, as: UInt16.self))) << 16)
                    }
                case .i32:
                    for i in 0..<count {
                        out[i] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4 * i, as: Int32.self)))
                    }
                }
                initialized = count
            }
        }
        return Tensor(shape: entry.shape, scalars: scalars)
    }

    /// The tensor if present, nil if absent (for optional biases); still throws on a bad shape.
    public func optionalTensor(_ name: String, shape: [Int]? = nil) throws -> Tensor? {
        entries[name] == nil ? nil : try tensor(name, shape: shape)
    }

    /// Serialises tensors as F32 safetensors (names sorted, as the Python writer does).
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let t = tensors[name]!
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.count]] as [String: Any]
            offset += 4 * t.count
        }
        var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for name in names {
            for v in tensors[name]!.scalars { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        }
        return out
    }
}

/// IEEE binary16 → binary32, exact (every half value is representable).
@inline(__always)
func floatFromHalf(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = Int(h >> 10) & 0x1f
    let mantissa = UInt32(h & 0x3ff)
    if exponent == 0 {
        // Zero or subnormal: value = mantissa * 2^-24, exact in Float.
        let magnitude = Float(mantissa) * Float(bitPattern: 0x3380_0000)
        return sign == 0 ? magnitude : -magnitude
    }
    if exponent == 0x1f { return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13)) }
    return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
}
