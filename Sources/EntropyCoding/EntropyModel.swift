// EntropyCoding: entropy models and the coders that code with them (docs/ENTROPY.md).
//
// Models and coders are kept apart, as in constriction: a model only says which integer
// interval of [0, 2^precision) a symbol owns; a coder only codes intervals. Every codec gets its
// integer frequencies from the one deterministic quantizer (`FrequencyQuantizer`), so encoder and
// decoder always see identical tables.

/// The integer interval `[cumulative, cumulative + frequency)` of `[0, 2^precision)` a symbol owns.
/// Its probability is `frequency / 2^precision`.
public struct SymbolInterval: Equatable, Sendable {
    public var cumulative: UInt32
    public var frequency: UInt32

    @inlinable
    public init(cumulative: UInt32, frequency: UInt32) {
        self.cumulative = cumulative
        self.frequency = frequency
    }
}

/// A probability model over the symbols `0..<alphabetSize` with integer frequencies that sum to
/// exactly `2^precision`.
///
/// Every coder in this module codes through this protocol. A symbol with frequency 0 cannot be
/// coded (`interval(of:)` returns nil); `symbol(atSlot:)` must return, for every slot in
/// `0..<2^precision`, the one symbol whose interval contains it.
public protocol EntropyModel {
    /// log2 of the total frequency.
    var precision: Int { get }
    var alphabetSize: Int { get }
    /// The symbol's interval, or nil when it is outside the alphabet or has frequency 0.
    func interval(of symbol: Int) -> SymbolInterval?
    /// The symbol that owns `slot` (which must be `< 2^precision`) and its interval.
    func symbol(atSlot slot: UInt32) -> (symbol: Int, interval: SymbolInterval)
}

/// Why coding failed. Decoders return these for hostile input instead of crashing.
public enum EntropyCodingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A precision outside what the coder or model supports.
    case invalidPrecision(Int, supported: ClosedRange<Int>)
    /// An interleaving factor outside 1...32.
    case invalidWayCount(Int)
    /// Probabilities that cannot be turned into a model (negative, NaN, all zero, ...).
    case invalidProbabilities(String)
    /// More symbols must be kept possible than there are slots at this precision.
    case alphabetTooLarge(symbols: Int, precision: Int)
    /// A symbol to encode that the model cannot code (outside the alphabet or frequency 0).
    case unencodableSymbol(Int, index: Int)
    /// The coded data ended before the requested symbols were decoded.
    case truncatedInput
    /// The coded data is not something the encoder could have written.
    case corruptInput(String)

    public var description: String {
        switch self {
        case .invalidPrecision(let p, let range):
            "precision \(p) is not supported (use \(range.lowerBound)...\(range.upperBound) bits)"
        case .invalidWayCount(let n): "\(n)-way interleaving is not supported (use 1...32 ways)"
        case .invalidProbabilities(let why): "cannot build a model: \(why)"
        case .alphabetTooLarge(let n, let p):
            "\(n) symbols cannot all be kept possible with \(1 << p) slots; raise the precision above \(p) bits"
        case .unencodableSymbol(let s, let i):
            "symbol \(s) at index \(i) has no probability under the model (outside the alphabet or frequency 0)"
        case .truncatedInput: "coded data ends before all symbols were decoded (truncated input?)"
        case .corruptInput(let why): "coded data is corrupt: \(why)"
        }
    }
}

/// A decoder that finds a symbol in two steps: the slot the next symbol lies in, then, once a
/// model has named the symbol whose interval holds that slot, the removal of that interval.
/// Every coder here decodes that way, so `decode(model:)` is written once, below.
public protocol SlotDecoder {
    /// The probability precisions (bits) the decoder works at.
    static var supportedPrecision: ClosedRange<Int> { get }
    /// The slot in [0, 2^precision) the next symbol lies in; follow with `consume(_:precision:)`.
    func slot(precision: Int) throws(EntropyCodingError) -> UInt32
    /// Removes the interval that holds the current slot.
    mutating func consume(_ interval: SymbolInterval, precision: Int) throws(EntropyCodingError)
}

extension SlotDecoder {
    /// The next symbol under `model`.
    @inlinable
    public mutating func decode<M: EntropyModel>(model: M) throws(EntropyCodingError) -> Int {
        guard Self.supportedPrecision.contains(model.precision) else {
            throw .invalidPrecision(model.precision, supported: Self.supportedPrecision)
        }
        let found = model.symbol(atSlot: try slot(precision: model.precision))
        try consume(found.interval, precision: model.precision)
        return found.symbol
    }
}
