import Foundation

/// Reference inference on an HCLT, written for clarity rather than speed: every query runs a full
/// upward (inside) pass over the circuit in `Double`, rescaling each message so nothing underflows.
///
/// `evidence[v]` is the observed value of variable v, or -1 where v is marginalized out (its
/// leaf then evaluates to 1, which is exactly summing it over all values).
public struct Marginals: Sendable {
    public let model: HiddenChowLiuTree
    /// Postorder: every child before its parent.
    let postorder: [Int]

    public init(_ model: HiddenChowLiuTree) {
        self.model = model
        postorder = model.preorder.reversed()
    }

    /// Upward messages: `inside[v]` is proportional to p(evidence in subtree(v) | Z_v), with
    /// `logScale` the log of the factors divided out; `toParent[v][k]` is
    /// p(evidence in subtree(v) | Z_parent = k) on the same scale.
    struct Upward {
        var inside: [[Double]]
        var toParent: [[Double]]
        var logScale: Double
    }

    func upward(_ evidence: [Int]) -> Upward {
        let m = model.stateCount, k = model.valueCount, d = model.variableCount
        precondition(evidence.count == d)
        var inside = [[Double]](repeating: [], count: d)
        var toParent = [[Double]](repeating: [], count: d)
        var logScale = 0.0
        for v in postorder {
            var lambda = [Double](repeating: 1, count: m)
            if evidence[v] >= 0 {
                for j in 0..<m { lambda[j] = Double(model.leaves[(v * m + j) * k + evidence[v]]) }
            }
            for c in model.children(v) {
                for j in 0..<m { lambda[j] *= toParent[c][j] }
            }
            let s = lambda.reduce(0, +)
            logScale += log(s)
            for j in 0..<m { lambda[j] /= s }
            inside[v] = lambda
            if model.parent[v] >= 0 {
                var msg = [Double](repeating: 0, count: m)
                for p in 0..<m {
                    for j in 0..<m { msg[p] += Double(model.transitions[(v * m + p) * m + j]) * lambda[j] }
                }
                toParent[v] = msg
            }
        }
        return Upward(inside: inside, toParent: toParent, logScale: logScale)
    }

    /// log p(evidence), in nats: the marginal over the observed variables.
    public func logMarginal(_ evidence: [Int]) -> Double {
        let up = upward(evidence)
        var z = 0.0
        for j in 0..<model.stateCount { z += Double(model.prior[j]) * up.inside[model.root][j] }
        return log(z) + up.logScale
    }

    /// p(X_v = x | evidence) for every x, with v's own evidence ignored: one full upward pass,
    /// then the downward (outside) messages along the path from the root to v.
    public func conditional(of v: Int, given evidence: [Int]) -> [Double] {
        let m = model.stateCount, k = model.valueCount
        var ev = evidence
        ev[v] = -1
        let up = upward(ev)
        var path = [v]
        while model.parent[path.last!] >= 0 { path.append(model.parent[path.last!]) }
        path.reverse()
        // outside[j] ∝ p(evidence outside subtree(u), Z_u = j), walking u down the path.
        var outside = model.prior.map(Double.init)
        for (u, next) in zip(path, path.dropFirst()) {
            var local = outside
            if ev[u] >= 0 { for j in 0..<m { local[j] *= Double(model.leaves[(u * m + j) * k + ev[u]]) } }
            for c in model.children(u) where c != next { for j in 0..<m { local[j] *= up.toParent[c][j] } }
            var down = [Double](repeating: 0, count: m)
            for p in 0..<m { for j in 0..<m { down[j] += local[p] * Double(model.transitions[(next * m + p) * m + j]) } }
            let s = down.reduce(0, +)
            outside = down.map { $0 / s }
        }
        for c in model.children(v) { for j in 0..<m { outside[j] *= up.toParent[c][j] } }
        var dist = [Double](repeating: 0, count: k)
        for j in 0..<m { for x in 0..<k { dist[x] += outside[j] * Double(model.leaves[(v * m + j) * k + x]) } }
        let s = dist.reduce(0, +)
        return dist.map { $0 / s }
    }
}
