import Testing
@testable import Wavelets

/// The transform is exactly invertible, keeps the energy, and matches its PyTorch twin
/// (`Training/neuralcodecs/wavelets.py`), whose outputs for the inputs below are written here.
struct WaveletPacketTests {
    func noise(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 1_000_000) / 1_000_000 - 0.5
        }
    }

    /// The band scales are written out as Float literals (for speed); they are these formulas.
    @Test func scaleLiteralsAreTheFormulas() {
        #expect(WaveletPacket.lowScale == Float(2.0.squareRoot() / WaveletPacket.k))
        #expect(WaveletPacket.highScale == Float(WaveletPacket.k / 2.0.squareRoot()))
    }

    @Test(arguments: [(1, 8, 8, 1), (3, 64, 48, 3), (3, 16, 8, 3), (2, 24, 40, 2)])
    func inverse2DUndoesForward(channels: Int, height: Int, width: Int, levels: Int) {
        let x = noise(channels * height * width, seed: UInt64(height * 131 + width))
        let bands = WaveletPacket.forward2D(x, channels: channels, height: height, width: width, levels: levels)
        #expect(bands.count == x.count)
        let back = WaveletPacket.inverse2D(bands, channels: channels, height: height, width: width, levels: levels)
        #expect(zip(back, x).map { abs($0 - $1) }.max()! < 1e-5)
        let energy = bands.reduce(0) { $0 + $1 * $1 } / x.reduce(0) { $0 + $1 * $1 }
        #expect(abs(energy - 1) < 0.15)
    }

    @Test(arguments: [(2, 4096, 8), (1, 512, 3), (2, 2, 1)])
    func inverse1DUndoesForward(channels: Int, length: Int, levels: Int) {
        let x = noise(channels * length, seed: UInt64(length))
        let bands = WaveletPacket.forward1D(x, channels: channels, length: length, levels: levels)
        let back = WaveletPacket.inverse1D(bands, channels: channels, length: length, levels: levels)
        #expect(zip(back, x).map { abs($0 - $1) }.max()! < 1e-5)
    }

    @Test func constantGoesToTheLowBandOnly() {
        let bands = WaveletPacket.forward2D([Float](repeating: 0.25, count: 3 * 16 * 16), channels: 3, height: 16, width: 16, levels: 2)
        // DC gain √2 per axis per level: 2 per 2-D level, 4 after two; channel c's LL·LL band is 16c.
        for c in 0..<48 {
            let band = bands[(c * 16)..<((c + 1) * 16)]
            let expected: Float = c % 16 == 0 ? 0.25 * 4 : 0
            #expect(band.allSatisfy { abs($0 - expected) < 1e-5 }, "band \(c)")
        }
    }

    @Test func matchesPyTorchOnAnImpulse() {
        var x = [Float](repeating: 0, count: 64)
        x[3 * 8 + 5] = 1
        let b = WaveletPacket.forward2D(x, channels: 1, height: 8, width: 8, levels: 1)
        func at(_ band: Int, _ y: Int, _ xx: Int) -> Float { b[band * 16 + y * 4 + xx] }
        let expected: [(Int, Int, Int, Float)] = [
            (0, 1, 2, 0.14243292808532715), (1, 1, 2, 0.2975767254829407), (2, 1, 2, 0.2975767254829407),
            (3, 1, 2, 0.6217095255851746), (1, 2, 2, -0.015356303192675114), (3, 2, 2, -0.032083019614219666),
            (0, 0, 0, 0.0005687969969585538), (0, 0, 2, -0.00900085736066103),
        ]
        for (band, y, xx, v) in expected { #expect(abs(at(band, y, xx) - v) < 1e-6, "band \(band) at \(y),\(xx)") }
    }

    @Test func matchesPyTorchOnARamp() {
        let a = (0..<16).map { Float($0) / 16 }
        let b = WaveletPacket.forward1D(a, channels: 1, length: 16, levels: 2)
        let expected: [Float] = [0.6823874115943909, 0.48881953954696655, 0.9692901968955994, 1.6095033884048462,
                                 -0.07900582253932953, 0.015109636820852757, -0.0612686350941658, 0.5316116809844971,
                                 0.17626437544822693, -0.016923628747463226, -0.0004585572751238942, 0.09111792594194412,
                                 -0.030178025364875793, -0.0026260854210704565, 0.01248088013380766, 0.32786670327186584]
        #expect(zip(b, expected).allSatisfy { abs($0 - $1) < 1e-6 })
    }
}
