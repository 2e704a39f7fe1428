import MediaIO

/// Media metadata carried in the header, enough to size and check the decoded result.
public enum MediaDescriptor: Sendable, Equatable {
    /// `significantBits`: the PNG sBIT value when below `bitDepth` (the source's true precision), else 0.
    case image(width: Int, height: Int, channels: Int, bitDepth: Int, significantBits: Int = 0)
    /// `sampleFormat`: 8, 16, 24, 32 for integer PCM; -32 float; -64 double.
    /// `source`: the audio container it came from (0 wav, 1 flac, 2 ogg-vorbis, 3 ogg-opus, 255 other).
    case audio(sampleRate: Int, channels: Int, frames: Int, sampleFormat: Int, source: Int)
    case bytes(count: Int)
}

extension MediaDescriptor {
    /// The header description of `media`.
    public init(_ media: Media) {
        switch media {
        case .image(let i):
            self = .image(width: i.width, height: i.height, channels: i.channels, bitDepth: i.bitDepth,
                          significantBits: i.significantBits ?? 0)
        case .audio(let a):
            let format: Int
            switch a.samples {
            case .integer(let bits, _): format = bits
            case .float: format = -32
            case .double: format = -64
            }
            let source = MediaDescriptor.audioSources.firstIndex(of: a.source) ?? 255
            self = .audio(sampleRate: a.sampleRate, channels: a.channels, frames: a.frames, sampleFormat: format, source: source)
        case .bytes(let b):
            self = .bytes(count: b.count)
        }
    }

    public var kind: MediaKind {
        switch self {
        case .image: .image
        case .audio: .audio
        case .bytes: .bytes
        }
    }

    /// The audio containers by their code in the header (docs/FORMAT.md); 255 is any other.
    public static let audioSources: [AudioSource] = [.wav, .flac, .oggVorbis, .oggOpus]

    /// The `AudioSource` an audio descriptor records.
    public var audioSource: AudioSource {
        guard case .audio(_, _, _, _, let s) = self, Self.audioSources.indices.contains(s) else { return .other }
        return Self.audioSources[s]
    }

    /// Number of samples (pixels x channels, frames x channels, or bytes) the media holds.
    public var sampleCount: Int {
        switch self {
        case .image(let w, let h, let c, _, _): w * h * c
        case .audio(_, let c, let f, _, _): f * c
        case .bytes(let n): n
        }
    }

    /// Bytes per sample of the raw form: what "raw size" and compression ratios count.
    public var bytesPerSample: Int {
        switch self {
        case .image(_, _, _, let depth, _): depth / 8
        case .audio(_, _, _, let format, _): abs(format) / 8
        case .bytes: 1
        }
    }

    /// The raw size of the media in bytes.
    public var rawByteCount: Int { sampleCount * bytesPerSample }

    /// Same kind and size; the audio source container may differ (a decoder may report the
    /// container it restores to rather than the one recorded).
    public func matchesShape(of other: MediaDescriptor) -> Bool {
        switch (self, other) {
        case let (.audio(r1, c1, f1, s1, _), .audio(r2, c2, f2, s2, _)): r1 == r2 && c1 == c2 && f1 == f2 && s1 == s2
        default: self == other
        }
    }
}

extension MediaDescriptor {
    /// The header description of the audio a reader has read to its end.
    public init(_ reader: AudioReader) {
        self = .audio(sampleRate: reader.sampleRate, channels: reader.channels, frames: reader.framesRead,
                      sampleFormat: reader.sampleFormat, source: MediaDescriptor.audioSources.firstIndex(of: reader.source) ?? 255)
    }
}
