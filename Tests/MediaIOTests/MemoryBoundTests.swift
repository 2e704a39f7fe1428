import MediaIO
import Testing

/// The byte limit on decoded samples (`MediaLimits.maxSampleBytes`) and PNG decoding straight
/// into the image's samples.
@Suite struct MemoryBoundTests {
    @Test func largestImageWithinThePixelLimitFitsTheByteLimitExactly() throws {
        // 16384 x 16384 RGBA: 2^30 samples of 2 bytes, exactly the limit.
        try MediaLimits.checkSampleBytes(16384 * 16384 * 4, bytesPerSample: 2, of: "the largest image")
        #expect(throws: MediaError.self) {
            try MediaLimits.checkSampleBytes(16384 * 16384 * 4 + 1, bytesPerSample: 2, of: "one sample more")
        }
        #expect(throws: MediaError.self) { try MediaLimits.checkSampleBytes(Int.max / 2, bytesPerSample: 8, of: "overflow") }
    }

    @Test func pngBeyondTheByteLimitIsRefusedWithAClearMessage() throws {
        let image = randomImage(width: 40, height: 30, channels: 4, bitDepth: 16, seed: 5)
        let png = try PNGFile.encode(image)
        let needed = 40 * 30 * 4 * 2
        #expect(try PNGFile.decode(png, maxSampleBytes: needed) == image)
        do {
            _ = try PNGFile.decode(png, maxSampleBytes: needed - 1)
            Issue.record("a PNG beyond the byte limit was decoded")
        } catch let error {
            guard case .tooLarge = error else { Issue.record("expected tooLarge, got \(error)"); return }
            let text = error.description
            #expect(text.contains("40 x 30 RGBA 16-bit PNG"), "\(text)")
            #expect(text.contains("\(needed) bytes of samples"), "\(text)")
            #expect(text.contains("limit of \(needed - 1) bytes"), "\(text)")
        }
    }

    /// 8-bit samples, palette indices and interlaced rows are widened in place inside the
    /// image's own array: every layout must come back exact, at widths that end rows oddly.
    @Test(arguments: [1, 2, 3, 4], [8, 16])
    func decodingInPlaceIsExact(channels: Int, bitDepth: Int) throws {
        for (w, h) in [(1, 1), (1, 9), (7, 1), (33, 5), (255, 3)] {
            let image = randomImage(width: w, height: h, channels: channels, bitDepth: bitDepth, seed: UInt64(w * 31 + h + channels))
            #expect(try PNGFile.decode(PNGFile.encode(image, level: 1)) == image, "\(w)x\(h) \(channels) ch \(bitDepth) bit")
        }
    }

    @Test func eightBitValuesAboveTheDepthAreStillRefused() {
        var image = randomImage(width: 4, height: 4, channels: 1, bitDepth: 8, seed: 1)
        image.samples[13] = 256
        #expect(throws: MediaError.cannotWrite("an 8-bit image holds the sample value 256 (at index 13); 8-bit samples are 0...255")) {
            try PNGFile.encode(image)
        }
    }
}
