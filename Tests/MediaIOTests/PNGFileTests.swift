import Testing
import MediaIO

@Suite struct PNGFileTests {
    static let shapes = [(1, 1), (3, 5), (17, 2), (2, 17), (64, 33)]

    @Test(arguments: [1, 2, 3, 4], [8, 16])
    func roundTripIsExact(channels: Int, bitDepth: Int) throws {
        for (i, (w, h)) in Self.shapes.enumerated() {
            let image = randomImage(width: w, height: h, channels: channels, bitDepth: bitDepth, seed: UInt64(100 * channels + bitDepth + i))
            let png = try PNGFile.encode(image)
            #expect(FileFormat.detect(png) == .png)
            #expect(try PNGFile.decode(png) == image, "\(w)x\(h) \(channels) ch \(bitDepth) bit")
        }
    }

    @Test func sixteenBitExtremesSurvive() throws {
        let samples: [UInt16] = [0, 1, 255, 256, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF]
        let image = Image(width: 4, height: 2, channels: 1, bitDepth: 16, samples: samples)
        #expect(try PNGFile.decode(PNGFile.encode(image)).samples == samples)
    }

    @Test func significantBitsRoundTrip() throws {
        let image = Image(width: 3, height: 3, channels: 3, bitDepth: 8,
                          samples: (0..<27).map { UInt16($0 * 8) }, significantBits: 5)
        let png = try PNGFile.encode(image)
        #expect(pngChunks(png).contains { $0.type == "sBIT" })
        let decoded = try PNGFile.decode(png)
        #expect(decoded.significantBits == 5)
        #expect(decoded.samples == image.samples)
    }

    @Test func everyTruncationIsAnError() throws {
        let png = try PNGFile.encode(randomImage(width: 9, height: 7, channels: 3, bitDepth: 16, seed: 7))
        for length in 0..<png.count {
            #expect(throws: MediaError.self, "prefix of \(length) bytes") { try PNGFile.decode(Array(png.prefix(length))) }
        }
    }

    @Test func flippedBytesInHeaderOrDataAreErrors() throws {
        let png = try PNGFile.encode(randomImage(width: 12, height: 5, channels: 4, bitDepth: 8, seed: 11))
        for chunk in pngChunks(png) where chunk.type == "IHDR" || chunk.type == "IDAT" {
            for at in chunk.offset + 8..<chunk.offset + 8 + chunk.length {
                var bad = png
                bad[at] ^= 0xFF
                #expect(throws: MediaError.self, "\(chunk.type) byte \(at)") { try PNGFile.decode(bad) }
            }
        }
    }

    /// With the CRC re-sealed, libpng has to find the damage in the zlib stream or the header
    /// fields themselves: every flip must end in an error or an image of the declared size.
    @Test func resealedCorruptionNeverCrashes() throws {
        let png = try PNGFile.encode(randomImage(width: 12, height: 5, channels: 2, bitDepth: 16, seed: 13))
        var errors = 0, decoded = 0
        for chunk in pngChunks(png) where chunk.type == "IHDR" || chunk.type == "IDAT" {
            let data = chunk.offset + 8..<chunk.offset + 8 + chunk.length
            for at in data {
                var bad = png
                bad[at] ^= 0x5A
                let crc = bigEndian(crc32(bad[chunk.offset + 4..<data.upperBound]))
                bad.replaceSubrange(data.upperBound..<data.upperBound + 4, with: crc)
                do {
                    let image = try PNGFile.decode(bad)
                    #expect(image.samples.count == image.width * image.height * image.channels)
                    decoded += 1
                } catch {
                    errors += 1
                }
            }
        }
        #expect(errors > 0)
    }

