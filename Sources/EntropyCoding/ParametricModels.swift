/// Discretized continuous distributions, quantized once per scale into a table of static models,
/// as CompressAI's GaussianConditional does: a codec predicts a scale per latent, picks the
/// nearest table entry, and codes the rounded (mean-subtracted) value with that entry's model.
///
/// The integer value v owns the bin [v − ½, v + ½). Each model covers v in −radius...radius for
/// its scale (radius = ⌈tailFactor · scale⌉, capped at `maxRadius`) plus one escape symbol for
/// everything outside, so no value is ever uncodable: a codec codes the escape and then the
/// value itself, e.g. as bypass bits. The CDFs use `DeterministicMath`, the frequencies come
/// from `FrequencyQuantizer` with every symbol at least 1, so tables are identical everywhere.
public struct ParametricModelTable: Sendable {
    public enum Family: String, Sendable, CaseIterable {
        /// Normal with standard deviation `scale`.
        case gaussian
        /// Laplace with diversity `scale` (density e^(−|x|/b) / 2b).
        case laplace
        /// Logistic with scale `scale` (CDF 1 / (1 + e^(−x/s))).
        case logistic

        /// Mass above x ≥ 0: P(X ≥ x).
        func upperTail(_ x: Double, scale: Double) -> Double {
            switch self {
            case .gaussian: 0.5 * DeterministicMath.erfc(x / (scale * 1.4142135623730951))
            case .laplace: 0.5 * DeterministicMath.exp(-x / scale)
            case .logistic:
                // 1 − 1/(1 + e^(−x/s)) = e^(−x/s) / (1 + e^(−x/s)), without cancellation.
                { (e: Double) in e / (1 + e) }(DeterministicMath.exp(-x / scale))
            }
        }

        /// The probability of each integer value in `values` (bin [v − ½, v + ½)), zero-mean,
        /// not renormalised: the mass outside the range is left out. Deterministic (see
        /// `DeterministicMath`); feed it to `FrequencyQuantizer`.
        public func discretized(scale: Double, values: ClosedRange<Int>) -> [Double] {
            values.map { v in
                let a = Double(abs(v))  // symmetric: P(v) = P(−v)
                return v == 0 ? 1 - 2 * upperTail(0.5, scale: scale) : upperTail(a - 0.5, scale: scale) - upperTail(a + 0.5, scale: scale)
            }
        }

        /// How many scales out the tails hold less than about 1e-9 of the mass.
        var tailFactor: Double {
            switch self {
            case .gaussian: 6.2
            case .laplace: 20.8
            case .logistic: 21.5
            }
        }
    }

    public let family: Family
    public let scales: [Double]
    public let precision: Int
    /// `models[i]` is the model for `scales[i]`.
    public let models: [CategoricalModel]
    /// `radii[i]`: model i codes values −radii[i]...radii[i] directly; its symbol 2·radius+1 is the escape.
    public let radii: [Int]

    /// CompressAI's default scale table: 64 scales spaced evenly in log from 0.11 to 256, built
    /// with `DeterministicMath.exp` (the two logarithms are written out as constants).
    public static let defaultScales: [Double] = {
        let logLow = -2.2072749131897207, logHigh = 5.545177444479562  // ln 0.11, ln 256
        return (0..<64).map { i in DeterministicMath.exp(logLow + (logHigh - logLow) * Double(i) / 63) }
    }()

    public init(family: Family, scales: [Double] = ParametricModelTable.defaultScales,
                precision: Int = 16, maxRadius: Int = 1024) throws(EntropyCodingError) {
        guard !scales.isEmpty, scales.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw .invalidProbabilities("scales must be finite and > 0")
        }
        self.family = family
        self.scales = scales
        self.precision = precision
        var models: [CategoricalModel] = []
        var radii: [Int] = []
        for scale in scales {
            let radius = min(maxRadius, max(1, Int((family.tailFactor * scale).rounded(.up))))
            // P(v) for v = 0...radius (symmetric), then the escape mass beyond ±radius.
            var half = [Double](repeating: 0, count: radius + 1)
            half[0] = 1 - 2 * family.upperTail(0.5, scale: scale)
            for v in 1...radius {
                half[v] = family.upperTail(Double(v) - 0.5, scale: scale) - family.upperTail(Double(v) + 0.5, scale: scale)
            }
            let escape = 2 * family.upperTail(Double(radius) + 0.5, scale: scale)
            var probabilities = [Double](repeating: 0, count: 2 * radius + 2)
            for v in -radius...radius { probabilities[v + radius] = half[abs(v)] }
            probabilities[2 * radius + 1] = escape
            let frequencies = try FrequencyQuantizer.quantize(probabilities, precision: precision, floor: .allSymbols)
            models.append(try CategoricalModel(frequencies: frequencies, precision: precision))
            radii.append(radius)
        }
        self.models = models
        self.radii = radii
    }

    /// The index of the table scale nearest to `scale` from above (CompressAI's rule: the
    /// smallest table scale ≥ the predicted one, the last if none), by binary search.
    public func index(forScale scale: Double) -> Int {
        var low = 0, high = scales.count - 1
        while low < high {
            let mid = (low + high) / 2
            if scales[mid] >= scale { high = mid } else { low = mid + 1 }
        }
        return low
    }

    /// The symbol of value v in model i, or nil if v must be escaped.
    @inlinable
    public func symbol(forValue v: Int, model i: Int) -> Int? {
        abs(v) <= radii[i] ? v + radii[i] : nil
    }

    /// The escape symbol of model i.
    @inlinable
    public func escapeSymbol(model i: Int) -> Int { 2 * radii[i] + 1 }

    /// The value of a non-escape symbol of model i.
    @inlinable
    public func value(ofSymbol s: Int, model i: Int) -> Int { s - radii[i] }
}
