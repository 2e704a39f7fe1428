import Foundation

/// Where the datasets in `../shared/data` keep their ground truth, looked up by input path:
///
/// - `NAME.txt` beside the input (the document pages: `page_00.png` → `page_00.txt`);
/// - `transcripts.tsv` in the input's folder: `file<TAB>transcript` (LibriSpeech test-other, train);
/// - `metadata.csv` in the input's folder: LJSpeech's `id|text|normalised text`, the normalised
///   column (numbers and abbreviations spelled out, as spoken).
///
/// A missing file means no ground truth; a file that exists but lacks the input's line or cannot
/// be parsed is an error, so a typo never silently turns into "score against the original".
public enum GroundTruth {
    public static func text(for path: String, sidecars: [String]) throws(PerceptionError) -> String? {
        let url = URL(fileURLWithPath: path)
        let stem = url.deletingPathExtension().lastPathComponent
        let dir = url.deletingLastPathComponent()
        for ext in sidecars {
            let sidecar = dir.appendingPathComponent(stem + "." + ext).path
            guard FileManager.default.fileExists(atPath: sidecar) else { continue }
            guard let data = FileManager.default.contents(atPath: sidecar),
                  let text = String(data: data, encoding: .utf8) else {
                throw .badGroundTruth("\(sidecar) is not readable UTF-8 text")
            }
            return text
        }
        return nil
    }

    /// The transcript of an audio file from its folder's `transcripts.tsv` or `metadata.csv`.
    public static func transcript(for path: String) throws(PerceptionError) -> String? {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        let name = url.lastPathComponent
        let stem = url.deletingPathExtension().lastPathComponent
        let tsv = dir.appendingPathComponent("transcripts.tsv").path
        if FileManager.default.fileExists(atPath: tsv) {
            for line in try lines(of: tsv) {
                let fields = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
                guard fields.count == 2 else { continue }
                let key = String(fields[0])
                if key == name || key == stem || URL(fileURLWithPath: key).deletingPathExtension().lastPathComponent == stem {
                    return String(fields[1])
                }
            }
            throw .badGroundTruth("\(tsv) has no line for \(name)")
        }
        let csv = dir.appendingPathComponent("metadata.csv").path
        if FileManager.default.fileExists(atPath: csv) {
            for line in try lines(of: csv) {
                let fields = line.split(separator: "|", omittingEmptySubsequences: false)
                guard fields.count >= 2, fields[0] == stem else { continue }
                return String(fields[fields.count >= 3 ? 2 : 1])
            }
            throw .badGroundTruth("\(csv) has no line for \(stem)")
        }
        return try text(for: path, sidecars: ["txt"])
    }

    private static func lines(of path: String) throws(PerceptionError) -> [Substring] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw .badGroundTruth("\(path) is not readable UTF-8 text")
        }
        return text.split(whereSeparator: \.isNewline)
    }
}