    @Test func hugeDeclaredSizeIsRefusedBeforeAllocating() {
        func header(width: UInt32, height: UInt32) -> [UInt8] {
            [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
                + pngChunk("IHDR", bigEndian(width) + bigEndian(height) + [8, 2, 0, 0, 0])
                + pngChunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
                + pngChunk("IEND", [])
        }
        // 2^40 pixels, and one side beyond the limit with few pixels.
        for (w, h) in [(UInt32(1) << 20, UInt32(1) << 20), (0x7FFF_FFFF, 1), (1 << 15, 1 << 14)] {
            #expect(throws: MediaError.self) { try PNGFile.decode(header(width: w, height: h)) }
            do {
                _ = try PNGFile.decode(header(width: w, height: h))
            } catch {
                guard case .tooLarge(let why) = error else { Issue.record("expected tooLarge, got \(error)"); continue }
                #expect(why.contains("\(w) x \(h)"))
            }
        }
    }

    /// Within the pixel limit but far more pixels than deflate can pack into the bytes present.
    @Test func tinyFileClaimingABigImageIsCorrupt() {
        let png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            + pngChunk("IHDR", bigEndian(10_000) + bigEndian(10_000) + [16, 6, 0, 0, 0])
            + pngChunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]) + pngChunk("IEND", [])
        do {
            _ = try PNGFile.decode(png)
            Issue.record("a 10000 x 10000 image in \(png.count) bytes was accepted")
        } catch {
            guard case .corrupt(.png, let why) = error else { Issue.record("expected corrupt, got \(error)"); return }
            #expect(why.contains("too small"))
        }
    }

    /// Found by fuzz-media: a chunk declaring ~2 GB in a small file made libpng allocate it.
    @Test func chunkLongerThanTheFileIsCorrupt() throws {
        let png = try PNGFile.encode(randomImage(width: 4, height: 4, channels: 1, bitDepth: 8, seed: 3))
        let idat = try #require(pngChunks(png).first { $0.type == "IDAT" })
        let huge = bigEndian(0x7900_0000) + Array("zTXt".utf8) + [UInt8](repeating: 0, count: 40)
        var bad = png
        bad.insert(contentsOf: huge, at: idat.offset)
        #expect(throws: MediaError.corrupt(format: .png, reason: "unexpected end of file (a chunk is longer than the rest of the file)")) {
            try PNGFile.decode(bad)
        }
    }

    @Test func palettesExpandToRGBOrRGBA() throws {
        let palette: [[UInt8]] = [[10, 20, 30], [40, 50, 60], [70, 80, 90]]
        let rgb = try PNGFile.decode(palettePNG(palette: palette, rows: [[2, 0], [1, 1]]))
        #expect((rgb.width, rgb.height, rgb.channels, rgb.bitDepth) == (2, 2, 3, 8))
        #expect(rgb.samples == [70, 80, 90, 10, 20, 30, 40, 50, 60, 40, 50, 60])
        let rgba = try PNGFile.decode(palettePNG(palette: palette, alpha: [0x80], rows: [[0, 2]]))
        #expect(rgba.channels == 4)
        #expect(rgba.samples == [10, 20, 30, 0x80, 70, 80, 90, 255])
    }

    /// libpng turns an index beyond the palette into black; we refuse it (also index == size).
    @Test func paletteIndexBeyondThePaletteIsCorrupt() {
        for index: UInt8 in [3, 255] {
            #expect(throws: MediaError.self, "index \(index)") {
                try PNGFile.decode(palettePNG(palette: [[1, 2, 3], [4, 5, 6], [7, 8, 9]], rows: [[0, index]]))
            }
        }
    }

    @Test func unwritableImagesAreErrors() {
        #expect(throws: MediaError.self) {
            try PNGFile.encode(Image(width: 0, height: 3, channels: 1, bitDepth: 8, samples: []))
        }
        #expect(throws: MediaError.self) {
            try PNGFile.encode(Image(width: 1, height: 1, channels: 1, bitDepth: 8, samples: [256]))
        }
    }

    @Test func notAPNGIsAnError() {
        #expect(throws: MediaError.self) { try PNGFile.decode([]) }
        #expect(throws: MediaError.self) { try PNGFile.decode(Array("hello, world".utf8)) }
    }
}
