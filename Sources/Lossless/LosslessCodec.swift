import CodecKit
import Container
import EntropyCoding
import MediaIO

/// `lossless`: prediction plus adaptive context modelling over the range coder of EntropyCoding.
///
/// - Images (format 5): green first, red and blue as differences from it; per plane a blend of
///   eight fixed predictors and one learned online (normalised LMS), weighted by their recent errors, bias cancellation, and the residual coded
///   as binary decisions whose context predictions are mixed online (`ImageMixing`). Format 4 (the
///   same without the learned predictor) and formats 1 and 3 (LOCO-I's median predictor with gradient contexts, `ImagePredictor`) still decode.
/// - Integer audio: mid/side, then per channel a cascade of predictors learned online (fixed
///   first order, a 9-tap stage over both channels, sign-LMS filters of 256, 32 and 16 taps),
///   residuals under contexts of their recent magnitude (`AudioCascade`, format 3; format 1's
///   fixed polynomial predictors still decode). Float audio: its `SampleLayout` bytes through
///   the byte model.
/// - Bytes: bitwise context models of orders 1 to 6 mixed in the logistic domain (`ByteModel`).
///
/// Payload: one format byte, then either (5; 1, 3 and 4 from earlier versions) the range-coded stream or (2),
/// when that would not be smaller, the `SampleLayout` bytes as they are, so output never exceeds
/// raw size + 1 byte.
/// Everything is integer arithmetic (the squash table is built with `DeterministicMath.exp`), so
/// files decode on any machine.
public struct LosslessCodec: Codec {
    public static let id = "lossless"
    /// The payload's first byte.
    enum Format: UInt8 {
        /// Version 1 (until issue 22): integer audio by `AudioPredictor`. Still decoded.
        case predicted = 1
        case stored = 2
        /// Version 2: integer audio by `AudioCascade`; images, float audio and bytes as in 1. Still decoded.
        case cascade = 3
        /// Version 3: images by `ImageMixing` with fixed sub-predictors; everything else as in 3. Still decoded.
        case mixed = 4
        /// Version 4 (now): images by `ImageMixing` with its learned (LMS) sub-predictor; everything else as in 4.
        case learned = 5
    }

    public init() {}

    public var info: CodecInfo {
        CodecInfo(id: Self.id, modalities: MediaKind.allCases, lossless: true,
                  summary: "lossless: context-mixed images and bytes, LMS-cascade audio; adaptive range coding",
                  parameters: [CodecParameter("effort", default: "2",
                                              help: "images: 2 adds a learned (LMS) predictor (format 5), 1 codes without it (format 4: measured about 10% faster to decode and 2.5% larger on Kodak)")])
    }

    public func encode(_ media: Media, options: CodecOptions) throws(CodecError) -> ContainerFile {
        try options.validate(against: info)
        let learned = try options.integer("effort", default: 2, in: 1...2) >= 2
        var encoder = RangeEncoder()
        var format = Format.learned
        switch media {
        case .image(let image):
            ImageMixing.encode(image.samples, width: image.width, height: image.height, channels: image.channels,
                               bitDepth: image.bitDepth, learned: learned, into: &encoder)
            if !learned { format = .mixed }
        case .audio(let audio):
            if case .integer(let bits, let samples) = audio.samples {
                AudioCascade.encode(samples, bits: bits, channels: audio.channels, into: &encoder)
            } else {
                ByteModel.encode(SampleLayout.serialize(media), into: &encoder)
            }
        case .bytes(let bytes): ByteModel.encode(bytes, into: &encoder)
        }
        let coded = encoder.finish()
        let descriptor = MediaDescriptor(media)
        var payload: [UInt8]
        if coded.count < descriptor.rawByteCount {
            payload = [format.rawValue] + coded
        } else {
            // The layout is made only when it is stored, straight after the format byte.
            payload = [Format.stored.rawValue]
            payload.reserveCapacity(descriptor.rawByteCount + 1)
            if case .image(let image) = media {
                SampleLayout.forEachRow(of: image) { row in payload.append(contentsOf: row) }
            } else {
                payload += SampleLayout.serialize(media)
            }
        }
        return ContainerFile(codecID: Self.id, media: descriptor, payload: payload)
    }

