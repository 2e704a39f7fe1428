import CodecKit
import Container
import MediaIO
import Testing

/// A codec shaped like a latent codec: it exports its payload as a uint8 .npy of shape
/// (1, 2, n) and decodes such a .npy back; `lie` makes it return other media than the header's.
private struct LatentCodec: Codec {
    var lie = false
    var info: CodecInfo {
        CodecInfo(id: lie ? "liar" : "latent", modalities: [.bytes], lossless: true, summary: "test",
                  inputForms: [InputForm("latents", summary: "a (1, 2, n) uint8 .npy") { bytes in
                      (try? NumPyArray(parsing: bytes))?.shape.count == 3 }],
                  exporters: [Exporter("latents", summary: "the payload as a .npy", fileExtension: "npy")])
    }
    func encode(_ media: Media, options: CodecOptions) throws(CodecError) -> ContainerFile {
        guard case .bytes(let b) = media else { throw .unsupportedMedia(codec: info.id, kind: media.kind, accepts: [.bytes]) }
        return ContainerFile(codecID: info.id, media: .bytes(count: b.count), payload: b + b)
    }
    func decode(_ file: ContainerFile) throws(CodecError) -> Media {
        .bytes(Array(file.payload.prefix(lie ? 1 : file.payload.count / 2)))
    }
    func decode(_ bytes: [UInt8], form: String) throws(CodecError) -> Media {
        let a = try NumPyArray(parsing: bytes)
        return .bytes(a.values.prefix(a.values.count / 2).map { UInt8($0) })
    }
    func export(_ file: ContainerFile, as exporter: String) throws(CodecError) -> [UInt8] {
        NumPyArray(dtype: .uint8, shape: [1, 2, file.payload.count / 2], values: file.payload.map(UInt16.init)).serialized()
    }
}

@Suite struct RegistryTests {
    let builds = Locked(0)
    var registry: CodecRegistry {
        let builds = self.builds
        return CodecRegistry([
            CodecRegistry.Entry(info: LatentCodec().info) { builds.withValue { $0 += 1 }; return LatentCodec() },
            CodecRegistry.Entry(info: LatentCodec(lie: true).info) { LatentCodec(lie: true) },
        ], defaults: [.bytes: "latent"])
    }

    @Test func exportersAndInputFormsGoThroughTheRegistry() throws {
        let registry = self.registry
        let media = Media.bytes(Array("latent".utf8))
        let file = try registry.codec(nil, for: .bytes).encode(media, options: CodecOptions())
        let npy = try registry.export(file, as: "latents")
        #expect(try NumPyArray(parsing: npy).shape == [1, 2, 6])
        #expect(try registry.decode(npy) == media)
        #expect(try registry.decode(file.serialized()) == media)
        #expect(builds.withValue { $0 } == 1)  // built once, however often asked
        #expect(registry.exporterNames == ["latents"])
        #expect(throws: CodecError.self) { try registry.codec(exporting: "tokens", id: nil, for: .bytes) }
    }

    @Test func decodedMediaMustMatchTheHeader() throws {
        let file = try registry.codec("liar", for: .bytes).encode(.bytes([1, 2, 3]), options: CodecOptions())
        #expect(throws: CodecError.corruptPayload("decoded media does not match the header (liar)")) { try registry.decode(file) }
    }

    @Test func numPyArraysRoundTripAndRejectLies() throws {
        for a in [NumPyArray(dtype: .uint8, shape: [3, 2], values: [0, 1, 2, 3, 4, 255]),
                  NumPyArray(dtype: .uint16, shape: [4], values: [0, 1, 65535, 7]),
                  NumPyArray(dtype: .uint8, shape: [0], values: [])] {
            let bytes = a.serialized()
            #expect((bytes.count - a.values.count * a.dtype.size) % 64 == 0)
            #expect(try NumPyArray(parsing: bytes) == a)
            if !a.values.isEmpty {
                #expect(throws: CodecError.self) { try NumPyArray(parsing: Array(bytes.dropLast())) }
            }
        }
        #expect(throws: CodecError.self) { try NumPyArray(parsing: Array("not numpy".utf8)) }
    }
}
