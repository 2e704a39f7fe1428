import CodecKit
import Container
import MediaIO
import Neural

/// GRVQ, the group-residual VQ speech codec (HiFi-Codec after Yang et al. 2023): see
/// docs/GRVQ.md and `GRVQModel`.
///
/// Input: audio at any rate and channel count. It is mixed to mono and resampled to 16 kHz
/// (libsamplerate, sinc) before coding; decoding gives the mono reconstruction back at the
/// original rate, copied to every original channel. `-p kbps=N` keeps the first N residual levels
/// per group: N·groups·log2(codes)·50 bit/s before entropy coding (1, 2, 3 kbit/s for the
/// released model), less after it.
///
/// Chunked coding (streaming): the frames (320 samples each) are coded in chunks of
/// `chunkFrames`, each chunk's indices one rANS stream. A chunk's encoder input is its samples
/// plus `encoderContextFrames` of real input on each side (zeros only past the file's ends, as
/// for the whole file); the decoder likewise reads `decoderContextFrames` of neighbouring indices.
/// The context covers each network's receptive field, and chunks start at multiples of the hop,
/// so every kept output is computed from exactly the values the whole-file pass would use: the
/// indices and the samples are the same for every chunk size (tested).
///
/// Streaming (`StreamingAudioCodec`, which the CLI uses for audio files): encoding reads the file
/// in blocks, mixes and resamples them as a stream (`AudioResampler`) and codes each chunk as soon
/// as its window has arrived; decoding resamples and restores each decoded chunk and hands it to
/// the writer. Memory holds a block, a chunk's window and the resampler's state; what grows with
/// the length is only the payload (about 225 KB for 10 minutes at 3 kbit/s) and, when decoding,
/// the indices (12 bytes per frame). The whole-buffer `encode`/`decode` run the same code over
/// one block, so both forms give the same container and samples (tested).
///
/// Payload (layout 1): `u8` layout, `u8` levels, `u32` samples at 16 kHz, `u16` frames per chunk,
/// then per chunk `u32` byte count and its rANS stream (`IndexCoder`). The frame count follows
/// from the samples; the header's original rate and frame count must agree with them.
public struct GRVQCodec: StreamingAudioCodec {
    public static let codecID = "grvq"
    static let layoutVersion: UInt8 = 1
    /// Frames per coded chunk (5 s): the network's working set, and a context overhead of about
    /// 5% (encoder) and 7% (decoder) of extra frames computed.
    public static let chunkFrames = 250
    /// Samples at 16 kHz (4.6 hours): the payload's u32 sample count, and the indices decoding holds.
    public static let maxModelSamples = 1 << 28

    public let model: GRVQModel
    public var info: CodecInfo { Self.info(model.id, levels: model.architecture.levels) }

    public init(modelID: String, store: ModelStore = ModelStore()) throws(CodecError) {
        model = try GRVQModel.load(modelID, from: store)
    }

    public init(model: GRVQModel) { self.model = model }

    /// What `codec list` shows, known without loading the weights.
    public static func info(_ id: String, levels: Int = 3) -> CodecInfo {
        CodecInfo(id: id, codecID: codecID, modelID: id, modalities: [.audio], lossless: false,
                  summary: "lossy speech, 1-\(levels) kbit/s before rANS: 16 kHz mono, conv encoder, 2 groups of residual VQ (1024 codes), HiFi-GAN decoder (GRVQ)",
                  parameters: [CodecParameter("kbps", default: "\(levels)",
                                              help: "1 to \(levels): residual VQ levels kept per group, 1 kbit/s each before entropy coding (rANS codes them in less)")])
    }

    /// What `codec info` says about a file: the levels kept, and how the input was fitted to the
    /// model's 16 kHz mono (resampled, mixed down), which decoding undoes.
    public func notes(_ file: ContainerFile) throws(CodecError) -> [String] {
        let p = try payload(of: file)
        guard case let .audio(sampleRate, channels, frames, _, _) = file.media else { return [] }
        let rate = GRVQModel.sampleRate
        var notes = ["\(p.levels) of \(model.architecture.levels) residual levels per group kept (\(p.levels) kbit/s before rANS), coded in chunks of \(p.chunkFrames) frames"]
        if sampleRate != rate {
            notes.append("resampled from \(sampleRate) Hz to the model's \(rate) Hz (\(frames) frames to \(p.samples)), restored on decode")
        }
        if channels > 1 { notes.append("\(channels) channels mixed to mono, copied back to each on decode") }
        return notes
    }

    /// The levels `-p kbps=` asks for.
    public func levels(_ options: CodecOptions) throws(CodecError) -> Int {
        try options.validate(against: info)
        return try options.integer("kbps", default: model.architecture.levels, in: 1...model.architecture.levels)
    }

