import Foundation

/// Reads the tensors of a safetensors file as Float32, validating every header field against
/// the bytes present. Small and local to TextLM until Neural's loader is merged.
enum SafeTensors {
    enum Failure: Error, CustomStringConvertible {
        case malformed(String)
        var description: String { switch self { case .malformed(let why): why } }
    }

    struct Tensor {
        var shape: [Int]
        var values: [Float]
    }

    static func read(_ data: Data) throws(Failure) -> [String: Tensor] {
        guard data.count >= 8 else { throw .malformed("shorter than the 8-byte header length") }
        var headerLength = 0
        for i in 0..<8 { headerLength |= Int(data[data.startIndex + i]) << (8 * i) }
        guard headerLength > 0, headerLength <= data.count - 8, headerLength < 100_000_000 else {
            throw .malformed("header length \(headerLength) does not fit the \(data.count)-byte file")
        }
        let body = data.startIndex + 8 + headerLength
        let headerData = data.subdata(in: (data.startIndex + 8)..<body)
        guard let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any] else {
            throw .malformed("header is not a JSON object")
        }
        var tensors: [String: Tensor] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int],
                  offsets.count == 2 else { throw .malformed("tensor '\(name)' has a malformed entry") }
            let width: Int
            switch dtype {
            case "F16": width = 2
            case "F32": width = 4
            case "I32": width = 4
            default: throw .malformed("tensor '\(name)' has unsupported dtype \(dtype)")
            }
            guard shape.allSatisfy({ $0 >= 0 && $0 <= 1 << 28 }) else { throw .malformed("tensor '\(name)' has a bad shape") }
            let count = shape.reduce(1, *)
            guard offsets[0] >= 0, offsets[1] >= offsets[0], offsets[1] <= data.count - 8 - headerLength,
                  offsets[1] - offsets[0] == count * width else {
                throw .malformed("tensor '\(name)' data offsets \(offsets) do not match its shape or the file")
            }
            var values = [Float](repeating: 0, count: count)
            data.withUnsafeBytes { raw in
                let base = raw.baseAddress! + 8 + headerLength + offsets[0]
                for i in 0..<count {
                    switch dtype {
                    case "F16":
                        let bits = UInt16(base.load(fromByteOffset: 2 * i, as: UInt8.self))
                            | UInt16(base.load(fromByteOffset: 2 * i + 1, as: UInt8.self)) << 8
                        values[i] = Float(Float16(bitPattern: bits))
                    case "F32":
                        values[i] = Float(bitPattern: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
                    default:
                        values[i] = Float(Int32(bitPattern: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian))
                    }
                }
            }
            tensors[name] = Tensor(shape: shape, values: values)
        }
        return tensors
    }
}
