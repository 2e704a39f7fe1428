import CodecKit
import Container
import Lossless
import MediaIO
import Testing
import TestSupport

/// `store` and `lossless` code images row by row: the bytes must be those of the whole-image
/// layout (pinned containers keep decoding), and a damaged stream must still be an error.
@Suite struct StreamingLayoutTests {
    func image(_ w: Int, _ h: Int, _ c: Int, _ depth: Int, seed: UInt64, smooth: Bool) -> Image {
        var rng = SplitMix64(seed: seed)
        let mask = UInt64((1 << depth) - 1)
        var samples = [UInt16]()
        for y in 0..<h { for x in 0..<w { for k in 0..<c {
            samples.append(smooth ? UInt16(UInt64(x * 3 + y * 5 + k * 40 + Int(rng.next() % 3)) & mask) : UInt16(rng.next() & mask))
        } } }
        return Image(width: w, height: h, channels: c, bitDepth: depth, samples: samples)
    }

    static let shapes = [(1, 1, 1, 8), (7, 3, 3, 8), (64, 40, 4, 16), (333, 17, 2, 16), (1, 300, 1, 16), (600, 2, 3, 8)]

    @Test func storePayloadIsTheWholeLayoutDeflated() throws {
        for (i, (w, h, c, d)) in Self.shapes.enumerated() {
            for smooth in [false, true] {
                let img = image(w, h, c, d, seed: UInt64(i), smooth: smooth)
                for level in [1, 6, 9] {
                    let file = try StoreCodec().encode(.image(img), options: CodecOptions(["level": "\(level)"]))
                    #expect(file.payload == (try Deflate.compress(SampleLayout.serialize(.image(img)), level: level)),
                            "\(w)x\(h)x\(c) \(d)-bit level \(level)")
                    #expect(try StoreCodec().decode(ContainerFile(parsing: file.serialized())) == .image(img))
                }
            }
        }
    }

    @Test func storeRowStreamRefusesDamage() throws {
        let img = image(50, 20, 3, 16, seed: 9, smooth: true)
        let file = try StoreCodec().encode(.image(img), options: CodecOptions())
        func decode(_ payload: [UInt8], _ media: MediaDescriptor = MediaDescriptor(.image(img))) throws {
            _ = try StoreCodec().decode(ContainerFile(codecID: StoreCodec.id, media: media, payload: payload))
        }
        for cut in [0, 1, 2, file.payload.count / 2, file.payload.count - 4, file.payload.count - 1] {
            #expect(throws: CodecError.self, "cut at \(cut)") { try decode(Array(file.payload.prefix(cut))) }
        }
        var adler = file.payload
        adler[adler.count - 1] ^= 1
        #expect(throws: CodecError.self) { try decode(adler) }
        // A stream holding more or fewer bytes than the header says.
        #expect(throws: CodecError.self) { try decode(file.payload, .image(width: 50, height: 19, channels: 3, bitDepth: 16)) }
        #expect(throws: CodecError.self) { try decode(file.payload, .image(width: 50, height: 21, channels: 3, bitDepth: 16)) }
        // A header claiming more than deflate can expand to is refused before anything is allocated.
        #expect(throws: CodecError.corruptPayload("header claims 2147483648 bytes from a 10-byte deflate stream")) {
            try decode(Array(file.payload.prefix(10)), .image(width: 16384, height: 16384, channels: 4, bitDepth: 16))
        }
    }

    @Test func losslessStoredAndPredictedPayloadsRoundTrip() throws {
        for (i, (w, h, c, d)) in Self.shapes.enumerated() {
            for smooth in [false, true] {
                let img = image(w, h, c, d, seed: UInt64(40 + i), smooth: smooth)
                let file = try LosslessCodec().encode(.image(img), options: CodecOptions())
                if file.payload.first == 2 {  // stored: the format byte, then the layout as it is
                    #expect(Array(file.payload.dropFirst()) == SampleLayout.serialize(.image(img)))
                }
                #expect(try LosslessCodec().decode(ContainerFile(parsing: file.serialized())) == .image(img))
            }
        }
    }
}
