import EntropyCoding

/// Images of format 4 (issue 22): a weighted blend of predictors, bias cancellation, and the
/// residual coded bit by bit under several contexts mixed by EntropyCoding's `LogisticMixer`.
///
/// - Colour: green is coded first, then red and blue as differences from green at the same pixel
///   (WebP's "subtract green", reversible and with no growth in range: the residual of the
///   sample itself is wrapped to the bit depth), alpha last on its own. Gray is one plane.
/// - Prediction, per plane in eighths of a sample (JPEG XL's weighted predictor, after the
///   prototype docs/LOSSLESS.md describes): six sub-predictors (W+NE−N, N and W corrected by the
///   neighbours' errors as in JPEG XL, a third error-corrected N, N+W−NW, (W+NE)/2), each
///   weighted by the inverse square of its summed absolute errors at N, W, NW, NE and WW; then
///   CALIC's bias cancellation: the mean error so far in a context of local error energy and
///   the texture (which neighbours lie above the prediction) is added.
/// - Residual r, wrapped to the depth: bit "r = 0", the sign, k = bit length of |r| − 1 in
///   unary, then the top two bits below the leading one as mixed decisions; lower bits with one
///   adaptive probability per (plane type, k, position). Each mixed decision has six
///   `CountedBitProbability` inputs under contexts of the local error energy, the spread of the
///   sub-predictors, green's (and red's) residual at this pixel, the texture, the neighbours'
///   errors and their signs, plus a bias, mixed with weights selected by decision and energy.
/// All integer arithmetic, the same on every machine.
enum ImageMixing {
    /// Sub-predictor slots: eight fixed ones, and in format 5 the learned one (slot 8).
    static func predictors(learned: Bool) -> Int { learned ? 9 : 8 }
    /// Taps of format 5's learned predictor: eleven neighbours relative to W, and for red and
    /// blue the earlier planes' errors at this pixel.
    static let lmsTaps = 13
    /// Its step size, 2^-5 of the normalised LMS update; measured on training photos
    /// (2^-4 and 2^-6 lose 0.1-0.3%).
    static let lmsStepShift = 5
    /// Its weight in the blend is 16 times what its errors alone would give (×1, 2, 3, 5, 9
    /// and 65 measured worse on training photos: it out-predicts the fixed ones on photographs,
    /// while the 1/error² weighting still hands edges and texture to them).
    static let lmsBlendShift = 4
    /// 2^24 / m for m in 128...255: the update's normalisation by a reciprocal of the taps'
    /// energy to 8 significant bits instead of a 64-bit division per sample.
    static let reciprocals: [Int] = (128...255).map { (1 << 24) / $0 }
    /// Decision nodes per context: 0 zero flag, 1 sign, 2... unary length, 20 + k first
    /// mantissa bit, 40 + 2k + b second mantissa bit.
    static let nodes = 80
    static let types = 4  // first plane (gray or green), red − green, blue − green, alpha
    static let energyLevels = 56
    /// Table 2 is energy × the other channels' residual (log) in format 4 and energy × the
    /// learned prediction's offset from the blend in format 5 (the larger of the two sizes).
    static let contextSizes = [energyLevels * 8, (energyLevels / 2) * 16, (energyLevels / 2) * 25, (energyLevels / 4) * 64, 16 * 16, 27 * (energyLevels / 4) * 8, 15 * 15 * 4, 31 * (energyLevels / 4)]
    static let mixerSelectors = energyLevels / 4
    static let biasContexts = 8 * 64
    static let stateLimit: UInt32 = 255
    /// 2^32 / (s + 1)^2 for an error sum s, the blend's weight, s clamped to 0...4095.
    static let inverseSquareCount = 4096
    static let inverseSquares: [Int] = (0..<inverseSquareCount).map { (1 << 32) / (($0 + 1) * ($0 + 1)) }

    /// Coding order of the channels and each one's plane type.
    static func layout(channels: Int) -> [(channel: Int, type: Int)] {
        switch channels {
        case 1: [(0, 0)]
        case 2: [(0, 0), (1, 3)]
        case 3: [(1, 0), (0, 1), (2, 2)]
        default: [(1, 0), (0, 1), (2, 2), (3, 3)]
        }
    }

