import Testing
@Test func ContainerBuildsAndLinks() { #expect(Bool(true)) }
