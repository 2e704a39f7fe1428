import Circuits
import CodecKit
import Container
import Dispatch
import EntropyCoding
import Foundation
import MediaIO

/// Lossless image codec driven by a probabilistic circuit (a hidden Chow-Liu tree): each pixel is
/// coded with rANS under p(pixel | pixels coded before it), computed exactly from the circuit's
/// marginals (Liu, Mandt and Van den Broeck, ICLR 2022). See docs/CIRCUITS.md.
///
/// Input: one `rows`x`columns` 8-bit grayscale image, or an IDX file (as bytes) of such images.
/// Payload: `u8` layout version (2); then, for one image, its stream; for more, the stream table
/// (`StreamTable`: lengths and leading bytes) and the streams. The image count is the header's.
/// Each image is its own `SpreadCompactRANS64` stream, so any one image decodes alone.
public struct PCCodec: Codec {
    public static let codecID = "pc"
    public let info: CodecInfo
    public let rows: Int
    public let columns: Int
    let conditionals: SequentialConditionals
    /// The weights this codec runs, recorded in and checked against every container.
    let identity: ModelIdentity
    static let layoutVersion: UInt8 = 2
    /// Coder precision: every pixel's conditional is quantized to intervals of 2^24.
    static let precision = 24

    /// A codec around an in-memory model (tests, training), identified by `modelID` and `modelHash`.
    public init(model: HiddenChowLiuTree, rows: Int, columns: Int, modelID: String, modelHash: UInt64) throws(CodecError) {
        guard rows > 0, columns > 0, rows * columns == model.variableCount, model.valueCount == 256 else {
            throw .corruptModel(modelID: modelID, reason: "the circuit has \(model.variableCount) variables of \(model.valueCount) values, not \(rows)x\(columns) 8-bit pixels")
        }
        self.rows = rows
        self.columns = columns
        identity = ModelIdentity(id: modelID, hash: modelHash)
        conditionals = SequentialConditionals(model)
        info = PCCodec.info(modelID: modelID, rows: rows, columns: columns)
    }

    /// The released model `modelID` (default `pc-mnist`) from the model store, built once per
    /// process.
    public init(modelID: String = "pc-mnist", store: ModelStore = ModelStore()) throws(CodecError) {
        self = try store.model(modelID) { (loaded) throws(CodecError) in
            let config = try loaded.configuration(ModelConfig.self)
            let model: HiddenChowLiuTree
            do { model = try ModelFile.parse(loaded.weights) } catch {
                throw .corruptModel(modelID: modelID, reason: "\(error)")
            }
            guard config.codec == PCCodec.codecID, config.states == model.stateCount, config.precision == PCCodec.precision else {
                throw .corruptModel(modelID: modelID, reason: "codec.json (codec \(config.codec), \(config.states) states, precision \(config.precision)) does not describe model.safetensors (\(model.stateCount) states)")
            }
            return try PCCodec(model: model, rows: config.rows, columns: config.columns, modelID: modelID, modelHash: loaded.hash)
        }
    }

    /// codec.json of a released model.
    public struct ModelConfig: Codable, Sendable {
        public var codec: String
        public var rows: Int
        public var columns: Int
        public var states: Int
        public var precision: Int
        public init(rows: Int, columns: Int, states: Int) {
            codec = PCCodec.codecID; self.rows = rows; self.columns = columns; self.states = states
            precision = PCCodec.precision
        }
    }

    public static func info(modelID: String = "pc-mnist", rows: Int = 28, columns: Int = 28) -> CodecInfo {
        CodecInfo(id: modelID, codecID: codecID, modelID: modelID, modalities: [.image, .bytes], lossless: true,
                  summary: "lossless \(rows)x\(columns) grayscale images (PNG or IDX) with a probabilistic circuit + rANS")
    }

    var shapeDescription: String { "a \(rows)x\(columns) 8-bit grayscale image, or an IDX file (magic 0x00000803) of \(rows)x\(columns) images" }

    // MARK: Encoding