    /// ≈ 4·log2(v): v itself below 4, then the bit length and the two bits below the leading one.
    /// Never negative, so a context index stays in its table whatever `v` is.
    @inline(__always)
    static func quarterLog(_ v: Int) -> Int {
        if v < 4 { return v < 0 ? 0 : v }
        let b = Int.bitWidth - v.leadingZeroBitCount
        return (b - 2) * 4 + ((v >> (b - 3)) & 3)
    }

    /// |v|, wrapping (Int.min stays Int.min) rather than trapping.
    @inline(__always) static func absolute(_ v: Int) -> Int { v < 0 ? 0 &- v : v }
    // min and max for Int, always inlined: `run` is too large for the optimiser's inlining
    // budget, which left the standard ones as calls in the per-sample loop.
    @inline(__always) static func smaller(_ a: Int, _ b: Int) -> Int { a < b ? a : b }
    @inline(__always) static func larger(_ a: Int, _ b: Int) -> Int { a > b ? a : b }

    /// Codes interleaved samples (`channels` per pixel, raster order, values below 2^bitDepth).
    static func encode(_ samples: [UInt16], width: Int, height: Int, channels: Int, bitDepth: Int, learned: Bool = true,
                       into encoder: inout RangeEncoder) {
        var sink = BitSink(encoder: encoder)
        encoder = RangeEncoder()  // the sink owns the stream until it is handed back
        var samples = samples
        samples.withUnsafeMutableBufferPointer { s in
            if learned {
                try! run(LearnedModel.self, width: width, height: height, channels: channels, bitDepth: bitDepth, samples: s, encoding: true, coder: &sink)
            } else {
                try! run(FixedModel.self, width: width, height: height, channels: channels, bitDepth: bitDepth, samples: s, encoding: true, coder: &sink)
            }
        }
        encoder = sink.encoder
    }

    static func decode(width: Int, height: Int, channels: Int, bitDepth: Int, learned: Bool = true,
                       from decoder: inout RangeDecoder) throws(EntropyCodingError) -> [UInt16] {
        var samples = [UInt16](repeating: 0, count: width * height * channels)
        var source = BitSource(decoder: decoder)
        try samples.withUnsafeMutableBufferPointer { (s) throws(EntropyCodingError) in
            if learned {
                try run(LearnedModel.self, width: width, height: height, channels: channels, bitDepth: bitDepth, samples: s, encoding: false, coder: &source)
            } else {
                try run(FixedModel.self, width: width, height: height, channels: channels, bitDepth: bitDepth, samples: s, encoding: false, coder: &source)
            }
        }
        decoder = source.decoder
        return samples
    }

