import Testing
import MediaIO

@Suite struct MediaFileTests {
    @Test func formatComesFromMagicBytesNotNames() throws {
        let png = try PNGFile.encode(randomImage(width: 2, height: 2, channels: 3, bitDepth: 8, seed: 1))
        let wav = try AudioFile.encode(randomPCM(frames: 4, channels: 1, bits: 16, seed: 1), as: .wav)
        let flac = try AudioFile.encode(randomPCM(frames: 4, channels: 1, bits: 16, seed: 1), as: .flac)
        #expect(FileFormat.detect(png) == .png)
        #expect(FileFormat.detect(wav) == .wav)
        #expect(FileFormat.detect(flac) == .flac)
        #expect(FileFormat.detect(Array("OggS".utf8)) == .ogg)
        #expect(FileFormat.detect(Array("plain text".utf8)) == .bytes)
        #expect(FileFormat.detect([]) == .bytes)
        #expect(try MediaFile.decode(png).kind == .image)
        #expect(try MediaFile.decode(flac).kind == .audio)
        #expect(try MediaFile.decode(Array("plain text".utf8)) == .bytes(Array("plain text".utf8)))
    }

    @Test func naturalOutputFormatFollowsTheSource() throws {
        var audio = randomPCM(frames: 50, channels: 2, bits: 16, seed: 4)
        audio.source = .flac
        #expect(FileFormat.detect(try MediaFile.encode(.audio(audio))) == .flac)
        audio.source = .wav
        #expect(FileFormat.detect(try MediaFile.encode(.audio(audio))) == .wav)
        #expect(throws: MediaError.self) { try MediaFile.encode(.audio(audio), as: .png) }
        #expect(throws: MediaError.self) { try MediaFile.encode(.bytes([1, 2]), as: .wav) }
    }
}