    // MARK: Encoding

    public func encode(_ media: Media, options: CodecOptions) throws(CodecError) -> ContainerFile {
        let levels = try levels(options)
        guard case .audio(let audio) = media else {
            throw .unsupportedMedia(codec: info.id, kind: media.kind, accepts: info.modalities)
        }
        var whole: Audio? = audio
        let payload = try encode(sampleRate: audio.sampleRate, channels: audio.channels, frames: audio.frames, levels: levels) {
            defer { whole = nil }
            return whole
        }
        return ContainerFile(codecID: Self.codecID, modelID: model.id, modelHash: model.identity.hash,
                             media: MediaDescriptor(media), payload: payload)
    }

    /// The same container as `encode(.audio(the whole file))`, reading the file block by block:
    /// memory holds one block, the resampler's state and one chunk's window, whatever the length.
    public func encode(_ reader: AudioReader, options: CodecOptions) throws(CodecError) -> ContainerFile {
        let levels = try levels(options)
        let payload = try encode(sampleRate: reader.sampleRate, channels: reader.channels, frames: reader.declaredFrames,
                                 levels: levels) { () throws(CodecError) -> Audio? in
            do throws(MediaError) { return try reader.read(maxFrames: AudioReader.blockFrames) } catch { throw .media(error) }
        }
        return ContainerFile(codecID: Self.codecID, modelID: model.id, modelHash: model.identity.hash,
                             media: MediaDescriptor(reader), payload: payload)
    }

    /// The payload of the audio `next` delivers in blocks (`frames`, when known beforehand, is
    /// checked before any work): mixed to mono and resampled to 16 kHz as a stream, then coded
    /// chunk by chunk as soon as each chunk's window has arrived.
    func encode(sampleRate: Int, channels: Int, frames: Int?, levels: Int,
                next: () throws(CodecError) -> Audio?) throws(CodecError) -> [UInt8] {
        let rate = GRVQModel.sampleRate
        if let frames { try checkLength(frames: frames, sampleRate: sampleRate) }
        // Made at the first samples, so an empty file at any rate codes as before (nothing to resample).
        var resampler: AudioResampler? = nil
        var chunks = ChunkEncoder(codec: self, levels: levels, chunkFrames: Self.chunkFrames)
        var read = 0
        while let block = try next() {
            read += block.frames
            try checkLength(frames: read, sampleRate: sampleRate)
            guard block.frames > 0 else { continue }
            do {
                if resampler == nil { resampler = try AudioResampler(from: sampleRate, channels: channels, to: rate, channels: 1) }
                chunks.append(try resampler!.process(block.floats))
            } catch { throw .media(error) }
        }
        if let resampler {
            do { chunks.append(try resampler.finish()) } catch { throw .media(error) }
        }
        let (samples, streams) = chunks.finish()
        var w = ByteWriter()
        w.u8(Self.layoutVersion)
        w.u8(UInt8(levels))
        w.u32(UInt32(samples))
        w.u16(UInt16(Self.chunkFrames))
        for stream in streams {
            w.u32(UInt32(stream.count))
            w.bytes(stream)
        }
        return w.data
    }

    /// Fails if `frames` at `sampleRate` exceed what the model takes.
    func checkLength(frames: Int, sampleRate: Int) throws(CodecError) {
        let rate = GRVQModel.sampleRate
        let expected = Double(frames) * Double(rate) / Double(sampleRate)
        guard expected <= Double(Self.maxModelSamples) else {
            throw .unsupportedShape("\(info.id) takes up to \(Self.maxModelSamples) samples at \(rate) Hz (4.6 hours); this file has \(Int(expected))")
        }
    }

    /// The index streams of `samples` (16 kHz mono), one per chunk of `chunkFrames` frames.
    public func encodeChunks(_ samples: [Float], levels: Int, chunkFrames: Int) -> [[UInt8]] {
        var chunks = ChunkEncoder(codec: self, levels: levels, chunkFrames: chunkFrames)
        chunks.append(samples)
        return chunks.finish().streams
    }

    func frames(_ samples: Int) -> Int { (samples + model.architecture.hop - 1) / model.architecture.hop }

    /// Indices `[groups, levels, range.count]` of frames `range` of `samples` (zero-padded to whole
    /// frames), from the range plus the encoder's context.
    public func indices(_ samples: [Float], frames range: Range<Int>, levels: Int) -> [UInt16] {
        indices(samples, from: 0, total: samples.count, frames: range, levels: levels)
    }