    /// Visits every sample in raster order (channels in `layout` order within a pixel), predicts
    /// it, and codes its residual through `coder`; the encoder's samples are read, the
    /// decoder's written. `Model` picks format 4 or 5 at compile time, so each gets its own
    /// specialised loop.
    static func run<Model: ImageModelVersion, Coder: BinaryCoding>(_: Model.Type, width: Int, height: Int, channels: Int, bitDepth: Int,
                                         samples s: UnsafeMutableBufferPointer<UInt16>, encoding: Bool,
                                         coder: inout Coder) throws(EntropyCodingError) {
        let order = layout(channels: channels)
        let learned = Model.learned, planeCount = order.count, P = predictors(learned: learned), stride = width + 3
        let mask = (1 << bitDepth) - 1, half = 1 << (bitDepth - 1), depthShift = bitDepth - 8
        let maxK = bitDepth - 1

        // Per plane: its values (differences from green for red and blue), two rows of the
        // final prediction's error and of each sub-predictor's absolute error (2 columns of
        // zero margin on the left, 1 on the right), and the bias-cancellation sums.
        let planes = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, planeCount * width * height))
        let errors = UnsafeMutablePointer<Int32>.allocate(capacity: planeCount * 2 * stride)
        errors.initialize(repeating: 0, count: planeCount * 2 * stride)
        let subErrors = UnsafeMutablePointer<Int32>.allocate(capacity: planeCount * 2 * stride * P)
        subErrors.initialize(repeating: 0, count: planeCount * 2 * stride * P)
        let biasSums = UnsafeMutablePointer<Int32>.allocate(capacity: types * biasContexts)
        biasSums.initialize(repeating: 0, count: types * biasContexts)
        let biasCounts = UnsafeMutablePointer<Int32>.allocate(capacity: types * biasContexts)
        biasCounts.initialize(repeating: 0, count: types * biasContexts)
        // Bit states: one table per context input, [context][type][node].
        let tables = contextSizes.map { size -> UnsafeMutablePointer<UInt32> in
            let t = UnsafeMutablePointer<UInt32>.allocate(capacity: size * types * nodes)
            t.initialize(repeating: CountedBitProbability.initial, count: size * types * nodes)
            return t
        }
        let lowBits = UnsafeMutablePointer<UInt32>.allocate(capacity: types * 17 * 16)
        lowBits.initialize(repeating: CountedBitProbability.initial, count: types * 17 * 16)
        defer {
            planes.deallocate(); errors.deallocate(); subErrors.deallocate(); biasSums.deallocate()
            biasCounts.deallocate(); lowBits.deallocate()
            for t in tables { t.deallocate() }
        }
        let inverseSquares = UnsafeMutablePointer<Int>.allocate(capacity: inverseSquareCount)
        inverseSquares.initialize(from: Self.inverseSquares, count: inverseSquareCount)
        defer { inverseSquares.deallocate() }
        // The planes' channels and types in coding order, read once per sample.
        let planeChannels = UnsafeMutablePointer<Int>.allocate(capacity: planeCount), planeTypes = UnsafeMutablePointer<Int>.allocate(capacity: planeCount)
        planeChannels.initialize(from: order.map(\.channel), count: planeCount)
        planeTypes.initialize(from: order.map(\.type), count: planeCount)
        defer { planeChannels.deallocate(); planeTypes.deallocate() }
        let scratch = UnsafeMutablePointer<Int32>.allocate(capacity: 9 + 4096)
        let rates = UnsafeMutablePointer<UInt32>.allocate(capacity: CountedBitProbability.maximumLimit + 1)
        scratch.initialize(repeating: 0, count: 9)
        (scratch + 9).initialize(from: Logistic.stretchTable, count: 4096)
        rates.initialize(from: CountedBitProbability.rates, count: CountedBitProbability.maximumLimit + 1)
        defer { scratch.deallocate(); rates.deallocate() }
        var bits = MixedDecisions(tables: tables, scratch: scratch, stretch: scratch + 9, rates: rates)
        let p = UnsafeMutablePointer<Int>.allocate(capacity: P), sums = UnsafeMutablePointer<Int>.allocate(capacity: P)
        defer { p.deallocate(); sums.deallocate() }
        let T = lmsTaps
        // Format 5's learned predictor: per plane its weights (16.16, wrapping: deterministic,
        // and hostile input cannot trap), and the taps of the current sample.
        let lmsWeights = UnsafeMutablePointer<Int32>.allocate(capacity: planeCount * T)
        lmsWeights.initialize(repeating: 0, count: planeCount * T)
        let d = UnsafeMutablePointer<Int>.allocate(capacity: T)
        d.initialize(repeating: 0, count: T)
        let reciprocals = UnsafeMutablePointer<Int>.allocate(capacity: 128)
        reciprocals.initialize(from: Self.reciprocals, count: 128)
        defer { lmsWeights.deallocate(); d.deallocate(); reciprocals.deallocate() }
        // The sub-predictors in the blend: format 4 all eight fixed ones; format 5 p1-p5 and the
        // learned one (p0 = W + NE − N only informs a context, p6 and p7 are not computed).
        let memberList = learned ? [1, 2, 3, 4, 5, 8] : Array(0..<8), memberCount = memberList.count
        let members = UnsafeMutablePointer<Int>.allocate(capacity: memberCount)
        members.initialize(from: memberList, count: memberCount)
        defer { members.deallocate() }
        let epsilon = 16 << (2 * depthShift)  // keeps the normalisation finite on flat areas
        let lmsLow = -(8 << bitDepth), lmsHigh = 16 << bitDepth
        // The per-sample arithmetic wraps (&+, &-, &*) rather than trapping: its values stay far
        // below 2^63 (16-bit samples, errors clamped to 32 bits), so it computes what checked
        // arithmetic would, without the checks (about 10% of decode time); and since quarterLog
        // is never negative and `absolute` wraps, a pathological stream still keeps every table
        // index in range.
        for y in 0..<height {
            let current = (y & 1) &* stride, previous = ((y &+ 1) & 1) &* stride
            for x in 0..<width {
                let pixel = (y &* width &+ x) &* channels
                var green = 0, interChannel = 0
                for planeIndex in 0..<planeCount {
                    let channel = planeChannels[planeIndex], type = planeTypes[planeIndex]
                    let plane = planes + planeIndex &* width &* height
                    let i = y &* width &+ x
                    let e = errors + planeIndex &* 2 &* stride, se = subErrors + planeIndex &* 2 &* stride &* P
                    let start = type == 1 || type == 2 ? 0 : half
                    let n = y > 0 ? Int(plane[i &- width]) : (x > 0 ? Int(plane[i &- 1]) : start)
                    let w = x > 0 ? Int(plane[i &- 1]) : n
                    let nw = x > 0 && y > 0 ? Int(plane[i &- width &- 1]) : n
                    let ne = x &+ 1 < width && y > 0 ? Int(plane[i &- width &+ 1]) : n
                    let nn = y > 1 ? Int(plane[i &- 2 &* width]) : n
                    let ww = x > 1 ? Int(plane[i &- 2]) : w
                    let teN = Int(e[previous &+ x &+ 2]), teNW = Int(e[previous &+ x &+ 1]), teNE = Int(e[previous &+ x &+ 3])
                    let teW = Int(e[current &+ x &+ 1]), teWW = Int(e[current &+ x])

                    p[0] = (w &+ ne &- n) << 3
                    p[1] = (n << 3) &- (((teW &+ teN &+ teNE) &* 16) >> 5)
                    p[2] = (w << 3) &- (((teW &+ teN &+ teNW) &* 10) >> 5)
                    p[3] = (n << 3) &- (((teNW &+ teN &+ teNE) &* 7) >> 5)
                    p[4] = (n &+ w &- nw) << 3
                    p[5] = (w &+ ne) << 2
                    if learned {
                        // Format 5 blends neither p6 nor p7 (the learned predictor covers them;
                        // without them the training photos code 0.3% smaller).
                    } else if type == 1 || type == 2 {
                        // The same gradients on the channel itself, against green's value: the
                        // blend falls back on them where the channels do not move together.
                        let at = pixel &+ channel
                        let rn = y > 0 ? Int(s[at &- width &* channels]) : (x > 0 ? Int(s[at &- channels]) : half)
                        let rw = x > 0 ? Int(s[at &- channels]) : rn
                        let rnw = x > 0 && y > 0 ? Int(s[at &- width &* channels &- channels]) : rn
                        let rne = x &+ 1 < width && y > 0 ? Int(s[at &- width &* channels &+ channels]) : rn
                        p[6] = (rw &+ rne &- rn &- green) << 3
                        p[7] = (rn &+ rw &- rnw &- green) << 3
                    } else {
                        let nne = y > 1 && x &+ 1 < width ? Int(plane[i &- 2 &* width &+ 1]) : ne
                        p[6] = (n &+ ne &- nne) << 3
                        p[7] = (n &+ w) << 2
                    }
                    // Format 5: the online linear predictor (normalised LMS, as in TMW or paq8px's
                    // image models) over the neighbours relative to W, so any linear predictor
                    // whose weights sum to 1 is in reach, and for red and blue the errors of the
                    // planes coded before at this pixel: it learns how far each channel follows
                    // green, between the fixed predictors' all (p0-p5) and nothing (p6, p7).
                    var lmsEnergy = epsilon
                    let lw = lmsWeights + planeIndex &* T
                    if learned {
                        let nne = y > 1 && x &+ 1 < width ? Int(plane[i &- 2 &* width &+ 1]) : ne
                        let nnw = x > 0 && y > 1 ? Int(plane[i &- 2 &* width &- 1]) : nn
                        d[0] = n &- w; d[1] = nw &- w; d[2] = ne &- w; d[3] = nn &- w; d[4] = ww &- w
                        d[5] = nne &- w
                        d[6] = (x > 1 && y > 0 ? Int(plane[i &- width &- 2]) : nw) &- w
                        d[7] = nnw &- w
                        d[8] = (x &+ 2 < width && y > 0 ? Int(plane[i &- width &+ 2]) : ne) &- w
                        d[9] = (x > 1 && y > 1 ? Int(plane[i &- 2 &* width &- 2]) : nnw) &- w
                        d[10] = (x &+ 2 < width && y > 1 ? Int(plane[i &- 2 &* width &+ 2]) : nne) &- w
                        if type == 1 || type == 2 {
                            d[11] = -(Int(errors[current &+ x &+ 2]) >> 3)
                            d[12] = type == 2 ? -(Int(errors[2 &* stride &+ current &+ x &+ 2]) >> 3) : 0
                        } else { d[11] = 0; d[12] = 0 }
                        var dot = 0
                        for j in 0..<T { dot &+= Int(lw[j]) &* d[j]; lmsEnergy &+= d[j] &* d[j] }
                        p[8] = smaller(lmsHigh, larger(lmsLow, (w << 3) &+ (dot >> 13)))
                    }

                    // Weights 2^32 / (error sum)^2, the sums scaled so the smallest has ≤ 10 bits.
                    var lowest = Int.max
                    for m in 0..<memberCount {
                        let k = members[m]
                        let v = Int(se[(previous &+ x &+ 2) &* P &+ k]) &+ Int(se[(current &+ x &+ 1) &* P &+ k])
                            &+ Int(se[(previous &+ x &+ 1) &* P &+ k]) &+ Int(se[(current &+ x) &* P &+ k])
                            &+ Int(se[(previous &+ x &+ 3) &* P &+ k])
                        sums[k] = v
                        lowest = smaller(lowest, v)
                    }
                    let shift = larger(0, (Int.bitWidth &- lowest.leadingZeroBitCount) &- 10)
                    var weighted = 0, total = 0, highest = Int.min, least = Int.max
                    for m in 0..<memberCount {
                        let k = members[m]
                        let weight = inverseSquares[smaller(inverseSquareCount &- 1, sums[k] >> shift)] << (k == 8 ? lmsBlendShift : 0)
                        weighted &+= weight &* p[k]
                        total &+= weight
                        highest = larger(highest, p[k]); least = smaller(least, p[k])
                    }
                    let blended = weighted / total

                    // Contexts: error energy, texture, bias.
                    let energy = (absolute(teN) &+ absolute(teW) &+ absolute(teNW) &+ absolute(teNE) &+ absolute(teWW)) >> depthShift
                    let qE = smaller(energyLevels &- 1, quarterLog(energy))
                    var texture = n << 3 > blended ? 1 : 0
                    if w << 3 > blended { texture |= 2 }
                    if nw << 3 > blended { texture |= 4 }
                    if ne << 3 > blended { texture |= 8 }
                    if nn << 3 > blended { texture |= 16 }
                    if ww << 3 > blended { texture |= 32 }
                    let bias = type &* biasContexts &+ smaller(7, qE >> 3) &* 64 &+ texture
                    let count = Int(biasCounts[bias])
                    let corrected = blended &+ (count > 0 ? Int(biasSums[bias]) / count : 0)
                    let planePrediction = (corrected &+ 4) >> 3
                    let base = type == 1 || type == 2 ? green : 0
                    let prediction = smaller(mask, larger(0, base &+ planePrediction))

                    let spread = smaller(15, quarterLog((highest &- least) >> depthShift) >> 1)
                    let signs: Int = (teN > 0 ? 2 : teN < 0 ? 1 : 0) &* 9 &+ (teW > 0 ? 2 : teW < 0 ? 1 : 0) &* 3 &+ (teNW > 0 ? 2 : teNW < 0 ? 1 : 0)
                    let qW = smaller(15, quarterLog(absolute(teW) >> depthShift) >> 1), qN = smaller(15, quarterLog(absolute(teN) >> depthShift) >> 1)
                    // Table offset of a context value: [context][type][node].
                    let typeOffset = type &* nodes
                    @inline(__always) func context(_ value: Int) -> Int { value &* (types &* nodes) &+ typeOffset }
                    // The prediction's eighths below or above the rounded value: they inform the
                    // zero flag and the sign.
                    let fraction = corrected &- (planePrediction << 3) &+ 4
                    bits.c0 = context(qE &* 8 &+ fraction)
                    bits.c1 = context((qE >> 1) &* 16 &+ spread)
                    if !learned {
                        let qI: Int
                        if interChannel == 0 { qI = 12 } else {
                            let q = smaller(11, quarterLog((absolute(interChannel) << 3) >> depthShift) >> 1)
                            qI = interChannel > 0 ? 13 &+ q : 11 &- q
                        }
                        bits.c2 = context((qE >> 1) &* 25 &+ qI)
                    }
                    bits.c3 = context((qE >> 2) &* 64 &+ texture)
                    bits.c4 = context(qW &* 16 &+ qN)
                    let signsAndEnergy: Int = signs &* (energyLevels / 4) &+ (qE >> 2)
                    bits.c5 = context(signsAndEnergy &* 8 &+ fraction)
                    // Direction: the signed sizes of N − W and NE − N, and of NW − W.
                    @inline(__always) func signedLevel(_ v: Int) -> Int {
                        let q = smaller(7, quarterLog(absolute(v) >> depthShift) >> 1)
                        return v < 0 ? 7 &- q : 7 &+ q
                    }
                    let slope = (nw &- w) >> depthShift
                    bits.c6 = context((signedLevel(n &- w) &* 15 &+ signedLevel(ne &- n)) &* 4 &+ (slope > 2 ? 2 : slope < -2 ? 1 : 0))
                    // The other channels' residual at this pixel, exactly up to ±15.
                    bits.c7 = context((larger(-15, smaller(15, interChannel >> depthShift)) &+ 15) &* (energyLevels / 4) &+ (qE >> 2))
                    if learned {
                        // Where single predictors point, seen from the blend (signed, log): the
                        // learned one (table 2), N + W − NW in place of the spread (table 1) and
                        // W + NE − N in place of the sizes of the W and N errors (table 4).
                        // Measured on training photos: −1.0%, −1.0% and −0.2%; the other fixed
                        // predictors, or one replacing table 7, gained less than 0.5% more.
                        @inline(__always) func offset(_ prediction: Int, _ levels: Int) -> Int {
                            let v = (prediction &- blended) >> depthShift
                            let q = smaller(levels, quarterLog(absolute(v)) >> 1)
                            return v < 0 ? levels &- q : levels &+ 1 &+ q
                        }
                        bits.c1 = context((qE >> 1) &* 16 &+ offset(p[4], 7))
                        bits.c2 = context(offset(p[8], 11) &* (energyLevels / 2) &+ (qE >> 1))
                        bits.c4 = context((qE >> 2) &* 16 &+ offset(p[0], 7))
                    }
                    bits.selector = (type &* mixerSelectors &+ (qE >> 2)) &* nodes

                    // The residual, bit by bit.
                    let si = pixel &+ channel
                    let residual = encoding ? ((Int(s[si]) &- prediction &+ half) & mask) &- half : 0
                    let r = try codeResidual(residual, type: type, maxK: maxK, bits: &bits, lowBits: lowBits, coder: &coder)
                    let value = (prediction &+ r) & mask
                    s[si] = UInt16(value)

                    // Learn: the plane value, errors, bias.
                    let planeValue = value &- base
                    plane[i] = Int32(planeValue)
                    let actual = planeValue << 3
                    e[current &+ x &+ 2] = Int32(clamping: blended &- actual)
                    let row = se + (current &+ x &+ 2) &* P
                    for m in 0..<memberCount {
                        let k = members[m]
                        row[k] = Int32(clamping: absolute(p[k] &- actual))
                    }
                    if learned {
                        // w += μ·error·d / (|d|² + ε), the error in eighths: 2^20/8 · 2^-7 = 2^-16.
                        // g ≈ error · 2^20 / energy; energy ≥ 16, so its bit length is ≥ 5.
                        let length = Int.bitWidth &- lmsEnergy.leadingZeroBitCount
                        let m = length >= 8 ? lmsEnergy >> (length &- 8) : lmsEnergy << (8 &- length)
                        let g = ((actual &- p[8]) &* reciprocals[m &- 128]) >> (length &- 4)
                        for j in 0..<T { lw[j] &+= Int32(truncatingIfNeeded: (g &* d[j]) >> (7 &+ lmsStepShift)) }
                    }

                    biasSums[bias] &+= Int32(clamping: actual &- blended)
                    biasCounts[bias] += 1
                    if biasCounts[bias] == 256 {
                        biasSums[bias] /= 2
                        biasCounts[bias] = 128
                    }
                    if type == 0 { green = value }
                    let wrapped = ((value &- prediction &+ half) & mask) &- half
                    interChannel = type == 0 ? wrapped : (absolute(wrapped) > absolute(interChannel) ? wrapped : interChannel)
                }
            }
        }
    }
}

