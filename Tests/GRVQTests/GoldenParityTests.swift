import Neural
import Testing
import TestSupport
@testable import GRVQ

/// Swift against the PyTorch model on the golden input the released model was exported with
/// (`Codecs/grvq-16k/golden.safetensors`, written by Training/recipes/grvq_export.py from the
/// same float16 weights, so a re-export refreshes it): the latent within float tolerance, the
/// indices equal, the decoder's output at every level count within float tolerance.
struct GoldenParityTests {
    static let golden = Result { try SafeTensors(contentsOfFile: Released.folder + "/grvq-16k/golden.safetensors") }

    @Test func encoderAndCodeSearchMatchPyTorch() throws {
        let model = try Released.codec.get().model, g = try Self.golden.get()
        let input = try g.tensor("input"), latent = try g.tensor("latent"), indices = try g.tensor("indices")
        let a = model.architecture
        #expect(input.shape == [1, 1, input.count] && latent.shape == [1, a.latent, input.count / a.hop])
        let z = model.latent(input.scalars)
        let peak = latent.scalars.map { abs($0) }.max()!
        let error = zip(z.scalars, latent.scalars).map { abs($0 - $1) }.max()!
        print("grvq golden: latent max |Swift - PyTorch| \(error) (peak \(peak))")
        #expect(error <= 1e-4 * max(1, peak))
        #expect(indices.shape == [1, a.groups, a.levels, z.shape[2]])
        let swift = model.quantize(z.reshaped([a.latent, z.shape[2]]), levels: a.levels)
        #expect(swift.map { Float($0) } == indices.scalars)
        // Fewer levels are the first levels of the full search (a residual level only refines).
        let one = model.quantize(z.reshaped([a.latent, z.shape[2]]), levels: 1)
        let f = z.shape[2]
        for group in 0..<a.groups {
            #expect(Array(one[(group * f)..<((group + 1) * f)]) == Array(swift[(group * a.levels * f)..<((group * a.levels) * f + f)]))
        }
    }

    @Test(arguments: 1...3) func decoderMatchesPyTorch(levels: Int) throws {
        let model = try Released.codec.get().model, g = try Self.golden.get()
        let indices = try g.tensor("indices"), output = try g.tensor("output\(levels)")
        let a = model.architecture, f = indices.shape[3]
        var kept: [UInt16] = []
        for group in 0..<a.groups {
            for l in 0..<levels { kept += indices.scalars[((group * a.levels + l) * f)..<((group * a.levels + l + 1) * f)].map { UInt16($0) } }
        }
        let x = model.decode(kept, levels: levels, frames: f)
        #expect(x.count == output.count)
        let error = zip(x, output.scalars).map { abs($0 - $1) }.max()!
        print("grvq golden: output\(levels) max |Swift - PyTorch| \(error)")
        #expect(error < 1e-4)
    }
}
