import Container
import Foundation
import MediaIO
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Issue 17: special files, write failures, interrupts, errors that name their file, formats the
/// tool cannot write, and the small things a user trips on. Special files and write failures are
/// tested for real, on a FIFO and device nodes this test makes in its own temporary directory.
extension CLITests {
    // MARK: 1. special files

    @Test func fifoOutputIsWrittenThroughNotReplaced() throws {
        let input = write("s.txt", Array(String(repeating: "special ", count: 200).utf8))
        #expect(run(["encode", input, "-o", "\(dir)/s.nc", "-q"]).status == 0)
        #expect(mkfifo("\(dir)/fifo", 0o644) == 0)
        let r = shell("cat '\(dir)/fifo' > '\(dir)/got' & \"$CODEC\" encode '\(input)' -o '\(dir)/fifo' -q; s=$?; wait; exit $s")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(fileType("fifo") == S_IFIFO, "the FIFO was replaced")
        #expect(read("got") == read("s.nc"), "the FIFO's reader did not get the container")
    }

    @Test(.enabled(if: getuid() == 0, "mknod needs root"))
    func deviceOutputIsWrittenThroughNotReplaced() throws {
        let input = write("d.txt", Array("device".utf8))
        #expect(mknod("\(dir)/null", S_IFCHR | 0o666, deviceNumber(1, 3)) == 0)
        #expect(mknod("\(dir)/full", S_IFCHR | 0o666, deviceNumber(1, 7)) == 0)
        let ok = run(["encode", input, "-o", "\(dir)/null", "--force", "-q"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(fileType("null") == S_IFCHR, "the device node was replaced")
        let full = run(["encode", input, "-o", "\(dir)/full", "--force"])
        #expect(full.status == 3, "\(full.stderr)")
        #expect(full.stderr.contains("cannot write \(dir)/full: No space left on device"), "\(full.stderr)")
        #expect(fileType("full") == S_IFCHR, "the device node was replaced")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).allSatisfy { !$0.hasPrefix(".") })
    }

    // MARK: 2. write failures

    @Test(.enabled(if: getuid() == 0, "mknod needs root"))
    func writeFailuresOnStandardOutputAreReported() throws {
        #expect(mknod("\(dir)/full", S_IFCHR | 0o666, deviceNumber(1, 7)) == 0)
        let input = write("w.txt", Array("write failure".utf8))
        #expect(run(["encode", input, "-o", "\(dir)/w.nc", "-q"]).status == 0)
        for command in ["encode '\(input)' -o -", "decode '\(dir)/w.nc' -o -", "list", "info '\(dir)/w.nc'",
                        "roundtrip --json '\(input)'"] {
            let r = shell("\"$CODEC\" \(command) > '\(dir)/full'")
            #expect(r.status == 3, "\(command): exit \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("cannot write standard output: No space left on device"), "\(command): \(r.stderr)")
            #expect(!r.stderr.contains("Fatal error"), "\(command): \(r.stderr)")
        }
    }

    @Test func closedPipeEndsQuietly() throws {
        var rng = SplitMix64(seed: 17)
        let input = write("p.bin", (0..<(4 << 20)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        #expect(run(["encode", input, "-o", "\(dir)/p.nc", "-q", "--codec", "store", "-p", "level=1"]).status == 0)
        let r = shell("\"$CODEC\" decode '\(dir)/p.nc' -o - | head -c 10 > /dev/null; exit ${PIPESTATUS[0]}")
        #expect(r.status == 141, "exit \(r.status): \(r.stderr)")
        #expect(r.stderr.isEmpty, "\(r.stderr)")
    }

    // MARK: 3. interrupts

    /// Interrupts a batch at random moments: what is left is complete containers, never a
    /// temporary or a partial file.
    @Test func interruptedBatchLeavesNothingPartial() throws {
        var rng = SplitMix64(seed: 3)
        var list = ""
        for k in 0..<10 {
            list += write("i\(k).bin", (0..<(3 << 20)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }) + "\n"
        }
        let listFile = write("list.txt", Array(list.utf8))
        let out = "\(dir)/out"
        for attempt in 0..<16 {
            try? FileManager.default.removeItem(atPath: out)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: codecPath)
            p.arguments = ["encode", "--from", listFile, "-o", out, "-q", "--codec", "store", "-p", "level=1"]
            p.standardError = FileHandle.nullDevice
            try p.run()
            Thread.sleep(forTimeInterval: 0.02 + Double(rng.next() % 1000) / 1000 * 0.6)
            p.interrupt()
            p.waitUntilExit()
            for name in try FileManager.default.contentsOfDirectory(atPath: out) {
                #expect(!name.hasPrefix("."), "attempt \(attempt): temporary \(name) left behind")
                let bytes = FileManager.default.contents(atPath: "\(out)/\(name)").map { [UInt8]($0) } ?? []
                #expect((try? ContainerFile(parsing: bytes)) != nil, "attempt \(attempt): partial \(name) left behind")
            }
        }
    }

    // MARK: 6. errors name their file; exit codes

    @Test func roundtripJSONCarriesAnErrorEntryNamingTheFile() throws {
        let good = write("good.txt", Array("fine".utf8))
        let bad = write("bad.png", Array("not a png".utf8))
        let r = run(["roundtrip", "--json", good, bad])
        #expect(r.status == 2)
        #expect(r.stderr.contains("bad.png"), "\(r.stderr)")
        let rows = try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [[String: Any]] ?? []
        #expect(rows.count == 2)
        #expect(rows.last?["file"] as? String == "bad.png")
        #expect((rows.last?["error"] as? String)?.contains("PNG") == true)
    }

    @Test func infoOnAnEmptyFileNamesIt() {
        let empty = write("empty.nc", [])
        let r = run(["info", empty])
        #expect(r.status == 2 && r.stderr.contains("empty.nc"), "\(r.stderr)")
    }

    @Test func wrongMediaKindIsAUsageError() throws {
        let png = repoFile("SampleMedia/camera.png")
        let r = run(["encode", "--codec", "lm-ac", png, "-o", "\(dir)/c.nc"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(run(["encode", png, "-o", "\(dir)/c.nc", "-q", "--codec", "store"]).status == 0)
        let wav = run(["decode", "\(dir)/c.nc", "-o", "\(dir)/c.wav"])
        #expect(wav.status == 1 && wav.stderr.contains("c.wav"), "\(wav.stderr)")
        #expect(!exists("c.wav"))
    }

    @Test func longNamesStayWithinNameMax() throws {
        let ok = write(String(repeating: "a", count: 252), Array("long".utf8))
        let r = run(["encode", ok, "-q"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(exists(String(repeating: "a", count: 252) + ".nc"))
        let long = write(String(repeating: "b", count: 254), Array("long".utf8))
        let t = run(["encode", long])
        #expect(t.status == 3 && t.stderr.contains("File name too long"), "\(t.stderr)")
    }

    // MARK: 7. formats the tool cannot write

    @Test func unwritableExtensionsAreRefusedAndLossIsSaid() throws {
        let png = repoFile("SampleMedia/camera.png")
        #expect(run(["encode", png, "-o", "\(dir)/k.nc", "-q", "--codec", "store"]).status == 0)
        let jpg = run(["decode", "\(dir)/k.nc", "-o", "\(dir)/k.jpg"])
        #expect(jpg.status == 1 && jpg.stderr.contains("PNG"), "\(jpg.stderr)")
        #expect(!exists("k.jpg"))
        let wav = repoFile("SampleMedia/front-center.wav")
        #expect(run(["encode", wav, "-o", "\(dir)/a.nc", "-q", "--codec", "store"]).status == 0)
        let ogg = run(["decode", "\(dir)/a.nc", "-o", "\(dir)/a.ogg"])
        #expect(ogg.status == 0 && ogg.stderr.contains("lossy"), "\(ogg.stderr)")
        let mp3 = run(["decode", "\(dir)/a.nc", "-o", "\(dir)/a.mp3"])
        #expect(mp3.status == 1 && !exists("a.mp3"), "\(mp3.stderr)")
        let help = run(["decode", "--help"])
        #expect(help.stdout.count > 0 && String(decoding: help.stdout, as: UTF8.self).contains("WAV otherwise"))
    }

    // MARK: 8. small things

    @Test func noSubcommandIsAUsageErrorAndVersionExists() {
        let none = run([])
        #expect(none.status == 1 && none.stderr.contains("SUBCOMMANDS"), "\(none.stderr)")
        let version = run(["--version"])
        #expect(version.status == 0 && String(decoding: version.stdout, as: UTF8.self).hasPrefix("codec "))
    }

    @Test func jobsAndShardArgumentsSayWhatIsWrong() throws {
        let help = String(decoding: run(["encode", "--help"]).stdout, as: UTF8.self)
        #expect(help.contains("(default: every core)") && !help.contains("core). (default"), "\(help)")
        #expect(help.contains("INPUT.nc"))
        let input = write("j.txt", Array("jobs".utf8))
        let j = run(["encode", "-j", "-1", input, "-o", "\(dir)/j.nc"])
        #expect(j.status == 1 && j.stderr.contains("--jobs") && !j.stderr.contains("Missing value"), "\(j.stderr)")
        let s = run(["encode", "--shard", "-1/3", input, "-o", "\(dir)/j.nc"])
        #expect(s.status == 1 && s.stderr.contains("--shard takes") && !s.stderr.contains("Missing value"), "\(s.stderr)")
        try FileManager.default.createDirectory(atPath: "\(dir)/o", withIntermediateDirectories: true)
        let empty = run(["encode", "--shard", "40/50", input, input, "-o", "\(dir)/o"])
        #expect(empty.status == 0 && empty.stderr.contains("shard 40/50 holds no inputs"), "\(empty.stderr)")
    }

    @Test func blankLinesInAListAreSkippedAndPathsHaveOneSlash() throws {
        let a = write("a.txt", Array("a".utf8)), b = write("b.txt", Array("b".utf8))
        let list = write("list.txt", Array("\(a)\n\n   \n\(b)\r\n\n".utf8))
        try FileManager.default.createDirectory(atPath: "\(dir)/o", withIntermediateDirectories: true)
        let r = run(["encode", "--from", list, "-o", "\(dir)/o/"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("smaller files") || r.stderr.contains("larger files"), "\(r.stderr)")
        let again = run(["encode", "--from", list, "-o", "\(dir)/o/"])
        #expect(again.status == 1 && again.stderr.contains("\(dir)/o/a.txt.nc") && !again.stderr.contains("//"), "\(again.stderr)")
    }

    @Test func infoJSONAndTableDetails() throws {
        let input = write("😀😀😀😀😀.txt", Array(String(repeating: "units ", count: 30).utf8))
        #expect(run(["encode", input, "-o", "\(dir)/u.nc", "-q"]).status == 0)
        let info = String(decoding: run(["info", "\(dir)/u.nc"]).stdout, as: UTF8.self)
        #expect(info.contains("bytes, 180 bytes"), "\(info)")
        let png = repoFile("SampleMedia/digit-28x28.png")
        let json = run(["roundtrip", "--json", png])
        let text = String(decoding: json.stdout, as: UTF8.self)
        #expect(!text.contains("inf") && !text.contains("\\/"), "\(text)")
        let rows = try JSONSerialization.jsonObject(with: Data(json.stdout)) as? [[String: Any]] ?? []
        let fidelity = rows.first?["fidelity"] as? [String: Any]
        #expect(fidelity?["exact"] as? Bool == true && fidelity?["psnr"] is NSNull, "\(text)")
        #expect((rows.first?["encodeCPUSeconds"] as? Double ?? -1) >= 0 && (rows.first?["decodeCPUSeconds"] as? Double ?? -1) >= 0, "\(text)")
        let table = String(decoding: run(["roundtrip", input]).stdout, as: UTF8.self)
        #expect(table.contains("😀😀😀😀😀.txt"), "\(table)")
    }

    /// `codec info` on WaLLoC files says how the input was fitted to the model.
    @Test func infoSaysWhatWaLLoCDidToTheInput() throws {
        let image = Image(width: 13, height: 9, channels: 2, bitDepth: 8, samples: (0..<(13 * 9 * 2)).map { UInt16($0 % 256) })
        let png = write("ga.png", try MediaFile.encode(.image(image)))
        #expect(run(["encode", "--codec", "walloc-rgb-16x", png, "-o", "\(dir)/ga.nc", "-q"]).status == 0)
        let imageInfo = String(decoding: run(["info", "\(dir)/ga.nc"]).stdout, as: UTF8.self)
        for line in ["coding:    gray: coded as three equal channels", "alpha: coded losslessly", "padded from 13x9 to 16x16"] {
            #expect(imageInfo.contains(line), "\(imageInfo)")
        }
        let audio = Audio(sampleRate: 22_050, channels: 1, floats: (0..<3000).map { Float(sin(Double($0) / 7) / 3) })
        let wav = write("mono.wav", try MediaFile.encode(.audio(audio)))
        #expect(run(["encode", "--codec", "walloc-stereo-5x", wav, "-o", "\(dir)/mono.nc", "-q"]).status == 0)
        let audioInfo = String(decoding: run(["info", "\(dir)/mono.nc"]).stdout, as: UTF8.self)
        for line in ["resampled from 22050 Hz to the model's 44100 Hz (3000 frames to 6000), restored to 22050 Hz on decode",
                     "mono: coded as two equal channels"] {
            #expect(audioInfo.contains(line), "\(audioInfo)")
        }
    }

    // MARK: helpers

    /// Runs a bash script with $CODEC set to the binary.
    func shell(_ script: String) -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", script]
        p.environment = ProcessInfo.processInfo.environment.merging(["CODEC": codecPath]) { $1 }
        let outPipe = Pipe(), errPipe = Pipe()
        p.standardOutput = outPipe
        p.standardError = errPipe
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch { return Result(status: -1, stdout: [], stderr: "\(error)") }
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        let err = errPipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: [UInt8](out), stderr: String(decoding: err, as: UTF8.self))
    }

    func fileType(_ name: String) -> mode_t {
        var st = stat()
        return lstat("\(dir)/\(name)", &st) == 0 ? st.st_mode & S_IFMT : 0
    }

    func repoFile(_ path: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(path).path
    }
}

/// glibc's makedev for small numbers (a C macro Swift cannot import).
func deviceNumber(_ major: UInt, _ minor: UInt) -> dev_t { dev_t((major << 8) | minor) }