extension ImageMixing {
    /// Codes one residual r (wrapped to the depth; the decoder's comes back): "r = 0", the sign,
    /// k = bit length of |r| − 1 in unary, the top two bits below the leading one as mixed
    /// decisions, lower bits under one adaptive probability per (plane type, k, position).
    /// Kept out of `run`, whose size otherwise stops the optimiser inlining `decide`.
    @inline(never)
    static func codeResidual<Coder: BinaryCoding>(_ residual: Int, type: Int, maxK: Int, bits: inout MixedDecisions,
                                                  lowBits: UnsafeMutablePointer<UInt32>, coder: inout Coder) throws(EntropyCodingError) -> Int {
        if try bits.decide(0, residual == 0, &coder) { return 0 }
        let negative = try bits.decide(1, residual < 0, &coder)
        let m = abs(residual) - 1
        let kTrue = Int.bitWidth - m.leadingZeroBitCount
        var k = 0
        while k < maxK, try bits.decide(2 + k, kTrue > k, &coder) { k += 1 }
        var magnitude = 0
        if k > 0 {
            magnitude = 1
            var position = k - 2
            if position >= 0 {
                let b = try bits.decide(20 + k, (m >> position) & 1 == 1, &coder)
                magnitude = magnitude << 1 | (b ? 1 : 0)
                position -= 1
                if position >= 0 {
                    let b2 = try bits.decide(40 + 2 * k + (b ? 1 : 0), (m >> position) & 1 == 1, &coder)
                    magnitude = magnitude << 1 | (b2 ? 1 : 0)
                    position -= 1
                }
                while position >= 0 {
                    let slot = lowBits + (type * 17 + k) * 16 + position
                    let probability = max(1, min(4095, CountedBitProbability.probability12(slot.pointee)))
                    let bit = try coder.code((m >> position) & 1 == 1, probabilityOfOne: probability)
                    CountedBitProbability.update(&slot.pointee, bit, limit: stateLimit, rates: bits.rates)
                    magnitude = magnitude << 1 | (bit ? 1 : 0)
                    position -= 1
                }
            }
        }
        return negative ? -(magnitude + 1) : magnitude + 1
    }
}

