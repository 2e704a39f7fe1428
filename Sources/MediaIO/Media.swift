/// What a codec consumes and produces: an image, a piece of audio, or plain bytes.
///
/// These are plain value types. Reading and writing files is in `MediaFile`, `PNGFile` and
/// `AudioFile`; detection of what a file holds is in `MediaKind.detect`.
public enum Media: Sendable, Equatable {
    case image(Image)
    case audio(Audio)
    case bytes([UInt8])

    public var kind: MediaKind {
        switch self {
        case .image: .image
        case .audio: .audio
        case .bytes: .bytes
        }
    }
}

/// The three modalities a codec may accept.
public enum MediaKind: String, Sendable, CaseIterable, Codable {
    case image, audio, bytes
}

/// A raster image: `height` rows of `width` pixels, each of `channels` interleaved samples.
///
/// Samples are stored as `UInt16` whatever the bit depth, so 8- and 16-bit images share one
/// code path; an 8-bit image holds values 0...255. Channels: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
public struct Image: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var bitDepth: Int
    public var samples: [UInt16]
    /// How many of the `bitDepth` bits carry information, when the file said fewer (PNG's sBIT,
    /// reduced to its largest channel value); `nil` when all bits count. Readers that honour sBIT
    /// (pypng, for one) scale by it, so a lossless path keeps it to reproduce what they see.
    public var significantBits: Int?

    public init(width: Int, height: Int, channels: Int, bitDepth: Int, samples: [UInt16],
                significantBits: Int? = nil) {
        precondition(width >= 0 && height >= 0, "negative image size")
        precondition((1...4).contains(channels), "channels must be 1...4")
        precondition(bitDepth == 8 || bitDepth == 16, "bit depth must be 8 or 16")
        precondition(samples.count == width * height * channels, "sample count does not match the size")
        precondition(significantBits.map { (1..<bitDepth).contains($0) } ?? true,
                     "significant bits must be below the bit depth")
        self.width = width
        self.height = height
        self.channels = channels
        self.bitDepth = bitDepth
        self.samples = samples
        self.significantBits = significantBits
    }

    /// The largest sample value at this bit depth (255 or 65535).
    public var maxValue: Int { (1 << bitDepth) - 1 }
    public var pixelCount: Int { width * height }
}

/// Audio as interleaved frames of `channels` samples at `sampleRate` frames per second.
///
/// Samples keep the form the file delivered them in, so a lossless path can reproduce them
/// exactly: integer PCM as left-justified `Int32` (as libsndfile's `sf_readf_int` gives them,
/// whatever the bit depth), float as `Float`, double as `Double`. `floats` is the normalised
/// view in [-1, 1) every learned codec works on.
public struct Audio: Sendable, Equatable {
    public enum Samples: Sendable, Equatable {
        /// Left-justified 32-bit integers; `bits` is the source depth (8, 16, 24 or 32).
        case integer(bits: Int, [Int32])
        case float([Float])
        case double([Double])

        public var count: Int {
            switch self {
            case .integer(_, let s): s.count
            case .float(let s): s.count
            case .double(let s): s.count
            }
        }
    }

    public var sampleRate: Int
    public var channels: Int
    public var samples: Samples
    /// The file container and encoding the audio was read from, used to pick a sensible output.
    public var source: AudioSource

    public init(sampleRate: Int, channels: Int, samples: Samples, source: AudioSource = .wav) {
        precondition(sampleRate > 0 && channels > 0, "audio needs a positive rate and channel count")
        precondition(samples.count % channels == 0, "sample count is not a whole number of frames")
        self.sampleRate = sampleRate
        self.channels = channels
        self.samples = samples
        self.source = source
    }

    /// Convenience for codecs that make audio: Float32 samples. WAV keeps them as 32-bit float,
    /// FLAC quantizes them to 16-bit PCM; `quantized(bits:)` gives integer PCM explicitly.
    public init(sampleRate: Int, channels: Int, floats: [Float], source: AudioSource = .wav) {
        self.init(sampleRate: sampleRate, channels: channels, samples: .float(floats), source: source)
    }

    public var frames: Int { samples.count / channels }
    public var duration: Double { Double(frames) / Double(sampleRate) }

    /// Samples as Float32 in [-1, 1): integers divided by 2^31 (exact for depths up to 24 bits).
    public var floats: [Float] {
        switch samples {
        case .integer(_, let s): s.map { Float($0) * (1.0 / 2_147_483_648.0) }
        case .float(let s): s
        case .double(let s): s.map { Float($0) }
        }
    }
}

extension Audio.Samples {
    /// Appends samples of the same form (a block read or decoded after these).
    public mutating func append(_ other: Audio.Samples) {
        // Each case takes the array out of `self` before appending, so it is extended in place
        // rather than copied (gathering a long file block by block stays linear).
        switch other {
        case .integer(let bits, let t):
            guard case .integer(bits, var s) = self else { preconditionFailure("appending samples of another form") }
            self = .float([])
            s.append(contentsOf: t)
            self = .integer(bits: bits, s)
        case .float(let t):
            guard case .float(var s) = self else { preconditionFailure("appending samples of another form") }
            self = .float([])
            s.append(contentsOf: t)
            self = .float(s)
        case .double(let t):
            guard case .double(var s) = self else { preconditionFailure("appending samples of another form") }
            self = .float([])
            s.append(contentsOf: t)
            self = .double(s)
        }
    }
}

/// The audio file an `Audio` came from: container and sample encoding.
public enum AudioSource: String, Sendable, Codable, CaseIterable {
    case wav, flac, oggVorbis = "ogg-vorbis", oggOpus = "ogg-opus", other
}
