import Foundation

/// `roundtrip --json`: one entry per measured round trip, and one per failure in its place
/// (`{"file", "codec", "error", "exitCode"}`). A metric without a finite value (the PSNR, SNR
/// and SI-SDR of an exact round trip are infinite) is `null`; `fidelity.exact` says whether the
/// round trip was bit-identical. Slashes are not escaped.
enum RoundtripJSON {
    struct Failure {
        /// How many measured rows come before this failure.
        var position: Int
        var file: String
        var codec: String?
        var error: CLIError
    }

    private static let nonFinite = "\u{1}non-finite"

    static func text<Row: Encodable>(_ rows: [Row], failures: [Failure]) throws(CLIError) -> String {
        do {
            let encoder = JSONEncoder()
            encoder.nonConformingFloatEncodingStrategy = .convertToString(
                positiveInfinity: nonFinite, negativeInfinity: nonFinite, nan: nonFinite)
            let measured = try JSONSerialization.jsonObject(with: encoder.encode(rows)) as? [Any] ?? []
            var entries: [Any] = []
            var pending = failures[...]
            for (k, row) in measured.enumerated() {
                while let f = pending.first, f.position <= k { entries.append(entry(f)); pending.removeFirst() }
                entries.append(nullingNonFinite(row))
            }
            entries += pending.map(entry)
            let data = try JSONSerialization.data(withJSONObject: entries,
                                                  options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            return String(decoding: data, as: UTF8.self)
        } catch {
            throw .internalFailure("cannot write the JSON report: \(error)")
        }
    }

    private static func entry(_ f: Failure) -> [String: Any] {
        ["file": FileIO.fileName(of: f.file), "codec": f.codec ?? NSNull(), "error": f.error.message,
         "exitCode": Int(f.error.exitCode)]
    }

    private static func nullingNonFinite(_ value: Any) -> Any {
        switch value {
        case let s as String where s == nonFinite: NSNull()
        case let d as [String: Any]: d.mapValues(nullingNonFinite)
        case let a as [Any]: a.map(nullingNonFinite)
        default: value
        }
    }
}
