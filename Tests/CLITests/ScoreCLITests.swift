import Foundation
import MediaIO
import Testing

/// `codec score`: each task's plumbing end to end, and its bad input. Pages come from the top of
/// a real document page when ../shared is beside the checkout, otherwise from SampleMedia's
/// camera (no text: the plumbing is the same, only the text checks are skipped).
extension CLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let page = root + "/../shared/data/images/documents/page_00.png"
    static let speech = root + "/SampleMedia/front-center.wav"

    /// A small page with its ground truth beside it; returns its path and whether it holds text.
    func smallPage(_ name: String = "page.png", rows: Int = 340) throws -> (path: String, text: Bool) {
        if let data = FileManager.default.contents(atPath: Self.page),
           case .image(let full) = try MediaFile.decode([UInt8](data)) {
            let top = Image(width: full.width, height: rows, channels: 1, bitDepth: 8, samples: Array(full.samples[0..<full.width * rows]))
            let path = write(name, try MediaFile.encode(.image(top)))
            write(name.replacingOccurrences(of: ".png", with: ".txt"), Array("Chapter 1\n\nIt is a truth universally acknowledged, that a single man in\n".utf8))
            return (path, true)
        }
        let path = write(name, [UInt8](FileManager.default.contents(atPath: Self.root + "/SampleMedia/camera.png")!))
        return (path, false)
    }

    func json(_ r: Result) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: Any] ?? [:]
    }

    @Test func scoreOCRCleanAndThroughALosslessCodec() throws {
        let (page, text) = try smallPage()
        let r = run(["score", "--task", "ocr", "--codec", "lossless", "--json", page])
        #expect(r.status == 0, "\(r.stderr)")
        let out = try json(r)
        let points = out["points"] as? [[String: Any]] ?? []
        #expect(out["metric"] as? String == "CER" && points.map { $0["codec"] as? String } == ["original", "lossless"])
        let vsOriginal = points.last?["errorsVsOriginal"] as? [String: Int]
        #expect(vsOriginal?["edits"] == 0, "a lossless codec must not change what OCR reads")
        #expect((points.last?["rate"] as? Double ?? 0) > 0)
        if text {
            let errors = points.first?["errors"] as? [String: Int]
            #expect(errors?["length"] == 70 && (errors?["edits"] ?? 99) <= 2, "\(points)")
        }
        let table = run(["score", "--task", "ocr", page])
        #expect(table.status == 0 && String(decoding: table.stdout, as: UTF8.self).contains("CER (truth)"))
    }

    @Test func scoreASRThroughAStoreRoundTrip() throws {
        let clip = write("clip.wav", [UInt8](FileManager.default.contents(atPath: Self.speech)!))
        write("clip.txt", Array("FRONT CENTER\n".utf8))
        let r = run(["score", "--task", "asr", "--codec", "store", "--json", clip])
        #expect(r.status == 0, "\(r.stderr)")
        let points = try json(r)["points"] as? [[String: Any]] ?? []
        #expect((points.last?["errorsVsOriginal"] as? [String: Int])?["edits"] == 0)
        #expect((points.first?["errors"] as? [String: Int])?["length"] == 2)
        #expect(try json(r)["rateUnit"] as? String == "kbit/s")
    }

    /// The engines' libraries are loaded at first use (Sources/CTesseract, CPocketSphinx): one that
    /// cannot be loaded (here an empty file of its name, first on the loader's path) makes `score`
    /// say which and exit 2, while commands that need no engine run as before.
    @Test func scoreSaysWhichEngineCannotBeLoaded() throws {
        for name in ["libtesseract.so.5", "libtesseract.so", "libsphinxbase.so.3", "libsphinxbase.so",
                     "libpocketsphinx.so.3", "libpocketsphinx.so"] { write(name, []) }
        let broken = ["LD_LIBRARY_PATH": dir]
        let (page, _) = try smallPage()
        let ocr = run(["score", "--task", "ocr", page], environment: broken)
        #expect(ocr.status == 2 && ocr.stderr.contains("cannot load libtesseract"), "\(ocr.stderr)")
        let clip = write("clip.wav", [UInt8](FileManager.default.contents(atPath: Self.speech)!))
        let asr = run(["score", "--task", "asr", clip], environment: broken)
        #expect(asr.status == 2 && asr.stderr.contains("cannot load pocketsphinx"), "\(asr.stderr)")
        let stored = run(["encode", "--codec", "lossless", "-q", page, "-o", "\(dir)/page.nc"], environment: broken)
        #expect(stored.status == 0, "\(stored.stderr)")
    }

    @Test func scoreKeepsGoodRowsAndNamesBadFiles() throws {
        let (page, _) = try smallPage()
        let bad = write("broken.png", Array("not a png at all".utf8))
        let r = run(["score", "--task", "ocr", "--json", page, bad])
        #expect(r.status == 2 && r.stderr.contains("broken.png"), "\(r.stderr)")
        #expect((try json(r)["rows"] as? [[String: Any]])?.count == 1)

        let wrongKind = run(["score", "--task", "asr", page])
        #expect(wrongKind.status == 1 && wrongKind.stderr.contains("page.png") && wrongKind.stderr.contains("reads audio"), "\(wrongKind.stderr)")
        let text = write("notes.txt", Array("plain words".utf8))
        #expect(run(["score", "--task", "ocr", text]).status == 1)
    }

    @Test func scoreUsageErrors() throws {
        let (page, _) = try smallPage()
        let unknown = run(["score", "--task", "mnist", page])
        #expect(unknown.status == 1 && unknown.stderr.contains("digits-image"), "\(unknown.stderr)")
        #expect(run(["score", "--task", "ocr", "--grid", "level=1,2", page]).status == 1)
        #expect(run(["score", "--task", "ocr", "--sweep", page]).status == 1)
        #expect(run(["score", "--task", "ocr", "--sweep", "--baseline", "opus", page]).status == 1)
        #expect(run(["score", "--task", "ocr", "--codec", "nope", page]).status == 1)
        #expect(run(["score", "--task", "ocr", "--codec", "store", "-p", "nope=1", page]).status == 1)
        let textOnly = run(["score", "--task", "ocr", "--codec", "lm-ac", page])
        #expect(textOnly.status == 1 && textOnly.stderr.contains("does not take image"), "\(textOnly.stderr)")
        #expect(run(["score", "--task", "ocr", "--decoded", "\(dir)/nowhere", page]).status == 1)
    }

    @Test func scoreDecodedFolderFindsMissingAndMismatchedFiles() throws {
        let (page, _) = try smallPage()
        let (other, _) = try smallPage("other.png")
        try FileManager.default.createDirectory(atPath: "\(dir)/dec", withIntermediateDirectories: true)
        #expect(run(["encode", page, "-o", "\(dir)/page.png.nc", "-q"]).status == 0)
        #expect(run(["decode", "\(dir)/page.png.nc", "-o", "\(dir)/dec/page.png", "-q"]).status == 0)
        let ok = run(["score", "--task", "ocr", "--decoded", "\(dir)/dec", "--json", page])
        #expect(ok.status == 0, "\(ok.stderr)")
        let missing = run(["score", "--task", "ocr", "--decoded", "\(dir)/dec", "--json", page, other])
        #expect(missing.status == 2 && missing.stderr.contains("no decoded file for") && missing.stderr.contains("other.png"), "\(missing.stderr)")
        #expect(((try json(missing)["rows"] as? [[String: Any]]) ?? []).contains { $0["codec"] as? String == "decoded dec" })
        let small = Image(width: 8, height: 8, channels: 1, bitDepth: 8, samples: [UInt16](repeating: 200, count: 64))
        write("dec/other.png", try MediaFile.encode(.image(small)))
        let mismatched = run(["score", "--task", "ocr", "--decoded", "\(dir)/dec", other])
        #expect(mismatched.status == 2 && mismatched.stderr.contains("is 8x8"), "\(mismatched.stderr)")
    }

    @Test func sweepRecordsAndResumes() throws {
        let (page, _) = try smallPage(rows: 240)
        let state = "\(dir)/sweep.jsonl"
        let args = ["score", "--sweep", "--task", "ocr", "--codec", "store", "-g", "level=1,9", "--state", state, "--json", page]
        let first = run(args)
        #expect(first.status == 0, "\(first.stderr)")
        let lines = String(decoding: read("sweep.jsonl") ?? [], as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 3)
        // An interrupted line is ignored; the rest is not measured again.
        let handle = FileHandle(forWritingAtPath: state)!
        handle.seekToEndOfFile()
        handle.write(Data("{\"variant\":\"cut sh".utf8))
        try handle.close()
        let second = run(args)
        #expect(second.status == 0 && second.stderr.contains("resuming: 3 measurements"), "\(second.stderr)")
        let a = try json(first)["points"] as? [[String: Any]], b = try json(second)["points"] as? [[String: Any]]
        #expect(a?.map { $0["setting"] as? String } == ["", "level=1", "level=9"])
        #expect(a?.map { $0["rate"] as? Double } == b?.map { $0["rate"] as? Double })
        #expect(String(decoding: read("sweep.jsonl") ?? [], as: UTF8.self).split(separator: "\n").count == 4)
    }

    @Test func sweepWithClassicalBaselines() throws {
        let tools = ["cjpeg", "djpeg", "cwebp", "dwebp", "cjxl", "djxl", "avifenc", "avifdec"]
        guard tools.allSatisfy({ FileManager.default.isExecutableFile(atPath: "/usr/bin/\($0)") }) else { return }
        let (page, _) = try smallPage(rows: 240)
        let r = run(["score", "--sweep", "--task", "ocr", "--baselines", "--fidelity", "--state", "\(dir)/b.jsonl", "--json", page])
        #expect(r.status == 0, "\(r.stderr)")
        let points = try json(r)["points"] as? [[String: Any]] ?? []
        #expect(points.count == 13 && Set(points.compactMap { $0["codec"] as? String }) == ["original", "jpeg", "webp", "jxl", "avif"])
        #expect(points.dropFirst().allSatisfy { ($0["rate"] as? Double ?? 0) > 0 && $0["msssim"] != nil }, "\(points)")
    }
}