    public func encode(_ media: Media, options: CodecOptions) throws(CodecError) -> ContainerFile {
        try options.validate(against: info)
        let pixels: [UInt8]
        switch media {
        case .image(let image):
            guard image.width == columns, image.height == rows, image.channels == 1, image.bitDepth == 8 else {
                throw .unsupportedShape("\(info.id) takes \(shapeDescription); got a \(image.width)x\(image.height) image with \(image.channels) channel(s) at \(image.bitDepth) bits")
            }
            pixels = image.samples.map { UInt8($0) }
        case .bytes(let bytes):
            let idx: IDXImages
            do { idx = try IDXImages(parsing: bytes) } catch {
                throw .unsupportedShape("\(info.id) takes \(shapeDescription); these bytes are not one (\(error.description))")
            }
            guard idx.rows == rows, idx.columns == columns else {
                throw .unsupportedShape("\(info.id) takes \(shapeDescription); the IDX file holds \(idx.rows)x\(idx.columns) images")
            }
            pixels = idx.pixels
        case .audio:
            throw .unsupportedMedia(codec: info.id, kind: .audio, accepts: info.modalities)
        }
        let streams = try encodeImages(pixels)
        var w = ByteWriter()
        w.u8(PCCodec.layoutVersion)
        if streams.count > 1 { try StreamTable.write(streams, to: &w) } else { for s in streams { w.bytes(s) } }
        return ContainerFile(codecID: PCCodec.codecID, modelID: info.modelID ?? "", modelHash: identity.hash,
                             media: MediaDescriptor(media), payload: w.data)
    }

