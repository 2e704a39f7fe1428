import TestSupport
import MediaIO

/// CRC-32 (PNG/zlib polynomial), for building and re-sealing PNG chunks in tests.
func crc32(_ bytes: some Sequence<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

/// One PNG chunk: length, type, data, CRC.
func pngChunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let typeBytes = Array(type.utf8)
    return bigEndian(UInt32(data.count)) + typeBytes + data + bigEndian(crc32(typeBytes + data))
}

/// The chunks of a PNG as (type, offset of the chunk's length field, data length).
func pngChunks(_ png: [UInt8]) -> [(type: String, offset: Int, length: Int)] {
    var out: [(String, Int, Int)] = []
    var at = 8
    while at + 12 <= png.count {
        let length = Int(png[at]) << 24 | Int(png[at + 1]) << 16 | Int(png[at + 2]) << 8 | Int(png[at + 3])
        out.append((String(decoding: png[at + 4..<at + 8], as: UTF8.self), at, length))
        at += 12 + length
    }
    return out
}

/// A random image with every sample in 0...maxValue.
func randomImage(width: Int, height: Int, channels: Int, bitDepth: Int, seed: UInt64) -> Image {
    var rng = SplitMix64(seed: seed)
    let mask = UInt64((1 << bitDepth) - 1)
    let samples = (0..<width * height * channels).map { _ in UInt16(rng.next() & mask) }
    return Image(width: width, height: height, channels: channels, bitDepth: bitDepth, samples: samples)
}

/// Random integer PCM at `bits`, left-justified as libsndfile delivers it, full range included.
func randomPCM(frames: Int, channels: Int, bits: Int, seed: UInt64) -> Audio {
    var rng = SplitMix64(seed: seed)
    let mask = Int32(truncatingIfNeeded: UInt32.max << UInt32(32 - bits))
    var s = (0..<frames * channels).map { _ in Int32(truncatingIfNeeded: rng.next()) & mask }
    if s.count >= 2 { s[0] = Int32.min; s[1] = Int32.max & mask }
    return Audio(sampleRate: 44_100, channels: channels, samples: .integer(bits: bits, s))
}

/// A zlib stream holding `data` in one stored (uncompressed) deflate block, for hand-made PNGs.
func zlibStored(_ data: [UInt8]) -> [UInt8] {
    precondition(data.count < 65_536)
    var a: UInt32 = 1, b: UInt32 = 0
    for byte in data { a = (a + UInt32(byte)) % 65_521; b = (b + a) % 65_521 }
    let n = UInt16(data.count)
    return [0x78, 0x01, 0x01, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8(~n >> 8)] + data + bigEndian(b << 16 | a)
}

/// A palette PNG, 8-bit indices, one row per entry of `rows`.
func palettePNG(palette: [[UInt8]], alpha: [UInt8]? = nil, rows: [[UInt8]]) -> [UInt8] {
    let ihdr = bigEndian(UInt32(rows[0].count)) + bigEndian(UInt32(rows.count)) + [8, 3, 0, 0, 0]
    let scanlines: [UInt8] = rows.flatMap { row -> [UInt8] in [0] + row }  // filter type 0 per row
    let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    let transparency: [UInt8] = alpha.map { pngChunk("tRNS", $0) } ?? []
    return signature + pngChunk("IHDR", ihdr) + pngChunk("PLTE", Array(palette.joined())) + transparency
        + pngChunk("IDAT", zlibStored(scanlines)) + pngChunk("IEND", [])
}
