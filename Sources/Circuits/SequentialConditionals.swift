/// The coding-time evaluator: p(x_v | all variables before v) for every variable in turn, in the
/// tree's depth-first order (`HiddenChowLiuTree.preorder`), at O(|circuit|) for a whole sample.
///
/// This is the scheme of Liu et al. (ICLR 2022) — evaluate only the circuit nodes whose values
/// change when one more variable is observed, reusing everything else — specialised to a tree
/// and a depth-first variable order. When v is coded, everything observed so far is v's
/// ancestors plus complete subtrees hanging off them, so two cached quantities per latent suffice:
/// - `belief[u]` ∝ p(Z_u | evidence so far), kept for every latent whose subtree is still open;
/// - `inside[u]` ∝ p(evidence in subtree(u) | Z_u), final once u's subtree is complete.
/// Coding v reads its parent's belief (one M×M product), exposes the conditional through
/// cumulative leaf tables (any C(x) = P(X_v < x | evidence) costs M multiply-adds, so a coder
/// needs O(M) per value coded and O(M log K) per value decoded, never the full M×K product),
/// then folds v's value in; when a subtree completes, its message (one M×M product) is folded
/// into the parent's belief. Each node is therefore evaluated a constant number of times per
/// sample, against once per variable for a from-scratch marginal (`Marginals.conditional`, the
/// simple scheme it is tested against).
///
/// Determinism (the encoder and decoder must agree bit for bit on every machine): all arithmetic
/// is IEEE 754 `+ - * /` (correctly rounded) on `Float` beliefs and `Double` cumulatives, in a
/// fixed order, single-threaded; no libm call, no fused multiply-add (Swift does not contract
/// `a * b + c`), no reassociation. Every vector is rescaled to sum 1 after each product, so
/// nothing underflows.
public struct SequentialConditionals: Sendable {
    public let variableCount: Int
    public let stateCount: Int
    public let valueCount: Int
    /// The coding order (the tree's preorder).
    public let order: [Int]
    let parent: [Int]
    let prior: [Float]
    /// p(Z_v = j | Z_parent = k) at [v][k][j] and at [v][j][k].
    let transitions: [Float], transitionsByChild: [Float]
    /// p(X_v = x | Z_v = j) at [v][x][j]; its cumulative sum over values below x at
    /// [v][x][j] for x in 0...K (in `Double`, summed in increasing x: non-decreasing in x).
    let leavesByValue: [Float], cumulativeLeaves: [Double]
    /// After coding order[t], the subtrees that become complete, deepest first.
    let completedStart: [Int], completed: [Int]

    public init(_ model: HiddenChowLiuTree) {
        let d = model.variableCount, m = model.stateCount, k = model.valueCount
        variableCount = d; stateCount = m; valueCount = k
        order = model.preorder
        parent = model.parent
        prior = model.prior
        transitions = model.transitions
        var byChild = [Float](repeating: 0, count: d * m * m)
        for v in 0..<d { for a in 0..<m { for b in 0..<m { byChild[(v * m + b) * m + a] = model.transitions[(v * m + a) * m + b] } } }
        transitionsByChild = byChild
        var byValue = [Float](repeating: 0, count: d * k * m)
        var cumulative = [Double](repeating: 0, count: d * (k + 1) * m)
        for v in 0..<d {
            for j in 0..<m {
                var c = 0.0
                for x in 0..<k {
                    byValue[(v * k + x) * m + j] = model.leaves[(v * m + j) * k + x]
                    c += Double(model.leaves[(v * m + j) * k + x])
                    cumulative[(v * (k + 1) + x + 1) * m + j] = c
                }
            }
        }
        leavesByValue = byValue
        cumulativeLeaves = cumulative
        // Subtree of u spans preorder positions pos[u] ..< pos[u] + size[u].
        var size = [Int](repeating: 1, count: d)
        for v in order.reversed() where model.parent[v] >= 0 { size[model.parent[v]] += size[v] }
        var lists = [[Int]](repeating: [], count: d)
        for (t, u) in order.enumerated().reversed() where model.parent[u] >= 0 {
            lists[t + size[u] - 1].append(u)
        }
        var start = [0], flat: [Int] = []
        for t in 0..<d {
            flat += lists[t].sorted { size[$0] < size[$1] }  // a subtree completes before any enclosing one
            start.append(flat.count)
        }
        completedStart = start
        completed = flat
    }

