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
        return NumPyArray(dtype: bits == 16 ? .uint16 : .uint8, shape: [tokens.count], values: tokens).serialized()
    }

    /// True when `data` is a .npy of the token stream's kind: a 1-D uint8 or uint16 array (so
    /// another codec's latent .npy, of more dimensions, is not taken for tokens).
    public static func isTokenNPY(_ data: [UInt8]) -> Bool {
        NumPyArray.looksLikeNPY(data) && (try? NumPyArray(parsing: data))?.shape.count == 1
    }

    /// The `eiw` container a .npy token file holds (written by `npy(of:)`).
    public static func container(fromNPY data: [UInt8]) throws(CodecError) -> ContainerFile {
        let array = try NumPyArray(parsing: data)
        guard array.shape.count == 1 else { throw .corruptPayload("npy: expected a 1-D array of tokens, not shape \(array.shape)") }
        let tokenBits = array.dtype.size * 8
        let tokens = array.values.map(UInt64.init)
        let per = tokenBits / 8
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
