import Foundation
import Testing
import TestSupport
import Circuits

extension SplitMix64 {
    /// Uniform in [0, 1) from the top 53 bits.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
}

/// A reproducible model with random parameters: parents given, M states, K values.
func randomModel(parent: [Int], states m: Int, values k: Int, seed: UInt64) -> HiddenChowLiuTree {
    var rng = SplitMix64(seed: seed)
    func distribution(_ n: Int) -> [Float] {
        let w = (0..<n).map { _ in 0.05 + rng.unit() }
        let s = w.reduce(0, +)
        return w.map { Float($0 / s) }
    }
    let prior = distribution(m)
    var transitions: [Float] = [], leaves: [Float] = []
    for v in parent.indices {
        for _ in 0..<m { transitions += parent[v] < 0 ? prior : distribution(m) }
    }
    for _ in parent.indices { for _ in 0..<m { leaves += distribution(k) } }
    return try! HiddenChowLiuTree(parent: parent, stateCount: m, valueCount: k,
                                  prior: prior, transitions: transitions, leaves: leaves)
}

/// Root 2; 2 -> {0, 4}, 0 -> {1, 3}, 4 -> {5}: branching, a chain, and a root in the middle.
let smallTree = [2, 0, -1, 0, 2, 4]

@Suite struct StructureTests {
    @Test func preorderVisitsParentsFirst() throws {
        let model = randomModel(parent: smallTree, states: 3, values: 4, seed: 1)
        #expect(model.root == 2)
        #expect(model.preorder == [2, 0, 1, 3, 4, 5])
        #expect(Array(model.children(0)) == [1, 3])
    }

    @Test func rejectsCyclesAndForests() {
        #expect(throws: CircuitError.self) {
            try HiddenChowLiuTree(parent: [1, 0, -1], stateCount: 1, valueCount: 2, prior: [1],
                                  transitions: [1, 1, 1], leaves: [Float](repeating: 0.5, count: 6))
        }
        #expect(throws: CircuitError.self) {
            try HiddenChowLiuTree(parent: [-1, -1], stateCount: 1, valueCount: 2, prior: [1],
                                  transitions: [1, 1], leaves: [Float](repeating: 0.5, count: 4))
        }
    }

    @Test func spanningTreeFollowsTheStrongestLinks() {
        // A chain 0-1-2-3 of strong weights plus weak cross links.
        let d = 4
        var w = [Double](repeating: 0.01, count: d * d)
        for (a, b) in [(0, 1), (1, 2), (2, 3)] { w[a * d + b] = 1; w[b * d + a] = 1 }
        let parent = ChowLiu.maximumSpanningTree(weights: w, count: d)
        var edges = Set<[Int]>()
        for v in 0..<d where parent[v] >= 0 { edges.insert([min(v, parent[v]), max(v, parent[v])]) }
        #expect(edges == [[0, 1], [1, 2], [2, 3]])
        #expect(parent.filter { $0 == -1 }.count == 1)
    }

    @Test func mutualInformationSeesDependence() throws {
        // Variable 1 copies variable 0; variable 2 is independent of both.
        var rng = SplitMix64(seed: 3)
        var values: [UInt8] = []
        for _ in 0..<400 {
            let a = UInt8(rng.next() % 256), c = UInt8(rng.next() % 256)
            values += [a, a, c]
        }
        let mi = ChowLiu.mutualInformation(try Dataset(variableCount: 3, values: values), bins: 4)
        #expect(mi[0 * 3 + 1] > 1.0)            // about log 4
        #expect(mi[0 * 3 + 2] < 0.05)
        #expect(mi[1 * 3 + 0] == mi[0 * 3 + 1])
    }
}

@Suite struct InvariantTests {
    let model = randomModel(parent: smallTree, states: 3, values: 4, seed: 7)

    @Test func marginalizingEverythingGivesOne() {
        let logZ = Marginals(model).logMarginal([Int](repeating: -1, count: 6))
        #expect(abs(logZ) < 1e-6)
    }

    @Test func jointSumsToOne() {
        // Enumerate all 4^6 complete assignments.
        let marginals = Marginals(model)
        var total = 0.0
        for code in 0..<4096 {
            let x = (0..<6).map { (code >> (2 * $0)) & 3 }
            total += exp(marginals.logMarginal(x))
        }
        #expect(abs(total - 1) < 1e-6)
    }

    @Test func marginalEqualsSumOverAVariable() {
        let marginals = Marginals(model)
        let evidence = [1, -1, -1, 3, 0, -1]
        var sum = 0.0
        for x in 0..<4 { var e = evidence; e[5] = x; sum += exp(marginals.logMarginal(e)) }
        #expect(abs(sum - exp(marginals.logMarginal(evidence))) < 1e-9)
    }

    @Test func conditionalsSumToOneAndMatchRatios() {
        let marginals = Marginals(model)
        let evidence = [2, -1, -1, 1, -1, 3]
        for v in [0, 1, 2, 4] {
            let p = marginals.conditional(of: v, given: evidence)
            #expect(abs(p.reduce(0, +) - 1) < 1e-9)
            var e = evidence
            let base = exp(marginals.logMarginal({ var c = e; c[v] = -1; return c }()))
            for x in 0..<4 {
                e[v] = x
                #expect(abs(p[x] - exp(marginals.logMarginal(e)) / base) < 1e-7)  // parameters are Float: rows sum to 1 within 1e-7
            }
        }
    }

