import Container
import Testing

@Suite struct ContainerTests {
    let samples: [ContainerFile] = [
        ContainerFile(codecID: "store", media: .bytes(count: 0), payload: []),
        ContainerFile(codecID: "lm-ac", modelID: "eiw-m1", modelHash: 0x0123_4567_89AB_CDEF,
                      media: .bytes(count: 12), payload: Array(0..<200)),
        ContainerFile(codecID: "store", media: .image(width: 768, height: 512, channels: 3, bitDepth: 16), payload: [9, 9]),
        ContainerFile(codecID: "store", media: .image(width: 5, height: 5, channels: 2, bitDepth: 16, significantBits: 13), payload: [9]),
        ContainerFile(codecID: "store", media: .audio(sampleRate: 44100, channels: 2, frames: 441_000, sampleFormat: -32, source: 1), payload: [1]),
        ContainerFile(codecID: "store", media: .audio(sampleRate: 8000, channels: 1, frames: 3, sampleFormat: 24, source: 0), payload: [1]),
    ]

    @Test func serializeThenParseIsIdentity() throws {
        for c in samples {
            #expect(try ContainerFile(parsing: c.serialized()) == c)
        }
    }

    @Test func minimumSizeIsTheEmptyContainer() {
        let empty = ContainerFile(codecID: "s", media: .bytes(count: 0), payload: [])
        #expect(empty.serialized().count == ContainerFile.minimumSize + 1)  // one-byte codec id
    }

    @Test func everyTruncationIsRejected() {
        let bytes = samples[1].serialized()
        for n in 0..<bytes.count {
            #expect(throws: ContainerError.self) { try ContainerFile(parsing: Array(bytes[0..<n])) }
        }
    }

    @Test func everyBitFlipIsCaught() {
        let bytes = samples[1].serialized()
        for i in bytes.indices {
            for bit in 0..<8 {
                var bad = bytes
                bad[i] ^= 1 << bit
                #expect(throws: ContainerError.self) { try ContainerFile(parsing: bad) }
            }
        }
    }

    @Test func sizesBeyondLimitsAreRejectedBeforeAllocation() {
        let forged = [
            ContainerFile(codecID: "store", media: .image(width: 1 << 20, height: 1 << 20, channels: 1, bitDepth: 8), payload: []),
            ContainerFile(codecID: "store", media: .audio(sampleRate: 48000, channels: 2, frames: 1 << 40, sampleFormat: 16, source: 0), payload: []),
            ContainerFile(codecID: "store", media: .bytes(count: 1 << 40), payload: []),
        ]
        for c in forged {
            #expect(throws: ContainerError.self) { try ContainerFile(parsing: c.serialized()) }
        }
    }

    /// Audio within the sample-count limit whose decoded samples would exceed MediaIO's byte
    /// limit (2^31 bytes) is refused by the header alone, before any codec allocates for it.
    @Test func audioBeyondTheByteLimitIsRefusedByItsHeader() throws {
        do {
            let doubles = ContainerFile(codecID: "store", media: .audio(sampleRate: 48000, channels: 2, frames: 1 << 28,
                                                                      sampleFormat: -64, source: 0), payload: [1])
            #expect(throws: ContainerError.self) { try ContainerFile(parsing: doubles.serialized()) }
            let ints = ContainerFile(codecID: "store", media: .audio(sampleRate: 48000, channels: 2, frames: (1 << 28) + 1,
                                                                   sampleFormat: 16, source: 0), payload: [1])
            #expect(throws: ContainerError.self) { try ContainerFile(parsing: ints.serialized()) }
            // Exactly 2^31 bytes of Int32 samples is still accepted.
            let edge = ContainerFile(codecID: "store", media: .audio(sampleRate: 48000, channels: 2, frames: 1 << 28,
                                                                   sampleFormat: 16, source: 0), payload: [1])
            #expect(try ContainerFile(parsing: edge.serialized()).media == edge.media)
        }
    }

    @Test func payloadLengthMustMatchTheBytesPresent() {
        var bytes = samples[1].serialized()
        bytes.insert(0, at: bytes.count - 4)  // one stray byte before the CRC, CRC recomputed
        let body = bytes[0..<(bytes.count - 4)]
        let crc = crc32(body)
        for k in 0..<4 { bytes[bytes.count - 4 + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
        #expect(throws: ContainerError.self) { try ContainerFile(parsing: bytes) }
    }

    @Test func crcMatchesZlibReference() {
        #expect(crc32(Array("123456789".utf8)[...]) == 0xCBF4_3926)
    }
}
