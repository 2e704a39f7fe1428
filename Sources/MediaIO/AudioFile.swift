import CSndFile
#if canImport(Glibc)
import Glibc
#endif

/// Whole audio files through libsndfile, read from and written to memory (`sf_open_virtual`).
/// Both go through the block-by-block `AudioReader` and `AudioWriter` below, which also work on
/// a file descriptor, so a streamed file and a whole one are read and written by the same code.
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
    /// A whole file from memory: `AudioReader`'s blocks, gathered.
    public static func decode(_ data: [UInt8]) throws(MediaError) -> Audio {
        let reader = try AudioReader(bytes: data)
        var samples = reader.emptySamples(reservingFrames: min(reader.declaredFrames ?? 0, 1 << 22))
        while let block = try reader.read(maxFrames: AudioReader.blockFrames) { samples.append(block.samples) }
        return Audio(sampleRate: reader.sampleRate, channels: reader.channels, samples: samples, source: reader.source)
    }

    /// A whole file in memory: one `AudioWriter` block.
    public static func encode(_ audio: Audio, as format: FileFormat) throws(MediaError) -> [UInt8] {
        let file = MemoryFile([])
        let writer = try AudioWriter(file, as: format, like: audio, frames: audio.frames)
        try writer.write(audio)
        try writer.finish()
        return file.bytes
    }
}

/// Audio read block by block through libsndfile, from memory or from an open file descriptor,
/// so a long file is coded in memory that does not grow with its length.
///
/// Blocks keep the samples in the form the file holds them (see `Audio.Samples`): integer PCM and
/// the integer-decoding codecs (A-law, µ-law, ADPCM, GSM) through `sf_readf_int`, float through
/// `sf_readf_float`, double through `sf_readf_double`, Vorbis and Opus as float. Every check of a
/// whole read is made here, so a streamed file fails exactly as a whole one does: sizes declared
/// beyond `MediaLimits` before anything is read, libsndfile errors and samples carrying more bits
/// than declared as they come, and at the end a file that delivered fewer frames than its header
/// (or RF64's ds64 chunk, `RIFFLayout`) declares. Memory follows the frames actually present.
public final class AudioReader {
    /// Frames per block that `AudioFile.decode` reads; a good size for streaming readers too.
    public static let blockFrames = 1 << 16

    public let sampleRate: Int
    public let channels: Int
    public let source: AudioSource
    public let format: FileFormat
    /// The frame count the header declares; `nil` when it gives none (a FLAC without a total).
    public let declaredFrames: Int?
    /// The header's sample format as `MediaDescriptor.audio` stores it: 8/16/24/32 for integer
    /// PCM, -32 float, -64 double.
    public var sampleFormat: Int {
        switch form { case .integer(let bits): bits; case .float: -32; case .double: -64 }
    }
    /// Frames delivered so far; after the last block, the file's frame count.
    public private(set) var framesRead = 0

    private let file: any VirtualFile
    private let handle: OpaquePointer
    private let form: AudioFile.SampleForm
    private let maxFrames: Int
    private var lastBlock = false
    private var finished = false

    /// A file held in memory.
    public convenience init(bytes: [UInt8]) throws(MediaError) {
        try self.init(file: MemoryFile(bytes))
    }

    /// A file open for reading on `descriptor` (a regular file: libsndfile seeks in it). The
    /// caller keeps the descriptor and closes it after the reader is gone.
    public convenience init(descriptor: Int32) throws(MediaError) {
        try self.init(file: DescriptorFile(descriptor, writable: false))
    }

