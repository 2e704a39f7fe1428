import Foundation
import MediaIO
import Testing
@testable import Perception

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let firstPage = repositoryRoot + "/../shared/data/images/documents/page_00.png"

func loadMedia(_ path: String) throws -> Media {
    try MediaFile.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), name: path)
}

/// The top of the first document page ("Chapter 1" and two lines), cropped so that
/// tesseract reads it in a fraction of a second. Nil when ../shared is not beside the checkout.
func pageTop(rows: Int = 400) throws -> Image? {
    guard FileManager.default.fileExists(atPath: firstPage), case .image(let page) = try loadMedia(firstPage) else { return nil }
    return Image(width: page.width, height: rows, channels: 1, bitDepth: 8, samples: Array(page.samples[0..<page.width * rows]))
}

/// The engines: they load, read what they should, agree with themselves across runs and threads,
/// and refuse media of the other kind.
@Suite struct EngineTests {
    @Test func tesseractReadsThePageTopTheSameWayEveryTime() throws {
        guard let top = try pageTop() else { return }
        let engine = try TesseractOCR()
        let text = try engine.recognize(top)
        #expect(text.hasPrefix("Chapter 1"), "\(text)")
        #expect(ErrorTally.characters(text, reference: "Chapter 1 It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.").rate < 0.02)
        #expect(try engine.recognize(top) == text)
        // Colour, alpha and 16-bit forms of the same page read the same.
        let rgba = Image(width: top.width, height: top.height, channels: 4, bitDepth: 16,
                         samples: top.samples.flatMap { [$0 * 257, $0 * 257, $0 * 257, 65535] })
        #expect(try engine.recognize(rgba) == text)
    }

    @Test func oneEnginePerThreadGivesTheSameText() async throws {
        guard let top = try pageTop(rows: 260) else { return }
        let texts = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<2 { group.addTask { try TesseractOCR().recognize(top) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(texts.count == 2 && texts[0] == texts[1] && !texts[0].isEmpty)
    }

    @Test func blankAndTinyImagesReadAsNothing() throws {
        let engine = try TesseractOCR()
        let blank = Image(width: 64, height: 64, channels: 1, bitDepth: 8, samples: [UInt16](repeating: 255, count: 64 * 64))
        #expect(try engine.recognize(blank).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        #expect(try engine.recognize(Image(width: 1, height: 1, channels: 1, bitDepth: 8, samples: [0])) == "")
    }

    @Test func pocketsphinxHearsSampleSpeechDeterministically() throws {
        guard case .audio(let audio) = try loadMedia(repositoryRoot + "/SampleMedia/front-center.wav") else { Issue.record("not audio"); return }
        let engine = try PocketSphinxASR()
        let heard = try engine.recognize(audio)  // 48 kHz: resampled to 16 kHz inside
        #expect(heard.contains("center"), "\(heard)")
        #expect(try PocketSphinxASR().recognize(audio) == heard)
        // What the engine heard before does not change what it hears next (per-utterance CMN).
        let louder = Audio(sampleRate: audio.sampleRate, channels: audio.channels, floats: audio.floats.map { $0 * 1.9 + 0.05 })
        let primed = try PocketSphinxASR()
        _ = try primed.recognize(louder)
        #expect(try primed.recognize(audio) == heard)
        let silence = Audio(sampleRate: 16000, channels: 1, floats: [Float](repeating: 0, count: 8000))
        #expect(try engine.recognize(silence) == "")
        #expect(try engine.recognize(Audio(sampleRate: 16000, channels: 1, floats: [])) == "")
    }

    @Test func enginesRefuseTheOtherMediaKind() throws {
        let image = Media.image(Image(width: 8, height: 8, channels: 1, bitDepth: 8, samples: [UInt16](repeating: 0, count: 64)))
        let audio = Media.audio(Audio(sampleRate: 16000, channels: 1, floats: [0, 0]))
        #expect(throws: PerceptionError.wrongMedia(task: "asr", expects: .audio, got: .image)) { try PocketSphinxASR().predict(image) }
        #expect(throws: PerceptionError.wrongMedia(task: "ocr", expects: .image, got: .audio)) { try TesseractOCR().predict(audio) }
        #expect(throws: PerceptionError.self) { try TextRecognitionTask.asr.check(.bytes([1, 2, 3])) }
    }
}

/// Speech input: mono, 16 kHz, 16-bit, whatever came in.
@Suite struct SpeechResamplerTests {
    @Test func pcmIsMonoSixteenKilohertzAndRepeatable() throws {
        let stereo = Audio(sampleRate: 48000, channels: 2, floats: (0..<9600).map { Float(sin(Double($0 / 2) * 0.05)) * 0.25 })
        let a = try SpeechResampler.pcm16(stereo, sampleRate: 16000)
        let again = try SpeechResampler.pcm16(stereo, sampleRate: 16000)
        #expect(a.count == 1600 && a == again)
        #expect(a.map { abs(Int($0)) }.max()! > 7000)
        let native = Audio(sampleRate: 16000, channels: 1, samples: .integer(bits: 16, [1 << 16, -(3 << 16)]))
        #expect(try SpeechResampler.pcm16(native, sampleRate: 16000) == [1, -3])
    }
}
