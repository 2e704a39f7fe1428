import CodecKit
import Container
import EntropyCoding

/// The table in front of a multi-image payload: for every image stream, its byte length and
/// the leading byte of its rANS final state, coded with rANS, so the payload can be split into
/// its streams (and any one image decoded alone) for about 5.6 bits per image — a length byte
/// would cost 8, and the leading byte is taken out of the stream, where it costs 8.
///
/// - Lengths: MNIST streams are 30-260 bytes long, with a standard deviation of 32 bytes; they
///   are coded under a discretized Gaussian that the encoder fits (measured: 7.1 bits each).
/// - Leading bytes: `SpreadCompactRANS64` writes its final state in as few bytes as it needs, so
///   the state's most significant byte d is never 0, and as rANS states are spread about
///   log-uniformly, d follows Benford's law, P(d) ≈ log2(1 + 1/d)/8: modelled here as
///   P(d) ∝ 1/(d + ½) (no logarithm, so every machine builds the same table), it costs 6.5 bits
///   instead of 8 (measured on the pc-mnist test images).
///
/// Layout: varint `shortest`, varint `longest − shortest`, varint `mean − shortest` (the
/// Gaussian's centre, a whole length), varint `4 · deviation` (at least 1), varint byte count of
/// the rANS stream, then that stream (`SpreadCompactRANS64`, precision 24): per image, its length
/// minus `shortest` (every length in the window codable) and, if the length is not 0, its leading
/// byte. Then the streams, each without its leading byte.
enum StreamTable {
    static let precision = 24
    /// The widest window of lengths the table codes (streams up to a megabyte: images of up to
    /// about 350,000 pixels at 24 bits each).
    static let maxWindow = 1 << 20

    /// Writes the table, then the streams without their leading bytes.
    static func write(_ streams: [[UInt8]], to w: inout ByteWriter) throws(CodecError) {
        let lengths = streams.map(\.count)
        guard let shortest = lengths.min(), let longest = lengths.max() else { return }
        guard longest - shortest < maxWindow else {
            throw .unsupportedShape("image streams from \(shortest) to \(longest) bytes are beyond the stream table (a window of \(maxWindow))")
        }
        let mean = Double(lengths.reduce(0, +)) / Double(lengths.count)
        let variance = lengths.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(lengths.count)
        let centre = min(max(Int(mean.rounded()), shortest), longest) - shortest
        let quarters = max(1, Int((4 * variance.squareRoot()).rounded()))
        var encoder = SpreadCompactRANS64.Encoder()
        do {
            let lengthModel = try lengthModel(window: longest - shortest + 1, centre: centre, quarters: quarters)
            for s in streams.reversed() {
                if let i = SpreadCompactRANS64.leadingByteIndex(streamLength: s.count) {
                    try encoder.push(Int(s[i]) - 1, model: leadingByteModel)
                }
                try encoder.push(s.count - shortest, model: lengthModel)
            }
        } catch { throw .corruptModel(modelID: "pc", reason: "stream table: \(error)") }
        let table = encoder.finish()
        for v in [shortest, longest - shortest, centre, quarters, table.count] { writeVarint(&w, v) }
        w.bytes(table)
        for s in streams {
            if let i = SpreadCompactRANS64.leadingByteIndex(streamLength: s.count) {
                w.bytes(s[..<i])
                w.bytes(s[(i + 1)...])
            }
        }
    }

    /// Reads the table and then `count` streams, restoring their leading bytes. Checks the
    /// parameters against the bytes left in the payload (no stream may exceed them, so a hostile
    /// header cannot make the model large) and that the streams end exactly with the payload.
    static func read(_ r: inout ByteReader, count: Int) throws(CodecError) -> [[UInt8]] {
        let shortest = try readVarint(&r), span = try readVarint(&r), centre = try readVarint(&r)
        let quarters = try readVarint(&r), tableBytes = try readVarint(&r)
        guard tableBytes <= r.remaining else { throw .corruptPayload("the stream table runs past the payload") }
        guard span < maxWindow, shortest + span <= r.remaining - tableBytes + 1, centre <= span, quarters >= 1 else {
            throw .corruptPayload("stream table parameters do not fit the payload")
        }
        let lengthModel: CategoricalModel
        do { lengthModel = try self.lengthModel(window: span + 1, centre: centre, quarters: quarters) } catch {
            throw .corruptPayload("stream table parameters: \(error)")
        }
        var decoder = SpreadCompactRANS64.Decoder(try! r.take(tableBytes))
        var entries: [(length: Int, leadingByte: UInt8)] = []
        entries.reserveCapacity(count)
        do {
            for _ in 0..<count {
                let length = shortest + (try decoder.decode(model: lengthModel))
                entries.append((length, length > 0 ? UInt8(try decoder.decode(model: leadingByteModel) + 1) : 0))
            }
            try decoder.finish()
        } catch { throw .corruptPayload("the stream table is damaged (\(error))") }
        var streams: [[UInt8]] = []
        streams.reserveCapacity(count)
        for (length, leadingByte) in entries {
            guard let i = SpreadCompactRANS64.leadingByteIndex(streamLength: length) else { streams.append([]); continue }
            guard length - 1 <= r.remaining else { throw .corruptPayload("the streams run past the payload") }
            let stored = try! r.take(length - 1)
            streams.append(Array(stored.prefix(i)) + [leadingByte] + stored.dropFirst(i))
        }
        guard r.remaining == 0 else { throw .corruptPayload("payload has \(r.remaining) bytes beyond its streams") }
        return streams
    }

    /// P(length − shortest = v) ∝ the Gaussian's mass on [v − ½, v + ½), every v codable.
    static func lengthModel(window: Int, centre: Int, quarters: Int) throws(EntropyCodingError) -> CategoricalModel {
        let p = ParametricModelTable.Family.gaussian.discretized(scale: Double(quarters) / 4, values: (-centre)...(window - 1 - centre))
        return try CategoricalModel(probabilities: p, precision: precision, floor: .allSymbols)
    }

    /// Leading byte d in 1...255 as symbol d − 1, P ∝ 1/(d + ½).
    static let leadingByteModel = try! CategoricalModel(probabilities: (1...255).map { 1 / (Double($0) + 0.5) }, precision: 16)
}
