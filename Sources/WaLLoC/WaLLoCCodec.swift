import CodecKit
import Container
import MediaIO

/// WaLLoC, the wavelet learned lossy codec (Jacobellis & Yadwadkar, DCC 2025), for images and
/// stereo audio: see docs/WALLOC.md and `WaLLoCModel`.
///
/// Images: gray, gray+alpha, RGB and RGBA at 8 or 16 bits. The RGB models see gray as three equal
/// channels and give back their mean; alpha is kept exactly (left-delta bytes, deflated). Sides
/// that are not multiples of the stride (8) are padded by repeating the edge and cropped back.
/// Audio: mono or stereo at any rate (resampled to the model's and back; mono goes through the
/// stereo model as two equal channels); the mean is removed and the peak scaled to 0.5, both stored.
///
/// Payload (layout 2): `u8` layout, `u8` flags (bit 0: alpha plane follows); audio: `f32` mean,
/// `f32` scale, `u32` frames at the model's rate; alpha: `u32` length and the deflated plane;
/// then the rANS stream of the latents (under `LatentCoder`'s prior, format 2) to the end. The latent shape follows from the header's
/// media size and the model. Audio at another rate is resampled to the model's and back.
public struct WaLLoCCodec: Codec {
    public static let codecID = "walloc"
    static let layoutVersion: UInt8 = 2
    /// The decoder's working set grows with the latent grid (width x positions x 4 bytes, a few
    /// times over); larger inputs are refused rather than risk the machine's memory.
    public static let maxImagePixels = 1 << 26
    public static let maxAudioFrames = 1 << 28

    public let model: WaLLoCModel
    public var info: CodecInfo { Self.info(model.id, architecture: model.architecture) }

    public init(modelID: String, store: ModelStore = ModelStore()) throws(CodecError) {
        model = try WaLLoCModel.load(modelID, from: store)
    }

    public init(model: WaLLoCModel) { self.model = model }

    /// What `codec list` shows, known without loading the weights.
    public static func info(_ id: String, image: Bool, latent: Int, bands: Int) -> CodecInfo {
        let what = image ? "images" : "mono/stereo audio"
        let shape = image ? "[\(latent), H/8, W/8]" : "[\(latent), L/256]"
        return CodecInfo(id: id, codecID: codecID, modelID: id, modalities: [image ? .image : .audio], lossless: false,
                         summary: "lossy \(what): wavelet packets, linear encoder to \(latent) of \(bands) channels, 8-bit latents + rANS, conv decoder (WaLLoC)",
                         inputForms: [InputForm("latents", summary: "\(id) latents as a uint8 NumPy .npy \(shape) (from `codec latents`)",
                                                recognizes: { LatentArray.recognizes($0, channels: latent, image: image) })],
                         exporters: [Exporter("latents", summary: "the 8-bit latents as a uint8 NumPy .npy \(shape), 128 meaning 0",
                                              fileExtension: "npy")])
    }

    static func info(_ id: String, architecture a: WaLLoCModel.Architecture) -> CodecInfo {
        info(id, image: a.isImage, latent: a.latent, bands: a.bands)
    }

    // MARK: Encoding

    public func encode(_ media: Media, options: CodecOptions) throws(CodecError) -> ContainerFile {
        try options.validate(against: info)
        var w = ByteWriter()
        w.u8(Self.layoutVersion)
        let a = model.architecture
        switch media {
        case .image(let image) where a.isImage:
            try encodeImage(image, into: &w)
        case .audio(let audio) where !a.isImage:
            try encodeAudio(audio, into: &w)
        default:
            throw .unsupportedMedia(codec: info.id, kind: media.kind, accepts: info.modalities)
        }
        return ContainerFile(codecID: Self.codecID, modelID: model.id, modelHash: model.identity.hash,
                             media: MediaDescriptor(media), payload: w.data)
    }