    @Test func fastSchemeAgreesWithFromScratchMarginals() {
        let marginals = Marginals(model)
        let fast = SequentialConditionals(model)
        var rng = SplitMix64(seed: 11)
        for _ in 0..<20 {
            let sample = (0..<6).map { _ in Int(rng.next() % 4) }
            var evidence = [Int](repeating: -1, count: 6)
            var logFast = 0.0
            fast.walk { conditional -> Int in
                let v = conditional.variable
                let p = conditional.probabilities()
                let simple = marginals.conditional(of: v, given: evidence)
                for x in 0..<4 { #expect(abs(p[x] - simple[x]) < 1e-5) }
                #expect(conditional.cumulative(0) == 0)
                logFast += log(p[sample[v]])
                evidence[v] = sample[v]
                return sample[v]
            }
            #expect(abs(logFast - marginals.logMarginal(sample)) < 1e-4)
        }
    }

    @Test func fastSchemeIsDeterministic() {
        let fast = SequentialConditionals(model)
        func run() -> [Double] {
            var out: [Double] = []
            fast.walk { c -> Int in out += (0...4).map(c.cumulative); return c.variable % 4 }
            return out
        }
        #expect(run() == run())
    }
}

@Suite struct TrainingTests {
    /// 3x3 "images": a random bar position with noise, so neighbours are strongly dependent.
    static func bars(_ n: Int, seed: UInt64) -> Dataset {
        var rng = SplitMix64(seed: seed)
        var values: [UInt8] = []
        for _ in 0..<n {
            let row = Int(rng.next() % 3)
            for v in 0..<9 {
                let on = v / 3 == row
                values.append(on ? UInt8(200 + rng.next() % 56) : UInt8(rng.next() % 20))
            }
        }
        return try! Dataset(variableCount: 9, values: values)
    }

    static var options: TrainingOptions {
        var o = TrainingOptions()
        o.stateCount = 4
        o.miniBatchEpochs = 3
        o.batchSize = 64
        o.fullBatchEpochs = 5
        o.chunkSize = 50
        return o
    }

    @Test func emImprovesAndGeneralizes() {
        let result = train(Self.bars(600, seed: 1), validation: Self.bars(200, seed: 2), options: Self.options)
        let start = result.history.first!.validationBitsPerDimension
        #expect(result.bestValidationBitsPerDimension < start - 0.2)
        // A logLik from the reference evaluator agrees with the trainer's figure for the best model.
        let m = Marginals(result.model)
        let val = Self.bars(200, seed: 2)
        var nats = 0.0
        for i in 0..<val.count { nats -= m.logMarginal(val.sample(i).map(Int.init)) }
        let bpd = nats / (Double(val.count * 9) * log(2.0))
        #expect(abs(bpd - result.bestValidationBitsPerDimension) < 1e-3)
    }

    @Test func trainingIsReproducible() {
        let a = train(Self.bars(300, seed: 1), validation: Self.bars(50, seed: 2), options: Self.options)
        let b = train(Self.bars(300, seed: 1), validation: Self.bars(50, seed: 2), options: Self.options)
        #expect(a.model == b.model)
    }
}

@Suite struct FileTests {
    @Test func modelFileRoundTrips() throws {
        let model = randomModel(parent: smallTree, states: 3, values: 4, seed: 5)
        let bytes = ModelFile.serialize(model)
        let back = try ModelFile.parse(bytes)
        #expect(back.parent == model.parent)
        for (a, b) in zip(back.leaves, model.leaves) { #expect(abs(a - b) <= 1e-3 * b + 1e-7) }
        #expect(back == back.roundedToHalf)
    }

    @Test func damagedModelFilesAreRejected() {
        let bytes = ModelFile.serialize(randomModel(parent: smallTree, states: 3, values: 4, seed: 5))
        #expect(throws: CircuitError.self) { try ModelFile.parse(Array(bytes.prefix(bytes.count - 2))) }
        #expect(throws: CircuitError.self) { try ModelFile.parse([8, 0, 0, 0, 0, 0, 0, 0] + Array("not json".utf8)) }
        #expect(throws: CircuitError.self) { try ModelFile.parse([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]) }
        var zeroed = bytes  // the last leaf probability set to +0.0
        zeroed[zeroed.count - 1] = 0
        zeroed[zeroed.count - 2] = 0
        #expect(throws: CircuitError.self) { try ModelFile.parse(zeroed) }
    }

    @Test func shiftedCopiesMoveTheImage() throws {
        let image = try Dataset(variableCount: 9, values: [0, 0, 0, 0, 9, 0, 0, 0, 0])
        let shifted = image.withShiftedCopies(rows: 3, columns: 3, upTo: 1)
        #expect(shifted.count == 9)
        #expect(Array(shifted.sample(0)) == [9, 0, 0, 0, 0, 0, 0, 0, 0])  // moved up and left
        #expect(Array(shifted.sample(4)) == Array(image.sample(0)))
        #expect(Array(shifted.sample(8)) == [0, 0, 0, 0, 0, 0, 0, 0, 9])
    }

    @Test func idxHeadersAreChecked() throws {
        let idx = IDXImages(rows: 2, columns: 3, pixels: Array(0..<12))
        #expect(try IDXImages(parsing: idx.serialized()) == idx)
        #expect(throws: CircuitError.self) { try IDXImages(parsing: Array(idx.serialized().dropLast())) }
        var wrongMagic = idx.serialized()
        wrongMagic[3] = 1
        #expect(throws: CircuitError.self) { try IDXImages(parsing: wrongMagic) }
        let huge: [UInt8] = [0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        #expect(throws: CircuitError.self) { try IDXImages(parsing: huge) }
    }
}
