import Testing
@Test func NeuralBuildsAndLinks() { #expect(Bool(true)) }
