/// Character and word error rates: Levenshtein edit distance (substitutions, insertions and
/// deletions, each costing 1) between a hypothesis and a reference, over the reference length.
///
/// Normalisation, applied to both sides before counting (docs/SCORE.md):
/// - **CER** (OCR): every run of whitespace (spaces, tabs, line breaks) becomes one space and the
///   ends are trimmed; nothing else changes: case, punctuation and curly quotes count. This is the
///   comparison the document pages' `SOURCES.md` prescribes. Units are Unicode scalars.
/// - **WER** (speech): lower-cased; curly apostrophes become `'`; every character that is not a
///   letter, digit or apostrophe becomes a space; apostrophes at either end of a word are dropped;
///   words are the runs between spaces. So "Mr. Bennet's" ≡ "MR BENNET'S", and hyphenated words
///   split ("to-day" → "to day") on both sides alike.
public struct ErrorTally: Sendable, Equatable, Codable {
    /// Edits needed to turn the hypothesis into the reference.
    public var edits: Int
    /// Units (characters or words) in the reference.
    public var length: Int

    public init(edits: Int = 0, length: Int = 0) {
        self.edits = edits
        self.length = length
    }

    /// edits / length; 0 for two empty strings, and `edits` itself (as if length were 1) when
    /// only the reference is empty, so that recognising text where there is none still counts.
    public var rate: Double { length > 0 ? Double(edits) / Double(length) : Double(edits) }

    /// Corpus-level sums: the rate of a set is total edits over total reference length.
    public static func + (a: ErrorTally, b: ErrorTally) -> ErrorTally {
        ErrorTally(edits: a.edits + b.edits, length: a.length + b.length)
    }

    /// Character error of `hypothesis` against `reference`, after whitespace normalisation.
    public static func characters(_ hypothesis: String, reference: String) -> ErrorTally {
        let h = Array(TextNormalization.collapsingWhitespace(hypothesis).unicodeScalars)
        let r = Array(TextNormalization.collapsingWhitespace(reference).unicodeScalars)
        return ErrorTally(edits: levenshtein(h, r), length: r.count)
    }

    /// Word error of `hypothesis` against `reference`, after word normalisation.
    public static func words(_ hypothesis: String, reference: String) -> ErrorTally {
        let h = TextNormalization.words(hypothesis), r = TextNormalization.words(reference)
        return ErrorTally(edits: levenshtein(h, r), length: r.count)
    }
}

/// The edit distance between two sequences, in O(|a|·|b|) time and O(|b|) memory.
public func levenshtein<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        let x = a[i - 1]
        for j in 1...b.count {
            let substitution = previous[j - 1] + (x == b[j - 1] ? 0 : 1)
            current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}

/// The text normalisations behind `ErrorTally` (see there).
public enum TextNormalization {
    public static func collapsingWhitespace(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for s in text.unicodeScalars {
            if s.properties.isWhitespace {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(s)
            }
        }
        return String(out)
    }

    public static func words(_ text: String) -> [String] {
        var cleaned = String.UnicodeScalarView()
        for s in text.lowercased().unicodeScalars {
            switch s {
            case "'", "\u{2019}", "\u{2018}": cleaned.append("'")
            case _ where s.properties.isAlphabetic || s.properties.numericType != nil: cleaned.append(s)
            default: cleaned.append(" ")
            }
        }
        return String(cleaned).split(separator: " ").compactMap { word in
            let trimmed = word.drop { $0 == "'" }.reversed().drop { $0 == "'" }.reversed()
            return trimmed.isEmpty ? nil : String(trimmed)
        }
    }
}