    func encodeImage(_ image: Image, into w: inout ByteWriter) throws(CodecError) {
        guard image.pixelCount > 0 else { throw .unsupportedShape("\(info.id) needs an image with at least one pixel") }
        guard image.pixelCount <= Self.maxImagePixels else {
            throw .unsupportedShape("\(info.id) takes images up to \(Self.maxImagePixels) pixels; this one has \(image.pixelCount)")
        }
        let grid = LatentGrid(image: image.width, image.height, stride: model.architecture.stride)
        let latents = Self.withColorRows(image, padded: grid) { row in
            model.encode(channels: 3, height: grid.paddedHeight, width: grid.paddedWidth, row: row)
        }
        let hasAlpha = image.channels % 2 == 0
        w.u8(hasAlpha ? 1 : 0)
        if hasAlpha {
            let alpha = try Deflate.compress(Self.alphaResiduals(image), level: 9)
            w.u32(UInt32(alpha.count))
            w.bytes(alpha)
        }
        w.bytes(model.latentCoder.encode(latents, height: grid.rows, width: grid.columns))
    }

    /// Audio at another rate is resampled to the model's (libsamplerate, sinc) and back on decode;
    /// the frame count at the model's rate is stored, since the header keeps the original's.
    func encodeAudio(_ audio: Audio, into w: inout ByteWriter) throws(CodecError) {
        let a = model.architecture
        guard audio.channels <= 2 else {
            throw .unsupportedShape("\(info.id) takes mono or stereo audio; this file has \(audio.channels) channels")
        }
        guard audio.frames > 0, audio.frames <= Self.maxAudioFrames else {
            throw .unsupportedShape("\(info.id) takes 1 to \(Self.maxAudioFrames) frames; this file has \(audio.frames)")
        }
        var input = audio
        if audio.sampleRate != a.sampleRate {
            do { input = try audio.resampled(to: a.sampleRate) } catch { throw .media(error) }
        }
        guard input.frames > 0, input.frames <= Self.maxAudioFrames else {
            throw .unsupportedShape("\(info.id): \(audio.frames) frames at \(audio.sampleRate) Hz are \(input.frames) at \(a.sampleRate) Hz")
        }
        let grid = LatentGrid(image: input.frames, 1, stride: a.stride)
        var (planes, mean, scale) = Self.stereoPlanes(input)
        planes = Self.padded(planes, channels: 2, length: input.frames, to: grid.paddedWidth)
        let latents = model.encode(planes, height: 1, width: grid.paddedWidth)
        w.u8(0)
        w.u32(mean.bitPattern)
        w.u32(scale.bitPattern)
        w.u32(UInt32(input.frames))
        w.bytes(model.latentCoder.encode(latents, height: 1, width: grid.columns))
    }

    // MARK: Decoding

    /// A payload read and checked against its header and the model; the latents still coded.
    struct Payload {
        var grid: LatentGrid  // at the model's rate for audio
        var stream: [UInt8]
        var alpha: [UInt16]? = nil
        var alphaBytes = 0  // deflated
        var mean: Float = 0, scale: Float = 1
    }

    func payload(of file: ContainerFile) throws(CodecError) -> Payload {
        try model.identity.check(file)
        let a = model.architecture
        var r = ByteReader(file.payload)
        func rest() -> [UInt8] { Array(r.data[r.offset...]) }
        do {
            let layout = try r.u8()
            guard layout == Self.layoutVersion else {
                // Layout 1 coded the latents under per-channel magnitude tables (latent prior format 1).
                throw CodecError.corruptPayload(layout == 1
                    ? "walloc payload layout 1 (latent prior format 1) is no longer decoded; encode the source again"
                    : "unknown walloc payload layout \(layout)")
            }
            let flags = try r.u8()
            guard flags <= 1 else { throw CodecError.corruptPayload("unknown walloc flags \(flags)") }
            switch file.media {
            case let .image(width, height, channels, bitDepth, _) where a.isImage:
                guard width * height <= Self.maxImagePixels, (flags == 1) == (channels % 2 == 0) else {
                    throw CodecError.corruptPayload("walloc image header and payload disagree")
                }
                var alpha: [UInt16]? = nil, n = 0
                if flags == 1 {
                    n = Int(try r.u32())
                    alpha = try Self.alphaPlane(try Deflate.decompress(Array(try r.take(n)), expectedCount: width * height * (bitDepth / 8)),
                                                width: width, bitDepth: bitDepth)
                }
                return Payload(grid: LatentGrid(image: width, height, stride: a.stride), stream: rest(), alpha: alpha, alphaBytes: n)
            case let .audio(sampleRate, channels, frames, _, _) where !a.isImage:
                guard (1...2).contains(channels), (1...Self.maxAudioFrames).contains(frames), flags == 0 else {
                    throw CodecError.corruptPayload("walloc audio header does not fit the model")
                }
                let mean = Float(bitPattern: try r.u32()), scale = Float(bitPattern: try r.u32())
                let modelFrames = Int(try r.u32())
                guard mean.isFinite, scale.isFinite, scale > 0 else { throw CodecError.corruptPayload("walloc audio scale is not a positive number") }
                // Resampling changes the length by the ratio of the rates (rounded); anything far
                // from that is a damaged header, and must not size the decoder's buffers.
                let expected = Double(frames) * Double(a.sampleRate) / Double(sampleRate)
                guard modelFrames > 0, modelFrames <= Self.maxAudioFrames, abs(Double(modelFrames) - expected) <= 2 else {
                    throw CodecError.corruptPayload("walloc audio frame count \(modelFrames) does not fit \(frames) frames at \(sampleRate) Hz")
                }
                return Payload(grid: LatentGrid(image: modelFrames, 1, stride: a.stride), stream: rest(), mean: mean, scale: scale)
            default:
                throw CodecError.corruptPayload("\(info.id) codes \(a.isImage ? "images" : "audio"); the header describes other media")
            }
        } catch let e as CodecError {
            throw e
        } catch let e as ContainerError {
            throw .corruptPayload("walloc payload: \(e)")
        } catch {
            throw .internalFailure("\(error)")
        }
    }

