/// A hidden Chow-Liu tree (HCLT): a tree-shaped probabilistic circuit over `variableCount`
/// categorical variables with `valueCount` values each.
///
/// Every observed variable X_v has a latent Z_v with `stateCount` states. The latents form a
/// directed tree (the Chow-Liu tree learned from the data): the root's latent has a prior, every
/// other latent depends on its parent's, and each X_v depends only on its own Z_v. As a circuit
/// this is a sum node per (edge, parent state) and a product node per (variable, state), so a
/// marginal over any subset of variables is one upward pass (`Marginals`).
///
/// Parameters live in flat arrays indexed by variable so that passes walk memory in order:
/// - `prior[j]`: p(Z_root = j).
/// - `transitions[(v * M + k) * M + j]`: p(Z_v = j | Z_parent(v) = k); the root's block is unused
///   (kept so that indices need no offset) and holds the prior in every row.
/// - `leaves[(v * M + j) * K + x]`: p(X_v = x | Z_v = j).
public struct HiddenChowLiuTree: Sendable, Equatable {
    public let variableCount: Int
    public let stateCount: Int
    public let valueCount: Int
    /// `parent[v]`, -1 for the root.
    public let parent: [Int]
    public var prior: [Float]
    public var transitions: [Float]
    public var leaves: [Float]

    /// Derived structure: the tree walked depth-first from the root (children in increasing index
    /// order). This is also the order in which `SequentialConditionals` codes variables.
    public let preorder: [Int]
    public let root: Int
    /// Children of `v` are `childList[childStart[v] ..< childStart[v + 1]]`.
    public let childStart: [Int]
    public let childList: [Int]

    public init(parent: [Int], stateCount: Int, valueCount: Int,
                prior: [Float], transitions: [Float], leaves: [Float]) throws(CircuitError) {
        let d = parent.count
        guard d > 0, stateCount > 0, valueCount > 1 else {
            throw .invalidStructure("need at least one variable, one state and two values")
        }
        guard prior.count == stateCount, transitions.count == d * stateCount * stateCount,
              leaves.count == d * stateCount * valueCount else {
            throw .invalidStructure("parameter sizes do not match \(d) variables x \(stateCount) states x \(valueCount) values")
        }
        let roots = parent.indices.filter { parent[$0] == -1 }
        guard roots.count == 1, parent.allSatisfy({ $0 >= -1 && $0 < d }) else {
            throw .invalidStructure("parent array must name exactly one root (-1) and valid parents")
        }
        var counts = [Int](repeating: 0, count: d + 1)
        for v in 0..<d where parent[v] >= 0 { counts[parent[v] + 1] += 1 }
        for v in 0..<d { counts[v + 1] += counts[v] }
        var fill = counts
        var list = [Int](repeating: 0, count: max(d - 1, 0))
        for v in 0..<d where parent[v] >= 0 {  // increasing v: children sorted
            list[fill[parent[v]]] = v
            fill[parent[v]] += 1
        }
        var order: [Int] = []
        order.reserveCapacity(d)
        var stack = [roots[0]]
        while let v = stack.popLast() {
            order.append(v)
            for c in list[counts[v]..<counts[v + 1]].reversed() { stack.append(c) }
        }
        guard order.count == d else { throw .invalidStructure("parent array is not a tree (it has a cycle)") }
        for p in prior + transitions + leaves where !(p.isFinite && p >= 0) {
            throw .invalidStructure("parameters must be finite and non-negative")
        }
        self.variableCount = d
        self.stateCount = stateCount
        self.valueCount = valueCount
        self.parent = parent
        self.prior = prior
        self.transitions = transitions
        self.leaves = leaves
        self.root = roots[0]
        self.preorder = order
        self.childStart = counts
        self.childList = list
    }

    /// The children of `v`, in increasing index order.
    @inlinable public func children(_ v: Int) -> ArraySlice<Int> { childList[childStart[v]..<childStart[v + 1]] }

    public var parameterCount: Int { prior.count + transitions.count + leaves.count }

    /// Per variable, where in `preorder` it is: the coding position.
    public var positionInPreorder: [Int] {
        var pos = [Int](repeating: 0, count: variableCount)
        for (i, v) in preorder.enumerated() { pos[v] = i }
        return pos
    }
}

public enum CircuitError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidStructure(String)
    case invalidData(String)
    case invalidModelFile(String)

    public var description: String {
        switch self {
        case .invalidStructure(let why): "invalid circuit: \(why)"
        case .invalidData(let why): "invalid training data: \(why)"
        case .invalidModelFile(let why): "invalid circuit model file: \(why)"
        }
    }
}
