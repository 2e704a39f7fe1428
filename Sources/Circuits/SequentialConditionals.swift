/// The coding-time evaluator: p(x_v | all variables before v) for every variable in turn, in the
/// tree's depth-first order (`HiddenChowLiuTree.preorder`), at O(|circuit|) for a whole sample.
///
/// This is the scheme of Liu et al. (ICLR 2022) — evaluate only the circuit nodes whose values
/// change when one more variable is observed, reusing everything else — specialised to a tree
/// and a depth-first variable order. When v is coded, everything observed so far is v's
/// ancestors plus complete subtrees hanging off them, so two cached quantities per latent suffice:
/// - `belief[u]` ∝ p(Z_u | evidence so far), kept for every latent whose subtree is still open;
/// - `inside[u]` ∝ p(evidence in subtree(u) | Z_u), final once u's subtree is complete.
/// Coding v reads its parent's belief (one M×M product), forms the distribution over its K
/// values (one M×K product), then folds v's value in; when a subtree completes, its message
/// (one M×M product) is folded into the parent's belief. Each node is therefore evaluated a
/// constant number of times per sample, against once per variable for a from-scratch marginal
/// (`Marginals.conditional`, the simple scheme it is tested against).
///
/// Determinism (the encoder and decoder must agree bit for bit on every machine): all arithmetic
/// is `Float` `+ - * /` (IEEE 754, correctly rounded) in a fixed order, single-threaded; no
/// libm call, no fused multiply-add (Swift does not contract `a * b + c`), no reassociation.
/// Every vector is rescaled to sum 1 after each product, so nothing underflows.
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
    /// p(X_v = x | Z_v = j) at [v][j][x] and at [v][x][j].
    let leaves: [Float], leavesByValue: [Float]
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
        leaves = model.leaves
        var byValue = [Float](repeating: 0, count: d * k * m)
        for v in 0..<d { for j in 0..<m { for x in 0..<k { byValue[(v * k + x) * m + j] = model.leaves[(v * m + j) * k + x] } } }
        leavesByValue = byValue
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

    /// Walks the variables in `order`. For each, `observe` receives the variable and its
    /// conditional distribution over the K values given every earlier value (unnormalized:
    /// positive weights; divide by their sum), and returns the variable's actual value.
    public func walk<E: Error>(_ observe: (_ variable: Int, _ distribution: UnsafeBufferPointer<Float>) throws(E) -> Int) throws(E) {
        let d = variableCount, m = stateCount, k = valueCount
        let belief = UnsafeMutablePointer<Float>.allocate(capacity: d * m)
        let inside = UnsafeMutablePointer<Float>.allocate(capacity: d * m)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: m)
        let distribution = UnsafeMutablePointer<Float>.allocate(capacity: k)
        defer { belief.deallocate(); inside.deallocate(); scratch.deallocate(); distribution.deallocate() }
        try transitions.withUnsafeBufferPointer { (theta) throws(E) in
        try transitionsByChild.withUnsafeBufferPointer { (thetaT) throws(E) in
        try leaves.withUnsafeBufferPointer { (leaf) throws(E) in
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
                // p(X_v = x | evidence) ∝ sum_j beta[j] p(x | j).
                for x in 0..<k { distribution[x] = 0 }
                for j in 0..<m {
                    let w = beta[j], row = leaf.baseAddress! + (v * m + j) * k
                    for x in 0..<k { distribution[x] += w * row[x] }
                }
                let x = try observe(v, UnsafeBufferPointer(start: distribution, count: k))
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
