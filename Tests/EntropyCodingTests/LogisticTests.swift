import EntropyCoding
import Testing
import TestSupport
import Foundation

@Suite struct LogisticTests {
    /// squash is the rounded logistic (checked at a few points against closed forms), monotone,
    /// symmetric up to rounding, clamped; stretch is its inverse (the smallest d reaching p).
    @Test func squashAndStretchAreInverse() {
        #expect(Logistic.squash(0) == 2048)
        #expect(Logistic.squash(-5000) == 1 && Logistic.squash(5000) == 4095)
        #expect(Logistic.squash(256) == 2994)  // 4096 / (1 + e^-1) = 2994.4
        #expect(Logistic.squash(-512) == 488)  // 4096 / (1 + e^2) = 488.3
        var previous: Int32 = 0
        for d in Int32(-2047)...2047 {
            let p = Logistic.squash(d)
            #expect(p >= previous && (1...4095).contains(p))
            #expect(abs(p + Logistic.squash(-d) - 4096) <= 1)
            #expect(Logistic.stretch(p) <= d)
            previous = p
        }
        for p in Int32(1)...4095 {
            let d = Logistic.stretch(p)
            #expect((-2047...2047).contains(d))
            #expect(Logistic.squash(d) >= p || d == 2047)
            #expect(d == -2047 || Logistic.squash(d - 1) < p)
        }
    }

    /// A counted bit probability converges on a source's rate, fast while young; a mixer of a
    /// good and a useless input learns to trust the good one and beats both inputs alone.
    @Test func countedProbabilityAndMixerLearn() {
        var state = CountedBitProbability.initial
        #expect(CountedBitProbability.probability12(state) == 2048)
        CountedBitProbability.update(&state, true, limit: 255)
        #expect((3400...3420).contains(CountedBitProbability.probability12(state)), "the first hit moves 2/3 of the way")
        for i in 0..<4000 { CountedBitProbability.update(&state, i % 4 == 0, limit: 255) }
        #expect(abs(CountedBitProbability.probability12(state) - 1024) < 80)

        // Bits that follow a known per-context probability; input 0 knows it, input 1 is noise.
        var mixer = LogisticMixer(inputs: 3, contexts: 1)
        var g = SplitMix64(seed: 5)
        var cost = 0.0, costInformed = 0.0
        for i in 0..<20_000 {
            let truth: Int32 = [300, 3800, 2048, 1200][Int(g.next() % 4)]
            let bit = Int32(g.next() % 4096) < truth
            mixer.inputs[0] = Logistic.stretch(truth)
            mixer.inputs[1] = Int32(g.next() % 2001) - 1000
            mixer.inputs[2] = 256
            let p = mixer.mix(context: 0)
            mixer.update(bit: bit)
            if i >= 10_000 {
                cost -= log2(Double(bit ? p : 4096 - p) / 4096)
                costInformed -= log2(Double(bit ? truth : 4096 - truth) / 4096)
            }
        }
        #expect(cost < costInformed * 1.02, "mixed \(cost) bits, the informed input alone \(costInformed)")
    }
}