    public func decode(_ file: ContainerFile) throws(CodecError) -> Media {
        let format = file.payload.first.flatMap(Format.init(rawValue:))
        switch format {
        case .predicted, .cascade, .mixed, .learned: break
        case .stored:
            return try file.payload.withUnsafeBufferPointer { (p) throws(CodecError) in
                try SampleLayout.deserialize(UnsafeBufferPointer(rebasing: p.dropFirst()), as: file.media)
            }
        case nil:
            throw .corruptPayload("lossless payload format \(file.payload.first.map(String.init) ?? "missing") is not 1, 2, 3, 4 or 5")
        }
        // Every coded symbol costs at least ~1.8e-4 bits (no adaptive probability exceeds
        // 1 − 8/65536), so a payload cannot hold more than this many samples per byte.
        let samples = file.media.sampleCount
        guard samples <= 65_536 * (file.payload.count + 8) else {
            throw .corruptPayload("header claims \(samples) samples from a \(file.payload.count)-byte payload")
        }
        do {
            var decoder = try RangeDecoder(file.payload, from: 1)
            let media: Media
            switch file.media {
            case .image(let w, let h, let c, let depth, let sbit):
                var image = format == .mixed || format == .learned
                    ? Image(width: w, height: h, channels: c, bitDepth: depth,
                            samples: try ImageMixing.decode(width: w, height: h, channels: c, bitDepth: depth,
                                                            learned: format == .learned, from: &decoder))
                    : try ImagePredictor.decode(width: w, height: h, channels: c, bitDepth: depth, from: &decoder)
                image.significantBits = sbit > 0 ? sbit : nil
                media = .image(image)
            case .audio(let rate, let channels, let frames, let bits, _) where bits > 0:
                let values = format != .predicted
                    ? try AudioCascade.decode(count: frames * channels, bits: bits, channels: channels, from: &decoder)
                    : try AudioPredictor.decode(count: frames * channels, bits: bits, channels: channels, from: &decoder)
                media = .audio(Audio(sampleRate: rate, channels: channels, samples: .integer(bits: bits, values),
                                     source: file.media.audioSource))
            case .audio:
                let bytes = try ByteModel.decode(count: samples * file.media.bytesPerSample, from: &decoder)
                media = try SampleLayout.deserialize(bytes, as: file.media)
            case .bytes(let n):
                media = .bytes(try ByteModel.decode(count: n, from: &decoder))
            }
            try decoder.finish()
            return media
        } catch let error as EntropyCodingError {
            throw .corruptPayload(error.description)
        } catch let error as CodecError {
            throw error
        } catch {
            throw .internalFailure("\(error)")
        }
    }
}

/// Signed residuals through adaptive models: the magnitude class k (bit length of the zigzag
/// value) with a frequency model per context, the bit below the leading one with a bit model per
/// (context, class), the remaining bits bypassed.
struct ResidualCoder {
    private var classes: [AdaptiveFrequencyModel]
    private var secondBits: [AdaptiveBitModel]
    private let classCount: Int

    /// `maxBits`: zigzag values stay below 2^maxBits.
    init(contexts: Int, maxBits: Int) {
        classCount = maxBits + 1
        classes = (0..<contexts).map { _ in try! AdaptiveFrequencyModel(alphabetSize: maxBits + 1, precision: 16) }
        secondBits = [AdaptiveBitModel](repeating: AdaptiveBitModel(rate: 5), count: contexts * (maxBits + 1))
    }

    mutating func encode(_ residual: Int64, context: Int, into encoder: inout RangeEncoder) {
        let u = UInt64(bitPattern: residual >= 0 ? residual << 1 : ~(residual << 1))  // zigzag
        let k = 64 - u.leadingZeroBitCount
        try! encoder.encode(k, model: classes[context])
        classes[context].update(k)
        guard k >= 2 else { return }
        encoder.encode(bit: (u >> UInt64(k - 2)) & 1 == 1, model: &secondBits[context * classCount + k])
        var remaining = k - 2
        while remaining > 0 {
            let chunk = min(remaining, 32)
            remaining -= chunk
            encoder.encodeBypass(UInt32(truncatingIfNeeded: u >> UInt64(remaining)), bitCount: chunk)
        }
    }