/// Which format `ImageMixing.run` codes, as a type so each format's loop is specialised.
protocol ImageModelVersion { static var learned: Bool { get } }
/// Format 4: the eight fixed sub-predictors; table 2 holds the other channels' residual.
enum FixedModel: ImageModelVersion { static var learned: Bool { false } }
/// Format 5: plus the learned (LMS) sub-predictor; table 2 holds its offset from the blend.
enum LearnedModel: ImageModelVersion { static var learned: Bool { true } }

/// The mixed binary decisions of one sample: eight bit-state tables, each indexed by its context
/// (set per sample, as an offset) plus the decision's node, mixed with a bias.
struct MixedDecisions {
    let t0, t1, t2, t3, t4, t5, t6, t7: UnsafeMutablePointer<UInt32>
    var c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0, selector = 0
    var mixer = LogisticMixer(inputs: 9, contexts: ImageMixing.nodes * ImageMixing.mixerSelectors * ImageMixing.types, initialWeight: 1 << 14, learningRate: 10)
    /// The mixer's inputs (the eight stretched probabilities and the bias), and copies of the
    /// stretch and learning-rate tables, all owned by the caller: the hot loop then reads no
    /// array (no uniqueness, bounds or lazy-global checks per decision).
    let inputs: UnsafeMutablePointer<Int32>
    let stretch: UnsafePointer<Int32>
    let rates: UnsafePointer<UInt32>

