import EntropyCoding

/// Network output → integer frequencies: the one way a learned prior's logits become the tables a
/// coder codes with, shared by every codec that codes under a network (TextLM's M1, VQGAN's index
/// transformer), so none imports another.
///
/// Determinism: `DMath.softmax` (IEEE basic operations only), then EntropyCoding's
/// `FrequencyQuantizer` with every symbol kept codable. Given the same logits bits, every machine
/// builds the same table; the logits themselves must come from the deterministic kernel path.
public enum LogitFrequencies {
    /// Frequencies over `logits.count` symbols summing to exactly `2^precision`, none 0. Logits
    /// that are not finite (a broken model) give the uniform table, on both sides alike.
    /// Requires `logits.count` in 1...2^precision and `precision` in 1...31.
    public static func frequencies(_ logits: ArraySlice<Float>, precision: Int) -> [UInt32] {
        precondition(!logits.isEmpty && FrequencyQuantizer.supportedPrecision.contains(precision)
                     && logits.count <= 1 << precision, "\(logits.count) symbols at precision \(precision)")
        let p = DMath.softmax(Array(logits)).map(Double.init)
        if let f = try? FrequencyQuantizer.quantize(p, precision: precision, floor: .allSymbols) { return f }
        // Cannot throw: equal weights, an alphabet that fits (checked above).
        return (try? FrequencyQuantizer.quantize([Double](repeating: 1, count: logits.count), precision: precision)) ?? []
    }

    /// The same table as `logits.count + 1` cumulative frequencies, 0 to 2^precision.
    public static func cumulative(_ logits: ArraySlice<Float>, precision: Int) -> [UInt32] {
        let f = frequencies(logits, precision: precision)
        var c = [UInt32](repeating: 0, count: f.count + 1)
        for i in f.indices { c[i + 1] = c[i] + f[i] }
        return c
    }
}

/// A one-use entropy model from cumulative frequencies (`LogitFrequencies.cumulative`): no slot
/// table, the decoder binary-searches the boundaries, which suits a distribution that changes with
/// every symbol.
public struct CumulativeFrequencyModel: EntropyModel {
    public let cumulative: [UInt32]
    public let precision: Int

    /// `cumulative` must start at 0, be strictly increasing and end at 2^precision.
    public init(cumulative: [UInt32], precision: Int) {
        precondition(cumulative.count >= 2 && cumulative.first == 0 && UInt64(cumulative.last!) == UInt64(1) << precision)
        self.cumulative = cumulative
        self.precision = precision
    }

    public var alphabetSize: Int { cumulative.count - 1 }

    public func interval(of symbol: Int) -> SymbolInterval? {
        guard symbol >= 0, symbol < alphabetSize, cumulative[symbol + 1] > cumulative[symbol] else { return nil }
        return SymbolInterval(cumulative: cumulative[symbol], frequency: cumulative[symbol + 1] - cumulative[symbol])
    }

    public func symbol(atSlot slot: UInt32) -> (symbol: Int, interval: SymbolInterval) {
        var lo = 0, hi = alphabetSize  // cumulative[lo] ≤ slot < cumulative[hi]
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if cumulative[mid] <= slot { lo = mid } else { hi = mid }
        }
        return (lo, SymbolInterval(cumulative: cumulative[lo], frequency: cumulative[lo + 1] - cumulative[lo]))
    }
}
