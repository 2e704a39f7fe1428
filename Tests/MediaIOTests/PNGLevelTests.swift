import MediaIO
import Testing

/// PNG writing at each zlib level: always lossless, level 9 never larger than level 1.
@Suite struct PNGLevelTests {
    @Test func everyLevelRoundTrips() throws {
        let image = randomImage(width: 64, height: 48, channels: 3, bitDepth: 8, seed: 9)
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
