import EntropyCoding

/// A bit-level context-mixing model for text, after the PAQ/lpaq family (Mahoney): predicts
/// each bit of each byte, most significant first, from
///   - order-0 and order-1 direct tables and orders 2, 3, 4, 5, 6 and 8 in hashed tables,
///   - a word context (the letters of the current word) and a word-pair context,
///   - a match model (the byte that followed the last occurrence of the last 6+ bytes),
///   - optionally an external next-byte distribution (the transformer M1), turned into the
///     probability of each bit given the byte's earlier bits,
/// mixed in the logistic domain by two gated linear mixers trained online, then refined by two
/// adaptive probability maps (SSE). Everything is integer arithmetic on tables this type owns,
/// so encoder and decoder compute identical probabilities on every machine. A non-copyable
/// struct: it owns its tables, and static exclusivity checking keeps the hot loop free of
/// runtime access checks.
///
/// Written for this project from the published descriptions of PAQ/lpaq; no code was copied.
struct ContextMixingModel: ~Copyable {
    static let hashedOrders = 8  // orders 2,3,4,5,6,8, word, word pair
    private let inputCount: Int
    private let tableBits: Int
    private let tables: UnsafeMutablePointer<UInt32>  // hashedOrders tables of 16-slot buckets
    private var order0 = [UInt32](repeating: Counter.initial, count: 256)
    private var order1 = [UInt32](repeating: Counter.initial, count: 65536)
    private var contextHashes = [UInt32](repeating: 0, count: hashedOrders)
    private var buckets = [Int](repeating: 0, count: hashedOrders)  // current bucket base per order
    private var slots = [Int](repeating: 0, count: hashedOrders)
    private var match: MatchModel
    private var mixers: [Mixer]
    private var apmOrder0 = AdaptiveProbabilityMap(contexts: 256)
    private var apmOrder1 = AdaptiveProbabilityMap(contexts: 65536)
    private var lmMap = AdaptiveProbabilityMap(contexts: 256)
    private var apmLM = AdaptiveProbabilityMap(contexts: 64 * 256)

    // The byte being coded.
    private var c0 = 1  // 1 followed by the bits seen so far
    private var bitPosition = 0
    private var history: UInt64 = 0  // the last 8 bytes, most recent lowest
    private var word: UInt32 = 0
    private var previousWord: UInt32 = 0
    private var lmCumulative: [UInt32]? = nil  // 257 cumulative frequencies of M1's distribution
    private var lmStretch: Int32 = 0

    // Per-bit state between predict and update.
    private var inputs: [Int32]
    private var mixed: Int32 = 2048
    private var pr: Int32 = 2048

    /// `expectedLength` sizes the hash tables (encoder and decoder must pass the same value).
    init(expectedLength: Int, usesLanguageModel: Bool) {
        var bits = 16
        while bits < 22 && (1 << bits) < expectedLength * 2 { bits += 1 }
        tableBits = bits + 2  // slots per order: 4 * 2^ceil(log2(2n)), 2^18...2^24
        let size = Self.hashedOrders << tableBits
        tables = .allocate(capacity: size)
        tables.initialize(repeating: Counter.initial, count: size)
        inputCount = Self.hashedOrders + 2 /* order 0, 1 */ + 1 /* match */ + (usesLanguageModel ? 2 : 0) + 1 /* bias */
        inputs = [Int32](repeating: 0, count: inputCount)
        match = MatchModel(bits: min(22, bits))
        mixers = [Mixer(inputs: inputCount, contexts: 256), Mixer(inputs: inputCount, contexts: 4 * 4 * 8)]
        startByte()
    }

    deinit { tables.deallocate() }

    /// Sets M1's distribution for the next byte: 257 cumulative frequencies, 0 first, strictly
    /// increasing (every byte possible). Call before the byte's first `predict`.
    mutating func setNextByteDistribution(_ cumulative: [UInt32]) { lmCumulative = cumulative }