    mutating func decode(context: Int, from decoder: inout RangeDecoder) throws(EntropyCodingError) -> Int64 {
        let k = try decoder.decode(model: classes[context])
        classes[context].update(k)
        guard k > 0 else { return 0 }
        var u: UInt64 = 1
        if k >= 2 {
            u = u << 1 | (try decoder.decodeBit(model: &secondBits[context * classCount + k]) ? 1 : 0)
            var remaining = k - 2
            while remaining > 0 {
                let chunk = min(remaining, 32)
                remaining -= chunk
                u = u << UInt64(chunk) | UInt64(try decoder.decodeBypass(bitCount: chunk))
            }
        }
        return u & 1 == 0 ? Int64(u >> 1) : -Int64(u >> 1) - 1
    }
}

/// LOCO-I / JPEG-LS median edge detector with gradient contexts, plus inter-channel
/// prediction for colour: the green and blue predictions add the red (green) channel's MED
/// residual at the same pixel, and that residual's size joins the context.
enum ImagePredictor {
    static let gradientContexts = 18  // bit length of the summed neighbour gradients, 0...17
    static let residualContexts = 9   // bit length of the previous channel's residual, 0...8
    static func contextCount(channels: Int) -> Int { channels * gradientContexts * residualContexts }

    /// Visits every sample in raster order with its prediction and context; `body` must leave
    /// the sample's true value in `samples[index]` (the decoder writes it there).
    @inline(__always)
    static func scan(width: Int, height: Int, channels: Int, bitDepth: Int, samples: UnsafeMutableBufferPointer<UInt16>,
                     _ body: (_ index: Int, _ prediction: Int, _ context: Int) throws(EntropyCodingError) -> Void) throws(EntropyCodingError) {
        let row = width * channels
        let half = 1 << (bitDepth - 1), mask = (1 << bitDepth) - 1
        let residualShift = bitDepth == 16 ? 1 : 0
        for y in 0..<height {
            for x in 0..<width {
                var previousResidual = 0
                for c in 0..<channels {
                    let i = y * row + x * channels + c
                    let up = y > 0 ? Int(samples[i - row]) : (x > 0 ? Int(samples[i - channels]) : half)
                    let left = x > 0 ? Int(samples[i - channels]) : up
                    let upLeft = x > 0 && y > 0 ? Int(samples[i - row - channels]) : up
                    let upRight = x + 1 < width && y > 0 ? Int(samples[i - row + channels]) : up
                    let med = upLeft >= max(left, up) ? min(left, up) : upLeft <= min(left, up) ? max(left, up) : left + up - upLeft
                    let gradient = abs(upRight - up) + abs(up - upLeft) + abs(upLeft - left)
                    var context = c * gradientContexts + min(gradientContexts - 1, Int.bitWidth - gradient.leadingZeroBitCount)
                    var prediction = med
                    if channels >= 3 && (c == 1 || c == 2) {
                        prediction += previousResidual
                        let size = (Int.bitWidth - abs(previousResidual).leadingZeroBitCount) >> residualShift
                        context = context * residualContexts + min(residualContexts - 1, size)
                    } else {
                        context *= residualContexts
                    }
                    try body(i, prediction, context)
                    previousResidual = ((Int(samples[i]) - med + half) & mask) - half
                }
            }
        }
    }

    static func encode(_ image: Image, into encoder: inout RangeEncoder) {
        var residuals = ResidualCoder(contexts: contextCount(channels: image.channels), maxBits: image.bitDepth)
        let mask = image.maxValue, half = 1 << (image.bitDepth - 1)
        image.samples.withUnsafeBufferPointer { samples in
            // `scan` takes a mutable buffer for the decoder; encoding only reads it, so the
            // image's own samples serve, with no copy.
            let s = UnsafeMutableBufferPointer(mutating: samples)
            try! scan(width: image.width, height: image.height, channels: image.channels, bitDepth: image.bitDepth, samples: s) { i, prediction, context in
                // The residual wrapped into [−2^(d−1), 2^(d−1)): the decoder adds it back modulo 2^d.
                let residual = ((Int(s[i]) - prediction + half) & mask) - half
                residuals.encode(Int64(residual), context: context, into: &encoder)
            }
        }
    }

