import CodecKit
import Testing
import TestSupport
@testable import GRVQ

/// Chunked coding equals whole-file coding: the indices (deterministic path) and the decoded
/// samples for chunks of every size, down to one frame, because each chunk's context covers the
/// networks' receptive fields (`encoderContextFrames`, `decoderContextFrames`).
struct StreamingTests {
    // 2.4 s, not a whole number of frames.
    static let signal = speechlike(samples: 38_517)

    @Test func indicesDoNotDependOnTheChunkSize() throws {
        let codec = try Released.codec.get(), levels = codec.model.architecture.levels
        let f = codec.frames(Self.signal.count)
        let whole = codec.indices(Self.signal, frames: 0..<f, levels: levels)
        for chunk in [1, 7, 40] {
            let streams = codec.encodeChunks(Self.signal, levels: levels, chunkFrames: chunk)
            #expect(streams.count == (f + chunk - 1) / chunk)
            var joined = [UInt16](repeating: 0, count: whole.count)
            let blocks = codec.model.architecture.groups * levels
            for (c, stream) in streams.enumerated() {
                let lo = c * chunk, n = min(f, lo + chunk) - lo
                let part = try codec.model.indexCoder.decode(stream, levels: levels, frames: n)
                for b in 0..<blocks { for t in 0..<n { joined[b * f + lo + t] = part[b * n + t] } }
            }
            #expect(joined == whole, "chunks of \(chunk) frames")
        }
    }

    @Test func samplesDoNotDependOnTheChunkSize() throws {
        let codec = try Released.codec.get(), levels = 2
        let f = codec.frames(Self.signal.count)
        let indices = codec.indices(Self.signal, frames: 0..<f, levels: levels)
        let whole = codec.reconstruct(indices, levels: levels, samples: Self.signal.count, chunkFrames: f)
        #expect(whole.count == Self.signal.count)
        for chunk in [1, 9, 50] {
            #expect(codec.reconstruct(indices, levels: levels, samples: Self.signal.count, chunkFrames: chunk) == whole,
                    "chunks of \(chunk) frames")
        }
    }
}
