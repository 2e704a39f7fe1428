import Container
import Foundation
import MediaIO
import Testing
import TestSupport

/// End-to-end tests of the `codec` executable: exit codes, messages, and that no output is ever
/// left behind by a failure. They run the binary built beside the test bundle.
@Suite struct CLITests {
    let dir: String

    init() throws {
        dir = NSTemporaryDirectory() + "codec-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    @Test func bytesRoundTripExactly() throws {
        let input = write("in.bin", Array((0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 13) }))
        #expect(run(["encode", input, "-o", "\(dir)/in.nc", "--quiet"]).status == 0)
        #expect(run(["decode", "\(dir)/in.nc", "-o", "\(dir)/out.bin", "--quiet"]).status == 0)
        #expect(read("out.bin") == read("in.bin"))
    }

    @Test func stdinToStdout() throws {
        let data = Array("standard streams".utf8)
        let encoded = run(["encode", "-", "-o", "-", "--quiet"], stdin: data)
        #expect(encoded.status == 0)
        let decoded = run(["decode", "-", "-o", "-", "--quiet"], stdin: encoded.stdout)
        #expect(decoded.status == 0 && decoded.stdout == data)
    }

    @Test func unknownCodecIsAUsageError() {
        let input = write("a.txt", Array("abc".utf8))
        let r = run(["encode", "--codec", "no-such-codec", input, "-o", "\(dir)/a.nc"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("unknown codec 'no-such-codec'"))
        #expect(!exists("a.nc"))
    }

    @Test func outputDirectoryMustExist() {
        let input = write("a.txt", Array("abc".utf8))
        let r = run(["encode", input, "-o", "\(dir)/missing/a.nc"])
        #expect(r.status == 1 && r.stderr.contains("does not exist"))
    }

    @Test func noOverwriteWithoutForce() {
        let input = write("a.txt", Array("abc".utf8))
        #expect(run(["encode", input, "-o", "\(dir)/a.nc", "-q"]).status == 0)
        let existing = write("taken.txt", Array("keep me".utf8))
        let r = run(["decode", "\(dir)/a.nc", "-o", existing])
        #expect(r.status == 1 && r.stderr.contains("--force"))
        #expect(read("taken.txt") == Array("keep me".utf8))
        #expect(run(["decode", "\(dir)/a.nc", "-o", existing, "--force", "-q"]).status == 0)
        #expect(read("taken.txt") == Array("abc".utf8))
    }

    @Test func truncatedContainerIsRejected() {
        let container = encodedSample()
        for cut in [0, 3, 10, container.count / 2, container.count - 1] {
            write("cut.nc", Array(container[0..<cut]))
            let r = run(["decode", "\(dir)/cut.nc", "-o", "\(dir)/cut.out", "--force"])
            #expect(r.status == 2, "cut at \(cut): \(r.stderr)")
            #expect(!exists("cut.out"))
        }
    }

    /// Every single-byte corruption of a small container either fails cleanly with exit 2 and a
    /// message or (where the CRC cannot see it) still decodes: never a crash, never partial output.
    @Test func everyCorruptedByteFailsCleanly() {
        let container = encodedSample()
        for i in container.indices {
            var bad = container
            bad[i] ^= 0x5A
            write("bad.nc", bad)
            let r = run(["decode", "\(dir)/bad.nc", "-o", "\(dir)/bad.out", "--force", "-q"])
            #expect(r.status == 2 || r.status == 0, "byte \(i): exit \(r.status) \(r.stderr)")
            if r.status == 2 {
                #expect(r.stderr.contains("error:"), "byte \(i): no message")
                #expect(!exists("bad.out"), "byte \(i): partial output left")
            }
        }
    }

    /// `--strict` on decode and roundtrip; a damaged payload of a codec without its own block
    /// checks is refused (exit 2, no output) with or without it, even when a forged file sets the
    /// container's self-checked flag; `info` says where such a file is damaged.
    @Test func strictFlagAndDamagedPayloadsOfCodecsWithoutBlockChecks() throws {
        let good = encodedSample()
        write("good.nc", good)
        let r = run(["decode", "--strict", "\(dir)/good.nc", "-o", "\(dir)/good.out", "--force", "-q"])
        #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
        #expect(read("good.out") == Array("a small sample for corruption tests".utf8))
        #expect(run(["roundtrip", "--strict", "-q", "\(dir)/sample.txt"]).status == 0)

        var forged = try ContainerFile(parsing: good)
        forged.flags = .selfCheckedPayload
        var bytes = forged.serialized()
        #expect(bytes[4] == 2)
        bytes[bytes.count - 6] ^= 0x10
        write("forged.nc", bytes)
        for strict in [[], ["--strict"]] {
            let d = run(["decode"] + strict + ["\(dir)/forged.nc", "-o", "\(dir)/forged.out", "--force"])
            #expect(d.status == 2 && d.stderr.contains("CRC-32 mismatch"), "\(d.stderr)")
            #expect(!d.stderr.contains("warning") && !exists("forged.out"))
        }
        let info = run(["info", "\(dir)/forged.nc"])
        #expect(info.status == 0 && String(decoding: info.stdout, as: UTF8.self).contains("version 2, header CRC-32 ok, payload damaged"))
    }

    @Test func headerClaimingTerapixelsIsRejected() {
        let c = ContainerFile(codecID: "store", media: .image(width: 1 << 20, height: 1 << 20, channels: 3, bitDepth: 8), payload: [1, 2, 3])
        write("huge.nc", c.serialized())
        let r = run(["decode", "\(dir)/huge.nc", "-o", "\(dir)/huge.png"])
        #expect(r.status == 2 && r.stderr.contains("limits"))
        #expect(!exists("huge.png"))
    }

    @Test func payloadClaimingMoreThanDeflateCanHoldIsRejected() {
        let c = ContainerFile(codecID: "store", media: .bytes(count: 1 << 33), payload: [0x78, 0x9C, 3, 0])
        write("bomb.nc", c.serialized())
        let r = run(["decode", "\(dir)/bomb.nc", "-o", "\(dir)/bomb.out"])
        #expect(r.status == 2)
    }

    @Test func missingModelIsNamed() {
        let c = ContainerFile(codecID: "lm-ac", modelID: "no-such-model", modelHash: 42, media: .bytes(count: 3), payload: [1, 2])
        write("model.nc", c.serialized())
        let r = run(["decode", "\(dir)/model.nc", "-o", "\(dir)/model.out"])
        #expect(r.status == 2 && r.stderr.contains("no-such-model"))
    }

    @Test func unknownCodecInAFileIsBadInput() {
        let c = ContainerFile(codecID: "from-the-future", media: .bytes(count: 3), payload: [1, 2])
        write("future.nc", c.serialized())
        let r = run(["decode", "\(dir)/future.nc", "-o", "\(dir)/future.out"])
        #expect(r.status == 2 && r.stderr.contains("from-the-future"))
    }

    @Test func batchWithShards() throws {
        let inputs = (0..<5).map { write("f\($0).txt", Array("file \($0)".utf8)) }
        try FileManager.default.createDirectory(atPath: "\(dir)/out", withIntermediateDirectories: true)
        #expect(run(["encode", "-o", "\(dir)/out", "--shard", "1/2", "-q"] + inputs).status == 0)
        let written = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/out").sorted()
        #expect(written == ["f1.txt.nc", "f3.txt.nc"])
        try FileManager.default.createDirectory(atPath: "\(dir)/back", withIntermediateDirectories: true)
        #expect(run(["decode", "-o", "\(dir)/back", "-q", "\(dir)/out/f1.txt.nc", "\(dir)/out/f3.txt.nc"]).status == 0)
        #expect(read("back/f3.txt") == Array("file 3".utf8))
        #expect(run(["encode", "--shard", "2/2", "-o", "\(dir)/out"] + inputs).status == 1)
    }

    @Test func interruptedEncodeLeavesNothing() throws {
        // Incompressible-ish bytes large enough that deflate at level 9 takes a while.
        var rng = SplitMix64(seed: 7)
        let big = (0..<(48 << 20)).map { _ in UInt8(truncatingIfNeeded: rng.next() >> 61) }
        let input = write("big.bin", big)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: codecPath)
        p.arguments = ["encode", input, "-o", "\(dir)/big.nc", "-q"]
        try p.run()
        Thread.sleep(forTimeInterval: 0.6)
        p.interrupt()
        p.waitUntilExit()
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".big") || $0 == "big.nc" }
        #expect(p.terminationStatus == 128 + SIGINT, "encode was not interrupted (exit \(p.terminationStatus))")
        #expect(left.isEmpty, "left behind: \(left)")
    }

    /// A codec with a released model is found again from the container's codec and model ids.
    @Test func modelCodecRoundTripsThroughFiles() throws {
        let digit = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("SampleMedia/digit-28x28.png").path
        #expect(run(["encode", "--codec", "pc-mnist", digit, "-o", "\(dir)/d.nc", "-q"]).status == 0)
        #expect(run(["decode", "\(dir)/d.nc", "-o", "\(dir)/d.png", "-q"]).status == 0)
        #expect(read("d.png") != nil)
        let r = run(["roundtrip", "--json", "--codec", "pc-mnist", digit])
        let rows = try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [[String: Any]]
        #expect((rows?.first?["fidelity"] as? [String: Any])?["exact"] as? Bool == true, "\(r.stderr)")
    }

    /// `lm-ac` with `lm=off` writes a container naming no model; it must still find its codec.
    @Test func modelOptionalCodecWithoutItsModelRoundTrips() throws {
        let input = write("cm.txt", Array(String(repeating: "context mixing only. ", count: 40).utf8))
        let r = run(["roundtrip", "--json", "--codec", "lm-ac", "-p", "lm=off", input])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [[String: Any]]
        #expect((rows?.first?["fidelity"] as? [String: Any])?["exact"] as? Bool == true)
    }

    @Test func roundtripReportsExactJSON() throws {
        let input = write("r.txt", Array(String(repeating: "round trip ", count: 50).utf8))
        let r = run(["roundtrip", "--json", input])
        #expect(r.status == 0)
        let rows = try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [[String: Any]]
        let fidelity = rows?.first?["fidelity"] as? [String: Any]
        #expect(fidelity?["exact"] as? Bool == true)
    }

    // MARK: helpers

    var codecPath: String {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for dir in [here, here.deletingLastPathComponent()] {
            let p = dir.appendingPathComponent("codec").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return here.appendingPathComponent("codec").path
    }

    /// One code path for every codec with a model: missing, truncated or different weights fail
    /// with exit 2 naming the model, on encode and on decode. The codecs come from `codec list`,
    /// so a new codec is covered by its registration line.
    @Test func damagedModelsFailNamingTheModelForEveryCodec() throws {
        let list = String(decoding: run(["list"]).stdout, as: UTF8.self)
        let rows = list.split(separator: "\n").map { $0.split(separator: "  ", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) } }
        let withModels = rows.dropFirst(2).prefix { $0.count >= 5 }.filter { $0[3] != "-" }
        #expect(withModels.count >= 3)  // pc-mnist, lm-ac, eiw today
        for row in withModels {
            let (id, model) = (row[0], row[3])
            let kind = MediaKind(rawValue: String(row[1].split(separator: ",")[0]))!
            let input: String
            switch kind {
            case .image:
                let pixels = (0..<(28 * 28)).map { UInt16($0 % 7 == 0 ? 200 : 0) }
                input = write("in-\(id).png", try MediaFile.encode(.image(Image(width: 28, height: 28, channels: 1, bitDepth: 8, samples: pixels))))
            case .audio:
                input = write("in-\(id).wav", try MediaFile.encode(.audio(Audio(sampleRate: 16_000, channels: 1, floats: (0..<16_000).map { Float(sin(Double($0) / 10) / 2) }))))
            case .bytes:
                input = write("in-\(id).txt", Array("a text for the model check".utf8))
            }
            let good = run(["encode", "--codec", id, input, "-o", "\(dir)/\(id).nc", "-q"])
            #expect(good.status == 0, "\(id): \(good.stderr)")
            let original = repositoryRoot + "/Codecs/" + model
            let weights = try [UInt8](Data(contentsOf: URL(fileURLWithPath: original + "/model.safetensors")))
            var different = weights
            different[different.count - 1] ^= 0x40
            for (damage, bytes) in [("missing", nil), ("truncated", Array(weights.prefix(weights.count / 2))), ("different", different)] as [(String, [UInt8]?)] {
                let models = "\(dir)/models-\(id)-\(damage)"
                try FileManager.default.createDirectory(atPath: models + "/" + model, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: original + "/codec.json", toPath: models + "/\(model)/codec.json")
                if let bytes { write("models-\(id)-\(damage)/\(model)/model.safetensors", bytes) }
                let env = ["NEURALCODECS_MODELS": models]
                let decoded = run(["decode", "\(dir)/\(id).nc", "-o", "\(dir)/\(id)-\(damage).out", "--force"], environment: env)
                #expect(decoded.status == 2 && decoded.stderr.contains("'\(model)'"), "\(id) decode, \(damage) model: \(decoded.status) \(decoded.stderr)")
                #expect(!exists("\(id)-\(damage).out"))
                if damage != "different" {
                    let encoded = run(["encode", "--codec", id, input, "-o", "\(dir)/\(id)-\(damage).nc", "--force"], environment: env)
                    #expect(encoded.status == 2 && encoded.stderr.contains("'\(model)'"), "\(id) encode, \(damage) model: \(encoded.stderr)")
                }
            }
        }
    }

    /// `codec tokens` and decoding its .npy go through the registry's exporter and input form.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: repositoryRoot + "/Codecs/eiw-m1/model.safetensors")))
    func tokensExportAndDecodeBack() {
        let text = Array("tokens of a text, and the text back from them".utf8)
        let input = write("t.txt", text)
        let r = run(["tokens", input, "-o", "\(dir)/t.npy", "-p", "token=8"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(run(["decode", "\(dir)/t.npy", "-o", "\(dir)/t.out", "-q"]).status == 0)
        #expect(read("t.out") == text)
        let stored = run(["encode", "--codec", "store", input, "-o", "\(dir)/s.nc", "-q"])
        #expect(stored.status == 0)
        let wrong = run(["tokens", "\(dir)/s.nc", "-o", "\(dir)/s.npy"])
        #expect(wrong.status == 1 && wrong.stderr.contains("eiw"))
        #expect(run(["latents", input, "-o", "\(dir)/l.npy"]).status == 1)
    }

    struct Result { var status: Int32; var stdout: [UInt8]; var stderr: String }

    func run(_ args: [String], stdin: [UInt8] = [], environment: [String: String] = [:]) -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: codecPath)
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
        p.standardInput = inPipe
        p.standardOutput = outPipe
        p.standardError = errPipe
        do { try p.run() } catch { return Result(status: -1, stdout: [], stderr: "cannot start \(codecPath): \(error)") }
        inPipe.fileHandleForWriting.write(Data(stdin))
        try? inPipe.fileHandleForWriting.close()
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        let err = errPipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: [UInt8](out), stderr: String(decoding: err, as: UTF8.self))
    }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let path = "\(dir)/\(name)"
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    func read(_ name: String) -> [UInt8]? {
        FileManager.default.contents(atPath: "\(dir)/\(name)").map { [UInt8]($0) }
    }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: "\(dir)/\(name)") }

    func encodedSample() -> [UInt8] {
        let input = write("sample.txt", Array("a small sample for corruption tests".utf8))
        _ = run(["encode", input, "-o", "\(dir)/sample.nc", "--force", "-q"])
        return read("sample.nc") ?? []
    }
}