    /// P(next bit = 1) in 16 bits (16...65520).
    mutating func predict() -> UInt32 {
        var k = 0
        for i in 0..<Self.hashedOrders { inputs[k] = Counter.input(tables[slots[i]]); k += 1 }
        inputs[k] = Counter.input(order0[c0]); k += 1
        inputs[k] = Counter.input(order1[Int(history & 0xff) << 8 | c0]); k += 1
        inputs[k] = match.input(c0: c0, bitPosition: bitPosition); k += 1
        var lmBucket = 0
        if let cum = lmCumulative {
            let prefix = c0 ^ (1 << bitPosition)
            let lo = prefix << (8 - bitPosition), half = 1 << (7 - bitPosition)
            let total = Int64(cum[lo + 2 * half] - cum[lo]), ones = Int64(cum[lo + 2 * half] - cum[lo + half])
            let p = Int32(min(4095, max(1, (ones << 12) / total)))
            lmStretch = Logistic.stretch(p)
            inputs[k] = lmStretch; k += 1
            inputs[k] = Logistic.stretch(lmMap.refine(p, context: c0)); k += 1
            lmBucket = min(3, Int(abs(lmStretch)) >> 9)
        }
        inputs[k] = 256  // bias
        let matchBucket = match.lengthBucket
        let m0 = mixers[0].mix(inputs, context: c0)
        let m1 = mixers[1].mix(inputs, context: (matchBucket * 4 + lmBucket) * 8 + bitPosition)
        mixed = Logistic.squash((m0 + m1) >> 1)
        let a0 = apmOrder0.refine(mixed, context: c0)
        let a1 = apmOrder1.refine(mixed, context: Int(history & 0xff) << 8 | c0)
        if lmCumulative != nil {
            // SSE on M1's opinion: its stretched probability in 64 steps, by partial byte
            let a2 = apmLM.refine(mixed, context: Int((lmStretch + 2048) >> 6) * 256 + c0)
            pr = (mixed + a0 + a1 + a2 + 2) >> 2
        } else {
            pr = (2 * mixed + a0 + a1 + 2) >> 2
        }
        pr = min(4095, max(1, pr))
        return UInt32(pr) << 4
    }

    mutating func update(_ bit: Int) {
        for i in 0..<Self.hashedOrders { Counter.update(&tables[slots[i]], bit: bit, limit: 255) }
        Counter.update(&order0[c0], bit: bit, limit: 1023)
        Counter.update(&order1[Int(history & 0xff) << 8 | c0], bit: bit, limit: 1023)
        match.update(bit: bit)
        mixers[0].update(inputs, bit: bit)
        mixers[1].update(inputs, bit: bit)
        apmOrder0.update(bit: bit)
        apmOrder1.update(bit: bit)
        if lmCumulative != nil { lmMap.update(bit: bit); apmLM.update(bit: bit) }

        c0 = c0 << 1 | bit
        bitPosition += 1
        if bitPosition == 8 {
            let byte = UInt8(c0 & 0xff)
            history = history << 8 | UInt64(byte)
            match.append(byte, history: history)
            updateWord(byte)
            c0 = 1
            bitPosition = 0
            lmCumulative = nil
            startByte()
        } else if bitPosition == 4 {
            selectBuckets()
        } else {
            // the slot within the bucket follows the nibble's bits so far: 1, 2-3, 4-7, 8-15
            let seen = bitPosition & 3
            let partial = 1 << seen | (c0 & ((1 << seen) - 1))
            for i in 0..<Self.hashedOrders { slots[i] = buckets[i] + partial }
        }
    }

    private mutating func updateWord(_ byte: UInt8) {
        var c = UInt32(byte)
        if c >= 65 && c <= 90 { c += 32 }
        if c >= 97 && c <= 122 || c >= 128 {
            word = (word ^ c) &* 0x2F0B_3D45 &+ 1
        } else if word != 0 {
            previousWord = word
            word = 0
        }
    }

