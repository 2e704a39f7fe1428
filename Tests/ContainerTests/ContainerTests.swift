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

    // MARK: Self-checked payloads (version 2)

    /// A file of a codec whose payload carries its own block checks (VQGAN's), a byte per block.
    static let selfChecked = ContainerFile(codecID: "vqgan", modelID: "vqgan-f16", modelHash: 0xFEED,
                                           media: .image(width: 64, height: 48, channels: 3, bitDepth: 8),
                                           payload: Array(0..<60), flags: .selfCheckedPayload)

    /// Files without flags are still written as version 1, byte for byte as before flags existed;
    /// a flagged file is version 2, four bytes longer (the header's CRC-32), and reads back whole.
    @Test func flagsAreVersionTwoAndFlaglessFilesStayVersionOne() throws {
        for c in samples {
            let bytes = c.serialized()
            #expect(bytes[4] == 1 && bytes[5] == 0 && c.version == 1)
        }
        let bytes = Self.selfChecked.serialized()
        #expect(bytes[4] == 2 && bytes[5] == 1 && Self.selfChecked.version == 2)
        var plain = Self.selfChecked
        plain.flags = []
        #expect(bytes.count == plain.serialized().count + 4)
        let parsed = try ContainerFile(parsing: bytes)
        #expect(parsed == Self.selfChecked && parsed.payloadDamage == nil)
        #expect(try ContainerFile(parsing: bytes, allowingPayloadDamage: true) == Self.selfChecked)
    }

    /// Damage inside a self-checked payload is refused by default, and passed on (the payload as
    /// it is, the mismatch recorded) only when the caller allows it; the header stays exact.
    @Test func damagedSelfCheckedPayloadIsPassedOnOnlyWhenAllowed() throws {
        let bytes = Self.selfChecked.serialized()
        let payloadStart = bytes.count - 4 - Self.selfChecked.payload.count
        for i in [payloadStart, payloadStart + 17, bytes.count - 5, bytes.count - 1] {  // payload and the CRC itself
            var bad = bytes
            bad[i] ^= 0x21
            #expect(throws: ContainerError.self) { try ContainerFile(parsing: bad) }
            let parsed = try ContainerFile(parsing: bad, allowingPayloadDamage: true)
            guard case .checksumMismatch = parsed.payloadDamage else { Issue.record("byte \(i): no damage recorded"); continue }
            #expect(parsed.codecID == "vqgan" && parsed.modelHash == 0xFEED && parsed.media == Self.selfChecked.media)
            #expect(parsed.payload == Array(bad[payloadStart..<(bytes.count - 4)]))
        }
    }

    /// Every bit of a flagged file's header (its own CRC included) is covered: a flip there is
    /// refused even when payload damage is allowed, so no damaged header field is ever believed.
    @Test func everyHeaderBitFlipOfAFlaggedFileIsRefusedEvenWhenDamageIsAllowed() {
        let bytes = Self.selfChecked.serialized()
        let headerEnd = bytes.count - 4 - Self.selfChecked.payload.count
        for i in 0..<headerEnd {
            for bit in 0..<8 {
                var bad = bytes
                bad[i] ^= 1 << bit
                #expect(throws: ContainerError.self, "byte \(i) bit \(bit)") { try ContainerFile(parsing: bad, allowingPayloadDamage: true) }
            }
        }
        for n in 0..<bytes.count {
            #expect(throws: ContainerError.self) { try ContainerFile(parsing: Array(bytes[0..<n]), allowingPayloadDamage: true) }
        }
    }

    /// Files without the flag keep exact CRC refusal whatever the caller allows.
    @Test func unflaggedFilesAreRefusedOnAnyCRCMismatchEvenWhenDamageIsAllowed() {
        for c in samples where !c.payload.isEmpty {
            var bad = c.serialized()
            bad[bad.count - 5] ^= 0x01  // the payload's last byte
            #expect(throws: ContainerError.self) { try ContainerFile(parsing: bad, allowingPayloadDamage: true) }
        }
    }

    /// Flags in a version-1 file, unknown flags in a version-2 file and versions past 2 are refused,
    /// with a valid CRC (a forged file, not a damaged one).
    @Test func unknownFlagsAndVersionsAreRefused() {
        func recrc(_ b: [UInt8], headerEnd: Int? = nil) -> [UInt8] {
            var b = b
            if let end = headerEnd {
                let h = crc32(b[0..<(end - 4)])
                for k in 0..<4 { b[end - 4 + k] = UInt8(truncatingIfNeeded: h >> (8 * UInt32(k))) }
            }
            let crc = crc32(b[0..<(b.count - 4)])
            for k in 0..<4 { b[b.count - 4 + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
            return b
        }
        var v1 = samples[1].serialized()
        v1[5] = 1
        #expect(throws: ContainerError.invalidField("unknown flags set")) { try ContainerFile(parsing: recrc(v1)) }
        var v2 = Self.selfChecked.serialized()
        let headerEnd = v2.count - 4 - Self.selfChecked.payload.count
        v2[5] = 0x03
        #expect(throws: ContainerError.invalidField("unknown flags set")) { try ContainerFile(parsing: recrc(v2, headerEnd: headerEnd)) }
        var v3 = Self.selfChecked.serialized()
        v3[4] = 3
        #expect(throws: ContainerError.unsupportedVersion(3)) { try ContainerFile(parsing: v3) }
    }
}
