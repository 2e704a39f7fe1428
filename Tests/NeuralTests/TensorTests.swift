import Testing
@testable import Neural

@Suite struct TensorTests {
    @Test func arithmeticTransposeAndConcatenate() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect((a + a).scalars == [2, 4, 6, 8, 10, 12])
        #expect((a - a * 2).scalars == [-1, -2, -3, -4, -5, -6])
        #expect(a.transposed() == Tensor(shape: [3, 2], scalars: [1, 4, 2, 5, 3, 6]))
        #expect(a.transposed().transposed() == a)
        let b = Tensor(shape: [2, 1], scalars: [7, 8])
        #expect(Tensor.concatenate([a, b], axis: 1) == Tensor(shape: [2, 4], scalars: [1, 2, 3, 7, 4, 5, 6, 8]))
        #expect(Tensor.concatenate([a, a], axis: 0).shape == [4, 3])
        #expect(a.reshaped([3, 2]).scalars == a.scalars)
        #expect(Tensor(zeros: [2, 0, 3]).count == 0)
    }
}
