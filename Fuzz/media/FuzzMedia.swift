// libFuzzer target for MediaIO's readers (built by mk/media.mk together with Sources/MediaIO, so
// no `import MediaIO`): any bytes through the PNG and audio decoders must give media or a
// MediaError, never a crash, a leak or an out-of-bounds access; whatever decodes must re-encode,
// and a lossless re-encoding must decode to the same media.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMediaIO(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let image = try? PNGFile.decode(bytes) {
        guard let png = try? PNGFile.encode(image), (try? PNGFile.decode(png)) == image else {
            fatalError("a decoded PNG did not round-trip")
        }
    }
    if let audio = try? AudioFile.decode(bytes), audio.frames <= 1 << 16 {
        switch audio.source {
        case .wav, .flac:
            let format: FileFormat = audio.source == .flac ? .flac : .wav
            guard let file = try? AudioFile.encode(audio, as: format), let again = try? AudioFile.decode(file),
                  sameBits(again, audio) else {
                fatalError("decoded \(format) audio did not round-trip")
            }
        default:
            break
        }
    }
    return 0
}

/// Equality of audio with float samples compared bit for bit (NaN payloads included).
func sameBits(_ a: Audio, _ b: Audio) -> Bool {
    guard a.sampleRate == b.sampleRate, a.channels == b.channels, a.source == b.source else { return false }
    switch (a.samples, b.samples) {
    case (.float(let x), .float(let y)): return x.map(\.bitPattern) == y.map(\.bitPattern)
    case (.double(let x), .double(let y)): return x.map(\.bitPattern) == y.map(\.bitPattern)
    default: return a.samples == b.samples
    }
}
