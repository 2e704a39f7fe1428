import MediaIO
import Testing
import TestSupport

/// PNG writing at each zlib level: always lossless, level 9 never larger than level 1.
@Suite struct PNGLevelTests {
    @Test func everyLevelRoundTrips() throws {
        // Smooth (compressible) content with a little noise, so the levels differ in size.
        var rng = SplitMix64(seed: 9)
        var samples: [UInt16] = []
        for y in 0..<48 { for x in 0..<64 { for c in 0..<3 {
            let smooth = (2 * (x + y) + 40 * c) % 256
            samples.append(UInt16(smooth) ^ UInt16(rng.next() & 1))
        } } }
        let image = Image(width: 64, height: 48, channels: 3, bitDepth: 8, samples: samples)
        var sizes: [Int] = []
        for level in 0...9 {
            let png = try PNGFile.encode(image, level: level)
            #expect(try PNGFile.decode(png) == image, "level \(level)")
            sizes.append(png.count)
        }
        #expect(sizes[9] <= sizes[1] && sizes[1] < sizes[0])
        #expect(throws: MediaError.self) { try PNGFile.encode(image, level: 10) }
    }
}
