import Foundation
import MediaIO
import Testing

/// Issue 17, defect 4: RF64 validity comes from the sizes declared (ds64 included) against the
/// bytes and frames present, not from libsndfile's log.
@Suite struct RF64Tests {
    func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    func le64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }

    /// 16-bit mono 8 kHz RF64; `dataSize`/`frames` are what ds64 declares, `samples` what is present.
    func rf64(samples: [Int16], dataSize: UInt64? = nil, frames: UInt64? = nil) -> [UInt8] {
        let data = samples.flatMap { le16(UInt16(bitPattern: $0)) }
        let fmt = le16(1) + le16(1) + le32(8000) + le32(16000) + le16(2) + le16(16)
        let total = UInt64(4 + (8 + 28) + (8 + fmt.count) + 8 + data.count)
        var b = Array("RF64".utf8) + le32(0xFFFF_FFFF) + Array("WAVE".utf8)
        b += Array("ds64".utf8) + le32(28) + le64(total) + le64(dataSize ?? UInt64(data.count))
            + le64(frames ?? UInt64(samples.count)) + le32(0)
        b += Array("fmt ".utf8) + le32(UInt32(fmt.count)) + fmt
        b += Array("data".utf8) + le32(0xFFFF_FFFF) + data
        return b
    }

    @Test func validRF64IsRead() throws {
        let samples = (0..<500).map { Int16(truncatingIfNeeded: $0 * 97) }
        let audio = try AudioFile.decode(rf64(samples: samples))
        #expect(audio.frames == 500 && audio.sampleRate == 8000 && audio.channels == 1)
        if case .integer(16, let s) = audio.samples { #expect(s.map { Int16($0 >> 16) } == samples) } else { Issue.record("not 16-bit PCM") }
    }

    @Test func rf64ClaimingMoreThanPresentIsRefused() {
        let samples = [Int16](repeating: 3, count: 500)  // 1,000 data bytes
        #expect(throws: MediaError.self) { try AudioFile.decode(rf64(samples: samples, dataSize: 1 << 32, frames: 1 << 31)) }
        #expect(throws: MediaError.self) { try AudioFile.decode(rf64(samples: samples, frames: 1 << 31)) }
        #expect(throws: MediaError.self) { try AudioFile.decode(Array(rf64(samples: samples).dropLast(100))) }
    }

    @Test func plainWAVCutShortIsRefused() throws {
        let audio = Audio(sampleRate: 8000, channels: 1, samples: .integer(bits: 16, (0..<500).map { Int32($0) << 16 }))
        let wav = try AudioFile.encode(audio, as: .wav)
        #expect(throws: MediaError.self) { try AudioFile.decode(Array(wav.dropLast(100))) }
        #expect(try AudioFile.decode(wav) == audio)
    }
}