    /// `indices(_:frames:levels:)` of a signal of `n` samples of which `samples` holds those from
    /// `offset` on, at least up to the end of the range's window (or of the signal).
    func indices(_ samples: [Float], from offset: Int, total n: Int, frames range: Range<Int>, levels: Int) -> [UInt16] {
        let hop = model.architecture.hop, f = frames(n), ctx = model.encoderContextFrames
        let lo = max(0, range.lowerBound - ctx), hi = min(f, range.upperBound + ctx)
        var window = [Float](repeating: 0, count: (hi - lo) * hop)
        let end = min(n, hi * hop)
        if lo * hop < end {
            window.replaceSubrange(0..<(end - lo * hop), with: samples[(lo * hop - offset)..<(end - offset)])
        }
        let z = model.latent(window)
        let d = model.architecture.latent, wz = hi - lo, keep = range.count, off = range.lowerBound - lo
        var cropped = [Float](repeating: 0, count: d * keep)
        for c in 0..<d { for t in 0..<keep { cropped[c * keep + t] = z.scalars[c * wz + off + t] } }
        return model.quantize(Tensor(shape: [d, keep], scalars: cropped), levels: levels)
    }

    /// Codes 16 kHz samples chunk by chunk as they arrive. It holds the samples from the next
    /// chunk's window on; a chunk is coded once its window has fully arrived, which (the window
    /// reaching `encoderContextFrames` past the chunk) makes its indices those of the whole
    /// signal whatever comes after, and the last chunks when the length is known.
    struct ChunkEncoder {
        let codec: GRVQCodec, levels: Int, chunkFrames: Int
        /// The samples from `offset` on.
        var buffer: [Float] = []
        var offset = 0
        /// The first frame of the next chunk to code.
        var next = 0
        var streams: [[UInt8]] = []

        mutating func append(_ samples: [Float]) {
            buffer += samples
            let hop = codec.model.architecture.hop, ctx = codec.model.encoderContextFrames
            while offset + buffer.count >= (next + chunkFrames + ctx) * hop {
                code(next..<(next + chunkFrames), total: offset + buffer.count)
                // Keep what the next chunk's window needs.
                let keepFrom = max(0, next - ctx) * hop
                if keepFrom > offset {
                    buffer.removeFirst(keepFrom - offset)
                    offset = keepFrom
                }
            }
        }

        /// The signal's length in samples and its streams: the chunks still to code.
        mutating func finish() -> (samples: Int, streams: [[UInt8]]) {
            let n = offset + buffer.count, f = codec.frames(n)
            while next < f { code(next..<min(f, next + chunkFrames), total: n) }
            return (n, streams)
        }

        private mutating func code(_ range: Range<Int>, total n: Int) {
            let indices = codec.indices(buffer, from: offset, total: n, frames: range, levels: levels)
            streams.append(codec.model.indexCoder.encode(indices, levels: levels, frames: range.count))
            next = range.upperBound
        }
    }

    // MARK: Decoding

    /// A payload read and checked against its header and the model, its indices decoded.
    struct Payload {
        var levels: Int
        var samples: Int  // at 16 kHz
        var chunkFrames: Int
        var indices: [UInt16]  // [groups, levels, frames] of the whole file
    }

    func payload(of file: ContainerFile) throws(CodecError) -> Payload {
        try model.identity.check(file)
        guard case let .audio(sampleRate, channels, frames, _, _) = file.media else {
            throw .corruptPayload("\(info.id) codes audio; the header describes other media")
        }
        var r = ByteReader(file.payload)
        do {
            let layout = try r.u8()
            guard layout == Self.layoutVersion else { throw CodecError.corruptPayload("unknown grvq payload layout \(layout)") }
            let levels = Int(try r.u8()), samples = Int(try r.u32()), chunkFrames = Int(try r.u16())
            guard (1...model.architecture.levels).contains(levels) else {
                throw CodecError.corruptPayload("grvq payload asks for \(levels) levels; the model has 1...\(model.architecture.levels)")
            }
            guard channels >= 1, sampleRate >= 1, chunkFrames >= 1 else { throw CodecError.corruptPayload("grvq header does not describe audio it can hold") }
            // Resampling changes the length by the ratio of the rates (rounded); anything far from
            // that is a damaged header, and must not size the decoder's buffers.
            let expected = Double(frames) * Double(GRVQModel.sampleRate) / Double(sampleRate)
            guard samples <= Self.maxModelSamples, abs(Double(samples) - expected) <= 2 else {
                throw CodecError.corruptPayload("grvq sample count \(samples) does not fit \(frames) frames at \(sampleRate) Hz")
            }
            let f = self.frames(samples)
            let g = model.architecture.groups
            var all = [UInt16](repeating: 0, count: g * levels * f)
            for lo in stride(from: 0, to: f, by: chunkFrames) {
                let n = min(f, lo + chunkFrames) - lo
                let count = Int(try r.u32())
                guard count <= r.data.count - r.offset else {
                    throw CodecError.corruptPayload("grvq chunk at frame \(lo) needs \(count) bytes; \(r.data.count - r.offset) are left")
                }
                let chunk = try model.indexCoder.decode(Array(try r.take(count)), levels: levels, frames: n)
                for b in 0..<(g * levels) { for t in 0..<n { all[b * f + lo + t] = chunk[b * n + t] } }
            }
            guard r.offset == r.data.count else { throw CodecError.corruptPayload("\(r.data.count - r.offset) bytes after the last grvq chunk") }
            return Payload(levels: levels, samples: samples, chunkFrames: chunkFrames, indices: all)
        } catch let e as CodecError {
            throw e
        } catch let e as ContainerError {
            throw .corruptPayload("grvq payload: \(e)")
        } catch {
            throw .internalFailure("\(error)")
        }
    }