    func latents(of p: Payload) throws(CodecError) -> [Int8] {
        try model.latentCoder.decode(p.stream, height: model.architecture.isImage ? p.grid.rows : 1, width: p.grid.columns)
    }

    public func decode(_ file: ContainerFile) throws(CodecError) -> Media {
        let p = try payload(of: file)
        let q = try latents(of: p)
        switch file.media {
        case let .image(_, _, channels, bitDepth, significantBits):
            let planes = model.decode(q, height: p.grid.rows, width: p.grid.columns)
            return .image(Self.image(planes, grid: p.grid, channels: channels, bitDepth: bitDepth, alpha: p.alpha,
                                     significantBits: significantBits == 0 ? nil : significantBits))
        case let .audio(sampleRate, channels, frames, sampleFormat, _):
            let planes = model.decode(q, height: 1, width: p.grid.columns)
            var out = Self.audio(planes, paddedFrames: p.grid.paddedWidth, frames: p.grid.width, channels: channels,
                                 sampleRate: model.architecture.sampleRate, mean: p.mean, scale: p.scale)
            if sampleRate != out.sampleRate {
                do { out = try out.resampled(to: sampleRate) } catch { throw .media(error) }
            }
            return .audio(try Self.formatted(out, frames: frames, sampleFormat: sampleFormat, source: file.media.audioSource))
        case .bytes:
            throw .corruptPayload("walloc holds no bytes")
        }
    }

    // MARK: What was done to the input

    /// `codec info`: how the input was fitted to the model (channels, sample rate, padding), read
    /// from the header and payload; every step listed is undone on decode.
    public func notes(_ file: ContainerFile) throws(CodecError) -> [String] {
        let p = try payload(of: file)
        let a = model.architecture, g = p.grid
        var notes: [String] = []
        switch file.media {
        case let .image(width, height, channels, bitDepth, _):
            if channels <= 2 { notes.append("gray: coded as three equal channels by the RGB model, decoded as their mean") }
            if p.alpha != nil {
                notes.append("alpha: coded losslessly beside the latents (left deltas, deflated: \(p.alphaBytes) bytes)")
            }
            if bitDepth == 16 { notes.append("16-bit samples: scaled to the model's range, decoded back to 16 bits (lossy like the rest)") }
            if g.paddedWidth != width || g.paddedHeight != height {
                notes.append("padded from \(width)x\(height) to \(g.paddedWidth)x\(g.paddedHeight) (edges repeated), cropped back on decode")
            }
            notes.append("latents: \(a.latent) x \(g.rows) x \(g.columns), 8-bit, rANS-coded")
        case let .audio(sampleRate, channels, frames, _, _):
            if sampleRate != a.sampleRate {
                notes.append("resampled from \(sampleRate) Hz to the model's \(a.sampleRate) Hz (\(frames) frames to \(g.width)), "
                             + "restored to \(sampleRate) Hz on decode")
            }
            if channels == 1 { notes.append("mono: coded as two equal channels by the stereo model, decoded as their mean") }
            notes.append("mean \(p.mean) removed and peak scaled to 0.5 (x\(p.scale)); both stored and undone on decode")
            if g.paddedWidth != g.width { notes.append("padded from \(g.width) to \(g.paddedWidth) frames with silence, cut back on decode") }
            notes.append("latents: \(a.latent) x \(g.columns), 8-bit, rANS-coded")
        case .bytes:
            break
        }
        return notes
    }

