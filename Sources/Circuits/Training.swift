import EntropyCoding
import Foundation

/// How `train` learns an HCLT. Defaults are the recipe of the released `pc-mnist` model.
public struct TrainingOptions: Sendable, Equatable {
    /// M: latent states per variable.
    public var stateCount = 32
    /// Value bins used only to estimate mutual information for the tree.
    public var mutualInformationBins = 4
    /// Mini-batch EM: epochs, samples per batch, step size falling linearly from start to end.
    public var miniBatchEpochs = 8
    public var batchSize = 256
    public var stepSizeStart = 0.15
    public var stepSizeEnd = 0.02
    /// Full-batch EM epochs after the mini-batch phase (stopped early when validation worsens).
    public var fullBatchEpochs = 30
    public var patience = 2
    /// Laplace smoothing: pseudocounts added to every expected count in the M-step. A leaf gets
    /// `leafPseudocount * valueCount` pseudo-observations in all, spread over the values either
    /// evenly or in proportion to how often each value occurs in the whole training set (so a
    /// value that is rare everywhere stays rare, and one seen elsewhere is not treated as unseen).
    public var leafPseudocount = 0.01
    public var leafPrior = LeafPrior.valueHistogram
    public var transitionPseudocount = 0.01
    /// Samples per accumulation chunk. Chunks are fixed by index and summed in index order, so
    /// the learned model does not depend on the number of threads.
    public var chunkSize = 128
    public var seed: UInt64 = 1
    public init() {}
}

public enum LeafPrior: String, Sendable, Equatable { case uniform, valueHistogram = "value-histogram" }

/// One line of the training log.
public struct TrainingProgress: Sendable, Equatable {
    public enum Phase: String, Sendable { case structure, miniBatch = "mini-batch", fullBatch = "full-batch" }
    public var phase: Phase
    public var epoch: Int
    /// Bits per variable on the training data under the parameters the epoch started with (the
    /// E-step's own likelihood); NaN for the structure phase.
    public var trainBitsPerDimension: Double
    /// Bits per variable on the validation data after the epoch's update.
    public var validationBitsPerDimension: Double
    /// Wall-clock seconds since training started.
    public var seconds: Double
}

public struct TrainingResult: Sendable {
    /// The parameters with the best validation likelihood.
    public var model: HiddenChowLiuTree
    public var history: [TrainingProgress]
    public var bestValidationBitsPerDimension: Double
}

/// Learns an HCLT from `training`: Chow-Liu structure, then mini-batch EM with a falling step
/// size, then full-batch EM, keeping the parameters that do best on `validation`.
/// With `startingFrom`, the structure and starting parameters are that model's (to continue
/// training on more data). `checkpoint` is called with every new best model (to save it);
/// `progress` after every epoch.
public func train(_ training: Dataset, validation: Dataset, options: TrainingOptions = TrainingOptions(),
                  startingFrom: HiddenChowLiuTree? = nil,
                  progress: (TrainingProgress) -> Void = { _ in },
                  checkpoint: (HiddenChowLiuTree) -> Void = { _ in }) -> TrainingResult {
    let start = Date()
    var history: [TrainingProgress] = []
    func report(_ p: TrainingProgress) { history.append(p); progress(p) }

    var model: HiddenChowLiuTree
    if let given = startingFrom {
        precondition(given.variableCount == training.variableCount && given.valueCount == training.valueCount)
        model = given
    } else {
        let mi = ChowLiu.mutualInformation(training, bins: options.mutualInformationBins)
        let parent = ChowLiu.maximumSpanningTree(weights: mi, count: training.variableCount)
        model = initialModel(parent: parent, data: training, options: options)
    }
    let em = ExpectationMaximization(structure: model, options: options, data: training)
    var best = model
    var bestBPD = em.bitsPerDimension(model, validation)
    report(TrainingProgress(phase: .structure, epoch: 0, trainBitsPerDimension: .nan,
                            validationBitsPerDimension: bestBPD, seconds: Date().timeIntervalSince(start)))
    var rng = SplitMix64(seed: options.seed ^ 0x9E37_79B9)
    var order = Array(0..<training.count)
    let batchesPerEpoch = (training.count + options.batchSize - 1) / options.batchSize
    let totalSteps = max(options.miniBatchEpochs * batchesPerEpoch - 1, 1)
    var step = 0
    for epoch in 1...max(options.miniBatchEpochs, 1) where options.miniBatchEpochs > 0 {
        rng.shuffle(&order)
        var logLik = 0.0
        for b in 0..<batchesPerEpoch {
            let batch = Array(order[(b * options.batchSize)..<min((b + 1) * options.batchSize, order.count)])
            let eta = options.stepSizeStart + (options.stepSizeEnd - options.stepSizeStart) * Double(step) / Double(totalSteps)
            let counts = em.expectedCounts(model, training, samples: batch)
            logLik += counts.logLikelihood
            em.maximize(&model, counts, stepSize: eta)
            step += 1
        }
        let val = em.bitsPerDimension(model, validation)
        if val < bestBPD { bestBPD = val; best = model; checkpoint(best) }
        report(TrainingProgress(phase: .miniBatch, epoch: epoch, trainBitsPerDimension: em.bits(logLik, training.count),
                                validationBitsPerDimension: val, seconds: Date().timeIntervalSince(start)))
    }
    var worse = 0
    for epoch in 1...max(options.fullBatchEpochs, 1) where options.fullBatchEpochs > 0 {
        let counts = em.expectedCounts(model, training, samples: Array(0..<training.count))
        em.maximize(&model, counts, stepSize: 1)
        let val = em.bitsPerDimension(model, validation)
        report(TrainingProgress(phase: .fullBatch, epoch: epoch, trainBitsPerDimension: em.bits(counts.logLikelihood, training.count),
                                validationBitsPerDimension: val, seconds: Date().timeIntervalSince(start)))
        if val < bestBPD { bestBPD = val; best = model; worse = 0; checkpoint(best) } else {
            worse += 1
            if worse >= options.patience { break }
        }
    }
    return TrainingResult(model: best, history: history, bestValidationBitsPerDimension: bestBPD)
}