    public func decode(_ file: ContainerFile) throws(CodecError) -> Media {
        var whole: Audio? = nil
        try decode(file) { (block: Audio) throws(CodecError) in
            if whole == nil { whole = block } else { whole!.samples.append(block.samples) }
        }
        // decode(_:blocks:) always ends with restorer's last block, so there is one.
        guard let whole else { throw .internalFailure("grvq decoded no block") }
        return .audio(whole)
    }

    /// Decodes chunk by chunk: each chunk's 16 kHz samples are resampled (as a stream) to the
    /// header's rate and channels, restored to its sample format and handed to `write`, so memory
    /// holds the indices (12 bytes per frame at 3 levels) and one chunk, whatever the length.
    public func decode(_ file: ContainerFile, blocks write: (Audio) throws(CodecError) -> Void) throws(CodecError) {
        let p = try payload(of: file)
        guard case let .audio(sampleRate, channels, frames, sampleFormat, _) = file.media else {
            throw .corruptPayload("grvq holds audio")  // payload(of:) checked it
        }
        var restorer = try AudioRestorer(frames: frames, sampleRate: sampleRate, channels: channels, sampleFormat: sampleFormat,
                                         source: file.media.audioSource, codec: Self.codecID)
        // Only when there are samples, as the whole-buffer path never resampled an empty signal.
        var resampler: AudioResampler? = nil
        if p.samples > 0 {
            do { resampler = try AudioResampler(from: GRVQModel.sampleRate, channels: 1, to: sampleRate, channels: channels) } catch {
                throw .media(error)
            }
        }
        let hop = model.architecture.hop, f = self.frames(p.samples)
        for lo in stride(from: 0, to: f, by: p.chunkFrames) {
            let range = lo..<min(f, lo + p.chunkFrames)
            var x = samples(p.indices, totalFrames: f, frames: range, levels: p.levels)
            x.removeLast(x.count - (min(p.samples, range.upperBound * hop) - lo * hop))
            let y: [Float]
            do { y = try resampler!.process(x) } catch { throw .media(error) }
            try write(restorer.block(y))
        }
        if let resampler {
            let tail: [Float]
            do { tail = try resampler.finish() } catch { throw .media(error) }
            try write(restorer.block(tail))
        }
        try write(restorer.finish())
    }

    /// 16 kHz mono samples from the indices `[groups, levels, frames]` of a whole file, decoded
    /// chunk by chunk.
    public func reconstruct(_ indices: [UInt16], levels: Int, samples n: Int, chunkFrames: Int) -> [Float] {
        let hop = model.architecture.hop, f = frames(n)
        var out = [Float](repeating: 0, count: n)
        for lo in stride(from: 0, to: f, by: chunkFrames) {
            let range = lo..<min(f, lo + chunkFrames)
            let x = samples(indices, totalFrames: f, frames: range, levels: levels)
            let start = lo * hop, end = min(n, range.upperBound * hop)
            out.replaceSubrange(start..<end, with: x[0..<(end - start)])
        }
        return out
    }

    /// The `range.count·hop` samples of frames `range`, from their indices plus the decoder's context.
    public func samples(_ indices: [UInt16], totalFrames f: Int, frames range: Range<Int>, levels: Int) -> [Float] {
        let hop = model.architecture.hop, ctx = model.decoderContextFrames
        let lo = max(0, range.lowerBound - ctx), hi = min(f, range.upperBound + ctx), wf = hi - lo
        let blocks = model.architecture.groups * levels
        var window = [UInt16](repeating: 0, count: blocks * wf)
        for b in 0..<blocks { for t in 0..<wf { window[b * wf + t] = indices[b * f + lo + t] } }
        let x = model.decode(window, levels: levels, frames: wf)
        let off = (range.lowerBound - lo) * hop
        return Array(x[off..<(off + range.count * hop)])
    }
}
