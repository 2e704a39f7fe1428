import CodecKit
import Container

/// The `eiw` token stream as a NumPy array (`codec tokens`), for training language models on
/// compressed text, and back (`codec decode` of such a file).
///
/// The .npy is a 1-D array of uint8 or uint16 (little-endian) tokens. Its first tokens are a
/// header, so the file alone decodes: the window size in bits, the byte count (48 bits) and the
/// FNV-1a hash of M1's weights (64 bits), each split into tokens most significant first
/// (uint16: 1 + 3 + 4 = 8 tokens; uint8: 1 + 6 + 8 = 15 tokens). The window tokens follow.
public enum EIWTokens {
    public static func headerTokens(tokenBits: Int) -> Int { tokenBits == 16 ? 8 : 15 }

    /// The tokens of an `eiw` container, header first.
    public static func tokens(of file: ContainerFile) throws(CodecError) -> (tokens: [UInt16], tokenBits: Int) {
        guard file.codecID == EIWCodec.id, case .bytes(let count) = file.media else {
            throw .invalidOption("token export needs a file encoded with eiw, not \(file.codecID)")
        }
        let (window, tokenBits) = try EIWCodec.header(file.payload)
        let per = tokenBits / 8
        var tokens = split(UInt64(window), bits: tokenBits, into: 1)
        tokens += split(UInt64(count), bits: tokenBits, into: 48 / tokenBits)
        tokens += split(file.modelHash, bits: tokenBits, into: 64 / tokenBits)
        let body = file.payload.dropFirst(2)
        var i = body.startIndex
        while i < body.endIndex {
            tokens.append(per == 2 ? UInt16(body[i]) << 8 | UInt16(body[i + 1]) : UInt16(body[i]))
            i += per
        }
        return (tokens, tokenBits)
    }

    /// The .npy file of an `eiw` container.
    public static func npy(of file: ContainerFile) throws(CodecError) -> [UInt8] {
        let (tokens, bits) = try tokens(of: file)
        var header = "{'descr': '\(bits == 16 ? "<u2" : "|u1")', 'fortran_order': False, 'shape': (\(tokens.count),), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        out += [UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)]
        out += Array(header.utf8)
        for t in tokens {
            if bits == 16 { out += [UInt8(t & 0xff), UInt8(t >> 8)] } else { out.append(UInt8(t)) }
        }
        return out
    }

    /// True when `data` starts like a .npy file.
    public static func isNPY(_ data: [UInt8]) -> Bool {
        data.count >= 10 && data[0] == 0x93 && Array(data[1..<6]) == Array("NUMPY".utf8)
    }

    /// The `eiw` container a .npy token file holds (written by `npy(of:)`).
    public static func container(fromNPY data: [UInt8]) throws(CodecError) -> ContainerFile {
        guard isNPY(data), data[6] == 1 || data[6] == 2 else { throw .corruptPayload("not a NumPy .npy file (version 1 or 2)") }
        let headerStart = data[6] == 1 ? 10 : 12
        guard data.count >= headerStart else { throw .corruptPayload("npy: truncated header") }
        var headerLength = Int(data[8]) | Int(data[9]) << 8
        if data[6] == 2 { headerLength |= Int(data[10]) << 16 | Int(data[11]) << 24 }
        guard headerLength <= data.count - headerStart else { throw .corruptPayload("npy: truncated header") }
        let header = String(decoding: data[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        let tokenBits: Int
        if header.contains("'<u2'") { tokenBits = 16 } else if header.contains("'|u1'") || header.contains("'<u1'") { tokenBits = 8 } else {
            throw .corruptPayload("npy: tokens must be uint8 or little-endian uint16")
        }
        guard header.contains("'fortran_order': False") else { throw .corruptPayload("npy: expected a C-order 1-D array") }
        let body = Array(data[(headerStart + headerLength)...])
        let per = tokenBits / 8
        guard body.count % per == 0 else { throw .corruptPayload("npy: data is not a whole number of tokens") }
        let tokens: [UInt64] = stride(from: 0, to: body.count, by: per).map {
            per == 2 ? UInt64(body[$0]) | UInt64(body[$0 + 1]) << 8 : UInt64(body[$0])
        }
        let headerCount = headerTokens(tokenBits: tokenBits)
        guard tokens.count >= headerCount else { throw .corruptPayload("npy: fewer tokens than the eiw header") }
        let window = Int(tokens[0])
        let count = join(tokens[1..<(1 + 48 / tokenBits)], bits: tokenBits)
        let hash = join(tokens[(1 + 48 / tokenBits)..<headerCount], bits: tokenBits)
        guard window % 8 == 0, (8...128).contains(window) else { throw .corruptPayload("npy: window size \(window) is not an eiw window") }
        guard count <= UInt64(Limits.maxBytes) else { throw .corruptPayload("npy: byte count beyond limits") }
        var payload: [UInt8] = [UInt8(window / 8), UInt8(tokenBits)]
        for t in tokens[headerCount...] {
            if per == 2 { payload += [UInt8(t >> 8), UInt8(t & 0xff)] } else { payload.append(UInt8(t)) }
        }
        return ContainerFile(codecID: EIWCodec.id, modelID: EIWCodec.modelID, modelHash: hash,
                             media: .bytes(count: Int(count)), payload: payload)
    }

    private static func split(_ v: UInt64, bits: Int, into n: Int) -> [UInt16] {
        (0..<n).map { UInt16(truncatingIfNeeded: v >> UInt64(bits * (n - 1 - $0))) & UInt16((1 << bits) - 1) }
    }

    private static func join(_ tokens: ArraySlice<UInt64>, bits: Int) -> UInt64 {
        tokens.reduce(0) { $0 << UInt64(bits) | $1 }
    }
}
