import CodecKit
import Container
import Foundation
import MediaIO
import Neural
import Testing
import TestSupport
@testable import VQGAN

/// The codec layer on the committed fixture model (random weights, codebooks of 16 and 4: not a
/// codec worth its name, so there are no quality thresholds here; the golden test of the trained
/// `Codecs/vqgan-f16` is for the session that trains it). What is checked is exact: indices through
/// the coded stream, the damaged-block path, refusals.
@Suite struct VQGANCodecTests {
    static func codec() throws -> VQGANCodec {
        try VQGANCodec(model: try Fixture.model(), identity: ModelIdentity(id: "vqgan-fixture", hash: 0x5EED))
    }

    static func picture(width: Int, height: Int, channels: Int = 3, bitDepth: Int = 8, seed: UInt64 = 1) -> Image {
        var rng = SplitMix64(seed: seed)
        let top = UInt64((1 << bitDepth) - 1)
        // Smooth ramps plus noise, so the encoder sees structure as well as texture.
        let samples = (0..<(width * height * channels)).map { i -> UInt16 in
            let (x, y, c) = ((i / channels) % width, (i / channels) / width, i % channels)
            let ramp = UInt64((x * 3 + y * 2 + c * 40) % 256) * top / 255
            return UInt16(min(top, ramp / 2 + rng.next() % (top / 2 + 1)))
        }
        return Image(width: width, height: height, channels: channels, bitDepth: bitDepth, samples: samples)
    }