    private init(file: any VirtualFile) throws(MediaError) {
        self.file = file
        format = FileFormat.detect(file.bytes(at: 0, count: 12))
        var info = SF_INFO()
        guard let handle = file.open(mode: SFM_READ, info: &info) else {
            // libsndfile's error codes do not separate damage from encodings it lacks (a 12-bit
            // FLAC and a FLAC without STREAMINFO give the same one), so its message says which.
            throw .corrupt(format: format, reason: "libsndfile cannot open it: \(AudioFile.libsndfileMessage(nil))")
        }
        self.handle = handle
        let channels = Int(info.channels), rate = Int(info.samplerate)
        self.channels = channels
        sampleRate = rate
        source = AudioFile.source(Int(info.format))
        // libsndfile says "unknown" with SF_COUNT_MAX (FLAC without a total sample count, pipes).
        let declared: Int? = info.frames == sf_count_t.max || info.frames < 0 ? nil : Int(info.frames)
        declaredFrames = declared
        form = AudioFile.sampleForm(subtype: Int(info.format) & SF_FORMAT_SUBMASK)
        // The samples in memory: Int32 or Float (4 bytes) or Double (8), within maxSampleBytes.
        let bytesPerSample: Int
        if case .double = form { bytesPerSample = 8 } else { bytesPerSample = 4 }
        maxFrames = min(MediaLimits.maxAudioSamples, MediaLimits.maxSampleBytes / bytesPerSample) / max(channels, 1)
        // From here on a failure leaves an initialised object, whose deinit closes the handle.
        guard (1...MediaLimits.maxAudioChannels).contains(channels) else {
            throw .unsupported("\(channels) audio channels (this reader takes 1...\(MediaLimits.maxAudioChannels))")
        }
        guard (1...MediaLimits.maxSampleRate).contains(rate) else {
            throw .unsupported("a sample rate of \(rate) Hz (this reader takes 1...\(MediaLimits.maxSampleRate))")
        }
        if let declared, declared > MediaLimits.maxAudioSamples / channels {
            throw .tooLarge("the header declares \(declared) frames of \(channels) channels, beyond the limit of \(MediaLimits.maxAudioSamples) samples")
        }
        if let declared {
            try MediaLimits.checkSampleBytes(declared * channels, bytesPerSample: bytesPerSample,
                                             of: "audio of \(declared) frames of \(channels) channels")
        }
    }

    deinit { sf_close(handle) }

    /// No samples, in this file's sample form (room reserved for `frames` frames).
    public func emptySamples(reservingFrames frames: Int = 0) -> Audio.Samples {
        switch form {
        case .integer(let bits): var s = [Int32](); s.reserveCapacity(frames * channels); return .integer(bits: bits, s)
        case .float: var s = [Float](); s.reserveCapacity(frames * channels); return .float(s)
        case .double: var s = [Double](); s.reserveCapacity(frames * channels); return .double(s)
        }
    }

    /// The next block of up to `maxFrames` frames, or `nil` once the file has ended and its end
    /// has been checked against the header.
    public func read(maxFrames n: Int) throws(MediaError) -> Audio? {
        precondition(n > 0, "a block holds at least one frame")
        if finished { return nil }
        let want = min(n, (declaredFrames ?? maxFrames + 1) - framesRead)
        if lastBlock || want <= 0 {
            try finish()
            return nil
        }
        let samples: Audio.Samples
        switch form {
        case .integer(let bits):
            let s = try block(want, zero: Int32(0), sf_readf_int)
            try AudioFile.checkDepth(s, bits: bits, format: format)
            samples = .integer(bits: bits, s)
        case .float: samples = .float(try block(want, zero: Float(0), sf_readf_float))
        case .double: samples = .double(try block(want, zero: Double(0), sf_readf_double))
        }
        if samples.count == 0 {
            try finish()
            return nil
        }
        return Audio(sampleRate: sampleRate, channels: channels, samples: samples, source: source)
    }

    /// Reads up to `want` frames; fails if libsndfile reports an error or the frames pass the
    /// limits of samples in memory.
    private func block<T>(_ want: Int, zero: T,
                          _ readFrames: (OpaquePointer?, UnsafeMutablePointer<T>?, sf_count_t) -> sf_count_t) throws(MediaError) -> [T] {
        var out = [T](repeating: zero, count: want * channels)
        let got = max(0, Int(out.withUnsafeMutableBufferPointer { readFrames(handle, $0.baseAddress, sf_count_t(want)) }))
        out.removeLast(out.count - got * channels)
        framesRead += got
        if sf_error(handle) != 0 {
            throw .corrupt(format: format, reason: "\(AudioFile.libsndfileMessage(handle)) after \(framesRead) frames")
        }
        if framesRead > maxFrames {
            throw .tooLarge("more than \(maxFrames) frames of \(channels) channels, beyond the limits of \(MediaLimits.maxAudioSamples) samples "
                + "and \(MediaLimits.maxSampleBytes) bytes of samples in memory")
        }
        if got < want { lastBlock = true }
        return out
    }

