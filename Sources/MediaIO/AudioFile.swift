import CSndFile

/// Audio files through libsndfile, read from and written to memory (`sf_open_virtual`).
///
/// Reading keeps samples in the form the file holds them (see `Audio.Samples`): integer PCM and
/// the integer-decoding codecs (A-law, µ-law, ADPCM, GSM) through `sf_readf_int`, float through
/// `sf_readf_float`, double through `sf_readf_double`, Vorbis and Opus as float. A file that
/// delivers fewer frames than its header declares, or whose data chunk (or any chunk) runs past
/// the end of the file, is an error, not a short result. Validity comes from the sizes declared
/// (RF64's ds64 included, `RIFFLayout`) against the bytes and frames present, never from
/// libsndfile's log text.
///
/// Writing: integer PCM goes through `sf_writef_int`, never through floats, because libsndfile
/// scales float→int by 0x7FFF on write but int→float by 1/0x8000 on read; only integer I/O is
/// exact. WAV keeps every sample form; FLAC holds 8/16/24-bit integers (float and double
/// samples are quantized to 16-bit PCM, see `Audio.quantized`); Ogg is Vorbis, or Opus when the
/// audio came from Opus.
public enum AudioFile {
    public static func decode(_ data: [UInt8]) throws(MediaError) -> Audio {
        let format = FileFormat.detect(data)
        let file = MemoryFile(data)
        // `file` backs the handle's I/O until sf_close, so both live inside this scope.
        return try withExtendedLifetime(file) { () throws(MediaError) -> Audio in
            var info = SF_INFO()
            guard let handle = file.open(mode: SFM_READ, info: &info) else {
                // libsndfile's error codes do not separate damage from encodings it lacks (a 12-bit
                // FLAC and a FLAC without STREAMINFO give the same one), so its message says which.
                throw .corrupt(format: format, reason: "libsndfile cannot open it: \(libsndfileMessage(nil))")
            }
            defer { sf_close(handle) }
            let audio = try read(handle, info: info, format: format)
            try RIFFLayout.check(data, framesRead: audio.frames, format: format)
            return audio
        }
    }

    public static func encode(_ audio: Audio, as format: FileFormat) throws(MediaError) -> [UInt8] {
        var info = SF_INFO()
        info.samplerate = Int32(clamping: audio.sampleRate)
        info.channels = Int32(clamping: audio.channels)
        var samples = audio.samples
        switch format {
        case .wav:
            let subtype = try sampleSubtype(samples, integers: [8: SF_FORMAT_PCM_U8, 16: SF_FORMAT_PCM_16,
                                                                24: SF_FORMAT_PCM_24, 32: SF_FORMAT_PCM_32], in: "WAV")
            // RIFF sizes are 32-bit: beyond 4 GB of samples, write the RF64 variant instead.
            let dataBytes = samples.count * bytesPerSample(samples)
            info.format = Int32((dataBytes > Int(UInt32.max) - (1 << 16) ? SF_FORMAT_RF64 : SF_FORMAT_WAV) | subtype)
        case .flac:
            if case .integer = samples {} else { samples = audio.quantized(bits: 16).samples }
            let subtype = try sampleSubtype(samples, integers: [8: SF_FORMAT_PCM_S8, 16: SF_FORMAT_PCM_16,
                                                                24: SF_FORMAT_PCM_24], in: "FLAC")
            info.format = Int32(SF_FORMAT_FLAC | subtype)
        case .ogg:
            samples = .float(audio.floats)
            info.format = Int32(SF_FORMAT_OGG | (audio.source == .oggOpus ? SF_FORMAT_OPUS : SF_FORMAT_VORBIS))
            if audio.source == .oggOpus && ![8000, 12000, 16000, 24000, 48000].contains(audio.sampleRate) {
                throw .cannotWrite("Opus takes 8, 12, 16, 24 or 48 kHz audio, not \(audio.sampleRate) Hz; resample first or write Vorbis")
            }
        case .png, .bytes:
            throw .cannotWrite("audio cannot be written as \(format.rawValue.uppercased())")
        }
        guard sf_format_check(&info) != 0 else {
            throw .cannotWrite("libsndfile cannot write \(audio.channels)-channel \(audio.sampleRate) Hz audio as \(format.rawValue.uppercased())")
        }
        let file = MemoryFile([])
        guard let handle = file.open(mode: SFM_WRITE, info: &info) else {
            throw .cannotWrite("libsndfile refused to start the \(format.rawValue.uppercased()) file: \(libsndfileMessage(nil))")
        }
        let frames = sf_count_t(audio.frames)
        let written: sf_count_t
        switch samples {
        case .integer(_, let s): written = s.withUnsafeBufferPointer { sf_writef_int(handle, $0.baseAddress, frames) }
        case .float(let s): written = s.withUnsafeBufferPointer { sf_writef_float(handle, $0.baseAddress, frames) }
        case .double(let s): written = s.withUnsafeBufferPointer { sf_writef_double(handle, $0.baseAddress, frames) }
        }
        let writeError = written == frames ? nil : libsndfileMessage(handle)
        let closeStatus = sf_close(handle)
        if let writeError {
            throw .cannotWrite("libsndfile wrote \(written) of \(frames) frames: \(writeError)")
        }
        guard closeStatus == 0 else {
            throw .cannotWrite("libsndfile could not finish the file: \(libsndfileMessage(nil))")
        }
        return file.bytes
    }

