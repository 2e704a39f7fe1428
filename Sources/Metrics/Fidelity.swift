import Foundation
import MediaIO

/// How close decoded media is to the original: what `codec roundtrip` reports, and the
/// signal-level side of scoring. Depends only on MediaIO, so benchmarks and scoring use it
/// without CodecKit.
public struct Fidelity: Sendable, Equatable, Codable {
    /// Bit-identical samples (same shape and every value).
    public var exact: Bool
    /// Images: PSNR over all channels (peak = the bit depth's maximum). Audio: PSNR with peak 1.0.
    public var psnr: Double?
    /// Images: multi-scale SSIM (Wang et al. 2003), averaged over channels.
    public var msssim: Double?
    /// Audio: signal-to-noise ratio, dB.
    public var snr: Double?
    /// Audio: scale-invariant signal-to-distortion ratio, dB.
    public var sisdr: Double?

    public init(original: Media, decoded: Media) {
        exact = original == decoded
        switch (original, decoded) {
        case (.image(let a), .image(let b)) where a.width == b.width && a.height == b.height && a.channels == b.channels:
            let x = a.samples.map { Double($0) / Double(a.maxValue) }, y = b.samples.map { Double($0) / Double(b.maxValue) }
            psnr = exact ? .infinity : Fidelity.psnr(x, y, peak: 1)
            msssim = exact ? 1 : Fidelity.msssim(a: x, b: y, width: a.width, height: a.height, channels: a.channels)
        case (.audio(let a), .audio(let b)) where a.channels == b.channels && a.frames == b.frames:
            let x = a.floats.map(Double.init), y = b.floats.map(Double.init)
            psnr = exact ? .infinity : Fidelity.psnr(x, y, peak: 1)
            let signal = x.reduce(0) { $0 + $1 * $1 }
            let noise = zip(x, y).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            snr = exact ? .infinity : 10 * log10(signal / noise)
            let alpha = signal > 0 ? zip(x, y).reduce(0) { $0 + $1.0 * $1.1 } / signal : 0
            let target = x.reduce(0) { $0 + alpha * alpha * $1 * $1 }
            let residual = zip(x, y).reduce(0) { $0 + (alpha * $1.0 - $1.1) * (alpha * $1.0 - $1.1) }
            sisdr = exact ? .infinity : 10 * log10(target / residual)
        default:
            break
        }
    }

    public static func psnr(_ x: [Double], _ y: [Double], peak: Double) -> Double {
        let mse = zip(x, y).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(max(x.count, 1))
        return mse == 0 ? .infinity : 10 * log10(peak * peak / mse)
    }

    /// MS-SSIM with the standard 11x11 Gaussian window (σ 1.5) and 5 scales; images too small for
    /// all 5 use as many scales as fit, with the weights renormalised. `nil` below 11x11.
    public static func msssim(a: [Double], b: [Double], width: Int, height: Int, channels: Int) -> Double? {
        let weights = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]
        var scales = 0
        while scales < 5 && min(width, height) >> scales >= 11 { scales += 1 }
        guard scales > 0 else { return nil }
        let w = Array(weights[0..<scales]), total = w.reduce(0, +)
        var sum = 0.0
        for c in 0..<channels {
            var x = (0..<(width * height)).map { a[$0 * channels + c] }
            var y = (0..<(width * height)).map { b[$0 * channels + c] }
            var ww = width, hh = height, value = 1.0
            for s in 0..<scales {
                let (l, cs) = ssimComponents(x, y, width: ww, height: hh)
                value *= pow(max(s == scales - 1 ? l * cs : cs, 0), w[s] / total)
                if s < scales - 1 {
                    let (nx, nw, nh) = halve(x, ww, hh)
                    y = halve(y, ww, hh).0
                    (x, ww, hh) = (nx, nw, nh)
                }
            }
            sum += value
        }
        return sum / Double(channels)
    }

    /// Mean luminance term and mean contrast-structure term of SSIM over valid 11x11 windows.
    private static func ssimComponents(_ x: [Double], _ y: [Double], width: Int, height: Int) -> (Double, Double) {
        let k = gaussian11
        let c1 = 0.01 * 0.01, c2 = 0.03 * 0.03
        func filter(_ f: (Int) -> Double) -> [Double] {  // separable valid-mode Gaussian filter
            let ow = width - 10, oh = height - 10
            var rows = [Double](repeating: 0, count: ow * height)
            for r in 0..<height { for c in 0..<ow { var s = 0.0; for t in 0..<11 { s += k[t] * f(r * width + c + t) }; rows[r * ow + c] = s } }
            var out = [Double](repeating: 0, count: ow * oh)
            for r in 0..<oh { for c in 0..<ow { var s = 0.0; for t in 0..<11 { s += k[t] * rows[(r + t) * ow + c] }; out[r * ow + c] = s } }
            return out
        }
        let mx = filter { x[$0] }, my = filter { y[$0] }
        let sxx = filter { x[$0] * x[$0] }, syy = filter { y[$0] * y[$0] }, sxy = filter { x[$0] * y[$0] }
        var l = 0.0, cs = 0.0
        for i in mx.indices {
            let vx = sxx[i] - mx[i] * mx[i], vy = syy[i] - my[i] * my[i], cov = sxy[i] - mx[i] * my[i]
            l += (2 * mx[i] * my[i] + c1) / (mx[i] * mx[i] + my[i] * my[i] + c1)
            cs += (2 * cov + c2) / (vx + vy + c2)
        }
        return (l / Double(mx.count), cs / Double(mx.count))
    }

    private static let gaussian11: [Double] = {
        let g = (0..<11).map { exp(-Double(($0 - 5) * ($0 - 5)) / (2 * 1.5 * 1.5)) }
        let s = g.reduce(0, +)
        return g.map { $0 / s }
    }()

    /// 2x2 average pooling.
    private static func halve(_ x: [Double], _ w: Int, _ h: Int) -> ([Double], Int, Int) {
        let ow = w / 2, oh = h / 2
        var out = [Double](repeating: 0, count: ow * oh)
        for r in 0..<oh { for c in 0..<ow {
            out[r * ow + c] = (x[2 * r * w + 2 * c] + x[2 * r * w + 2 * c + 1] + x[(2 * r + 1) * w + 2 * c] + x[(2 * r + 1) * w + 2 * c + 1]) / 4
        } }
        return (out, ow, oh)
    }
}