    /// The end: fewer frames than declared is a truncated file, not a short result.
    private func finish() throws(MediaError) {
        finished = true
        if let declaredFrames, framesRead < declaredFrames {
            throw .corrupt(format: format, reason: "truncated: the header declares \(declaredFrames) frames, the data holds \(framesRead)")
        }
        try RIFFLayout.check(file, framesRead: framesRead, format: format)
    }
}

/// Audio written block by block through libsndfile, to memory or to an open file descriptor.
///
/// Integer PCM goes through `sf_writef_int`, never through floats, because libsndfile scales
/// float→int by 0x7FFF on write but int→float by 1/0x8000 on read; only integer I/O is exact.
/// WAV keeps every sample form; FLAC holds 8/16/24-bit integers (float and double samples are
/// quantized to 16-bit PCM, see `Audio.quantized`); Ogg is Vorbis, or Opus when the audio came
/// from Opus. Every block must have the rate, channels and sample form of the template.
public final class AudioWriter {
    private let file: any VirtualFile
    private let handle: OpaquePointer
    private let format: FileFormat
    private let template: Audio
    private var closed = false

    /// A writer to `descriptor`, open for writing on a regular (seekable) file, which the caller
    /// closes after `finish()`. `like` gives the rate, channels, sample form and source of the
    /// blocks (its samples are not written); `frames` the total to come, which decides between
    /// WAV and RF64.
    public convenience init(descriptor: Int32, as format: FileFormat, like template: Audio, frames: Int) throws(MediaError) {
        try self.init(DescriptorFile(descriptor, writable: true), as: format, like: template, frames: frames)
    }

    init(_ file: any VirtualFile, as format: FileFormat, like template: Audio, frames: Int) throws(MediaError) {
        self.file = file
        self.format = format
        self.template = template
        var info = SF_INFO()
        info.samplerate = Int32(clamping: template.sampleRate)
        info.channels = Int32(clamping: template.channels)
        var samples = Audio.Samples.integer(bits: 16, [])
        switch template.samples {
        case .integer(let bits, _): samples = .integer(bits: bits, [])
        case .float: samples = .float([])
        case .double: samples = .double([])
        }
        switch format {
        case .wav:
            let subtype = try AudioFile.sampleSubtype(samples, integers: [8: SF_FORMAT_PCM_U8, 16: SF_FORMAT_PCM_16,
                                                                          24: SF_FORMAT_PCM_24, 32: SF_FORMAT_PCM_32], in: "WAV")
            // RIFF sizes are 32-bit: beyond 4 GB of samples, write the RF64 variant instead.
            let dataBytes = frames * template.channels * AudioFile.bytesPerSample(samples)
            info.format = Int32((dataBytes > Int(UInt32.max) - (1 << 16) ? SF_FORMAT_RF64 : SF_FORMAT_WAV) | subtype)
        case .flac:
            if case .integer = samples {} else { samples = .integer(bits: 16, []) }
            let subtype = try AudioFile.sampleSubtype(samples, integers: [8: SF_FORMAT_PCM_S8, 16: SF_FORMAT_PCM_16,
                                                                          24: SF_FORMAT_PCM_24], in: "FLAC")
            info.format = Int32(SF_FORMAT_FLAC | subtype)
        case .ogg:
            info.format = Int32(SF_FORMAT_OGG | (template.source == .oggOpus ? SF_FORMAT_OPUS : SF_FORMAT_VORBIS))
            if template.source == .oggOpus && ![8000, 12000, 16000, 24000, 48000].contains(template.sampleRate) {
                throw .cannotWrite("Opus takes 8, 12, 16, 24 or 48 kHz audio, not \(template.sampleRate) Hz; resample first or write Vorbis")
            }
        case .png, .bytes:
            throw .cannotWrite("audio cannot be written as \(format.rawValue.uppercased())")
        }
        guard sf_format_check(&info) != 0 else {
            throw .cannotWrite("libsndfile cannot write \(template.channels)-channel \(template.sampleRate) Hz audio as \(format.rawValue.uppercased())")
        }
        guard let handle = file.open(mode: SFM_WRITE, info: &info) else {
            throw .cannotWrite("libsndfile refused to start the \(format.rawValue.uppercased()) file: \(AudioFile.libsndfileMessage(nil))")
        }
        self.handle = handle
    }

