import CodecKit
import Container
import MediaIO
import Lossless
import Testing
import TestSupport

@Suite struct StoreCodecTests {
    let codec = StoreCodec()

    func roundTrip(_ media: Media, options: CodecOptions = CodecOptions()) throws -> Media {
        let file = try codec.encode(media, options: options)
        let parsed = try ContainerFile(parsing: file.serialized())
        return try codec.decode(parsed)
    }

    @Test(arguments: [(1, 8), (2, 8), (3, 8), (4, 8), (1, 16), (3, 16), (4, 16)])
    func imagesRoundTripExactly(channels: Int, depth: Int) throws {
        var rng = SplitMix64(seed: UInt64(channels * 100 + depth))
        for (w, h) in [(1, 1), (7, 3), (64, 33)] {
            let samples = (0..<(w * h * channels)).map { _ in UInt16(truncatingIfNeeded: rng.next()) & UInt16((1 << depth) - 1) }
            let image = Media.image(Image(width: w, height: h, channels: channels, bitDepth: depth, samples: samples))
            #expect(try roundTrip(image) == image)
        }
    }

    @Test func significantBitsSurvive() throws {
        let image = Media.image(Image(width: 3, height: 2, channels: 3, bitDepth: 16,
                                      samples: (0..<18).map { UInt16($0) << 3 }, significantBits: 13))
        #expect(try roundTrip(image) == image)
    }

    @Test func audioRoundTripsExactlyInEverySampleForm() throws {
        var rng = SplitMix64(seed: 3)
        let forms: [Audio.Samples] = [
            .integer(bits: 16, (0..<600).map { _ in Int32(truncatingIfNeeded: rng.next()) & ~0xFFFF }),
            .integer(bits: 24, (0..<600).map { _ in Int32(truncatingIfNeeded: rng.next()) & ~0xFF }),
            .integer(bits: 32, (0..<600).map { _ in Int32(truncatingIfNeeded: rng.next()) }),
            .integer(bits: 8, (0..<600).map { _ in Int32(truncatingIfNeeded: rng.next()) & ~0xFFFFFF }),
            .float((0..<600).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) }),
            .double((0..<600).map { _ in Double(bitPattern: rng.next()) }),
        ]
        for samples in forms {
            let audio = Media.audio(Audio(sampleRate: 22050, channels: 3, samples: samples, source: .flac))
            let back = try roundTrip(audio)
            // NaN payloads compare unequal as floats: compare bit patterns through the layout.
            #expect(SampleLayout.serialize(back) == SampleLayout.serialize(audio))
        }
    }

    @Test func bytesRoundTripIncludingEmpty() throws {
        for bytes in [[], [0], Array("hello".utf8), (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }] as [[UInt8]] {
            #expect(try roundTrip(.bytes(bytes)) == .bytes(bytes))
        }
    }

    @Test func everyLevelIsLossless() throws {
        let bytes = Media.bytes(Array(String(repeating: "level test ", count: 100).utf8))
        for level in 1...9 {
            #expect(try roundTrip(bytes, options: CodecOptions(["level": "\(level)"])) == bytes)
        }
    }

    @Test func unknownAndInvalidOptionsAreRejected() {
        #expect(throws: CodecError.self) { try codec.encode(.bytes([1]), options: CodecOptions(["levle": "3"])) }
        #expect(throws: CodecError.self) { try codec.encode(.bytes([1]), options: CodecOptions(["level": "10"])) }
    }

    @Test func corruptPayloadsAreErrorsNotCrashes() throws {
        let file = try codec.encode(.bytes(Array(repeating: 7, count: 1000)), options: CodecOptions())
        for i in file.payload.indices {
            var bad = file
            bad.payload[i] ^= 0xFF
            // Either an error or (deflate cannot always tell) a result of exactly the declared size.
            if let media = try? codec.decode(bad), case .bytes(let b) = media { #expect(b.count == 1000) }
        }
        var liar = file
        liar.media = .bytes(count: 1001)
        #expect(throws: CodecError.self) { try codec.decode(liar) }
    }
}

