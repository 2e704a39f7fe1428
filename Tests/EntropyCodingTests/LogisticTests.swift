import EntropyCoding
import Testing

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
}