    static func randomIndices(_ n: Int, k: Int, seed: UInt64) -> [Int] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in Int(rng.next() % UInt64(k)) }
    }

    @Test func indicesRoundTripThroughTheCodedStreamAtEveryRateAndUnit() throws {
        let codec = try Self.codec()
        for k in codec.model.architecture.rateCodes {
            for unit in VQGANCodec.units {
                // 21x19 indices: partial blocks on the right and bottom edges at every unit.
                let grid = IndexGrid(width: 21 * 16 - 5, height: 19 * 16 - 11, unit: unit)
                let indices = Self.randomIndices(grid.rows * grid.columns, k: k, seed: UInt64(k * 100 + unit))
                let file = ContainerFile(codecID: VQGANCodec.codecID, modelID: "vqgan-fixture", modelHash: 0x5EED,
                                         media: .image(width: grid.width, height: grid.height, channels: 3, bitDepth: 8),
                                         payload: try codec.payload(indices, k: k, grid: grid))
                let decoded = try codec.indices(of: file, strict: true)
                #expect(decoded.indices == indices, "k=\(k) unit=\(unit)")
                #expect(decoded.k == k && decoded.damagedBlocks == 0 && decoded.restored == 0)
            }
        }
    }

    /// A block's stream costs what the prior says it should: the ideal code length of its indices
    /// under the quantized phase frequencies, plus at most the range coder's flush (its final 16-bit
    /// word and the rounding to whole words: under 32 bits). So the coder codes under the prior's logits, not some other table.
    @Test func aBlockCostsItsIdealCodeLengthUnderThePrior() throws {
        let codec = try Self.codec()
        for k in codec.model.architecture.rateCodes {
            let prior = try #require(codec.model.indexModels[k])
            for (h, w, seed) in [(8, 8, 1), (16, 16, 2), (3, 5, 3)] as [(Int, Int, UInt64)] {
                let indices = Self.randomIndices(h * w, k: k, seed: seed)
                let logits = prior.codingLogits(indices, height: h, width: w).scalars
                var ideal = 0.0
                for p in 0..<(h * w) {
                    let f = LogitFrequencies.frequencies(logits[(p * k)..<((p + 1) * k)], precision: VQGANCodec.precision)
                    ideal -= log2(Double(f[indices[p]]) / 65536)
                }
                let bits = Double(8 * VQGANCodec.codeBlock(indices, height: h, width: w, prior: prior).count)
                #expect(bits >= ideal - 1 && bits <= ideal + 32, "k=\(k) \(h)x\(w): \(bits) bits, ideal \(ideal)")
            }
        }
    }

    @Test func picturesOfOddSizesRoundTripWithTheEncodersIndices() throws {
        let codec = try Self.codec()
        for (w, h, c, depth) in [(37, 21, 3, 8), (16, 16, 1, 8), (70, 45, 4, 16), (1, 1, 2, 8), (100, 17, 3, 8)] {
            let image = Self.picture(width: w, height: h, channels: c, bitDepth: depth)
            for k in codec.model.architecture.rateCodes {
                let file = try codec.encode(.image(image), options: CodecOptions(["k": String(k), "unit": "4"]))
                let parsed = try ContainerFile(parsing: file.serialized())
                let grid = IndexGrid(width: w, height: h, unit: 4)
                let expected = codec.model.encode(VQGANCodec.inputTensor(image, grid: grid), k: k)
                #expect(try codec.indices(of: parsed, strict: true).indices == expected, "\(w)x\(h)x\(c) k=\(k)")
                guard case .image(let out) = try codec.decode(parsed) else { Issue.record("not an image"); continue }
                // Gray stays gray, alpha is not coded: gray+alpha → gray, RGBA → RGB.
                #expect(out.width == w && out.height == h && out.channels == (c >= 3 ? 3 : 1) && out.bitDepth == depth)
                #expect(MediaDescriptor(.image(out)) == parsed.media)
                let notes = try codec.notes(parsed)
                #expect(notes.first?.hasPrefix("k=\(k): \(grid.rows)x\(grid.columns) indices") == true)
                #expect(notes.contains { $0.hasPrefix("padded") } == (w % 16 != 0 || h % 16 != 0))
                // The picture is the decoder's output at the encoder's indices, cropped.
                let net = codec.model.decode(expected, height: grid.rows, width: grid.columns, k: k)
                #expect(out == VQGANCodec.image(net, grid: grid, channels: out.channels, bitDepth: depth, significantBits: nil))
            }
        }
    }

    /// A file with a damaged block: refused by the strict path (exit 2), restored otherwise, and the
    /// intact blocks decode to exactly their indices.
    @Test func damagedBlocksAreRestoredAndCountedOrRefused() throws {
        let codec = try Self.codec()
        let image = Self.picture(width: 150, height: 90, seed: 3)  // 6x10 indices: blocks of 4 → 2x3 blocks
        let file = try codec.encode(.image(image), options: CodecOptions(["k": "16", "unit": "4"]))
        let clean = try codec.indices(of: file, strict: true)
        let grid = IndexGrid(width: 150, height: 90, unit: 4)
        #expect(grid.blocks.count == 6)
        // Flip a bit in the last byte of block 2 (blocks end at the payload's end, in order).
        let (_, _, blocks) = try codec.readPayload(file.payload, width: 150, height: 90)
        let lengths = blocks.map { $0.bytes!.count }
        let end = file.payload.count - lengths[3...].reduce(0, +)
        var payload = file.payload
        payload[end - 1] ^= 0x10
        let damaged = ContainerFile(codecID: file.codecID, modelID: file.modelID, modelHash: file.modelHash, media: file.media, payload: payload)

        #expect(throws: CodecError.self) { try codec.decode(damaged) }
        do {
            _ = try codec.decode(damaged, strict: true)
            Issue.record("strict decoding accepted a damaged block")
        } catch {
            #expect(error.exitCode == 2)
            #expect(error.description.contains("1 of 6 index blocks are damaged"))
        }

        let restored = try codec.indices(of: damaged, strict: false)
        let lost = Set(grid.positions(grid.blocks[2]))
        #expect(restored.damagedBlocks == 1 && restored.restored == lost.count && lost.count == 8)  // block 2: 4 rows x 2
        for p in 0..<clean.indices.count where !lost.contains(p) { #expect(restored.indices[p] == clean.indices[p]) }
        #expect(restored.indices.allSatisfy { (0..<16).contains($0) })
        let out = try codec.decode(damaged, strict: false)
        #expect(out.damagedBlocks == 1 && out.restoredIndices == 8)
        guard case .image(let picture) = out.media else { Issue.record("not an image"); return }
        #expect(picture.width == 150 && picture.height == 90 && picture.channels == 3)
        // Restoration is deterministic.
        #expect(try codec.decode(damaged, strict: false).media == out.media)
    }

    @Test func everyBlockLostStillDecodesFromThePriorAlone() throws {
        let codec = try Self.codec()
        let file = try codec.encode(.image(Self.picture(width: 40, height: 40)), options: CodecOptions(["k": "4", "unit": "16"]))
        var payload = file.payload
        payload[payload.count - 1] ^= 0xFF  // the only block
        let damaged = ContainerFile(codecID: file.codecID, modelID: file.modelID, modelHash: file.modelHash, media: file.media, payload: payload)
        let out = try codec.indices(of: damaged, strict: false)
        #expect(out.damagedBlocks == 1 && out.restored == 9)
    }

    @Test func corruptAndTruncatedPayloadsAreRefusedWithExitCode2() throws {
        let codec = try Self.codec()
        let file = try codec.encode(.image(Self.picture(width: 130, height: 70, seed: 5)), options: CodecOptions(["k": "16", "unit": "4"]))
        func refused(_ payload: [UInt8], media: MediaDescriptor? = nil, _ why: String) {
            let f = ContainerFile(codecID: file.codecID, modelID: file.modelID, modelHash: file.modelHash,
                                  media: media ?? file.media, payload: payload)
            do {
                _ = try codec.decode(f, strict: false)
                Issue.record("accepted: \(why)")
            } catch {
                #expect(error.exitCode == 2, "\(why): \(error)")
            }
        }
        var p = file.payload
        refused(Array(p.prefix(p.count - 1)), "truncated by one byte")
        refused(Array(p.prefix(9)), "truncated inside the table")
        refused([], "empty")
        refused(p + [0], "a trailing byte")
        p[0] = 9; refused(p, "unknown layout"); p = file.payload
        p[1] = 5; refused(p, "unit 5"); p = file.payload
        p[6] ^= 1; refused(p, "a damaged block table")
        // K = 64 is the full codebook, not a rate; K = 5 is nothing: both refused even with a valid table CRC.
        for k: UInt32 in [64, 5, 1 << 20] {
            var w = ByteWriter()
            w.u32(k)
            var q = file.payload
            q.replaceSubrange(2..<6, with: w.data)
            let tableEnd = 6 + 3 * 6  // six one-byte lengths (blocks of at most 16 indices), six checks
            var crc = ByteWriter()
            crc.u32(crc32(q[..<tableEnd]))
            q.replaceSubrange(tableEnd..<(tableEnd + 4), with: crc.data)
            refused(q, "k=\(k)")
        }
        // A header whose image size gives another block table.
        refused(file.payload, media: .image(width: 260, height: 70, channels: 3, bitDepth: 8), "a larger image")
        refused(file.payload, media: .image(width: 60, height: 70, channels: 3, bitDepth: 8), "a smaller image")
        refused(file.payload, media: .image(width: 130, height: 70, channels: 4, bitDepth: 8), "alpha in the header")
        refused(file.payload, media: .bytes(count: 10), "bytes")
        // A strip whose padding would make the networks run on 16 times its 2^26 pixels.
        refused(file.payload, media: .image(width: 1 << 26, height: 1, channels: 3, bitDepth: 8), "a 2^26 x 1 strip")
        #expect(!VQGANCodec.sizeAllowed(width: 1 << 26, height: 1) && VQGANCodec.sizeAllowed(width: 1 << 22, height: 16))
        // Another model's file.
        let other = ContainerFile(codecID: file.codecID, modelID: file.modelID, modelHash: 1, media: file.media, payload: file.payload)
        #expect(throws: CodecError.self) { try codec.decode(other) }
    }

    /// Random damage anywhere in the payload: an error or a picture, never a crash or a hang.
    @Test func randomDamageNeverCrashes() throws {
        let codec = try Self.codec()
        let file = try codec.encode(.image(Self.picture(width: 64, height: 48, seed: 7)), options: CodecOptions(["k": "16", "unit": "4"]))
        var rng = SplitMix64(seed: 11)
        var decoded = 0
        for _ in 0..<60 {
            var p = file.payload
            if rng.next() % 3 == 0 {
                p = Array(p.prefix(Int(rng.next() % UInt64(p.count))))
            } else {
                for _ in 0...(rng.next() % 3) { p[Int(rng.next() % UInt64(p.count))] ^= UInt8(1 + rng.next() % 255) }
            }
            let f = ContainerFile(codecID: file.codecID, modelID: file.modelID, modelHash: file.modelHash, media: file.media, payload: p)
            if (try? codec.decode(f, strict: false)) != nil { decoded += 1 }
        }
        #expect(decoded > 0)  // damage inside blocks is restored, not refused
    }

    @Test func optionsAreChecked() throws {
        let codec = try Self.codec()
        let image = Media.image(Self.picture(width: 20, height: 20))
        for options in [["k": "1024"], ["k": "64"], ["unit": "5"], ["unit": "32"], ["quality": "9"]] {
            #expect(throws: CodecError.self) { try codec.encode(image, options: CodecOptions(options)) }
        }
        #expect(try codec.encode(image, options: CodecOptions()).payload[2] == 16)  // default k: the largest rate
        #expect(try codec.encode(image, options: CodecOptions()).payload[1] == UInt8(VQGANCodec.defaultUnit))
        #expect(throws: CodecError.self) { try codec.encode(.bytes([1, 2]), options: CodecOptions()) }
        #expect(codec.info.parameters.map(\.name) == ["k", "unit"])
    }
}
