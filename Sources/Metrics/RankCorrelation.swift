/// Spearman's rank correlation: Pearson's correlation of the ranks, ties given their mean rank.
/// `codec score` sweeps use it to ask which fidelity measure orders the coded points as the
/// perception task's drop does (the MPQ paper's question), where the relation need not be linear.
public enum RankCorrelation {
    /// ρ in [-1, 1]; nil with fewer than 3 pairs or when either side is constant (no ranking).
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double? {
        precondition(x.count == y.count, "spearman needs pairs")
        guard x.count >= 3 else { return nil }
        return pearson(ranks(x), ranks(y))
    }

    /// 1-based ranks, ties sharing their mean rank.
    public static func ranks(_ v: [Double]) -> [Double] {
        let order = v.indices.sorted { v[$0] < v[$1] }
        var out = [Double](repeating: 0, count: v.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j { out[order[k]] = rank }
            i = j + 1
        }
        return out
    }

    static func pearson(_ a: [Double], _ b: [Double]) -> Double? {
        let n = Double(a.count)
        let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for (x, y) in zip(a, b) {
            sab += (x - ma) * (y - mb)
            saa += (x - ma) * (x - ma)
            sbb += (y - mb) * (y - mb)
        }
        guard saa > 0, sbb > 0 else { return nil }
        return sab / (saa * sbb).squareRoot()
    }
}