/// Starting parameters from the data: state j of every variable starts as "like training sample
/// s_j here" (half its mass on s_j's value, half on the variable's smoothed histogram), and
/// transitions start near "same state as the parent". Because the states mean the same thing
/// across variables, EM starts from a coherent mixture instead of spending epochs breaking
/// symmetry. The samples s_j and the random jitter come from the seed.
func initialModel(parent: [Int], data: Dataset, options: TrainingOptions) -> HiddenChowLiuTree {
    let d = data.variableCount, m = options.stateCount, k = data.valueCount
    var rng = SplitMix64(seed: options.seed)
    var histogram = [Double](repeating: 0, count: d * k)
    for (i, x) in data.values.enumerated() { histogram[(i % d) * k + Int(x)] += 1 }
    func normalized(_ v: [Double]) -> [Float] { let s = v.reduce(0, +); return v.map { Float($0 / s) } }
    let prior = normalized((0..<m).map { _ in 1 + rng.unit() })
    let anchors = (0..<m).map { _ in Int(rng.next() % UInt64(data.count)) }
    var transitions: [Float] = []
    transitions.reserveCapacity(d * m * m)
    for v in 0..<d {
        for a in 0..<m {
            transitions += parent[v] < 0 ? prior : normalized((0..<m).map { j in (j == a ? Double(m) : 0) + rng.unit() })
        }
    }
    var leaves: [Float] = []
    leaves.reserveCapacity(d * m * k)
    for v in 0..<d {
        let h = histogram[(v * k)..<((v + 1) * k)].map { $0 + 0.1 }
        let total = h.reduce(0, +)
        for j in 0..<m {
            let anchor = Int(data.values[anchors[j] * d + v])
            leaves += normalized((0..<k).map { x in h[x] * (1 + 0.1 * rng.unit()) + (x == anchor ? total : 0) })
        }
    }
    return try! HiddenChowLiuTree(parent: parent, stateCount: m, valueCount: k,
                                  prior: prior, transitions: transitions, leaves: leaves)
}

/// Expected sufficient statistics of a set of samples (sums over samples, in `Double`).
struct ExpectedCounts {
    var prior: [Double]
    /// [v][parent state][state]
    var transitions: [Double]
    /// [v][value][state]
    var leaves: [Double]
    var logLikelihood = 0.0
}

/// The E-step and M-step. The E-step for one fully observed sample is an upward pass (inside
/// messages, each rescaled to sum 1) and a downward pass giving every edge's pairwise posterior.
final class ExpectationMaximization: @unchecked Sendable {
    let d: Int, m: Int, k: Int, root: Int
    let parent: [Int32]
    let preorder: [Int32]
    let childStart: [Int32], childList: [Int32]
    let options: TrainingOptions
    /// Leaf pseudocounts per value (they sum to leafPseudocount * valueCount).
    let leafPrior: [Double]
    static let slots = 2

    init(structure: HiddenChowLiuTree, options: TrainingOptions, data: Dataset) {
        var histogram = [Double](repeating: 1, count: structure.valueCount)
        if options.leafPrior == .valueHistogram { for x in data.values { histogram[Int(x)] += 1 } }
        let total = histogram.reduce(0, +)
        leafPrior = histogram.map { $0 / total * options.leafPseudocount * Double(structure.valueCount) }
        d = structure.variableCount; m = structure.stateCount; k = structure.valueCount; root = structure.root
        parent = structure.parent.map { Int32($0) }
        preorder = structure.preorder.map { Int32($0) }
        childStart = structure.childStart.map { Int32($0) }
        childList = structure.childList.map { Int32($0) }
        self.options = options
    }

