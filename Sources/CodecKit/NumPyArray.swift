import Foundation

/// A NumPy `.npy` file (format 1.0 or 2.0) of a C-order array of `uint8` or little-endian
/// `uint16`: what exporters write (eiw tokens, latents) for training in Python, and what input
/// forms read back. Parsing treats the bytes as hostile: the shape must account for exactly the
/// bytes present.
public struct NumPyArray: Sendable, Equatable {
    public enum DType: Sendable, Equatable {
        case uint8, uint16
        public var size: Int { self == .uint8 ? 1 : 2 }
        var descr: String { self == .uint8 ? "|u1" : "<u2" }
    }

    public var dtype: DType
    public var shape: [Int]
    /// The elements in C order (`uint8` values are below 256).
    public var values: [UInt16]

    public init(dtype: DType, shape: [Int], values: [UInt16]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        self.dtype = dtype
        self.shape = shape
        self.values = values
    }

    /// True when `bytes` start like a .npy file (magic and major version 1 or 2).
    public static func looksLikeNPY(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 10 && bytes[0] == 0x93 && Array(bytes[1..<6]) == Array("NUMPY".utf8) && (bytes[6] == 1 || bytes[6] == 2)
    }

    /// Format 1.0, header padded so the data starts at a multiple of 64 bytes.
    public func serialized() -> [UInt8] {
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var header = "{'descr': '\(dtype.descr)', 'fortran_order': False, 'shape': (\(dims)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        out += [UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)]
        out += Array(header.utf8)
        out.reserveCapacity(out.count + values.count * dtype.size)
        for v in values {
            if dtype == .uint16 { out += [UInt8(v & 0xff), UInt8(v >> 8)] } else { out.append(UInt8(truncatingIfNeeded: v)) }
        }
        return out
    }

    public init(parsing data: [UInt8]) throws(CodecError) {
        guard Self.looksLikeNPY(data) else { throw .corruptPayload("not a NumPy .npy file (version 1 or 2)") }
        let headerStart = data[6] == 1 ? 10 : 12
        guard data.count >= headerStart else { throw .corruptPayload("npy: truncated header") }
        var headerLength = Int(data[8]) | Int(data[9]) << 8
        if data[6] == 2 { headerLength |= Int(data[10]) << 16 | Int(data[11]) << 24 }
        guard headerLength <= data.count - headerStart else { throw .corruptPayload("npy: truncated header") }
        let header = String(decoding: data[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        if header.contains("'<u2'") { dtype = .uint16 } else if header.contains("'|u1'") || header.contains("'<u1'") { dtype = .uint8 } else {
            throw .corruptPayload("npy: elements must be uint8 or little-endian uint16")
        }
        guard header.contains("'fortran_order': False") else { throw .corruptPayload("npy: expected a C-order array") }
        shape = try Self.shape(in: header)
        let body = data[(headerStart + headerLength)...]
        var count = 1
        for d in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw .corruptPayload("npy: shape \(shape) overflows") }
            count = product
        }
        guard count <= body.count / dtype.size, count * dtype.size == body.count else {
            throw .corruptPayload("npy: shape \(shape) does not account for the \(body.count) data bytes")
        }
        let base = body.startIndex
        values = dtype == .uint16
            ? (0..<count).map { UInt16(body[base + 2 * $0]) | UInt16(body[base + 2 * $0 + 1]) << 8 }
            : body.map { UInt16($0) }
    }

    /// The dimensions of `'shape': (a, b, ...)`.
    private static func shape(in header: String) throws(CodecError) -> [Int] {
        guard let key = header.range(of: "'shape':"), let open = header[key.upperBound...].firstIndex(of: "("),
              let close = header[open...].firstIndex(of: ")") else {
            throw .corruptPayload("npy: no shape in the header")
        }
        let parts = header[header.index(after: open)..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var dims: [Int] = []
        for p in parts where !p.isEmpty {
            guard let d = Int(p), d >= 0 else { throw .corruptPayload("npy: shape dimension '\(p)' is not a count") }
            dims.append(d)
        }
        return dims
    }
}

extension NumPyArray {
    /// Arrays of one dtype and shape stacked along a new leading dimension (`codec latents` of
    /// many inputs). `names` name the inputs in the error when one differs.
    public static func stacking(_ files: [[UInt8]], names: [String]) throws(CodecError) -> NumPyArray {
        guard !files.isEmpty else { throw .invalidOption("nothing to stack") }
        let first = try NumPyArray(parsing: files[0])
        var values = first.values
        values.reserveCapacity(first.values.count * files.count)
        for (i, bytes) in files.enumerated().dropFirst() {
            let a = try NumPyArray(parsing: bytes)
            guard a.dtype == first.dtype, a.shape == first.shape else {
                throw .unsupportedShape("\(names[i]) gives an array of shape \(a.shape), \(names[0]) one of \(first.shape): only inputs of one shape stack into one array")
            }
            values += a.values
        }
        return NumPyArray(dtype: first.dtype, shape: [files.count] + first.shape, values: values)
    }
}
