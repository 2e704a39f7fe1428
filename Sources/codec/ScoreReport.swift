import CodecKit
import Foundation
import Metrics
import Perception

/// The tables and JSON of `codec score`, computed from the measurements in the state: every
/// error rate is recomputed from the stored predictions, so a resumed run reports the same
/// numbers as one that never stopped.
struct ScoreReport {
    /// One file through one variant.
    struct Row: Codable {
        var file, codec, setting: String
        /// This file's rate in the report's unit (bits/pixel for images, kbit/s for audio).
        var rate: Double?
        /// Against the ground truth (nil without one): the original's and the decoded media's
        /// errors; and the decoded media's errors against the prediction on the original.
        var originalErrors, decodedErrors, errorsVsOriginal: ErrorTally?
        /// The prediction, coded bits, fidelity and seconds, as recorded.
        var measurement: ScoreMeasurement
    }

    /// One variant over every file: a point of the rate sweep.
    struct Point: Codable {
        var codec, setting: String
        var files: Int
        /// All coded bits over all pixels or milliseconds; nil unless every file has a size.
        var rate: Double?
        var errors, errorsVsOriginal: ErrorTally?
        /// Means over the files (PSNR and SI-SDR: of the finite per-file values).
        var psnr, msssim, snr, sisdr: Double?
        /// Mean feature distance to the original: the similarity task's score, or measured beside
        /// another task with --fidelity.
        var distance: Double?
        /// The task's error rate here minus the original's (against the ground truth where the
        /// inputs have one, else against the prediction on the original); nil for the original
        /// itself and for the similarity task.
        var drop: Double?
        var seconds: Double
    }

    /// Spearman's ρ between the coded points' drops and each fidelity measure (psnr, msssim or
    /// snr, sisdr; feature_distance), over the points that have both; nil below 3 points.
    var correlations: [String: Double] = [:]
    var correlatedPoints = 0

    let task: TaskInfo
    let rateUnit: String
    var rows: [Row] = []
    var points: [Point] = []
    var groundTruthFailures: [CLIError] = []
    let seconds: Double

    init(task: any PerceptionTask, files: [String], sizes: [String: MediaSize], variants: [ScoreVariant],
         state: ScoreState, seconds: Double) throws(CLIError) {
        self.task = task.info
        self.seconds = seconds
        var truths: [String: Prediction] = [:]
        for file in files {
            do {
                if let t = try task.reference(for: file) { truths[file] = t }
            } catch {
                groundTruthFailures.append(scoreError(error, context: file))
            }
        }
        rateUnit = task.info.media == .image ? "bits/pixel" : "kbit/s"
        for variant in variants {
            var point = Point(codec: variant.codecName, setting: variant.setting, files: 0, seconds: 0)
            var bits = 0, units = 0.0, allSized = true
            var psnr: [Double] = [], msssim: [Double] = [], snr: [Double] = [], sisdr: [Double] = [], distance: [Double] = []
            for file in files {
                guard let m = state.lookup(variant, file) else { continue }
                let original = state.lookup(.original, file)
                let size = sizes[file]
                let amount = task.info.media == .image ? size?.pixels.map(Double.init) : size?.seconds.map { $0 * 1000 }
                var row = Row(file: file, codec: variant.codecName, setting: variant.setting,
                              rate: m.bits.flatMap { b in amount.map { Double(b) / $0 } }, measurement: m)
                if let truth = truths[file] {
                    row.decodedErrors = task.errors(of: m.prediction, against: truth)
                    row.originalErrors = original.map { task.errors(of: $0.prediction, against: truth) }
                    point.errors = (point.errors ?? ErrorTally()) + row.decodedErrors!
                }
                if variant != .original, let original {
                    row.errorsVsOriginal = task.errors(of: m.prediction, against: original.prediction)
                    point.errorsVsOriginal = (point.errorsVsOriginal ?? ErrorTally()) + row.errorsVsOriginal!
                }
                if let f = m.fidelity {
                    if let v = f.psnr, v.isFinite { psnr.append(v) }
                    if let v = f.msssim { msssim.append(v) }
                    if let v = f.snr, v.isFinite { snr.append(v) }
                    if let v = f.sisdr, v.isFinite { sisdr.append(v) }
                }
                if let d = m.prediction.distance ?? m.featureDistance { distance.append(d) }
                if let b = m.bits, let amount { bits += b; units += amount } else { allSized = false }
                point.files += 1
                point.seconds += m.seconds
                rows.append(row)
            }
            if allSized && units > 0 { point.rate = Double(bits) / units }
            func mean(_ v: [Double]) -> Double? { v.isEmpty ? nil : v.reduce(0, +) / Double(v.count) }
            (point.psnr, point.msssim, point.snr, point.sisdr) = (mean(psnr), mean(msssim), mean(snr), mean(sisdr))
            point.distance = mean(distance)
            if variant != .original, task.info.metric != "distance", let clean = points.first {
                if let e = point.errors, let o = clean.errors {
                    point.drop = e.rate - o.rate
                } else if let e = point.errorsVsOriginal {
                    point.drop = e.rate
                }
            }
            points.append(point)
        }
        correlate()
    }

