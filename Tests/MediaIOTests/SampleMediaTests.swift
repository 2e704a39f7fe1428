import Foundation
import Testing
import MediaIO

/// The committed SampleMedia files decode as what SampleMedia/README.md says they are, and come
/// back identical through MediaIO's own writers.
@Suite struct SampleMediaTests {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("SampleMedia")

    static func load(_ name: String) throws -> Media {
        let data = try Data(contentsOf: folder.appendingPathComponent(name))
        return try MediaFile.decode([UInt8](data), name: name)
    }

    @Test(arguments: [("chelsea.png", 451, 300, 3), ("camera.png", 512, 512, 1), ("digit-28x28.png", 28, 28, 1)])
    func imagesAreWhatTheReadmeSays(name: String, width: Int, height: Int, channels: Int) throws {
        guard case .image(let image) = try Self.load(name) else { Issue.record("\(name) is not an image"); return }
        #expect((image.width, image.height, image.channels, image.bitDepth) == (width, height, channels, 8))
        #expect(try PNGFile.decode(PNGFile.encode(image)) == image)
    }

    @Test(arguments: [("front-center.wav", 48_000, 1, 68_545, AudioSource.wav), ("melody.flac", 44_100, 2, 198_450, .flac)])
    func audioIsWhatTheReadmeSays(name: String, rate: Int, channels: Int, frames: Int, source: AudioSource) throws {
        guard case .audio(let audio) = try Self.load(name) else { Issue.record("\(name) is not audio"); return }
        #expect((audio.sampleRate, audio.channels, audio.frames, audio.source) == (rate, channels, frames, source))
        guard case .integer(bits: 16, _) = audio.samples else { Issue.record("\(name) should be 16-bit PCM"); return }
        #expect(try MediaFile.decode(MediaFile.encode(.audio(audio))) == .audio(audio))
    }

    @Test func textIsBytes() throws {
        guard case .bytes(let bytes) = try Self.load("GPL-3.txt") else { Issue.record("text should be bytes"); return }
        #expect(String(decoding: bytes.prefix(80), as: UTF8.self).contains("GNU GENERAL PUBLIC LICENSE"))
    }
}