    deinit { if !closed { sf_close(handle) } }

    /// Appends a block.
    public func write(_ block: Audio) throws(MediaError) {
        precondition(!closed && block.sampleRate == template.sampleRate && block.channels == template.channels,
                     "a block must match the writer's rate and channels")
        var samples = block.samples
        switch format {
        case .flac: if case .integer = samples {} else { samples = block.quantized(bits: 16).samples }
        case .ogg: samples = .float(block.floats)
        default: break
        }
        let frames = sf_count_t(block.frames)
        let written: sf_count_t
        switch samples {
        case .integer(_, let s): written = s.withUnsafeBufferPointer { sf_writef_int(handle, $0.baseAddress, frames) }
        case .float(let s): written = s.withUnsafeBufferPointer { sf_writef_float(handle, $0.baseAddress, frames) }
        case .double(let s): written = s.withUnsafeBufferPointer { sf_writef_double(handle, $0.baseAddress, frames) }
        }
        guard written == frames else {
            throw .cannotWrite("libsndfile wrote \(written) of \(frames) frames: \(AudioFile.libsndfileMessage(handle))")
        }
    }

    /// Completes the file (libsndfile writes the final sizes into the header).
    public func finish() throws(MediaError) {
        guard !closed else { return }
        closed = true
        guard sf_close(handle) == 0 else {
            throw .cannotWrite("libsndfile could not finish the file: \(AudioFile.libsndfileMessage(nil))")
        }
    }
}

extension AudioFile {
    /// The sample form a libsndfile subtype is read in: integer depth, or float/double.
    enum SampleForm {
        case integer(bits: Int), float, double
    }

