import Testing
@Test func EntropyCodingBuildsAndLinks() { #expect(Bool(true)) }