    // MARK: - Reading

    /// The sample form a libsndfile subtype is read in: integer depth, or float/double.
    private enum SampleForm {
        case integer(bits: Int), float, double
    }

    private static func sampleForm(subtype: Int) -> SampleForm {
        switch subtype {
        case SF_FORMAT_PCM_S8, SF_FORMAT_PCM_U8, SF_FORMAT_DPCM_8: .integer(bits: 8)
        case SF_FORMAT_PCM_24, SF_FORMAT_DWVW_24, SF_FORMAT_ALAC_20, SF_FORMAT_ALAC_24, SF_FORMAT_NMS_ADPCM_24: .integer(bits: 24)
        case SF_FORMAT_PCM_32, SF_FORMAT_ALAC_32, SF_FORMAT_DWVW_N, SF_FORMAT_NMS_ADPCM_32: .integer(bits: 32)
        case SF_FORMAT_FLOAT, SF_FORMAT_VORBIS, SF_FORMAT_OPUS,
             SF_FORMAT_MPEG_LAYER_I, SF_FORMAT_MPEG_LAYER_II, SF_FORMAT_MPEG_LAYER_III: .float
        case SF_FORMAT_DOUBLE: .double
        // 16-bit PCM and the codecs libsndfile decodes to 16 bits (A-law, µ-law, ADPCM, GSM, G.72x).
        default: .integer(bits: 16)
        }
    }

    private static func source(_ format: Int) -> AudioSource {
        switch (format & SF_FORMAT_TYPEMASK, format & SF_FORMAT_SUBMASK) {
        case (SF_FORMAT_WAV, _), (SF_FORMAT_WAVEX, _), (SF_FORMAT_RF64, _): .wav
        case (SF_FORMAT_FLAC, _): .flac
        case (SF_FORMAT_OGG, SF_FORMAT_VORBIS): .oggVorbis
        case (SF_FORMAT_OGG, SF_FORMAT_OPUS): .oggOpus
        default: .other
        }
    }