    func bits(_ logLikelihood: Double, _ n: Int) -> Double { -logLikelihood / (Double(n * d) * log(2.0)) }

    func bitsPerDimension(_ model: HiddenChowLiuTree, _ data: Dataset) -> Double {
        guard data.count > 0 else { return .nan }
        return bits(expectedCounts(model, data, samples: Array(0..<data.count), countsWanted: false).logLikelihood, data.count)
    }

    /// Per-thread scratch and chunk accumulators.
    final class Slot: @unchecked Sendable {
        let lambda, message, posterior: UnsafeMutablePointer<Float>
        let prior, transitions, leaves: UnsafeMutablePointer<Float>
        let sizes: (Int, Int, Int)
        var logLikelihood = 0.0
        init(d: Int, m: Int, k: Int) {
            lambda = .allocate(capacity: d * m); message = .allocate(capacity: d * m); posterior = .allocate(capacity: d * m)
            sizes = (m, d * m * m, d * k * m)
            prior = .allocate(capacity: m); transitions = .allocate(capacity: d * m * m); leaves = .allocate(capacity: d * k * m)
        }
        func clear() {
            prior.update(repeating: 0, count: sizes.0)
            transitions.update(repeating: 0, count: sizes.1)
            leaves.update(repeating: 0, count: sizes.2)
            logLikelihood = 0
        }
        deinit {
            for p in [lambda, message, posterior, prior, transitions, leaves] { p.deallocate() }
        }
    }

    func expectedCounts(_ model: HiddenChowLiuTree, _ data: Dataset, samples: [Int], countsWanted: Bool = true) -> ExpectedCounts {
        var totals = ExpectedCounts(prior: .init(repeating: 0, count: countsWanted ? m : 0),
                                    transitions: .init(repeating: 0, count: countsWanted ? d * m * m : 0),
                                    leaves: .init(repeating: 0, count: countsWanted ? d * k * m : 0))
        // Layouts the kernels want: transposed transitions [v][j][k] for upward messages and
        // leaves [v][x][j] so an observed value's column is contiguous.
        var transposed = [Float](repeating: 0, count: d * m * m)
        for v in 0..<d { for a in 0..<m { for b in 0..<m { transposed[(v * m + b) * m + a] = model.transitions[(v * m + a) * m + b] } } }
        var leafColumns = [Float](repeating: 0, count: d * k * m)
        for v in 0..<d { for j in 0..<m { for x in 0..<k { leafColumns[(v * k + x) * m + j] = model.leaves[(v * m + j) * k + x] } } }
        let (thetaTransposed, leafByValue) = (transposed, leafColumns)
        let slots = (0..<Self.slots).map { _ in Slot(d: d, m: m, k: k) }
        let chunk = options.chunkSize
        let chunkCount = (samples.count + chunk - 1) / chunk
        var wave = 0
        while wave < chunkCount {
            let inWave = min(Self.slots, chunkCount - wave)
            let first = wave
            DispatchQueue.concurrentPerform(iterations: inWave) { s in
                let slot = slots[s]
                slot.clear()
                let c = first + s
                model.prior.withUnsafeBufferPointer { prior in
                model.transitions.withUnsafeBufferPointer { theta in
                thetaTransposed.withUnsafeBufferPointer { thetaT in
                leafByValue.withUnsafeBufferPointer { leaves in
                data.values.withUnsafeBufferPointer { values in
                    for i in (c * chunk)..<min((c + 1) * chunk, samples.count) {
                        slot.logLikelihood += self.sampleStep(values.baseAddress! + samples[i] * d, prior: prior.baseAddress!,
                                                              theta: theta.baseAddress!, thetaT: thetaT.baseAddress!,
                                                              leaves: leaves.baseAddress!, slot: slot, counts: countsWanted)
                    }
                }}}}}
            }
            for s in 0..<inWave {  // fixed reduction order: chunk index
                let slot = slots[s]
                totals.logLikelihood += slot.logLikelihood
                guard countsWanted else { continue }
                for j in 0..<m { totals.prior[j] += Double(slot.prior[j]) }
                for i in 0..<(d * m * m) { totals.transitions[i] += Double(slot.transitions[i]) }
                for i in 0..<(d * k * m) { totals.leaves[i] += Double(slot.leaves[i]) }
            }
            wave += inWave
        }
        return totals
    }