    static func sampleForm(subtype: Int) -> SampleForm {
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

    static func source(_ format: Int) -> AudioSource {
        switch (format & SF_FORMAT_TYPEMASK, format & SF_FORMAT_SUBMASK) {
        case (SF_FORMAT_WAV, _), (SF_FORMAT_WAVEX, _), (SF_FORMAT_RF64, _): .wav
        case (SF_FORMAT_FLAC, _): .flac
        case (SF_FORMAT_OGG, SF_FORMAT_VORBIS): .oggVorbis
        case (SF_FORMAT_OGG, SF_FORMAT_OPUS): .oggOpus
        default: .other
        }
    }

    /// Fails when a sample uses bits below the declared depth: the stream is not what its header
    /// says (a FLAC that changes bit depth mid-stream, for one), and storing it at the declared
    /// depth would lose those bits.
    static func checkDepth(_ samples: [Int32], bits: Int, format: FileFormat) throws(MediaError) {
        guard bits < 32 else { return }
        let low = Int32(truncatingIfNeeded: (UInt32(1) << UInt32(32 - bits)) - 1)
        var used: Int32 = 0
        for s in samples { used |= s }
        if used & low != 0 {
            throw .corrupt(format: format, reason: "samples carry more than the \(bits) bits the header declares")
        }
    }

    // MARK: - Writing

    static func sampleSubtype(_ samples: Audio.Samples, integers allowed: [Int: Int], in container: String) throws(MediaError) -> Int {
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

    static func bytesPerSample(_ samples: Audio.Samples) -> Int {
        switch samples {
        case .integer(let bits, _): bits / 8
        case .float: 4
        case .double: 8
        }
    }

    static func libsndfileMessage(_ handle: OpaquePointer?) -> String {
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

/// A file behind libsndfile's virtual I/O, which reads and writes at a position it seeks to;
/// `RIFFLayout` reads chunk headers through `bytes(at:count:)`.
protocol VirtualFile: AnyObject {
    var count: Int { get }
    var position: Int { get set }
    /// Up to `count` bytes at `offset` (fewer at the end of the file).
    func bytes(at offset: Int, count: Int) -> [UInt8]
    /// Copies up to `count` bytes at `position` into `into`; the number copied, or -1.
    func read(_ into: UnsafeMutableRawPointer, _ count: Int) -> Int
    /// Writes `count` bytes at `position`; the number written, or -1.
    func write(_ from: UnsafeRawPointer, _ count: Int) -> Int
}

extension VirtualFile {
    /// Opens the file with libsndfile; `self` must outlive the returned handle.
    func open(mode: Int, info: inout SF_INFO) -> OpaquePointer? {
        var io = SF_VIRTUAL_IO(
            get_filelen: { me in sf_count_t(from(me).count) },
            seek: { offset, whence, me in from(me).seek(Int(offset), whence: whence) },
            read: { into, count, me in
                guard let into, count > 0 else { return 0 }
                return sf_count_t(max(0, from(me).read(into, Int(count))))
            },
            write: { source, count, me in
                guard let source, count > 0 else { return 0 }
                return sf_count_t(max(0, from(me).write(source, Int(count))))
            },
            tell: { me in sf_count_t(from(me).position) })
        return sf_open_virtual(&io, Int32(mode), &info, Unmanaged.passUnretained(self as AnyObject).toOpaque())
    }

    private func seek(_ offset: Int, whence: Int32) -> sf_count_t {
        let base: Int
        switch whence {
        case 0: base = 0               // SEEK_SET
        case 1: base = position        // SEEK_CUR
        case 2: base = count           // SEEK_END
        default: return -1
        }
        let (target, overflow) = base.addingReportingOverflow(offset)
        guard !overflow, target >= 0 else { return -1 }
        position = target
        return sf_count_t(target)
    }
}

private func from(_ pointer: UnsafeMutableRawPointer?) -> any VirtualFile {
    Unmanaged<AnyObject>.fromOpaque(pointer!).takeUnretainedValue() as! any VirtualFile
}

/// A file in memory: reads from `bytes`, writes grow it.
final class MemoryFile: VirtualFile {
    var bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var count: Int { bytes.count }

    func bytes(at offset: Int, count n: Int) -> [UInt8] {
        guard offset < bytes.count else { return [] }
        return Array(bytes[offset..<min(bytes.count, offset + n)])
    }

    func read(_ into: UnsafeMutableRawPointer, _ count: Int) -> Int {
        guard position < bytes.count else { return 0 }
        let n = min(count, bytes.count - position)
        bytes.withUnsafeBytes { into.copyMemory(from: $0.baseAddress! + position, byteCount: n) }
        position += n
        return n
    }

    func write(_ from: UnsafeRawPointer, _ count: Int) -> Int {
        if position > bytes.count { bytes.append(contentsOf: repeatElement(0, count: position - bytes.count)) }
        let overlap = min(count, bytes.count - position)
        let source = UnsafeRawBufferPointer(start: from, count: count)
        bytes.replaceSubrange(position..<position + overlap, with: source)
        position += count
        return count
    }
}

/// A regular file on an open descriptor, read and written with pread/pwrite at `position`, so
/// only what libsndfile asks for is in memory. The descriptor belongs to the caller.
final class DescriptorFile: VirtualFile {
    let fd: Int32
    let writable: Bool
    var position = 0
    /// The file's size: fixed for reading (taken once), grown by writes.
    private var size: Int

    init(_ fd: Int32, writable: Bool) {
        self.fd = fd
        self.writable = writable
        var st = stat()
        size = fstat(fd, &st) == 0 ? Int(st.st_size) : 0
    }

    var count: Int { size }

    func bytes(at offset: Int, count n: Int) -> [UInt8] {
        guard offset < size, n > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: min(n, size - offset))
        var done = 0
        while done < out.count {
            let got = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) }
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            done += got
        }
        return Array(out.prefix(done))
    }

    func read(_ into: UnsafeMutableRawPointer, _ count: Int) -> Int {
        guard position < size else { return 0 }
        var done = 0
        let n = min(count, size - position)
        while done < n {
            let got = pread(fd, into + done, n - done, off_t(position + done))
            if got < 0 && errno == EINTR { continue }
            if got < 0 { return done > 0 ? done : -1 }
            if got == 0 { break }
            done += got
        }
        position += done
        return done
    }

    func write(_ from: UnsafeRawPointer, _ count: Int) -> Int {
        guard writable else { return -1 }
        var done = 0
        while done < count {
            let put = pwrite(fd, from + done, count - done, off_t(position + done))
            if put < 0 && errno == EINTR { continue }
            if put <= 0 { return done > 0 ? done : -1 }
            done += put
        }
        position += done
        size = max(size, position)
        return done
    }
}