    private static func read(_ handle: OpaquePointer, info: SF_INFO, format: FileFormat) throws(MediaError) -> Audio {
        let channels = Int(info.channels), rate = Int(info.samplerate)
        guard (1...MediaLimits.maxAudioChannels).contains(channels) else {
            throw .unsupported("\(channels) audio channels (this reader takes 1...\(MediaLimits.maxAudioChannels))")
        }
        guard (1...MediaLimits.maxSampleRate).contains(rate) else {
            throw .unsupported("a sample rate of \(rate) Hz (this reader takes 1...\(MediaLimits.maxSampleRate))")
        }
        // libsndfile says "unknown" with SF_COUNT_MAX (FLAC without a total sample count, pipes).
        let declared: Int? = info.frames == sf_count_t.max || info.frames < 0 ? nil : Int(info.frames)
        if let declared, declared > MediaLimits.maxAudioSamples / channels {
            throw .tooLarge("the header declares \(declared) frames of \(channels) channels, beyond the limit of \(MediaLimits.maxAudioSamples) samples")
        }
        // The samples in memory: Int32 or Float (4 bytes) or Double (8), within maxSampleBytes.
        let form = sampleForm(subtype: Int(info.format) & SF_FORMAT_SUBMASK)
        let bytesPerSample: Int
        if case .double = form { bytesPerSample = 8 } else { bytesPerSample = 4 }
        if let declared {
            try MediaLimits.checkSampleBytes(declared * channels, bytesPerSample: bytesPerSample,
                                             of: "audio of \(declared) frames of \(channels) channels")
        }
        let maxFrames = min(MediaLimits.maxAudioSamples, MediaLimits.maxSampleBytes / bytesPerSample) / channels

        let samples: Audio.Samples
        switch form {
        case .integer(let bits):
            let s = try readAll(handle, channels: channels, declared: declared, maxFrames: maxFrames, format: format,
                                zero: Int32(0), sf_readf_int)
            try checkDepth(s, bits: bits, format: format)
            samples = .integer(bits: bits, s)
        case .float:
            samples = .float(try readAll(handle, channels: channels, declared: declared, maxFrames: maxFrames,
                                         format: format, zero: Float(0), sf_readf_float))
        case .double:
            samples = .double(try readAll(handle, channels: channels, declared: declared, maxFrames: maxFrames,
                                          format: format, zero: Double(0), sf_readf_double))
        }
        return Audio(sampleRate: rate, channels: channels, samples: samples, source: source(Int(info.format)))
    }

    /// Reads every frame in chunks, so memory follows the data actually present, not what a
    /// header claims; fails if libsndfile reports an error or delivers fewer frames than declared.
    private static func readAll<T>(_ handle: OpaquePointer, channels: Int, declared: Int?, maxFrames: Int,
                                   format: FileFormat, zero: T,
                                   _ readFrames: (OpaquePointer?, UnsafeMutablePointer<T>?, sf_count_t) -> sf_count_t)
        throws(MediaError) -> [T]
    {
        let chunkFrames = 1 << 16
        var out = [T]()
        out.reserveCapacity(min(declared ?? 0, 1 << 22) * channels)
        var chunk = [T](repeating: zero, count: chunkFrames * channels)
        var total = 0
        while true {
            let want = min(chunkFrames, (declared ?? maxFrames + 1) - total)
            if want <= 0 { break }
            let got = Int(chunk.withUnsafeMutableBufferPointer { readFrames(handle, $0.baseAddress, sf_count_t(want)) })
            if got > 0 {
                out.append(contentsOf: chunk[0..<got * channels])
                total += got
            }
            if sf_error(handle) != 0 {
                throw .corrupt(format: format, reason: "\(libsndfileMessage(handle)) after \(total) frames")
            }
            if total > maxFrames {
                throw .tooLarge("more than \(maxFrames) frames of \(channels) channels, beyond the limits of \(MediaLimits.maxAudioSamples) samples "
                    + "and \(MediaLimits.maxSampleBytes) bytes of samples in memory")
            }
            if got < want { break }
        }
        if let declared, total < declared {
            throw .corrupt(format: format, reason: "truncated: the header declares \(declared) frames, the data holds \(total)")
        }
        return out
    }

    /// Fails when a sample uses bits below the declared depth: the stream is not what its header
    /// says (a FLAC that changes bit depth mid-stream, for one), and storing it at the declared
    /// depth would lose those bits.
    private static func checkDepth(_ samples: [Int32], bits: Int, format: FileFormat) throws(MediaError) {
        guard bits < 32 else { return }
        let low = Int32(truncatingIfNeeded: (UInt32(1) << UInt32(32 - bits)) - 1)
        var used: Int32 = 0
        for s in samples { used |= s }
        if used & low != 0 {
            throw .corrupt(format: format, reason: "samples carry more than the \(bits) bits the header declares")
        }
    }

    // MARK: - Writing

    private static func sampleSubtype(_ samples: Audio.Samples, integers allowed: [Int: Int], in container: String) throws(MediaError) -> Int {
        switch samples {
        case .integer(let bits, _):
            guard let subtype = allowed[bits] else {
                let depths = allowed.keys.sorted().map(String.init).joined(separator: "/")
                throw .cannotWrite("\(container) holds \(depths)-bit integer samples here, not \(bits)-bit")
            }
            return subtype
        case .float: return SF_FORMAT_FLOAT
        case .double: return SF_FORMAT_DOUBLE
        }
    }

