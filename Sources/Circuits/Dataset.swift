/// Samples of `variableCount` categorical variables, row-major in one flat array.
public struct Dataset: Sendable, Equatable {
    public let variableCount: Int
    public let valueCount: Int
    public let values: [UInt8]
    public var count: Int { values.count / variableCount }

    public init(variableCount: Int, valueCount: Int = 256, values: [UInt8]) throws(CircuitError) {
        guard variableCount > 0, values.count % variableCount == 0 else {
            throw .invalidData("\(values.count) values are not whole samples of \(variableCount) variables")
        }
        guard (2...256).contains(valueCount), valueCount == 256 || values.allSatisfy({ Int($0) < valueCount }) else {
            throw .invalidData("values must lie in 0..<\(valueCount)")
        }
        self.variableCount = variableCount
        self.valueCount = valueCount
        self.values = values
    }

    /// Samples `range` only.
    public func slice(_ range: Range<Int>) -> Dataset {
        try! Dataset(variableCount: variableCount, valueCount: valueCount,
                     values: Array(values[(range.lowerBound * variableCount)..<(range.upperBound * variableCount)]))
    }

    public func sample(_ i: Int) -> ArraySlice<UInt8> { values[(i * variableCount)..<((i + 1) * variableCount)] }

    /// For samples that are `rows`x`columns` images: the images plus copies moved by every
    /// (dy, dx) in -r...r (uncovered pixels 0, MNIST's background), (2r+1)^2 times the data.
    /// A digit a pixel off is still a digit, so this is more training data from the same images.
    public func withShiftedCopies(rows: Int, columns: Int, upTo r: Int) -> Dataset {
        precondition(rows * columns == variableCount)
        guard r > 0 else { return self }
        var out: [UInt8] = []
        out.reserveCapacity(values.count * (2 * r + 1) * (2 * r + 1))
        for dy in -r...r {
            for dx in -r...r {
                for i in 0..<count {
                    let base = i * variableCount
                    for y in 0..<rows {
                        for x in 0..<columns {
                            let sy = y - dy, sx = x - dx
                            out.append((0..<rows).contains(sy) && (0..<columns).contains(sx) ? values[base + sy * columns + sx] : 0)
                        }
                    }
                }
            }
        }
        return try! Dataset(variableCount: variableCount, valueCount: valueCount, values: out)
    }
}

/// An IDX file of unsigned-byte images (magic 0x00000803: count, rows, columns, then pixels).
public struct IDXImages: Sendable, Equatable {
    public let count: Int
    public let rows: Int
    public let columns: Int
    public let pixels: [UInt8]

    public static let magic: UInt32 = 0x0000_0803

    /// Parses an IDX image file, checking every declared size against the bytes present.
    public init(parsing bytes: [UInt8]) throws(CircuitError) {
        guard bytes.count >= 16 else { throw .invalidData("an IDX image file has a 16-byte header; got \(bytes.count) bytes") }
        func u32(_ at: Int) -> UInt32 { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) } }
        guard u32(0) == IDXImages.magic else {
            throw .invalidData("not an IDX unsigned-byte image file (magic 0x00000803, three dimensions)")
        }
        let n = Int(u32(4)), r = Int(u32(8)), c = Int(u32(12))
        let (size, o1) = r.multipliedReportingOverflow(by: c)
        let (total, o2) = n.multipliedReportingOverflow(by: size)
        guard r > 0, c > 0, !o1, !o2, bytes.count - 16 == total else {
            throw .invalidData("IDX header declares \(n) images of \(r)x\(c) but the file holds \(bytes.count - 16) pixel bytes")
        }
        count = n; rows = r; columns = c
        pixels = Array(bytes[16...])
    }

    public init(rows: Int, columns: Int, pixels: [UInt8]) {
        precondition(rows > 0 && columns > 0 && pixels.count % (rows * columns) == 0)
        self.rows = rows; self.columns = columns; self.pixels = pixels
        count = pixels.count / (rows * columns)
    }

    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16 + pixels.count)
        for v in [IDXImages.magic, UInt32(count), UInt32(rows), UInt32(columns)] {
            out += [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
        }
        return out + pixels
    }
}
