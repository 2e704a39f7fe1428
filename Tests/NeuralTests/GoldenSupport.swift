import Foundation
import Testing
@testable import Neural

/// The committed PyTorch golden vectors (Training/parity/make_golden.py).
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func load(_ name: String) throws -> (weights: SafeTensors, config: [String: Any]) {
        let st = try SafeTensors(contentsOfFile: directory.appendingPathComponent(name + ".safetensors").path)
        let json = st.metadata["config"].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }
        return (st, (json as? [String: Any]) ?? [:])
    }
}

/// Largest error relative to max(|expected|, RMS(expected)): a per-element relative error that does
/// not blow up on the few outputs that land near zero by cancellation.
func relativeError(_ actual: Tensor, _ expected: Tensor) -> Float {
    precondition(actual.shape == expected.shape, "shape \(actual.shape) vs expected \(expected.shape)")
    let e = expected.scalars
    let rms = (e.reduce(Float(0)) { $0 + $1 * $1 } / Float(max(1, e.count))).squareRoot()
    var worst: Float = 0
    for (a, b) in zip(actual.scalars, e) {
        guard a.isFinite else { return .infinity }
        worst = max(worst, abs(a - b) / max(abs(b), rms, 1e-30))
    }
    return worst
}

func expectParity(_ actual: Tensor, _ expected: Tensor, _ what: String, tolerance: Float = 1e-4,
                  sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape, "\(what): shape", sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    let err = relativeError(actual, expected)
    #expect(err <= tolerance, "\(what): relative error \(err)", sourceLocation: sourceLocation)
}

extension Dictionary where Key == String, Value == Any {
    func int(_ k: String) -> Int { self[k] as! Int }
    func float(_ k: String) -> Float { Float(self[k] as! Double) }
    func bool(_ k: String) -> Bool { self[k] as! Bool }
    func string(_ k: String) -> String { self[k] as! String }
}
