import CodecKit
import Container
import MediaIO
import Testing
import TestSupport
@testable import VQGAN

/// The whole restoration path from container bytes, as `codec decode` takes it: a VQGAN file is
/// written self-checked (container version 2), so a byte flipped inside an index block gets past
/// the container's CRC-32 to the codec through `CodecRegistry.decode(_:options:)`, which restores
/// the block and says so in a warning, or refuses under `strict`. On the committed fixture model.
@Suite struct DamagedFileTests {
    let codec: VQGANCodec
    let registry: CodecRegistry
    /// 150x90 pixels at unit 4: 6x10 indices in 2x3 blocks.
    let file: ContainerFile
    let bytes: [UInt8]

    init() throws {
        let codec = try VQGANCodecTests.codec()
        self.codec = codec
        registry = CodecRegistry([CodecRegistry.Entry(info: codec.info) { codec }], defaults: [.image: codec.info.id])
        file = try codec.encode(.image(VQGANCodecTests.picture(width: 150, height: 90, seed: 3)),
                                options: CodecOptions(["k": "16", "unit": "4"]))
        bytes = file.serialized()
    }

    /// Where block `b`'s bytes lie in the serialized file (blocks end the payload, in order).
    func blockRange(_ b: Int) throws -> Range<Int> {
        let (_, _, blocks) = try codec.readPayload(file.payload, width: 150, height: 90)
        let lengths = blocks.map { $0.bytes!.count }
        let payloadEnd = bytes.count - 4
        let start = payloadEnd - lengths[b...].reduce(0, +)
        return start..<(start + lengths[b])
    }

    @Test func theCodecDeclaresAndWritesASelfCheckedPayload() {
        #expect(codec.info.selfCheckedPayload)
        #expect(file.flags == .selfCheckedPayload && bytes[4] == 2)
    }

    @Test func anIntactFileDecodesWithoutWarningsStrictOrNot() throws {
        let exact = try codec.decode(file)
        for strict in [false, true] {
            let r = try registry.decode(bytes, options: DecodeOptions(strict: strict))
            #expect(r.warnings.isEmpty && r.media == exact)
        }
    }

    /// Bytes flipped inside blocks 1 and 4: restored, counted in a warning, every other block decoded
    /// exactly; strict and the plain decode refuse with the count (exit 2).
    @Test func damagedBlocksInTheFileAreRestoredWithAWarningOrRefusedWhenStrict() throws {
        var bad = bytes
        for b in [1, 4] { let r = try blockRange(b); bad[r.lowerBound + r.count / 2] ^= 0x5A }
        #expect(throws: ContainerError.self) { try ContainerFile(parsing: bad) }  // the file's CRC sees it

        let result = try registry.decode(bad, options: DecodeOptions())
        #expect(result.warnings.count == 1)
        #expect(result.warnings.first?.hasPrefix("restored 2 of 6 index blocks that failed their checks (24 indices") == true,
                "\(result.warnings)")
        // The same picture as the codec's own restoration of the same payload.
        let parsed = try ContainerFile(parsing: bad, allowingPayloadDamage: true)
        #expect(parsed.payloadDamage != nil)
        let direct = try codec.decode(parsed, strict: false)
        #expect(direct.damagedBlocks == 2 && direct.restoredIndices == 24 && direct.blocks == 6)
        #expect(result.media == direct.media)
        #expect(MediaDescriptor(result.media) == file.media)

        // Strict, and the plain decode (which has no warning channel): refused, with the count.
        for strict in [true, false] {
            do {
                _ = strict ? try registry.decode(bad, options: DecodeOptions(strict: true)).media : try registry.decode(bad)
                Issue.record("a damaged file was decoded without a warning channel or under strict")
            } catch {
                #expect(error.exitCode == 2)
                #expect(error.description.contains("2 of 6 index blocks are damaged"), "\(error)")
            }
        }
    }

    /// Only the file's CRC-32 is damaged: every block passes its check, so the picture is exact, but
    /// the damage is still said (a warning), and strict refuses it.
    @Test func aDamagedFileCRCAloneIsSaidNotHidden() throws {
        var bad = bytes
        bad[bad.count - 1] ^= 0x01
        let result = try registry.decode(bad, options: DecodeOptions())
        #expect(result.media == (try codec.decode(file)))
        #expect(result.warnings.count == 1 && result.warnings[0].contains("every block of the payload passed its own check"))
        do {
            _ = try registry.decode(bad, options: DecodeOptions(strict: true))
            Issue.record("strict decoding accepted a file failing its CRC-32")
        } catch {
            guard case .container(.checksumMismatch) = error else { Issue.record("\(error)"); return }
        }
    }

    /// A flipped byte in the header or the block table: refused (exit 2), strict or not.
    @Test func damageOutsideTheBlocksIsRefused() throws {
        let tableStart = bytes.count - 4 - file.payload.count
        for i in [7, 12, tableStart - 1, tableStart + 6, tableStart + 20] {
            var bad = bytes
            bad[i] ^= 0x08
            for strict in [false, true] {
                do {
                    _ = try registry.decode(bad, options: DecodeOptions(strict: strict))
                    Issue.record("byte \(i) accepted")
                } catch {
                    #expect(error.exitCode == 2, "byte \(i): \(error)")
                }
            }
        }
    }
}
