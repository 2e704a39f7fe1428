/// The chunk layout of a RIFF-family WAV (RIFF, RIFX, RF64), read to decide whether the sizes a
/// file declares are present, instead of trusting libsndfile, which silently clamps a data chunk
/// longer than the file and reports RF64 sizes in its log as if they were damage.
///
/// RF64 (EBU Tech 3306) keeps its 64-bit RIFF and data sizes, and the frame count, in a `ds64`
/// chunk right after `WAVE`; the 32-bit fields say 0xFFFFFFFF.
struct RIFFLayout {
    /// The data chunk's size in bytes as declared (from ds64 for RF64), and the bytes present.
    var declaredDataBytes: UInt64
    var presentDataBytes: UInt64
    /// RF64's ds64 sample count (frames), when it gives one.
    var declaredFrames: UInt64?

    /// Parses the chunk headers (reading only them, so a long file is never held whole); throws
    /// when a chunk runs past the end of the file.
    init(_ file: any VirtualFile, format: FileFormat) throws(MediaError) {
        func fail(_ why: String) -> MediaError { .corrupt(format: format, reason: why) }
        let length = file.count
        let head = file.bytes(at: 0, count: 12)
        guard length >= 12, head.count == 12 else { throw fail("truncated: the RIFF header is incomplete") }
        let bigEndian = head[0] == UInt8(ascii: "R") && head[3] == UInt8(ascii: "X")
        let rf64 = head[0...3].elementsEqual("RF64".utf8)
        func u32(_ b: [UInt8], _ at: Int) -> UInt64 {
            let v = (0..<4).map { UInt64(b[at + $0]) }
            return bigEndian ? v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3] : v[3] << 24 | v[2] << 16 | v[1] << 8 | v[0]
        }
        func u64(_ b: [UInt8], _ at: Int) -> UInt64 { u32(b, at) | u32(b, at + 4) << 32 }
        var ds64Data: UInt64? = nil
        var data: (declared: UInt64, present: UInt64)? = nil
        var offset = 12
        while offset + 8 <= length {
            let header = file.bytes(at: offset, count: 8)
            guard header.count == 8 else { throw fail("truncated: a chunk header is cut short") }
            let id = String(decoding: header[0..<4], as: UTF8.self)
            var size = u32(header, 4)
            let body = offset + 8
            if id == "ds64" {
                let ds64 = file.bytes(at: body, count: 24)
                guard rf64, size >= 24, ds64.count == 24 else {
                    throw fail("the ds64 chunk is \(rf64 ? "cut short" : "outside an RF64 file")")
                }
                ds64Data = u64(ds64, 8)
                let frames = u64(ds64, 16)
                declaredFrames = frames > 0 ? frames : nil
            }
            if id == "data" {
                if rf64 && size == 0xFFFF_FFFF {
                    guard let ds64Data else { throw fail("an RF64 data chunk without a ds64 chunk giving its size") }
                    size = ds64Data
                }
                let present = UInt64(length - body)
                data = (size, min(size, present))
                if size > present {
                    throw fail("truncated: the data chunk declares \(size) bytes, \(present) are present")
                }
            } else if size > UInt64(length - body) {
                throw fail("truncated: the '\(id)' chunk declares \(size) bytes, \(length - body) are present")
            }
            // Chunks are padded to an even size; a missing pad byte at the very end is tolerated.
            let next = UInt64(body) + size + (size & 1)
            guard next < UInt64(length) else { break }
            offset = Int(next)
        }
        guard let data else { throw fail("no data chunk") }
        declaredDataBytes = data.declared
        presentDataBytes = data.present
    }

    /// Checks the frames libsndfile delivered against what the file declares.
    static func check(_ file: any VirtualFile, framesRead: Int, format: FileFormat) throws(MediaError) {
        guard format == .wav else { return }
        let layout = try RIFFLayout(file, format: format)
        if let frames = layout.declaredFrames, UInt64(framesRead) < frames {
            throw MediaError.corrupt(format: format, reason: "truncated: the ds64 chunk declares \(frames) frames, the data holds \(framesRead)")
        }
    }
}