    /// E-step for one sample; returns log p(x) in nats.
    @inline(__always)
    func sampleStep(_ x: UnsafePointer<UInt8>, prior: UnsafePointer<Float>, theta: UnsafePointer<Float>,
                    thetaT: UnsafePointer<Float>, leaves: UnsafePointer<Float>, slot: Slot, counts: Bool) -> Double {
        let m = self.m, k = self.k
        let lambda = slot.lambda, message = slot.message, q = slot.posterior
        var logP = 0.0
        var scale = 1.0  // product of rescaling factors, folded into logP before it can underflow
        preorder.withUnsafeBufferPointer { pre in
        childStart.withUnsafeBufferPointer { cs in
        childList.withUnsafeBufferPointer { cl in
            for t in stride(from: d - 1, through: 0, by: -1) {  // postorder
                let v = Int(pre[t])
                let lam = lambda + v * m
                let col = leaves + (v * k + Int(x[v])) * m
                var s: Float = 0
                for j in 0..<m { s += col[j] }
                var inv = 1 / s
                for j in 0..<m { lam[j] = col[j] * inv }
                scale *= Double(s)
                for ci in Int(cs[v])..<Int(cs[v + 1]) {  // rescaled after each factor: no underflow
                    let msg = message + Int(cl[ci]) * m
                    s = 0
                    for j in 0..<m { lam[j] *= msg[j]; s += lam[j] }
                    inv = 1 / s
                    for j in 0..<m { lam[j] *= inv }
                    scale *= Double(s)
                }
                if scale < 1e-200 { logP += log(scale); scale = 1 }
                if v != root {
                    let out = message + v * m
                    for a in 0..<m { out[a] = 0 }
                    let rows = thetaT + v * m * m
                    for j in 0..<m {
                        let l = lam[j], row = rows + j * m
                        for a in 0..<m { out[a] += row[a] * l }
                    }
                }
            }
            let lr = lambda + root * m
            var z: Float = 0
            for j in 0..<m { z += prior[j] * lr[j] }
            logP += log(scale) + log(Double(z))
            guard counts else { return }
            let qr = q + root * m
            let rootLeaf = slot.leaves + (root * k + Int(x[root])) * m
            for j in 0..<m {
                qr[j] = prior[j] * lr[j] / z
                slot.prior[j] += qr[j]
                rootLeaf[j] += qr[j]
            }
            for t in 1..<d {
                let v = Int(pre[t]), p = Int(parent[v])
                let qp = q + p * m, msg = message + v * m, lam = lambda + v * m, qv = q + v * m
                for j in 0..<m { qv[j] = 0 }
                for a in 0..<m {
                    let r = qp[a] / msg[a]
                    let row = theta + (v * m + a) * m
                    let cnt = slot.transitions + (v * m + a) * m
                    for j in 0..<m {
                        let xi = r * row[j] * lam[j]
                        cnt[j] += xi
                        qv[j] += xi
                    }
                }
                let leafCount = slot.leaves + (v * k + Int(x[v])) * m
                for j in 0..<m { leafCount[j] += qv[j] }
            }
        }}}
        return logP
    }

    /// M-step with Laplace smoothing, mixed into the current parameters with weight `stepSize`.
    func maximize(_ model: inout HiddenChowLiuTree, _ counts: ExpectedCounts, stepSize eta: Double) {
        let a = options.transitionPseudocount, b = leafPrior
        func mix(_ old: Float, _ new: Double) -> Float { Float((1 - eta) * Double(old) + eta * new) }
        var s = 0.0
        for j in 0..<m { s += counts.prior[j] + a }
        for j in 0..<m { model.prior[j] = mix(model.prior[j], (counts.prior[j] + a) / s) }
        for v in 0..<d {
            for p in 0..<m {
                let row = (v * m + p) * m
                if v == root {
                    for j in 0..<m { model.transitions[row + j] = model.prior[j] }
                    continue
                }
                s = 0
                for j in 0..<m { s += counts.transitions[row + j] + a }
                for j in 0..<m { model.transitions[row + j] = mix(model.transitions[row + j], (counts.transitions[row + j] + a) / s) }
            }
            for j in 0..<m {
                s = 0
                for x in 0..<k { s += counts.leaves[(v * k + x) * m + j] + b[x] }
                for x in 0..<k {
                    let i = (v * m + j) * k + x
                    model.leaves[i] = mix(model.leaves[i], (counts.leaves[(v * k + x) * m + j] + b[x]) / s)
                }
            }
        }
    }
}

/// Training's shuffle (Fisher-Yates on EntropyCoding's SplitMix64), kept as written so a
/// recipe reproduces the released model.
extension SplitMix64 {
    mutating func shuffle(_ a: inout [Int]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, Int(next() % UInt64(i + 1))) }
    }
}