    static func decode(width: Int, height: Int, channels: Int, bitDepth: Int,
                       from decoder: inout RangeDecoder) throws(EntropyCodingError) -> Image {
        var residuals = ResidualCoder(contexts: contextCount(channels: channels), maxBits: bitDepth)
        var samples = [UInt16](repeating: 0, count: width * height * channels)
        let mask = (1 << bitDepth) - 1
        try samples.withUnsafeMutableBufferPointer { (s) throws(EntropyCodingError) in
            try scan(width: width, height: height, channels: channels, bitDepth: bitDepth, samples: s) { (i, prediction, context) throws(EntropyCodingError) in
                let residual = try residuals.decode(context: context, from: &decoder)
                s[i] = UInt16((prediction + Int(truncatingIfNeeded: residual)) & mask)
            }
        }
        return Image(width: width, height: height, channels: channels, bitDepth: bitDepth, samples: samples)
    }
}

/// Format 1's integer audio, kept to decode files written before `AudioCascade` (issue 22):
/// FLAC's fixed predictors (order 0...3) chosen per block and channel (2 bypass bits each), the
/// residual contexts from a running mean of residual magnitudes. Nothing encodes it any more.
enum AudioPredictor {
    static let blockFrames = 4096

    @inline(__always)
    static func predict(order: Int, _ h1: Int64, _ h2: Int64, _ h3: Int64) -> Int64 {
        switch order {
        case 0: 0
        case 1: h1
        case 2: 2 * h1 - h2
        default: 3 * h1 - 3 * h2 + h3
        }
    }

    /// Context from the running mean (×16) of |residual|: its bit length.
    @inline(__always)
    static func context(_ mean: Int64, contexts: Int) -> Int { min(contexts - 1, 64 - (mean >> 4).leadingZeroBitCount) }

    static func decode(count: Int, bits: Int, channels: Int, from decoder: inout RangeDecoder) throws(EntropyCodingError) -> [Int32] {
        let maxBits = bits + 4, contexts = maxBits + 1
        var residuals = ResidualCoder(contexts: contexts, maxBits: maxBits)
        var values = [Int64](repeating: 0, count: count)
        let frames = count / channels
        let low = -(Int64(1) << (bits - 1)), high = Int64(1) << (bits - 1)
        var means = [Int64](repeating: 0, count: channels)
        for start in stride(from: 0, to: frames, by: blockFrames) {
            let end = min(frames, start + blockFrames)
            for c in 0..<channels {
                let order = Int(try decoder.decodeBypass(bitCount: 2))
                for f in start..<end {
                    let h1 = f >= 1 ? values[(f - 1) * channels + c] : 0
                    let h2 = f >= 2 ? values[(f - 2) * channels + c] : 0
                    let h3 = f >= 3 ? values[(f - 3) * channels + c] : 0
                    let residual = try residuals.decode(context: context(means[c], contexts: contexts), from: &decoder)
                    let value = predict(order: order, h1, h2, h3) &+ residual
                    guard value >= low, value < high else { throw .corruptInput("audio sample outside \(bits)-bit range") }
                    values[f * channels + c] = value
                    means[c] += abs(residual) - (means[c] >> 4)
                }
            }
        }
        return values.map { Int32(truncatingIfNeeded: $0 << Int64(32 - bits)) }
    }
}

/// Bytes, bit by bit (most significant first), context mixing as in lpaq: bit models under the
/// order-1, 2, 3, 4 and 6 contexts (order 1 direct, the others hashed per context and nibble
/// into buckets of 16 slots), each a `CountedBitProbability` (learning rate from its hit count),
/// mixed in the logistic (stretch) domain by EntropyCoding's `LogisticMixer`, one weight vector
/// per partial byte (the image model of format 4 shares both). All fixed-point integer arithmetic.
struct ByteModel {
    static let countLimit: UInt32 = 60

    static let hashedOrders = [2, 3, 4, 6]
    /// log2 of each hashed table's slots: sized to the input (encoder and decoder both know its
    /// length), 2^12...2^22, so small inputs do not pay for 64 MiB of tables.
    let hashBits: Int
    static let inputs = 1 + hashedOrders.count + 1  // order 1, hashed orders, bias