    // MARK: Latents for compressed-domain learning

    /// `codec latents`: the container's latents as a uint8 .npy (`LatentArray`), without running
    /// the decoder network.
    public func export(_ file: ContainerFile, as exporter: String) throws(CodecError) -> [UInt8] {
        guard exporter == "latents" else { throw .invalidOption("\(info.id) offers no '\(exporter)' export") }
        let p = try payload(of: file)
        let a = model.architecture
        return LatentArray(latents: try latents(of: p), channels: a.latent, rows: a.isImage ? p.grid.rows : nil,
                           columns: p.grid.columns).npy.serialized()
    }

    /// `codec decode FILE.npy`: latents back to media, at the padded size (the .npy does not
    /// carry the original's): RGB 8-bit images of 8·rows x 8·columns; stereo 16-bit audio at the
    /// model's rate, its peak scale taken as 0.5 (full range).
    public func decode(_ bytes: [UInt8], form: String) throws(CodecError) -> Media {
        guard form == "latents" else { throw .invalidOption("\(info.id) decodes no '\(form)' input") }
        let a = model.architecture
        let array = try LatentArray(npy: bytes, channels: a.latent, image: a.isImage)
        let planes = model.decode(array.latents, height: array.rows ?? 1, width: array.columns)
        if a.isImage {
            let grid = LatentGrid(image: array.columns * a.stride, (array.rows ?? 1) * a.stride, stride: a.stride)
            return .image(Self.image(planes, grid: grid, channels: 3, bitDepth: 8, alpha: nil, significantBits: nil))
        }
        let frames = array.columns * a.stride
        let audio = Self.audio(planes, paddedFrames: frames, frames: frames, channels: 2, sampleRate: a.sampleRate, mean: 0, scale: 0.5)
        return .audio(try Self.formatted(audio, frames: frames, sampleFormat: 16, source: .wav))
    }
}

/// The latent grid of an input: its padded size (a multiple of the stride) and latent rows and columns.
struct LatentGrid {
    let width: Int, height: Int, stride: Int
    init(image width: Int, _ height: Int, stride: Int) {
        self.width = width; self.height = height; self.stride = stride
    }
    var columns: Int { (width + stride - 1) / stride }
    var rows: Int { (height + stride - 1) / stride }
    var paddedWidth: Int { columns * stride }
    var paddedHeight: Int { rows * stride }
}

// MARK: - Samples in and out

extension WaLLoCCodec {
    /// Runs `body` with the image's three colour planes in [−0.5, 0.5], padded to the grid by
    /// repeating the last row and column, as a row source (`WaveletPacket.forward2D(row:)`): row y
    /// of plane p is converted from the interleaved samples when the transform asks for it, so the
    /// planes are never built whole.
    static func withColorRows<R>(_ image: Image, padded grid: LatentGrid,
                                 _ body: ((Int, Int, UnsafeMutablePointer<Float>) -> UnsafePointer<Float>) -> R) -> R {
        let (w, h, c, pw) = (image.width, image.height, image.channels, grid.paddedWidth)
        let scale = 1 / Float(image.maxValue)
        return image.samples.withUnsafeBufferPointer { s in
            body { p, y, row in
                let source = c >= 3 ? p : 0  // gray feeds all three
                let line = s.baseAddress! + min(y, h - 1) * w * c + source
                for x in 0..<w { row[x] = Float(line[x * c]) * scale - 0.5 }
                for x in w..<pw { row[x] = row[w - 1] }
                return UnsafePointer(row)
            }
        }
    }

    /// Pads each of `channels` signals of `length` samples to `paddedLength` with zeros (silence,
    /// after the mean is removed).
    static func padded(_ signals: [Float], channels: Int, length n: Int, to paddedLength: Int) -> [Float] {
        if paddedLength == n { return signals }
        var out = [Float](repeating: 0, count: channels * paddedLength)
        for c in 0..<channels {
            for i in 0..<n { out[c * paddedLength + i] = signals[c * n + i] }
        }
        return out
    }

