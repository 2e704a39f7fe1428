import CodecKit
import Container
import MediaIO
import Testing
import TextLM

/// A codec that does not declare a self-checked payload keeps exact CRC refusal on every decode
/// path, strict or not, even in a forged file that sets the container's self-checked flag.
/// (The VQGAN side, which declares it, is VQGANTests' DamagedFileTests.)
@Suite struct DamagedPayloadTests {
    let registry = CodecRegistry([CodecRegistry.Entry(info: LMACCodec().info) { LMACCodec() }], defaults: [.bytes: "lm-ac"])
    let text = Array("a container whose codec checks nothing of its own, damaged in its payload".utf8)

    func encoded() throws -> ContainerFile {
        try LMACCodec().encode(.bytes(text), options: CodecOptions(["lm": "off"]))
    }

    func expectRefused(_ bytes: [UInt8], _ why: String) {
        for options in [DecodeOptions(), DecodeOptions(strict: true)] {
            do {
                _ = try registry.decode(bytes, options: options)
                Issue.record("\(why) (strict: \(options.strict)) was decoded")
            } catch {
                guard case .container(.checksumMismatch) = error else { Issue.record("\(why): \(error)"); continue }
                #expect(error.exitCode == 2)
            }
        }
    }

    @Test func aFlippedPayloadByteIsRefused() throws {
        let file = try encoded()
        #expect(!LMACCodec().info.selfCheckedPayload && file.flags.isEmpty)
        var bytes = file.serialized()
        #expect(try registry.decode(bytes, options: DecodeOptions()).media == .bytes(text))
        bytes[bytes.count - 10] ^= 0x40
        expectRefused(bytes, "a flipped payload byte")
    }

    /// The flag is the codec's declaration, not the file's: a file claiming it for a codec that
    /// does not declare it gets past the container (its header is intact) but not the registry.
    @Test func aForgedSelfCheckedFlagDoesNotBypassTheCRC() throws {
        var file = try encoded()
        file.flags = .selfCheckedPayload
        var bytes = file.serialized()
        #expect(try registry.decode(bytes, options: DecodeOptions()).media == .bytes(text))
        bytes[bytes.count - 10] ^= 0x40
        #expect(try ContainerFile(parsing: bytes, allowingPayloadDamage: true).payloadDamage != nil)
        expectRefused(bytes, "a forged flag over a flipped payload byte")
    }
}