    /// Byte-boundary context hashes, then the first nibble's buckets.
    private mutating func startByte() {
        let h = history
        contextHashes[0] = hash64(h & 0xffff, salt: 2)
        contextHashes[1] = hash64(h & 0xff_ffff, salt: 3)
        contextHashes[2] = hash64(h & 0xffff_ffff, salt: 4)
        contextHashes[3] = hash64(h & 0xff_ffff_ffff, salt: 5)
        contextHashes[4] = hash64(h & 0xffff_ffff_ffff, salt: 6)
        contextHashes[5] = hash64(h, salt: 8)
        let c1 = UInt32(h & 0xff)
        contextHashes[6] = hash64(UInt64(word) << 8 | UInt64(word == 0 ? c1 : 0), salt: 11)
        contextHashes[7] = hash64(UInt64(word) << 32 | UInt64(previousWord), salt: 12)
        selectBuckets()
    }

    /// At each nibble boundary: the 16-slot bucket of every hashed context (slot 0 holds a check
    /// value; a bucket whose check differs belonged to another context and is reset).
    private mutating func selectBuckets() {
        let mask = (1 << (tableBits - 4)) - 1
        for i in 0..<Self.hashedOrders {
            let h = contextHashes[i] ^ (UInt32(c0) &* 0x9E37_79B1)
            let mixed = (h ^ (h >> 15)) &* 0x2C1B_3C6D
            let bucket = (i << tableBits) + ((Int(mixed >> 8) & mask) << 4)
            let check = (mixed & 0xff) | 0x100
            if tables[bucket] != check {
                tables[bucket] = check
                for j in 1..<16 { tables[bucket + j] = Counter.initial }
            }
            buckets[i] = bucket
            slots[i] = bucket + 1
        }
    }
}

@inline(__always)
func hash64(_ v: UInt64, salt: UInt32) -> UInt32 {
    var x = v &+ UInt64(salt) &* 0x9E37_79B9_7F4A_7C15
    x = (x ^ (x >> 31)) &* 0xBF58_476D_1CE4_E5B9
    x = (x ^ (x >> 29)) &* 0x94D0_49BB_1331_11EB
    return UInt32(truncatingIfNeeded: x ^ (x >> 32))
}

/// An adaptive bit probability with a hit count, packed in 32 bits: p (16 bits) << 16 | n.
/// The rate 1/(n + 1.5) makes it the running frequency at first and an exponential average
/// once n reaches its limit.
enum Counter {
    static let initial: UInt32 = 0x8000_0000
    private static let rates: [Int32] = (0..<1024).map { Int32(131072 / (2 * $0 + 3)) }

    /// The mixer input: stretch(p), or 0 when the context was never seen.
    @inline(__always) static func input(_ s: UInt32) -> Int32 {
        s & 0xffff == 0 ? 0 : Logistic.stretch(Int32(s >> 20))
    }

    @inline(__always) static func update(_ s: inout UInt32, bit: Int, limit: UInt32) {
        let p = Int32(s >> 16), n = s & 0xffff
        let target: Int32 = bit != 0 ? 65535 : 0
        let np = p + Int32((Int64(target - p) * Int64(rates[Int(n)])) >> 16)
        s = UInt32(np) << 16 | min(n + 1, limit)
    }
}

/// Predicts the next bit from the longest recent repeat: after the last 6 bytes were last seen,
/// which byte came next.
struct MatchModel {
    private static let minimum = 6
    private var bytes: [UInt8] = []
    private var table: [Int32]
    private let mask: UInt32
    private var pointer = 0  // index in `bytes` of the predicted byte, when length > 0
    private var length = 0
    private var expected = 0  // predicted byte, or -1 once a bit of this byte disagreed
    private var counters = [UInt32](repeating: Counter.initial, count: 64 * 2)
    private var counterIndex = -1

    init(bits: Int) {
        table = [Int32](repeating: -1, count: 1 << bits)
        mask = UInt32(1 << bits) - 1
    }

    var lengthBucket: Int { length == 0 ? 0 : length < 16 ? 1 : length < 32 ? 2 : 3 }