    static func image(_ planes: [Float], grid: LatentGrid, channels: Int, bitDepth: Int, alpha: [UInt16]?,
                      significantBits: Int?) -> Image {
        let (w, h, pw) = (grid.width, grid.height, grid.paddedWidth)
        let plane = grid.paddedHeight * pw
        let maxValue = Float((1 << bitDepth) - 1)
        func sample(_ p: Int, _ y: Int, _ x: Int) -> Float { (planes[p * plane + y * pw + x] + 0.5) * maxValue }
        var samples = [UInt16](repeating: 0, count: w * h * channels)
        for y in 0..<h {
            for x in 0..<w {
                let o = (y * w + x) * channels
                if channels >= 3 {
                    for p in 0..<3 { samples[o + p] = UInt16((sample(p, y, x)).rounded()) }
                } else {
                    samples[o] = UInt16(((sample(0, y, x) + sample(1, y, x) + sample(2, y, x)) / 3).rounded())
                }
                if let alpha { samples[o + channels - 1] = alpha[y * w + x] }
            }
        }
        return Image(width: w, height: h, channels: channels, bitDepth: bitDepth, samples: samples, significantBits: significantBits)
    }

    /// Left, right planes in [−0.5, 0.5] (mono copied to both), with the mean and scale applied.
    static func stereoPlanes(_ audio: Audio) -> (planes: [Float], mean: Float, scale: Float) {
        let f = audio.floats, n = audio.frames, c = audio.channels
        var sum = 0.0
        for v in f { sum += Double(v) }
        let mean = Float(sum / Double(max(1, f.count)))
        var peak: Float = 0
        for v in f { peak = max(peak, abs(v - mean)) }
        let scale: Float = peak > 0 ? 0.5 / peak : 1
        var planes = [Float](repeating: 0, count: 2 * n)
        for ch in 0..<2 {
            let source = min(ch, c - 1)
            for i in 0..<n { planes[ch * n + i] = (f[i * c + source] - mean) * scale }
        }
        return (planes, mean, scale)
    }

    /// Float audio at the model's rate from the decoded planes (mean and scale undone).
    static func audio(_ planes: [Float], paddedFrames pn: Int, frames n: Int, channels c: Int, sampleRate: Int,
                      mean: Float, scale: Float) -> Audio {
        var floats = [Float](repeating: 0, count: n * c)
        for i in 0..<n {
            if c == 2 {
                floats[2 * i] = planes[i] / scale + mean
                floats[2 * i + 1] = planes[pn + i] / scale + mean
            } else {
                floats[i] = (planes[i] + planes[pn + i]) / 2 / scale + mean
            }
        }
        return Audio(sampleRate: sampleRate, channels: c, floats: floats)
    }

    /// `audio` cut or zero-padded to `frames` and written in the header's sample format.
    static func formatted(_ audio: Audio, frames n: Int, sampleFormat: Int, source: AudioSource) throws(CodecError) -> Audio {
        try audio.restored(frames: n, sampleFormat: sampleFormat, source: source, codec: "walloc")
    }

    // MARK: Alpha, exactly

    /// The alpha plane as left-delta residuals (little-endian bytes at 16 bits).
    static func alphaResiduals(_ image: Image) -> [UInt8] {
        let (w, c) = (image.width, image.channels)
        var out: [UInt8] = []
        out.reserveCapacity(image.pixelCount * image.bitDepth / 8)
        var previous: UInt16 = 0
        for i in 0..<image.pixelCount {
            if i % w == 0 { previous = 0 }
            let v = image.samples[i * c + c - 1]
            let d = v &- previous
            previous = v
            out.append(UInt8(truncatingIfNeeded: d))
            if image.bitDepth == 16 { out.append(UInt8(truncatingIfNeeded: d >> 8)) }
        }
        return out
    }

    static func alphaPlane(_ residuals: [UInt8], width w: Int, bitDepth: Int) throws(CodecError) -> [UInt16] {
        let bytes = bitDepth / 8, n = residuals.count / bytes
        var out = [UInt16](repeating: 0, count: n)
        var previous: UInt16 = 0
        for i in 0..<n {
            if i % w == 0 { previous = 0 }
            var d = UInt16(residuals[i * bytes])
            if bytes == 2 { d |= UInt16(residuals[i * bytes + 1]) << 8 }
            let v = bitDepth == 8 ? (previous &+ d) & 0xFF : previous &+ d
            out[i] = v
            previous = v
        }
        return out
    }
}
