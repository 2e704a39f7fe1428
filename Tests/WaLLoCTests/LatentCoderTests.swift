import Foundation
import Neural
import Testing
@testable import WaLLoC

/// The latent coder and the companding, without a released model.
struct LatentCoderTests {
    /// Tables shaped like a trained prior: narrower for quiet contexts.
    func coder(channels: Int, twoDimensional: Bool) throws -> LatentCoder {
        let b = LatentCoder.contextBuckets, n = LatentCoder.alphabet
        var f: [Float] = []
        for c in 0..<channels {
            for k in 0..<b {
                let width = Double(1 + k + c)
                let p = (0..<n).map { exp(-abs(Double($0 - 127)) / width) + 1e-9 }
                let sum = p.reduce(0, +)
                var q = p.map { max(1, ($0 / sum * Double(65536 - n)).rounded(.down) + 1) }
                q[127] += 65536 - q.reduce(0, +)
                f += q.map(Float.init)
            }
        }
        return try LatentCoder(frequencies: Tensor(shape: [channels, b, n], scalars: f), channels: channels, twoDimensional: twoDimensional)
    }

    @Test(arguments: [true, false])
    func roundTrips(twoDimensional: Bool) throws {
        let coder = try coder(channels: 3, twoDimensional: twoDimensional)
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

    @Test func rejectsDamagedStreams() throws {
        let coder = try coder(channels: 2, twoDimensional: true)
        let latents = [Int8](repeating: 3, count: 2 * 4 * 4)
        let stream = coder.encode(latents, height: 4, width: 4)
        #expect(throws: (any Error).self) { try coder.decode(Array(stream.dropLast()), height: 4, width: 4) }
        #expect(throws: (any Error).self) { try coder.decode(stream + [1, 2, 3, 4], height: 4, width: 4) }
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