    private var direct = [UInt32](repeating: CountedBitProbability.initial, count: 256 * 256)
    private var hashed: [UInt32]
    private var mixer = LogisticMixer(inputs: inputs, contexts: 256)
    private var history: UInt64 = 0
    // Per-byte scratch, kept here so coding a byte allocates nothing.
    private var contextHashes = [UInt32](repeating: 0, count: hashedOrders.count)
    private var slots = [Int](repeating: 0, count: inputs - 1)
    private var buckets = [Int](repeating: 0, count: hashedOrders.count)

    init(length: Int) {
        hashBits = min(22, max(12, Int.bitWidth - length.leadingZeroBitCount + 3))
        hashed = [UInt32](repeating: CountedBitProbability.initial, count: Self.hashedOrders.count << hashBits)
        mixer.inputs[Self.inputs - 1] = 256
    }

    @inline(__always) static func update(_ slot: inout UInt32, _ bit: Bool) {
        CountedBitProbability.update(&slot, bit, limit: countLimit)
    }

    /// Codes (or decodes) one byte; `bitAt` gets P(bit = 1) in 1...4095 of 4096 and the bit
    /// position, and returns the encoder's bit or the decoder's.
    @inline(__always)
    private mutating func code(_ bitAt: (_ probabilityOfOne: UInt32, _ position: Int) throws(EntropyCodingError) -> Bool) throws(EntropyCodingError) -> Int {
        for (k, order) in Self.hashedOrders.enumerated() {
            let context = history & ((1 << UInt64(8 * order)) - 1)
            let mixed = (context &+ UInt64(order)) &* 0x9E37_79B9_7F4A_7C15
            contextHashes[k] = UInt32(truncatingIfNeeded: mixed >> 32)
        }
        let previous = Int(history & 0xFF)
        var node = 1
        var nibble = 1  // the bits of the current nibble so far, behind a leading 1: 1...15
        for position in (0..<8).reversed() {
            if position == 7 || position == 3 {
                // A bucket of 16 slots per context and nibble, so the four bits of a nibble hit
                // one cache line per order instead of four random ones.
                for k in 0..<Self.hashedOrders.count {
                    let h = (contextHashes[k] ^ UInt32(node) &* 0x85EB_CA6B) >> UInt32(32 - (hashBits - 4))
                    buckets[k] = k << hashBits | Int(h) << 4
                }
                nibble = 1
            }
            slots[0] = previous << 8 | node
            mixer.inputs[0] = Logistic.stretch(CountedBitProbability.probability12(direct[slots[0]]))
            for k in 0..<Self.hashedOrders.count {
                slots[k + 1] = buckets[k] | nibble
                mixer.inputs[k + 1] = Logistic.stretch(CountedBitProbability.probability12(hashed[slots[k + 1]]))
            }
            let p = mixer.mix(context: node)
            let bit = try bitAt(UInt32(p), position)
            mixer.update(bit: bit)
            Self.update(&direct[slots[0]], bit)
            for k in 1..<Self.inputs - 1 { Self.update(&hashed[slots[k]], bit) }
            node = node << 1 | (bit ? 1 : 0)
            nibble = nibble << 1 | (bit ? 1 : 0)
        }
        let byte = node & 0xFF
        history = history << 8 | UInt64(byte)
        return byte
    }

    static func encode(_ bytes: [UInt8], into encoder: inout RangeEncoder) {
        var model = ByteModel(length: bytes.count)
        for byte in bytes {
            _ = try! model.code { p1, position in
                let bit = (byte >> UInt8(position)) & 1 == 1
                encoder.encode(bit: bit, probabilityOfZero: 4096 - p1, precision: 12)
                return bit
            }
        }
    }

    static func decode(count: Int, from decoder: inout RangeDecoder) throws(EntropyCodingError) -> [UInt8] {
        var model = ByteModel(length: count)
        var bytes = [UInt8]()
        bytes.reserveCapacity(min(count, 1 << 26))
        for _ in 0..<count {
            bytes.append(UInt8(try model.code { p1, _ throws(EntropyCodingError) in
                try decoder.decodeBit(probabilityOfZero: 4096 - p1, precision: 12)
            }))
        }
        return bytes
    }
}