    mutating func input(c0: Int, bitPosition: Int) -> Int32 {
        counterIndex = -1
        guard length > 0, expected >= 0 else { return 0 }
        let e = expected | 0x100
        guard e >> (8 - bitPosition) == c0 else { expected = -1; return 0 }
        let bit = (e >> (7 - bitPosition)) & 1
        let level = min(length, 15) + (length >= 16 ? min((length - 16) >> 2, 15) + 1 : 0)
        counterIndex = level << 1 | bit
        let c = counters[counterIndex]
        return c & 0xffff == 0 ? (bit == 1 ? 256 : -256) : Counter.input(c)
    }

    mutating func update(bit: Int) {
        if counterIndex >= 0 { Counter.update(&counters[counterIndex], bit: bit, limit: 1023) }
    }

    mutating func append(_ byte: UInt8, history: UInt64) {
        bytes.append(byte)
        if length > 0 && pointer < bytes.count - 1 && bytes[pointer] == byte {
            length += 1
            pointer += 1
        } else {
            length = 0
        }
        guard bytes.count >= Self.minimum else { return }
        let key = Int(hash64(history & 0xffff_ffff_ffff, salt: 99) & mask)
        if length == 0 {
            let candidate = Int(table[key])
            if candidate > 0 {
                var n = 0
                while n < 32 && candidate - 1 - n >= 0 && bytes[candidate - 1 - n] == bytes[bytes.count - 1 - n] { n += 1 }
                if n >= Self.minimum { length = n; pointer = candidate }
            }
        }
        table[key] = Int32(bytes.count)
        expected = length > 0 ? Int(bytes[pointer]) : -1
    }
}

/// A gated linear mixer in the logistic domain: weights (16.16 fixed point) selected by a
/// context, trained online to reduce coding cost.
struct Mixer {
    private let n: Int
    private var weights: [Int32]
    private var selected = 0
    private var output: Int32 = 2048
    private let rate: Int64 = 4

    init(inputs: Int, contexts: Int) {
        n = inputs
        weights = [Int32](repeating: 13000, count: inputs * contexts)
    }

    /// The mixed prediction in the logistic domain.
    mutating func mix(_ x: [Int32], context: Int) -> Int32 {
        selected = context * n
        var dot: Int64 = 0
        for i in 0..<n { dot += Int64(x[i]) * Int64(weights[selected + i]) }
        let s = Int32(clamping: dot >> 16)
        output = Logistic.squash(s)
        return min(2047, max(-2047, s))
    }

    mutating func update(_ x: [Int32], bit: Int) {
        let err = Int64((Int32(bit) << 12) - output) * rate
        for i in 0..<n {
            let w = Int64(weights[selected + i]) + ((Int64(x[i]) * err) >> 14)
            weights[selected + i] = Int32(clamping: w)
        }
    }
}

/// Secondary estimation: refines a probability given a context by interpolating between 33
/// adaptive knots in the logistic domain (the nearer knot learns).
struct AdaptiveProbabilityMap {
    private var table: [UInt16]
    private var index = 0

    init(contexts: Int) {
        let row = (0..<33).map { UInt16(Logistic.squash(Int32(($0 - 16) * 128)) * 16) }
        table = Array((0..<contexts).map { _ in row }.joined())
    }

    mutating func refine(_ p: Int32, context: Int) -> Int32 {
        let s = Logistic.stretch(p) + 2048  // 1...4095
        let lo = Int(s >> 7), w = s & 127
        let base = context * 33 + lo
        index = base + (w >> 6 == 0 ? 0 : 1)
        let v = (Int32(table[base]) * (128 - w) + Int32(table[base + 1]) * w) >> 11
        return min(4095, max(1, v))
    }

    mutating func update(bit: Int) {
        let target: Int32 = bit != 0 ? 65535 : 0
        let t = Int32(table[index])
        table[index] = UInt16(t + ((target - t) >> 6))
    }
}
