import CodecKit
import Container
import EntropyCoding

/// The byte lengths of a payload's image streams, coded with rANS under a discretized Gaussian
/// fitted by the encoder, so a multi-image payload can be split into its streams (and any one
/// image decoded alone) for about 7 bits per image instead of a length byte: MNIST streams are
/// 30-260 bytes long, with a standard deviation of 32 bytes.
///
/// Layout: varint `shortest`, varint `longest − shortest`, varint `mean − shortest` (the
/// Gaussian's centre, a whole length), varint `4 · deviation` (at least 1), varint byte count of
/// the rANS stream, then that stream (`SpreadCompactRANS64`, precision 24): the lengths minus
/// `shortest`, over the alphabet 0...(longest − shortest), where every length keeps a nonzero
/// frequency.
enum StreamLengthTable {
    static let precision = 24
    /// The widest window of lengths the table codes (streams up to a megabyte: images of up to
    /// about 350,000 pixels at 24 bits each).
    static let maxWindow = 1 << 20

    static func write(_ lengths: [Int], to w: inout ByteWriter) throws(CodecError) {
        guard let shortest = lengths.min(), let longest = lengths.max() else { return }
        guard longest - shortest < maxWindow else {
            throw .unsupportedShape("image streams from \(shortest) to \(longest) bytes are beyond the length table (a window of \(maxWindow))")
        }
        let mean = Double(lengths.reduce(0, +)) / Double(lengths.count)
        let variance = lengths.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(lengths.count)
        let centre = min(max(Int(mean.rounded()), shortest), longest) - shortest
        let quarters = max(1, Int((4 * variance.squareRoot()).rounded()))
        let model: CategoricalModel
        do { model = try lengthModel(window: longest - shortest + 1, centre: centre, quarters: quarters) } catch {
            throw .corruptModel(modelID: "pc", reason: "stream length model: \(error)")
        }
        var encoder = SpreadCompactRANS64.Encoder()
        do {
            for l in lengths.reversed() { try encoder.push(l - shortest, model: model) }
        } catch { throw .corruptModel(modelID: "pc", reason: "stream length model: \(error)") }
        let table = encoder.finish()
        for v in [shortest, longest - shortest, centre, quarters, table.count] { writeVarint(&w, v) }
        w.bytes(table)
    }

    /// Reads `count` lengths, checking the parameters against the bytes left in the payload: no
    /// length may exceed them, so a hostile header cannot make the model large.
    static func read(_ r: inout ByteReader, count: Int) throws(CodecError) -> [Int] {
        let shortest = try readVarint(&r), span = try readVarint(&r), centre = try readVarint(&r)
        let quarters = try readVarint(&r), tableBytes = try readVarint(&r)
        guard tableBytes <= r.remaining else { throw .corruptPayload("the stream length table runs past the payload") }
        guard span < maxWindow, shortest + span <= r.remaining - tableBytes, centre <= span, quarters >= 1 else {
            throw .corruptPayload("stream length table parameters do not fit the payload")
        }
        let model: CategoricalModel
        do { model = try lengthModel(window: span + 1, centre: centre, quarters: quarters) } catch {
            throw .corruptPayload("stream length table parameters: \(error)")
        }
        let table = try! r.take(tableBytes)
        var decoder = SpreadCompactRANS64.Decoder(table)
        var lengths: [Int] = []
        lengths.reserveCapacity(count)
        do {
            for _ in 0..<count { lengths.append(shortest + (try decoder.decode(model: model))) }
            try decoder.finish()
        } catch { throw .corruptPayload("the stream length table is damaged (\(error))") }
        return lengths
    }

    /// P(length − shortest = v) ∝ the Gaussian's mass on [v − ½, v + ½), every v codable.
    static func lengthModel(window: Int, centre: Int, quarters: Int) throws(EntropyCodingError) -> CategoricalModel {
        let p = ParametricModelTable.Family.gaussian.discretized(scale: Double(quarters) / 4, values: (-centre)...(window - 1 - centre))
        return try CategoricalModel(probabilities: p, precision: precision, floor: .allSymbols)
    }
}