    /// One rANS stream per image, images spread over the cores (each stream depends only on its
    /// image, so the output does not depend on the thread count).
    func encodeImages(_ pixels: [UInt8]) throws(CodecError) -> [[UInt8]] {
        let d = rows * columns, n = pixels.count / d
        let out = Locked([[UInt8]](repeating: [], count: n))
        let failures = Locked([String?](repeating: nil, count: n))
        let workers = min(n, ProcessInfo.processInfo.activeProcessorCount * 4)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for i in stride(from: worker, to: n, by: workers) {
                do {
                    let stream = try encodeImage(pixels[(i * d)..<((i + 1) * d)])
                    out.withValue { $0[i] = stream }
                } catch { failures.withValue { $0[i] = "image \(i): \(error)" } }
            }
        }
        if let bad = failures.withValue({ $0.lazy.compactMap { $0 }.first }) { throw .corruptModel(modelID: info.id, reason: bad) }
        return out.withValue { $0 }
    }

    /// Codes one image (row-major pixels) into its own compact rANS stream. Throws only for a
    /// conditional the quantizer rejects (a model whose probabilities vanish or overflow).
    public func encodeImage(_ pixels: ArraySlice<UInt8>) throws(CodecError) -> [UInt8] {
        if pixels.allSatisfy({ $0 == 0 }) { return [] }  // see `decodeImage(_:)`
        let base = pixels.startIndex
        var intervals: [SymbolInterval] = []
        intervals.reserveCapacity(pixels.count)
        do {
            try conditionals.walk { (conditional) throws(EntropyCodingError) -> Int in
                let x = Int(pixels[base + conditional.variable])
                let model = try QuantizedCumulative(conditional, precision: PCCodec.precision)
                guard let interval = model.interval(of: x) else { throw .unencodableSymbol(x, index: intervals.count) }
                intervals.append(interval)
                return x
            }
        } catch { throw .corruptModel(modelID: info.id, reason: "pixel conditional: \(error)") }
        var encoder = SpreadCompactRANS64.Encoder()
        for interval in intervals.reversed() { encoder.push(interval, precision: PCCodec.precision) }
        return encoder.finish()
    }

    // MARK: Decoding

    public func decode(_ file: ContainerFile) throws(CodecError) -> Media {
        guard file.codecID == PCCodec.codecID, file.modelID == info.modelID ?? "" else {
            throw .corruptPayload("this file was written by codec '\(file.codecID)' model '\(file.modelID)', not \(info.id)")
        }
        try identity.check(file)
        let d = rows * columns
        let count: Int
        switch file.media {
        case .image(let w, let h, let c, let depth, _):
            guard w == columns, h == rows, c == 1, depth == 8 else { throw .corruptPayload("header declares a \(w)x\(h)x\(c) image; \(info.id) writes \(columns)x\(rows)x1") }
            count = 1
        case .bytes(let n):
            guard n >= 16, (n - 16) % d == 0 else { throw .corruptPayload("header declares \(n) bytes, not an IDX file of \(rows)x\(columns) images") }
            count = (n - 16) / d
        case .audio:
            throw .corruptPayload("header declares audio; \(info.id) writes images")
        }
        let streams = try PCCodec.streams(in: file.payload, count: count)
        let images = try decodeImages(streams)
        if case .image = file.media {
            return .image(Image(width: columns, height: rows, channels: 1, bitDepth: 8, samples: images[0].map { UInt16($0) }))
        }
        return .bytes(IDXImages(rows: rows, columns: columns, pixels: images.flatMap { $0 }).serialized())
    }

    /// Splits a payload into its per-image streams, checking every length against the bytes present.
    static func streams(in payload: [UInt8], count: Int) throws(CodecError) -> [[UInt8]] {
        var r = ByteReader(payload)
        guard r.remaining > 0, try! r.u8() == layoutVersion else { throw .corruptPayload("empty payload or unknown pc payload layout version") }
        switch count {
        case 0:
            guard r.remaining == 0 else { throw .corruptPayload("the payload of an empty IDX file holds \(r.remaining) bytes") }
            return []
        case 1: return [Array(try! r.take(r.remaining))]
        default: return try StreamTable.read(&r, count: count)
        }
    }

    func decodeImages(_ streams: [[UInt8]]) throws(CodecError) -> [[UInt8]] {
        let out = Locked([[UInt8]](repeating: [], count: streams.count))
        let failures = Locked([String?](repeating: nil, count: streams.count))
        let workers = min(streams.count, ProcessInfo.processInfo.activeProcessorCount * 4)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for i in stride(from: worker, to: streams.count, by: workers) {
                do {
                    let pixels = try decodeImage(streams[i][...])
                    out.withValue { $0[i] = pixels }
                } catch { failures.withValue { $0[i] = "image \(i): \(error)" } }
            }
        }
        if let bad = failures.withValue({ $0.lazy.compactMap { $0 }.first }) { throw .corruptPayload(bad) }
        return out.withValue { $0 }
    }

    /// Decodes image `index` of a container alone, reading only its own stream.
    public func decodeImage(at index: Int, of file: ContainerFile) throws(CodecError) -> [UInt8] {
        let count: Int
        switch file.media {
        case .image: count = 1
        case .bytes(let n) where n >= 16: count = (n - 16) / (rows * columns)
        default: throw .corruptPayload("header declares no images")
        }
        try identity.check(file)
        let streams = try PCCodec.streams(in: file.payload, count: count)
        guard streams.indices.contains(index) else { throw .invalidOption("image \(index) does not exist (the file holds \(count))") }
        return try decodeImage(streams[index][...])
    }

    /// Decodes one image's stream to its row-major pixels.
    public func decodeImage(_ stream: ArraySlice<UInt8>) throws(CodecError) -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: rows * columns)
        // The empty stream is the all-zero image (value 0 owns slot 0 in every conditional, so
        // state 0 stays 0): no model evaluation, whatever count of images a header declares.
        if stream.isEmpty { return pixels }
        var decoder = SpreadCompactRANS64.Decoder(stream)
        do {
            try conditionals.walk { (conditional) throws(EntropyCodingError) -> Int in
                let x = try decoder.decode(model: QuantizedCumulative(conditional, precision: PCCodec.precision))
                pixels[conditional.variable] = UInt8(x)
                return x
            }
        } catch { throw .corruptModel(modelID: info.id, reason: "pixel conditional: \(error)") }
        do { try decoder.finish() } catch { throw .corruptPayload("an image stream does not decode cleanly (damaged data: \(error))") }
        return pixels
    }
}

func writeVarint(_ w: inout ByteWriter, _ value: Int) {
    var v = UInt64(value)
    while v >= 0x80 { w.u8(UInt8(v & 0x7F) | 0x80); v >>= 7 }
    w.u8(UInt8(v))
}

func readVarint(_ r: inout ByteReader) throws(CodecError) -> Int {
    var v: UInt64 = 0
    for shift in stride(from: 0, to: 63, by: 7) {
        guard r.remaining > 0 else { throw .corruptPayload("payload ends inside a length") }
        let b = try! r.u8()
        v |= UInt64(b & 0x7F) << UInt64(shift)
        if b < 0x80 { return v <= UInt64(Int32.max) ? Int(v) : Int(Int32.max) }
    }
    throw .corruptPayload("malformed length")
}

/// A pixel's conditional is a cumulative distribution: the quantizer reads it one boundary at a
/// time, so no pixel needs all K probabilities.
extension SequentialConditionals.Conditional: CumulativeDistribution {}
