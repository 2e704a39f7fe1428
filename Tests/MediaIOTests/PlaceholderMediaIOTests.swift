import Testing
@Test func MediaIOBuildsAndLinks() { #expect(Bool(true)) }
