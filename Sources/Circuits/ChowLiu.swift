import Foundation

/// Chow-Liu structure learning: pairwise mutual information, then a maximum spanning tree.
public enum ChowLiu {
    /// The mutual information (nats) between every pair of variables of `data`, estimated after
    /// mapping each value `x` to bin `x * bins / valueCount` (few bins keep the joint histograms
    /// well estimated from a few thousand samples). Returns a symmetric `d x d` matrix, row-major.
    public static func mutualInformation(_ data: Dataset, bins: Int) -> [Double] {
        let d = data.variableCount, n = data.count, b = bins
        let pairCount = d * (d - 1) / 2
        // Pair (i, j), i < j, is at rowStart[i] + (j - i - 1).
        var rowStart = [Int](repeating: 0, count: d)
        for i in 1..<max(d, 1) { rowStart[i] = rowStart[i - 1] + (d - i) }
        let chunks = 2
        let rowStarts = rowStart
        let histograms = SharedBuffer<UInt32>(count: chunks * pairCount * b * b)
        let binned: [UInt8] = data.values.map { UInt8(Int($0) * b / data.valueCount) }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let h = histograms.pointer + c * pairCount * b * b
            binned.withUnsafeBufferPointer { x in
                for s in stride(from: c, to: n, by: chunks) {
                    let row = x.baseAddress! + s * d
                    for i in 0..<d {
                        let base = h + (rowStarts[i] - i - 1) * b * b + Int(row[i]) * b
                        for j in (i + 1)..<d { base[j * b * b + Int(row[j])] += 1 }
                    }
                }
            }
        }
        var mi = [Double](repeating: 0, count: d * d)
        let total = Double(n)
        var joint = [Double](repeating: 0, count: b * b)
        for i in 0..<d {
            for j in (i + 1)..<d {
                let off = (rowStart[i] + j - i - 1) * b * b
                for t in 0..<(b * b) {
                    var s: UInt32 = 0
                    for c in 0..<chunks { s += histograms.pointer[c * pairCount * b * b + off + t] }
                    joint[t] = Double(s) / total
                }
                var value = 0.0
                for u in 0..<b {
                    var pu = 0.0
                    for w in 0..<b { pu += joint[u * b + w] }
                    for w in 0..<b where joint[u * b + w] > 0 {
                        var pw = 0.0
                        for r in 0..<b { pw += joint[r * b + w] }
                        value += joint[u * b + w] * log(joint[u * b + w] / (pu * pw))
                    }
                }
                mi[i * d + j] = value
                mi[j * d + i] = value
            }
        }
        histograms.deallocate()
        return mi
    }

    /// The maximum spanning tree of the weights (Prim's algorithm, ties to the lower index),
    /// rooted at its centre (the vertex whose farthest vertex is nearest) so the tree is shallow.
    /// Returns `parent[v]`, -1 for the root.
    public static func maximumSpanningTree(weights: [Double], count d: Int) -> [Int] {
        precondition(weights.count == d * d)
        var inTree = [Bool](repeating: false, count: d)
        var best = [Double](repeating: -.infinity, count: d)
        var link = [Int](repeating: -1, count: d)
        var adjacency = [[Int]](repeating: [], count: d)
        best[0] = 0
        for _ in 0..<d {
            var u = -1
            for v in 0..<d where !inTree[v] && (u < 0 || best[v] > best[u]) { u = v }
            inTree[u] = true
            if link[u] >= 0 { adjacency[u].append(link[u]); adjacency[link[u]].append(u) }
            for v in 0..<d where !inTree[v] && weights[u * d + v] > best[v] {
                best[v] = weights[u * d + v]
                link[v] = u
            }
        }
        // Centre: the middle of a longest path (found by two breadth-first searches).
        func bfs(_ start: Int) -> (far: Int, parent: [Int]) {
            var parent = [Int](repeating: -2, count: d)
            parent[start] = -1
            var queue = [start], head = 0
            while head < queue.count {
                let u = queue[head]; head += 1
                for v in adjacency[u] where parent[v] == -2 { parent[v] = u; queue.append(v) }
            }
            return (queue.last!, parent)
        }
        let a = bfs(0).far
        let (b, pathParent) = bfs(a)
        var path = [b]
        while let p = Optional(pathParent[path.last!]), p >= 0 { path.append(p) }
        return bfs(path[path.count / 2]).parent
    }
}

/// Fixed-size raw memory shared by worker threads that write disjoint parts of it.
final class SharedBuffer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    let count: Int
    init(count: Int, zero: T) {
        self.count = count
        pointer = .allocate(capacity: count)
        pointer.initialize(repeating: zero, count: count)
    }
    func deallocate() { pointer.deallocate() }
}

extension SharedBuffer where T == UInt32 { convenience init(count: Int) { self.init(count: count, zero: 0) } }
extension SharedBuffer where T == Double { convenience init(count: Int) { self.init(count: count, zero: 0) } }
extension SharedBuffer where T == Float { convenience init(count: Int) { self.init(count: count, zero: 0) } }
