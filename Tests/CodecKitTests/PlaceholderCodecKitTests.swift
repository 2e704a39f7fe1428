import Testing
@Test func CodecKitBuildsAndLinks() { #expect(Bool(true)) }
