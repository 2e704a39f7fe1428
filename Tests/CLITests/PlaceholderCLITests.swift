import Testing
@Test func CLIBuildsAndLinks() { #expect(Bool(true)) }
