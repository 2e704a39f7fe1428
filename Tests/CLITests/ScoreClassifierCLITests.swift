import Foundation
import MediaIO
import Testing

/// `codec score` with the classifiers and the feature similarity, on fixtures made here: the
/// plumbing (a lossless codec changes no label and no feature), the sweep's correlations, and
/// bad input (the wrong media kind, the wrong size, a dataset's training item).
extension CLITests {
    /// A 28x28 grayscale "digit" (a bar), a 32x32 RGB picture, and an 8 kHz clip.
    func classifierFixtures() throws -> (digit: String, picture: String, clip: String) {
        var digit = [UInt16](repeating: 0, count: 28 * 28)
        for y in 4..<24 { for x in 12..<16 { digit[y * 28 + x] = 255 } }
        let picture: [UInt16] = (0..<(32 * 32 * 3)).map { (i: Int) -> UInt16 in UInt16((i * 37 + (i / 96) * 11) % 256) }
        let tone: [Float] = (0..<6000).map { (i: Int) -> Float in
            let t = Double(i)
            return Float(0.4 * sin(t * t * 2e-5))
        }
        return (write("7.png", try MediaFile.encode(.image(Image(width: 28, height: 28, channels: 1, bitDepth: 8, samples: digit)))),
                write("picture.png", try MediaFile.encode(.image(Image(width: 32, height: 32, channels: 3, bitDepth: 8, samples: picture)))),
                write("0_tone_1.wav", try MediaFile.encode(.audio(Audio(sampleRate: 8000, channels: 1, floats: tone)))))
    }

    @Test(arguments: [("digits-image", 0), ("cifar10", 1), ("digits-speech", 2)])
    func classifierTaskThroughALosslessCodec(task: String, fixture: Int) throws {
        let f = try classifierFixtures()
        let input = [f.digit, f.picture, f.clip][fixture]
        let r = run(["score", "--task", task, "--codec", "lossless", "--json", input])
        #expect(r.status == 0, "\(r.stderr)")
        let out = try json(r)
        #expect(out["metric"] as? String == "error")
        let points = out["points"] as? [[String: Any]] ?? []
        #expect(points.map { $0["codec"] as? String } == ["original", "lossless"])
        #expect((points.last?["errorsVsOriginal"] as? [String: Int]) == ["edits": 0, "length": 1], "\(points)")
        let rows = out["rows"] as? [[String: Any]] ?? []
        let labels = rows.compactMap { ($0["measurement"] as? [String: Any])?["prediction"] as? Int }
        #expect(labels.count == 2 && labels[0] == labels[1] && (0..<10).contains(labels[0]))
        // The FSDD-named clip has a label (digit 0, test index 1): errors against it exist.
        if task == "digits-speech" { #expect(points.first?["errors"] != nil && points.last?["drop"] as? Double == 0) }
        let table = String(decoding: run(["score", "--task", task, input]).stdout, as: UTF8.self)
        #expect(table.contains("accuracy") && table.contains("error vs original"), "\(table)")
    }

    @Test func similarityIsZeroThroughALosslessCodecAndPositiveAfterALossyOne() throws {
        let f = try classifierFixtures()
        let r = run(["score", "--task", "similarity", "--codec", "lossless", "--json", f.picture, f.digit])
        #expect(r.status == 0, "\(r.stderr)")
        let points = try json(r)["points"] as? [[String: Any]] ?? []
        #expect(points.map { $0["distance"] as? Double } == [0, 0], "\(points)")
        let audio = run(["score", "--task", "similarity", "--codec", "store", "--json", f.clip])
        let audioPoints = try json(audio)["points"] as? [[String: Any]]
        #expect(audio.status == 0 && audioPoints?.last?["distance"] as? Double == 0, "\(audio.stderr)")
        // A decoded folder holding a changed picture: a positive distance.
        try FileManager.default.createDirectory(atPath: "\(dir)/noisy", withIntermediateDirectories: true)
        let noisy: [UInt16] = (0..<(32 * 32 * 3)).map { (i: Int) -> UInt16 in UInt16((i * 53) % 256) }
        write("noisy/picture.png", try MediaFile.encode(.image(Image(width: 32, height: 32, channels: 3, bitDepth: 8, samples: noisy))))
        let d = run(["score", "--task", "similarity", "--decoded", "\(dir)/noisy", "--json", f.picture])
        #expect(d.status == 0, "\(d.stderr)")
        let distance = (try json(d)["points"] as? [[String: Any]])?.last?["distance"] as? Double ?? 0
        #expect(distance > 0.01 && distance <= 2, "\(distance)")
    }

    @Test func classifierSweepGivesDropsAndCorrelations() throws {
        let f = try classifierFixtures()
        let r = run(["score", "--sweep", "--task", "cifar10", "--codec", "store", "-g", "level=1,5,9", "--fidelity",
                     "--state", "\(dir)/c.jsonl", "--json", f.picture])
        #expect(r.status == 0, "\(r.stderr)")
        let out = try json(r)
        let points = out["points"] as? [[String: Any]] ?? []
        #expect(points.count == 4 && points.dropFirst().allSatisfy { $0["drop"] as? Double == 0 && $0["distance"] as? Double == 0 }, "\(points)")
        // Three lossless points: every drop ties, so no ranking and no correlation.
        #expect((out["correlations"] as? [String: Double]) == [:])
        let table = String(decoding: run(["score", "--sweep", "--task", "cifar10", "--codec", "store", "-g", "level=1,9",
                                          "--state", "\(dir)/c2.jsonl", f.picture]).stdout, as: UTF8.self)
        #expect(table.contains("Spearman rank correlation"), "\(table)")
    }

    @Test func classifierTasksRefuseTheWrongMediaSizeAndSplit() throws {
        let f = try classifierFixtures()
        let speechOnImage = run(["score", "--task", "digits-speech", f.digit])
        #expect(speechOnImage.status == 1 && speechOnImage.stderr.contains("7.png") && speechOnImage.stderr.contains("reads audio"), "\(speechOnImage.stderr)")
        let imageOnAudio = run(["score", "--task", "digits-image", f.clip])
        #expect(imageOnAudio.status == 1 && imageOnAudio.stderr.contains("0_tone_1.wav"), "\(imageOnAudio.stderr)")
        // A good file beside a bad one: the good row is kept, the bad one named, exit 2.
        let wrongSize = run(["score", "--task", "cifar10", "--json", f.picture, f.digit])
        #expect(wrongSize.status == 2 && wrongSize.stderr.contains("7.png") && wrongSize.stderr.contains("32x32"), "\(wrongSize.stderr)")
        let wrongRows = try json(wrongSize)["rows"] as? [[String: Any]]
        #expect(wrongRows?.count == 1)
        try FileManager.default.createDirectory(atPath: "\(dir)/cat", withIntermediateDirectories: true)
        let train = write("cat/0005.png", read("picture.png")!)
        let trainItem = run(["score", "--task", "cifar10", train])
        #expect(trainItem.status == 1 && trainItem.stderr.contains("cat/0005.png") && trainItem.stderr.contains("training split"), "\(trainItem.stderr)")
        let text = write("words.txt", Array("no media here".utf8))
        #expect(run(["score", "--task", "similarity", text]).status == 1)
    }
}
