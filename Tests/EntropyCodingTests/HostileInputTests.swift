import TestSupport
import Testing
import EntropyCoding

/// Random and truncated bytes never crash, never read out of bounds, never hang: the decoders
/// return a typed error or exactly the number of symbols asked for.
@Suite struct HostileInputTests {
    static func model(precision: Int, seed: UInt64) throws -> CategoricalModel {
        var rng = SplitMix64(seed: seed)
        return try CategoricalModel(probabilities: randomProbabilities(200, skewed: true, zeros: true, using: &rng), precision: precision)
    }

    @Test func randomBytes() throws {
        var rng = SplitMix64(seed: 80)
        let models = try [12, 16, 20, 24].map { try Self.model(precision: $0, seed: UInt64($0)) }
        for trial in 0..<600 {
            let bytes = (0..<Int.random(in: 0..<200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let model = models[trial % models.count]
            let count = Int.random(in: 0..<400, using: &rng)
            let ways = [1, 2, 4, 32][trial % 4]
            if let s = try? RANS64.decode(bytes, count: count, model: model, ways: ways, as: UInt8.self) { #expect(s.count == count) }
            if model.precision <= 16, let s = try? RANS32.decode(bytes, count: count, model: model, ways: ways, as: UInt8.self) {
                #expect(s.count == count)
            }
            if let s = try? RangeCoder.decode(bytes, count: count, model: model, as: UInt8.self) { #expect(s.count == count) }
            if var d = try? RangeDecoder(bytes) {
                for _ in 0..<count { _ = try? d.decodeBit(probabilityOfZero: 60000) }
            }
        }
    }

    /// Damage to an rANS head: cut inside it, the "lifted" bit flipped, the "words follow" bit
    /// cleared.
    @Test func damagedRANSHeads() throws {
        var rng = SplitMix64(seed: 82)
        let model = try Self.model(precision: 12, seed: 6)
        let message = sampleMessage(model, count: 2000, using: &rng).map { UInt8($0) }
        let bytes = try RANS64.encode(message, model: model, ways: 4)
        func decode(_ bytes: [UInt8]) throws -> [UInt8] { try RANS64.decode(bytes, count: 2000, model: model, ways: 4, as: UInt8.self) }
        #expect(try decode(bytes) == message)
        #expect(throws: EntropyCodingError.truncatedInput) { try decode([bytes[0]]) }
        #expect(throws: EntropyCodingError.self) { try decode([]) }
        var damaged = bytes
        damaged[0] ^= 0b10  // claims a lifted lane: a 4-bit mask now shifts every field
        #expect(throws: EntropyCodingError.self) { try decode(damaged) }
        damaged = bytes
        damaged[0] &= ~1  // no words: the words become part of a (longer) head or left over
        #expect(throws: EntropyCodingError.self) { try decode(damaged) }
    }

    @Test func truncatedStreamsAreRejected() throws {
        var rng = SplitMix64(seed: 81)
        let model = try Self.model(precision: 14, seed: 5)
        let message = sampleMessage(model, count: 3000, using: &rng).map { UInt8($0) }
        let streams: [(String, [UInt8], ([UInt8]) throws -> [UInt8])] = [
            ("rans32", try RANS32.encode(message, model: model, ways: 4), { try RANS32.decode($0, count: 3000, model: model, ways: 4, as: UInt8.self) }),
            ("rans64", try RANS64.encode(message, model: model, ways: 8), { try RANS64.decode($0, count: 3000, model: model, ways: 8, as: UInt8.self) }),
            ("range", try RangeCoder.encode(message, model: model), { try RangeCoder.decode($0, count: 3000, model: model, as: UInt8.self) }),
        ]
        for (name, bytes, decode) in streams {
            #expect(try decode(bytes) == message, "\(name)")
            for cut in [1, 2, 3, 4, 5, bytes.count / 2, bytes.count - 1] {
                #expect(throws: EntropyCodingError.self, "\(name) cut \(cut)") { try decode(Array(bytes.dropLast(cut))) }
            }
            #expect(throws: EntropyCodingError.self, "\(name) extra byte") { try decode(bytes + [0]) }
        }
    }
}