    /// Spearman's ρ of the drop with each fidelity measure over the coded points.
    mutating func correlate() {
        let image = task.media == .image
        let measures: [(String, KeyPath<Point, Double?>)] = image
            ? [("psnr", \.psnr), ("msssim", \.msssim), ("feature_distance", \.distance)]
            : [("snr", \.snr), ("sisdr", \.sisdr), ("feature_distance", \.distance)]
        let coded = points.dropFirst().filter { $0.drop != nil }
        correlatedPoints = coded.count
        for (name, key) in measures {
            let pairs = coded.compactMap { p in p[keyPath: key].map { (p.drop!, $0) } }
            if pairs.count == coded.count, let rho = RankCorrelation.spearman(pairs.map(\.0), pairs.map(\.1)) {
                correlations[name] = rho
            }
        }
    }

    func json() -> String {
        struct Output: Codable {
            var task, metric, rateUnit: String
            var seconds: Double
            var points: [Point], rows: [Row]
            /// Spearman's ρ of the drop with psnr/msssim (snr/sisdr) and feature_distance.
            var correlations: [String: Double]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let data = (try? encoder.encode(Output(task: task.id, metric: task.metric, rateUnit: rateUnit, seconds: seconds, points: points, rows: rows,
                                                  correlations: correlations))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Per file (unless a sweep), then one line per codec setting over all files; the fidelity
    /// columns with --fidelity; with `correlations`, Spearman's ρ under the points.
    func printTables(perFile: Bool, fidelity: Bool, correlations showCorrelations: Bool = false) {
        let metric = task.metric
        let image = task.media == .image
        let similarity = metric == "distance"
        let fidelityNames = fidelity ? (image ? ["PSNR dB", "MS-SSIM"] : ["SNR dB", "SI-SDR dB"]) + (similarity ? [] : ["feature dist"]) : []
        func cells(_ a: Double?, _ b: Double?, _ d: Double?, _ format: String) -> [String] {
            guard fidelity else { return [] }
            return [a.map { String(format: "%.2f", $0) } ?? "", b.map { String(format: format, $0) } ?? ""]
                + (similarity ? [] : [d.map { String(format: "%.4f", $0) } ?? ""])
        }
        func distance(_ d: Double?) -> String { d.map { String(format: "%.4f", $0) } ?? "-" }
        if perFile {
            let taskNames = similarity ? ["distance"] : ["\(metric) original", "\(metric) decoded", "\(metric) vs original"]
            printTable(header: ["file", "codec", "setting", "rate"] + taskNames + fidelityNames,
                       rows: rows.map { r in
                           let f = r.measurement.fidelity
                           let taskCells = similarity ? [distance(r.measurement.prediction.distance)]
                               : [Self.percent(r.originalErrors ?? (r.codec == "original" ? r.decodedErrors : nil)),
                                  r.codec == "original" ? "" : Self.percent(r.decodedErrors), Self.percent(r.errorsVsOriginal)]
                           return [FileIO.fileName(of: r.file), r.codec, r.setting, Self.rate(r.rate, rateUnit)] + taskCells
                               + (image ? cells(f?.psnr, f?.msssim, r.measurement.featureDistance, "%.4f")
                                        : cells(f?.snr, f?.sisdr, r.measurement.featureDistance, "%.2f"))
                       })
            print("")
        }
        let classifier = metric == "error"
        let taskNames = similarity ? ["distance"]
            : ["\(metric) (truth)", "\(metric) vs original"] + (classifier ? ["accuracy"] : []) + ["drop"]
        printTable(header: ["codec", "setting", "files", "rate"] + taskNames + fidelityNames + ["seconds"],
                   rows: points.map { p in
                       let taskCells = similarity ? [distance(p.distance)]
                           : [Self.tally(p.errors), Self.tally(p.errorsVsOriginal)]
                               + (classifier ? [p.errors.map { String(format: "%.2f%%", 100 * (1 - $0.rate)) } ?? "-"] : [])
                               + [p.drop.map { String(format: "%+.2f pt", 100 * $0) } ?? ""]
                       return [p.codec, p.setting, "\(p.files)", Self.rate(p.rate, rateUnit)] + taskCells
                           + (image ? cells(p.psnr, p.msssim, p.distance, "%.4f") : cells(p.snr, p.sisdr, p.distance, "%.2f"))
                           + [String(format: "%.1f", p.seconds)]
                   })
        if showCorrelations && !similarity {
            let names = image ? [("psnr", "PSNR"), ("msssim", "MS-SSIM"), ("feature_distance", "feature distance")]
                              : [("snr", "SNR"), ("sisdr", "SI-SDR"), ("feature_distance", "feature distance")]
            let found = names.compactMap { key, label in correlations[key].map { String(format: "%@ %+.3f", label, $0) } }
            print("")
            if found.isEmpty {
                print("Spearman rank correlation of the \(metric) drop: needs --fidelity and at least 3 coded points (\(correlatedPoints) here).")
            } else {
                print("Spearman rank correlation of the \(metric) drop with, over \(correlatedPoints) coded points: "
                      + found.joined(separator: ", ") + " (|ρ| near 1: orders the points as the drop does; the drop should fall with PSNR/MS-SSIM and rise with the distance).")
            }
        }
    }

    static func rate(_ r: Double?, _ unit: String) -> String {
        guard let r else { return "-" }
        return String(format: unit == "kbit/s" ? "%.2f %@" : "%.4f %@", r, unit == "kbit/s" ? "kbit/s" : "b/px")
    }

    static func percent(_ t: ErrorTally?) -> String {
        t.map { String(format: "%.2f%%", 100 * $0.rate) } ?? "-"
    }

    static func tally(_ t: ErrorTally?) -> String {
        t.map { String(format: "%.2f%% (%d/%d)", 100 * $0.rate, $0.edits, $0.length) } ?? "-"
    }
}
