import Neural
import Testing
import TestSupport
@testable import WaLLoC

/// Swift against the PyTorch model on the golden input a released model was exported with
/// (`Codecs/<model>/golden.safetensors`): the latents equal but for a rare ±1 where PyTorch's
/// float sum lands across a rounding boundary, the decoder's output within float tolerance.
func expectMatchesGolden(_ codec: WaLLoCCodec, model: String, latentChannels: Int) throws {
    let golden = try SafeTensors(contentsOfFile: repositoryRoot + "/Codecs/\(model)/golden.safetensors")
    let input = try golden.tensor("input"), latents = try golden.tensor("latents"), output = try golden.tensor("output")
    let image = input.rank == 4
    let (h, w) = image ? (input.shape[2], input.shape[3]) : (1, input.shape[2])
    let stride = codec.model.architecture.stride
    #expect(latents.shape[1] == latentChannels)
    let swiftLatents = codec.model.encode(input.scalars, height: h, width: w)
    let diffs = zip(swiftLatents, latents.scalars).map { abs(Float($0) - $1) }
    #expect(diffs.max()! <= 1)
    #expect(diffs.filter { $0 > 0 }.count * 100 <= diffs.count)
    let decoded = codec.model.decode(latents.scalars.map { Int8($0) }, height: image ? h / stride : 1, width: w / stride)
    #expect(zip(decoded, output.scalars).map { abs($0 - $1) }.max()! < 2e-3)
}