    private static func bytesPerSample(_ samples: Audio.Samples) -> Int {
        switch samples {
        case .integer(let bits, _): bits / 8
        case .float: 4
        case .double: 8
        }
    }

    private static func libsndfileMessage(_ handle: OpaquePointer?) -> String {
        guard let text = sf_strerror(handle) else { return "unknown libsndfile error" }
        var length = 0
        while text[length] != 0 { length += 1 }
        return String(decoding: UnsafeRawBufferPointer(start: text, count: length), as: UTF8.self)
    }
}

extension Audio {
    /// The audio as integer PCM of `bits` (8, 16, 24 or 32): float and double samples are scaled
    /// by 2^(bits-1), rounded to nearest and clipped; integer samples keep their top `bits` bits.
    public func quantized(bits: Int) -> Audio {
        precondition([8, 16, 24, 32].contains(bits), "PCM depth must be 8, 16, 24 or 32")
        let shift = 32 - bits
        let scale = Double(1 << (bits - 1)), top = scale - 1
        func quantize(_ x: Double) -> Int32 {
            let q = (x * scale).rounded()
            let clipped = q.isNaN ? 0 : min(max(q, -scale), top)
            return Int32(clipped) << Int32(shift)
        }
        let out: [Int32]
        switch samples {
        case .integer(_, let s):
            let mask = Int32(truncatingIfNeeded: UInt32.max << UInt32(shift))
            out = s.map { $0 & mask }
        case .float(let s): out = s.map { quantize(Double($0)) }
        case .double(let s): out = s.map(quantize)
        }
        return Audio(sampleRate: sampleRate, channels: channels, samples: .integer(bits: bits, out), source: source)
    }
}

/// A file in memory behind libsndfile's virtual I/O: reads from `bytes`, writes grow it.
private final class MemoryFile {
    var bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Opens the file with libsndfile; `self` must outlive the returned handle.
    func open(mode: Int, info: inout SF_INFO) -> OpaquePointer? {
        var io = SF_VIRTUAL_IO(
            get_filelen: { me in sf_count_t(MemoryFile.from(me).bytes.count) },
            seek: { offset, whence, me in MemoryFile.from(me).seek(Int(offset), whence: whence) },
            read: { into, count, me in MemoryFile.from(me).read(into, Int(count)) },
            write: { from, count, me in MemoryFile.from(me).write(from, Int(count)) },
            tell: { me in sf_count_t(MemoryFile.from(me).position) })
        return sf_open_virtual(&io, Int32(mode), &info, Unmanaged.passUnretained(self).toOpaque())
    }

    private static func from(_ pointer: UnsafeMutableRawPointer?) -> MemoryFile {
        Unmanaged<MemoryFile>.fromOpaque(pointer!).takeUnretainedValue()
    }

    private func seek(_ offset: Int, whence: Int32) -> sf_count_t {
        let base: Int
        switch whence {
        case 0: base = 0               // SEEK_SET
        case 1: base = position        // SEEK_CUR
        case 2: base = bytes.count     // SEEK_END
        default: return -1
        }
        let (target, overflow) = base.addingReportingOverflow(offset)
        guard !overflow, target >= 0 else { return -1 }
        position = target
        return sf_count_t(target)
    }

    private func read(_ into: UnsafeMutableRawPointer?, _ count: Int) -> sf_count_t {
        guard let into, count > 0, position < bytes.count else { return 0 }
        let n = min(count, bytes.count - position)
        bytes.withUnsafeBytes { into.copyMemory(from: $0.baseAddress! + position, byteCount: n) }
        position += n
        return sf_count_t(n)
    }

    private func write(_ from: UnsafeRawPointer?, _ count: Int) -> sf_count_t {
        guard let from, count > 0 else { return 0 }
        if position > bytes.count { bytes.append(contentsOf: repeatElement(0, count: position - bytes.count)) }
        let overlap = min(count, bytes.count - position)
        let source = UnsafeRawBufferPointer(start: from, count: count)
        bytes.replaceSubrange(position..<position + overlap, with: source)
        position += count
        return sf_count_t(count)
    }
}
