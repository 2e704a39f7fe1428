import CodecKit

/// WaLLoC latents as the NumPy array `codec latents` writes and `codec decode FILE.npy` reads:
/// uint8, C order, shape `[channels, rows, columns]` for images and `[channels, columns]` for
/// audio (a leading batch dimension of 1 is accepted on input), each value the latent plus 128
/// (so 128 means 0 and the values run 1...255).
public struct LatentArray: Sendable, Equatable {
    public var latents: [Int8]
    public var channels: Int
    /// nil for audio.
    public var rows: Int?
    public var columns: Int

    public init(latents: [Int8], channels: Int, rows: Int?, columns: Int) {
        precondition(latents.count == channels * (rows ?? 1) * columns, "latent count does not match the shape")
        self.latents = latents; self.channels = channels; self.rows = rows; self.columns = columns
    }

    public var npy: NumPyArray {
        NumPyArray(dtype: .uint8, shape: [channels] + (rows.map { [$0] } ?? []) + [columns],
                   values: latents.map { UInt16(Int($0) + 128) })
    }

    /// The shape without a leading batch dimension of 1, if `bytes` are a uint8 .npy of latents
    /// with `channels` channels.
    static func shape(_ bytes: [UInt8], channels: Int, image: Bool) -> [Int]? {
        guard NumPyArray.looksLikeNPY(bytes), let array = try? NumPyArray(parsing: bytes), array.dtype == .uint8 else { return nil }
        var shape = array.shape
        if shape.count == (image ? 4 : 3) && shape[0] == 1 { shape.removeFirst() }
        guard shape.count == (image ? 3 : 2), shape[0] == channels, shape.dropFirst().allSatisfy({ $0 > 0 }) else { return nil }
        return shape
    }

    public static func recognizes(_ bytes: [UInt8], channels: Int, image: Bool) -> Bool {
        shape(bytes, channels: channels, image: image) != nil
    }

    /// Parses latents of a model with `channels` channels; hostile input fails with a message.
    public init(npy bytes: [UInt8], channels: Int, image: Bool) throws(CodecError) {
        let array = try NumPyArray(parsing: bytes)
        guard let shape = Self.shape(bytes, channels: channels, image: image) else {
            let expected = image ? "[\(channels), rows, columns]" : "[\(channels), columns]"
            throw .unsupportedShape("latents must be a uint8 array of shape \(expected); this one is \(array.dtype) \(array.shape)")
        }
        guard array.values.allSatisfy({ (1...255).contains($0) }) else {
            throw .corruptPayload("latent values must lie in 1...255 (128 meaning 0)")
        }
        let positions = shape.dropFirst().reduce(1, *)
        guard positions <= (image ? WaLLoCCodec.maxImagePixels / 64 : WaLLoCCodec.maxAudioFrames / 256) else {
            throw .unsupportedShape("a latent grid of \(positions) positions is larger than the codec takes")
        }
        self.init(latents: array.values.map { Int8(Int($0) - 128) }, channels: channels,
                  rows: image ? shape[1] : nil, columns: shape.last!)
    }
}
