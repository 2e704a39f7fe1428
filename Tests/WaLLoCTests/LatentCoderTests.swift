import CodecKit
import Foundation
import Neural
import Testing
@testable import WaLLoC

/// The latent coder and the companding, without a released model.
struct LatentCoderTests {
    /// A prior shaped like a trained one: left/top and the previous channel predict, and tables
    /// narrower for quiet contexts.
    /// `weights` `[channels, 6 + 5·cross]` replace the sparse default ones.
    func coder(channels: Int, cross: Int = 1, weights given: [Float]? = nil) throws -> LatentCoder {
        let b = LatentCoder.contexts, n = LatentCoder.alphabet, zero = 2 * LatentCoder.maxLatent
        var f: [Float] = []
        for k in 0..<b {
            let width = Double(1 + k)
            let p = (0..<n).map { exp(-abs(Double($0 - zero)) / width) + 1e-9 }
            let sum = p.reduce(0, +)
            var q = p.map { max(1, ($0 / sum * Double(65536 - n)).rounded(.down) + 1) }
            q[zero] += 65536 - q.reduce(0, +)
            f += q.map(Float.init)
        }
        let inputs = 6 + 5 * cross
        var weights = [Float](repeating: 0, count: channels * inputs)
        for c in 0..<channels {
            weights[c * inputs] = 2000; weights[c * inputs + 1] = 1500; weights[c * inputs + 2] = -600
            if cross > 0 { weights[c * inputs + 6] = 1200 }
        }
        return try LatentCoder(weights: Tensor(shape: [channels, inputs], scalars: given ?? weights),
                               frequencies: Tensor(shape: [b, n], scalars: f), channels: channels)
    }

    @Test(arguments: [true, false])
    func roundTrips(twoDimensional: Bool) throws {
        let coder = try coder(channels: 3)
        let (h, w) = twoDimensional ? (5, 7) : (1, 40)
        var s: UInt32 = 7
        let latents = (0..<(3 * h * w)).map { i -> Int8 in
            s = s &* 1664525 &+ 1013904223
            return i == 0 ? 127 : i == 1 ? -127 : Int8(Int(s >> 24) % 21 - 10)
        }
        let stream = coder.encode(latents, height: h, width: w)
        #expect(try coder.decode(stream, height: h, width: w) == latents)
        #expect(stream.count < latents.count)
    }

    /// The encoder's row-at-a-time symbols and contexts equal `scan`'s one-at-a-time ones, on
    /// dense weights over every input (K = 3 earlier channels, odd widths for the vector tails,
    /// −128 clamped): through the exact-Float path for weights of a trained prior's size, and
    /// through `scan` itself for weights too large for it. The random weights saturate many
    /// predictions, so residuals reach ±254 and the activity its maximum (8·254 >> 1 = 1016).
    @Test(arguments: [(1000, true), (60000, false)])
    func encoderSymbolsMatchTheDecodersScan(weightScale: Int, floatExact: Bool) throws {
        let (channels, inputs) = (5, 6 + 5 * 3)
        var s: UInt32 = 5
        func next() -> Int { s = s &* 1664525 &+ 1013904223; return Int(s >> 8) }
        let weights = (0..<(channels * inputs)).map { _ in Float(next() % (2 * weightScale + 1) - weightScale) }
        let coder = try coder(channels: channels, cross: 3, weights: weights)
        #expect(coder.floatExact == floatExact)
        for (h, w) in [(1, 37), (6, 13), (3, 3), (2, 16)] {
            let latents = (0..<(channels * h * w)).map { i in i == 3 ? Int8.min : Int8(truncatingIfNeeded: next() % 255 - 127) }
            let (symbols, contexts) = coder.symbols(latents, height: h, width: w)
            let (prediction, context) = coder.predictions(latents.map { max($0, -127) }, height: h, width: w)
            #expect(symbols == zip(latents, prediction).map { UInt16(Int32(max($0, -127)) - $1 + 254) })
            #expect(contexts == context.map(UInt8.init))
            #expect(Set(contexts).count > 3)
            let stream = coder.encode(latents, height: h, width: w)
            #expect(try coder.decode(stream, height: h, width: w) == latents.map { max($0, -127) })
        }
    }

    @Test func rejectsDamagedStreams() throws {
        let coder = try coder(channels: 2)
        let latents = [Int8](repeating: 3, count: 2 * 4 * 4)
        let stream = coder.encode(latents, height: 4, width: 4)
        #expect(throws: (any Error).self) { try coder.decode(Array(stream.dropLast()), height: 4, width: 4) }
        #expect(throws: (any Error).self) { try coder.decode(stream + [1, 2, 3, 4], height: 4, width: 4) }
    }

    /// Any bytes either decode to latents in range or fail with an error, never trap.
    @Test func hostileStreamsFailCleanly() throws {
        let coder = try coder(channels: 3)
        var s: UInt32 = 11
        for length in [0, 1, 7, 8, 16, 33, 200] {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ -> UInt8 in s = s &* 1664525 &+ 1013904223; return UInt8(s >> 24) }
                if let q = try? coder.decode(bytes, height: 6, width: 9) { #expect(q.allSatisfy { abs(Int($0)) <= 127 }) }
            }
        }
    }

    @Test func rejectsPriorsOfTheWrongShape() throws {
        let good = try coder(channels: 2)
        #expect(good.crossChannels == 1)
        let f = Tensor(shape: [LatentCoder.contexts, LatentCoder.alphabet], scalars: [Float](repeating: 1, count: LatentCoder.contexts * LatentCoder.alphabet))
        #expect(throws: CodecError.self) {  // rows must sum to 2^16
            try LatentCoder(weights: Tensor(shape: [2, 6], scalars: [Float](repeating: 0, count: 12)), frequencies: f, channels: 2)
        }
        #expect(throws: CodecError.self) {  // format 1 tables
            try LatentCoder(weights: Tensor(shape: [2, 6], scalars: [Float](repeating: 0, count: 12)),
                            frequencies: Tensor(shape: [2, 14, 255], scalars: [Float](repeating: 1, count: 2 * 14 * 255)), channels: 2)
        }
        #expect(throws: CodecError.self) {  // 2 earlier channels for channel count 2
            try LatentCoder(weights: Tensor(shape: [2, 16], scalars: [Float](repeating: 0, count: 32)), frequencies: f, channels: 2)
        }
    }

    @Test func companderIsOddMonotoneAndInverts() {
        let z = stride(from: Float(-300), through: 300, by: 0.37).map { $0 }
        let q = Compander.compand(z)
        #expect(q.first == -127 && q.last == 127)
        #expect(zip(q, q.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(Compander.compand([-1.234]) == Compander.compand([1.234]).map { -$0 })
        // Near zero the slope is 2M·φ(0)/s ≈ 1.48 latent steps per unit of z.
        for v: Int8 in [-20, -1, 0, 1, 20] { #expect(Compander.compand([Compander.expand(v)]) == [v]) }
    }
}