    init(tables: [UnsafeMutablePointer<UInt32>], scratch: UnsafeMutablePointer<Int32>, stretch: UnsafePointer<Int32>, rates: UnsafePointer<UInt32>) {
        (t0, t1, t2, t3, t4, t5, t6, t7) = (tables[0], tables[1], tables[2], tables[3], tables[4], tables[5], tables[6], tables[7])
        inputs = scratch
        inputs[8] = 256
        self.stretch = stretch
        self.rates = rates
    }

    @inline(__always)
    func learn(_ state: UnsafeMutablePointer<UInt32>, _ bit: Bool) {
        CountedBitProbability.update(&state.pointee, bit, limit: ImageMixing.stateLimit, rates: rates)
    }

    /// Codes (or decodes) one decision at `node`; `bit` is the encoder's.
    @inline(__always)
    mutating func decide<Coder: BinaryCoding>(_ node: Int, _ bit: Bool, _ coder: inout Coder) throws(EntropyCodingError) -> Bool {
        let s0 = t0 + (c0 &+ node), s1 = t1 + (c1 &+ node), s2 = t2 + (c2 &+ node), s3 = t3 + (c3 &+ node)
        let s4 = t4 + (c4 &+ node), s5 = t5 + (c5 &+ node), s6 = t6 + (c6 &+ node), s7 = t7 + (c7 &+ node)
        inputs[0] = stretch[Int(CountedBitProbability.probability12(s0.pointee))]
        inputs[1] = stretch[Int(CountedBitProbability.probability12(s1.pointee))]
        inputs[2] = stretch[Int(CountedBitProbability.probability12(s2.pointee))]
        inputs[3] = stretch[Int(CountedBitProbability.probability12(s3.pointee))]
        inputs[4] = stretch[Int(CountedBitProbability.probability12(s4.pointee))]
        inputs[5] = stretch[Int(CountedBitProbability.probability12(s5.pointee))]
        inputs[6] = stretch[Int(CountedBitProbability.probability12(s6.pointee))]
        inputs[7] = stretch[Int(CountedBitProbability.probability12(s7.pointee))]
        let p = mixer.mix(inputs, context: selector &+ node)
        let coded = try coder.code(bit, probabilityOfOne: p)
        mixer.update(inputs, bit: coded)
        learn(s0, coded); learn(s1, coded); learn(s2, coded); learn(s3, coded)
        learn(s4, coded); learn(s5, coded); learn(s6, coded); learn(s7, coded)
        return coded
    }
}

/// One binary decision with P(1) in 12 bits: the encoder codes `bit` and returns it, the decoder
/// returns the decoded bit. Lets one scan serve both directions.
protocol BinaryCoding {
    mutating func code(_ bit: Bool, probabilityOfOne: Int32) throws(EntropyCodingError) -> Bool
}

struct BitSink: BinaryCoding {
    var encoder: RangeEncoder
    @inline(__always)
    mutating func code(_ bit: Bool, probabilityOfOne: Int32) -> Bool {
        encoder.encode(bit: bit, probabilityOfZero: UInt32(4096 - probabilityOfOne), precision: 12)
        return bit
    }
}

struct BitSource: BinaryCoding {
    var decoder: RangeDecoder
    @inline(__always)
    mutating func code(_ bit: Bool, probabilityOfOne: Int32) throws(EntropyCodingError) -> Bool {
        try decoder.decodeBit(probabilityOfZero: UInt32(4096 - probabilityOfOne), precision: 12)
    }
}