    /// One variable's conditional distribution given everything observed before it, valid only
    /// inside the `walk` callback that receives it.
    public struct Conditional {
        public let variable: Int
        public let valueCount: Int
        let states: Int
        let beta: UnsafePointer<Float>
        let table: UnsafePointer<Double>

        /// C(x) ∝ P(X < x | evidence), for x in 0...K: C(0) = 0, non-decreasing, C(K) the total.
        @inline(__always) public func cumulative(_ x: Int) -> Double {
            let row = table + x * states
            var c = 0.0
            for j in 0..<states { c += Double(beta[j]) * row[j] }
            return c
        }

        /// All K probabilities (for tests and measurements; coders use `cumulative`).
        public func probabilities() -> [Double] {
            let total = cumulative(valueCount)
            return (0..<valueCount).map { (cumulative($0 + 1) - cumulative($0)) / total }
        }
    }

    /// Walks the variables in `order`. For each, `observe` receives its conditional given every
    /// earlier value and returns the variable's actual value.
    public func walk<E: Error>(_ observe: (Conditional) throws(E) -> Int) throws(E) {
        let d = variableCount, m = stateCount, k = valueCount
        let belief = UnsafeMutablePointer<Float>.allocate(capacity: d * m)
        let inside = UnsafeMutablePointer<Float>.allocate(capacity: d * m)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: m)
        defer { belief.deallocate(); inside.deallocate(); scratch.deallocate() }
        try transitions.withUnsafeBufferPointer { (theta) throws(E) in
        try transitionsByChild.withUnsafeBufferPointer { (thetaT) throws(E) in
        try cumulativeLeaves.withUnsafeBufferPointer { (cumulative) throws(E) in
        try leavesByValue.withUnsafeBufferPointer { (leafT) throws(E) in
            for t in 0..<d {
                let v = order[t], p = parent[v]
                // beta = p(Z_v | evidence so far) = belief[parent] · transitions (or the prior).
                let beta = belief + v * m
                if p < 0 {
                    for j in 0..<m { beta[j] = prior[j] }
                } else {
                    for j in 0..<m { beta[j] = 0 }
                    let bp = belief + p * m
                    for a in 0..<m {
                        let w = bp[a], row = theta.baseAddress! + (v * m + a) * m
                        for j in 0..<m { beta[j] += w * row[j] }
                    }
                }
                normalize(beta, m)
                // p(X_v = x | evidence) ∝ sum_j beta[j] p(x | j), read through cumulatives.
                let x = try observe(Conditional(variable: v, valueCount: k, states: m, beta: beta,
                                                table: cumulative.baseAddress! + v * (k + 1) * m))
                precondition(x >= 0 && x < k, "observed value out of range")
                // Fold the value in: inside[v] = p(x | Z_v); belief[v] = beta ⊙ inside[v].
                let column = leafT.baseAddress! + (v * k + x) * m, lam = inside + v * m
                for j in 0..<m { lam[j] = column[j] }
                normalize(lam, m)
                for j in 0..<m { beta[j] *= lam[j] }
                normalize(beta, m)
                // Completed subtrees send their message p(subtree | Z_parent) up.
                for ci in completedStart[t]..<completedStart[t + 1] {
                    let u = completed[ci], up = parent[u]
                    let lu = inside + u * m
                    for a in 0..<m { scratch[a] = 0 }
                    for j in 0..<m {
                        let w = lu[j], row = thetaT.baseAddress! + (u * m + j) * m
                        for a in 0..<m { scratch[a] += w * row[a] }
                    }
                    let lp = inside + up * m, bp = belief + up * m
                    for a in 0..<m { lp[a] *= scratch[a]; bp[a] *= scratch[a] }
                    normalize(lp, m)
                    normalize(bp, m)
                }
            }
        }}}}
    }

    @inline(__always) func normalize(_ v: UnsafeMutablePointer<Float>, _ n: Int) {
        var s: Float = 0
        for i in 0..<n { s += v[i] }
        let inv = 1 / s
        for i in 0..<n { v[i] *= inv }
    }
}
