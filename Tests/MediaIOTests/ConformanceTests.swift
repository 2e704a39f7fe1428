import Foundation
import Testing
import MediaIO

/// MediaIO's readers against the third-party files in ../shared/conformance (read in place, never
/// copied; skipped when absent). Per MANIFEST.tsv: `reject` files must throw `MediaError`
/// (a note ending in `[strict]` may also be accepted), `roundtrip-exact` files must decode and
/// come back identical through our own encoder (a note ending in `[either]` may also throw), and
/// `lossy-ok` files must not crash. The same files go through the `codec` CLI in `make test`.
@Suite struct ConformanceTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/conformance")
    static var manifest: URL { root.appendingPathComponent("MANIFEST.tsv") }
    static var present: Bool { FileManager.default.fileExists(atPath: manifest.path) }

    struct Row: Sendable {
        var path: String, kind: String, expect: String, note: String
    }

    static func rows() throws -> [Row] {
        let text = try String(contentsOf: manifest, encoding: .utf8)
        return text.split(separator: "\n").dropFirst().map { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            let note = f.count > 5 ? f[5].trimmingCharacters(in: CharacterSet(charactersIn: "\" ")) : ""
            return Row(path: f[0], kind: f[1], expect: f[2], note: note)
        }
    }

    /// What happens to one file: nil when as expected, else why not.
    static func check(_ row: Row) -> String? {
        guard let data = FileManager.default.contents(atPath: root.appendingPathComponent(row.path).path) else {
            return "cannot read the file"
        }
        let either = row.note.hasSuffix("[either]"), strict = row.note.hasSuffix("[strict]")
        let media: Media
        do {
            media = try MediaFile.decode([UInt8](data), name: row.path)
        } catch {
            return row.expect == "reject" || either || row.expect == "lossy-ok" ? nil : "rejected: \(error)"
        }
        switch row.expect {
        case "reject":
            return strict ? nil : "accepted a file to reject (\(media.kind))"
        case "roundtrip-exact":
            guard media.kind == (row.kind == "audio" ? .audio : .image) else { return "decoded as \(media.kind)" }
            do {
                let again = try MediaFile.decode(MediaFile.encode(media))
                return again == media ? nil : "re-encoded file decodes differently"
            } catch {
                return "re-encoding failed: \(error)"
            }
        default:
            return nil
        }
    }

    @Test(.enabled(if: ConformanceTests.present, "../shared/conformance is absent"))
    func everyFileAsTheManifestExpects() throws {
        var failures: [String] = []
        var counts: [String: Int] = [:]
        for row in try Self.rows() where ["png", "image", "audio"].contains(row.kind) {
            counts[row.expect, default: 0] += 1
            if let why = Self.check(row) { failures.append("\(row.expect) \(row.path): \(why)") }
        }
        print("conformance: \(counts.values.reduce(0, +) - failures.count)/\(counts.values.reduce(0, +)) as expected \(counts)")
        #expect(failures.isEmpty, "\(failures.count) files not as expected:\n\(failures.joined(separator: "\n"))")
    }
}
