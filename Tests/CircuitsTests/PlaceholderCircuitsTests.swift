import Testing
@Test func CircuitsBuildsAndLinks() { #expect(Bool(true)) }
