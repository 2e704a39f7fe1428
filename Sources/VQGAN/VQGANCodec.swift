import CodecKit
import Container
import EntropyCoding
import MediaIO
import Neural

/// The VQGAN extreme-rate image codec (issue 21; docs/VQGAN.md) on `VQGANModel`'s networks.
///
/// Images: any size (padded to multiples of 16 by repeating the edge, cropped back), 8 or 16 bits.
/// Gray is coded as three equal channels and decoded as their mean. Alpha is not coded: at 0.02
/// bits per pixel an exact alpha plane would cost more than the picture, so the container
/// describes (and decoding gives) the picture without it, gray or RGB.
///
/// Rates: `-p k=` one of the model's clustered codebooks (1024, 256, 64, 16 when trained), one
/// index per 16x16 pixels. Indices are coded in blocks of `unit` x `unit` indices (`-p unit=4|8|16`),
/// each block on its own range-coder stream under its own index transformer's phase logits
/// (`IndexTransformer.codingLogits`: deterministic kernels → `LogitFrequencies` at 16 bits), so a
/// block's coding context is the block itself and a damaged block never spoils another. Larger
/// blocks give the prior more context (fewer bits) and cost fewer table bytes; smaller ones lose
/// less to one damaged block and are restored from more neighbours.
///
/// Payload (layout 1): `u8` layout, `u8` unit, `u32` K; the block table: per block (row-major over
/// the grid of blocks, which the image size fixes) its byte length as LEB128, then per block a
/// `u16` check (the low 16 bits of its CRC-32); a `u32` CRC-32 of everything before it; then the
/// blocks' bytes back to back, to the end. The table is checked as a whole (a damaged table is
/// refused); a block whose check fails is damaged: `decode(_:strict:)` restores its indices with
/// the index transformer (masked prediction from its neighbours) and reports how many, or refuses.
public struct VQGANCodec: Codec {
    public static let codecID = "vqgan"
    static let layoutVersion: UInt8 = 1
    /// Pixels per index along each side.
    public static let down = 16
    /// Frequency precision of the index prior (codec.json `index_model.frequency_precision`).
    public static let precision = 16
    public static let units = [4, 8, 16]
    public static let defaultUnit = 8
    /// The restoration model learned to refill lost blocks of this side (codec.json `loss_block`).
    public static let lossBlock = 4
    /// The networks' working set grows with the padded picture (widest layer × pixels): pictures
    /// whose size padded to multiples of 16 exceeds this are refused, so a 1-pixel-high strip
    /// cannot make the decoder run on 16 times its pixels.
    public static let maxImagePixels = 1 << 26

    /// Whether a picture of this size, padded, is within `maxImagePixels`.
    static func sizeAllowed(width: Int, height: Int) -> Bool {
        width > 0 && height > 0 && width <= maxImagePixels && height <= maxImagePixels
            && ((width + down - 1) / down) * ((height + down - 1) / down) * down * down <= maxImagePixels
    }

    public let model: VQGANModel
    public let identity: ModelIdentity
    public var info: CodecInfo { Self.info(identity.id, rates: model.architecture.rateCodes) }

    public init(modelID: String, store: ModelStore = ModelStore()) throws(CodecError) {
        // Any error of the networks' loader becomes `corruptModel` naming the model (the store's rule).
        self = try store.model(modelID) { loaded in
            try VQGANCodec(model: try VQGANModel(configuration: loaded.config, weights: try SafeTensors(data: loaded.weights)),
                           identity: loaded.identity)
        }
    }

    /// The unit side (at most 16) must fit the index transformer's window.
    public init(model: VQGANModel, identity: ModelIdentity) throws(CodecError) {
        guard model.indexModels.values.allSatisfy({ $0.architecture.window >= Self.units.max()! }) else {
            throw .corruptModel(modelID: identity.id, reason: "the index transformer's window is smaller than 16x16")
        }
        self.model = model
        self.identity = identity
    }

    /// What `codec list` shows, known without loading the weights.
    public static func info(_ id: String, rates: [Int]) -> CodecInfo {
        let ks = rates.sorted(by: >).map(String.init).joined(separator: "|")
        return CodecInfo(id: id, codecID: codecID, modelID: id, modalities: [.image], lossless: false,
                         summary: "extreme-rate lossy images: VQGAN, one index per 16x16 pixels, learned index prior + range coding, lost blocks restored",
                         parameters: [CodecParameter("k", default: String(rates.max() ?? 0), help: "codebook size \(ks): log2(k)/256 bits per pixel before the prior"),
                                      CodecParameter("unit", default: String(defaultUnit), help: "side of the independently coded and checked blocks of indices: 4, 8 or 16")],
                         selfCheckedPayload: true)
    }

    // MARK: Encoding

    public func encode(_ media: Media, options: CodecOptions) throws(CodecError) -> ContainerFile {
        try options.validate(against: info)
        guard case .image(let image) = media else {
            throw .unsupportedMedia(codec: info.id, kind: media.kind, accepts: [.image])
        }
        guard Self.sizeAllowed(width: image.width, height: image.height) else {
            throw .unsupportedShape("\(info.id) takes images of 1 to \(Self.maxImagePixels) pixels padded to multiples of 16; this one is \(image.width)x\(image.height)")
        }
        let rates = model.architecture.rateCodes
        let k = try options.integer("k", default: rates.max() ?? 0, in: 2...65536)
        guard rates.contains(k) else {
            throw .invalidOption("k must be one of \(rates.sorted(by: >).map(String.init).joined(separator: ", ")), not \(k)")
        }
        let unit = Int(try options.string("unit", default: String(Self.defaultUnit), oneOf: Self.units.map(String.init)))!
        let grid = IndexGrid(width: image.width, height: image.height, unit: unit)
        let indices = model.encode(Self.inputTensor(image, grid: grid), k: k)
        let payload = try payload(indices, k: k, grid: grid)
        let colour = image.channels >= 3 ? 3 : 1
        return ContainerFile(codecID: Self.codecID, modelID: identity.id, modelHash: identity.hash,
                             media: .image(width: image.width, height: image.height, channels: colour, bitDepth: image.bitDepth,
                                           significantBits: image.significantBits ?? 0),
                             payload: payload, flags: .selfCheckedPayload)
    }

    /// The payload of an index grid (row-major, `grid.rows` x `grid.columns`) at codebook `k`.
    func payload(_ indices: [Int], k: Int, grid: IndexGrid) throws(CodecError) -> [UInt8] {
        guard let prior = model.indexModels[k], indices.count == grid.rows * grid.columns else {
            throw .internalFailure("vqgan: \(indices.count) indices for a \(grid.rows)x\(grid.columns) grid at k=\(k)")
        }
        guard indices.allSatisfy({ (0..<k).contains($0) }) else { throw .internalFailure("vqgan: an index outside the codebook of \(k)") }
        let blocks = grid.blocks.map { b in Self.codeBlock(grid.extract(indices, b), height: b.height, width: b.width, prior: prior) }
        var w = ByteWriter()
        w.u8(Self.layoutVersion)
        w.u8(UInt8(grid.unit))
        w.u32(UInt32(k))
        for b in blocks { Self.leb128(b.count, into: &w) }
        for b in blocks { w.u16(UInt16(truncatingIfNeeded: crc32(b[...]))) }
        w.u32(crc32(w.data[...]))
        for b in blocks { w.bytes(b) }
        return w.data
    }

    /// One block's range-coder stream: phase by phase, each position (row-major within its phase)
    /// under its logits given the earlier phases.
    static func codeBlock(_ indices: [Int], height h: Int, width w: Int, prior: IndexTransformer) -> [UInt8] {
        let logits = prior.codingLogits(indices, height: h, width: w, path: .deterministic).scalars
        let k = prior.codes
        var encoder = RangeEncoder()
        for p in codingOrder(height: h, width: w) {
            let c = LogitFrequencies.cumulative(logits[(p * k)..<((p + 1) * k)], precision: precision)
            let i = indices[p]
            encoder.encode(SymbolInterval(cumulative: c[i], frequency: c[i + 1] - c[i]), precision: precision)
        }
        return encoder.finish()
    }

    /// Positions of an h x w block in coding order: by phase, row-major within a phase.
    static func codingOrder(height h: Int, width w: Int) -> [Int] {
        (0..<IndexTransformer.phases).flatMap { s in (0..<h * w).filter { IndexTransformer.phase(row: $0 / w, col: $0 % w) == s } }
    }

    /// For `codec info`: the rate and blocks, and what encoding did to fit the picture.
    public func notes(_ file: ContainerFile) throws(CodecError) -> [String] {
        try identity.check(file)
        guard case let .image(width, height, channels, _, _) = file.media, Self.sizeAllowed(width: width, height: height) else {
            throw .corruptPayload("vqgan holds images; the header describes other media")
        }
        let (grid, k, blocks) = try readPayload(file.payload, width: width, height: height)
        var notes = ["k=\(k): \(grid.rows)x\(grid.columns) indices in \(grid.blocks.count) blocks of up to \(grid.unit)x\(grid.unit), "
                     + "\(blocks.filter { $0.bytes == nil }.count) failing their check"]
        if width % Self.down != 0 || height % Self.down != 0 {
            notes.append("padded to \(grid.columns * Self.down)x\(grid.rows * Self.down) by repeating the edge, cropped back")
        }
        if channels == 1 { notes.append("gray coded as three equal channels, decoded as their mean") }
        notes.append("alpha, if the input had any, is not coded")
        return notes
    }

    // MARK: Decoding

    /// A decoded picture and how many of its indices were restored rather than decoded.
    public struct Decoded: Sendable {
        public var media: Media
        public var damagedBlocks: Int
        /// Blocks in the file, damaged or not.
        public var blocks: Int
        public var restoredIndices: Int
    }

    /// The plain `Codec` entry point refuses damaged blocks (exit 2): it has no channel to say
    /// that it restored some. `decode(_:options:)` (the registry's and the CLI's path) has one.
    public func decode(_ file: ContainerFile) throws(CodecError) -> Media {
        try decode(file, strict: true).media
    }

    /// Damaged blocks restored with a warning saying how many, or refused under `options.strict`.
    public func decode(_ file: ContainerFile, options: DecodeOptions) throws(CodecError) -> DecodeResult {
        let d = try decode(file, strict: options.strict)
        return DecodeResult(media: d.media, warnings: d.damagedBlocks == 0 ? [] : [Self.restorationWarning(d)])
    }

    static func restorationWarning(_ d: Decoded) -> String {
        "restored \(d.damagedBlocks) of \(d.blocks) index blocks that failed their checks "
            + "(\(d.restoredIndices) indices predicted from their neighbours by the index transformer; those areas are guessed, not decoded)"
    }

    /// Decodes; damaged blocks are restored (`strict` false) or refused with a corrupt-payload
    /// error (`strict` true).
    public func decode(_ file: ContainerFile, strict: Bool) throws(CodecError) -> Decoded {
        let c = try indices(of: file, strict: strict)
        let out = model.decode(c.indices, height: c.grid.rows, width: c.grid.columns, k: c.k)
        guard case let .image(_, _, channels, bitDepth, significantBits) = file.media else { preconditionFailure("checked by indices(of:)") }
        let image = Self.image(out, grid: c.grid, channels: channels, bitDepth: bitDepth,
                               significantBits: significantBits == 0 ? nil : significantBits)
        return Decoded(media: .image(image), damagedBlocks: c.damagedBlocks, blocks: c.grid.blocks.count, restoredIndices: c.restored)
    }

    /// The index grid of a container: decoded block by block, damaged blocks restored or refused.
    struct CodedIndices {
        var grid: IndexGrid, k: Int, indices: [Int], damagedBlocks: Int, restored: Int
    }

    func indices(of file: ContainerFile, strict: Bool) throws(CodecError) -> CodedIndices {
        try identity.check(file)
        guard case let .image(width, height, channels, _, _) = file.media,
              channels == 1 || channels == 3, Self.sizeAllowed(width: width, height: height) else {
            throw .corruptPayload("vqgan holds gray or RGB images of 1 to \(Self.maxImagePixels) pixels padded to multiples of 16; the header describes other media")
        }
        let (grid, k, blocks) = try readPayload(file.payload, width: width, height: height)
        let prior = model.indexModels[k]!
        var indices = [Int](repeating: 0, count: grid.rows * grid.columns)
        var lost = [Bool](repeating: false, count: indices.count)
        var damaged = 0
        var phase0 = Phase0Logits()
        for (b, block) in zip(grid.blocks, blocks) {
            // A block whose check passes but whose stream is still invalid (a damaged block that
            // collides with its 16-bit check, 1 in 65536) is damaged too.
            if let coded = block.bytes, let values = try? Self.decodeBlock(coded, height: b.height, width: b.width, prior: prior, phase0: &phase0) {
                grid.insert(values, into: &indices, b)
            } else {
                damaged += 1
                grid.mark(b, in: &lost)
            }
        }
        if damaged > 0 && strict {
            throw .corruptPayload("vqgan: \(damaged) of \(grid.blocks.count) index blocks are damaged (checksum); strict decoding restores none")
        }
        let restored = restore(&indices, lost: lost, rows: grid.rows, columns: grid.columns, prior: prior)
        return CodedIndices(grid: grid, k: k, indices: indices, damagedBlocks: damaged, restored: restored)
    }

    /// A block's bytes, nil when its checksum fails.
    struct BlockBytes { var bytes: [UInt8]? }

    /// The header and block table, checked against the image size and the model.
    func readPayload(_ payload: [UInt8], width: Int, height: Int) throws(CodecError) -> (IndexGrid, Int, [BlockBytes]) {
        var r = ByteReader(payload)
        do {
            let layout = try r.u8()
            guard layout == Self.layoutVersion else { throw CodecError.corruptPayload("unknown vqgan payload layout \(layout)") }
            let unit = Int(try r.u8()), k = Int(try r.u32())
            guard Self.units.contains(unit) else { throw CodecError.corruptPayload("vqgan block side \(unit) is not one of 4, 8, 16") }
            guard model.indexModels[k] != nil else {
                throw CodecError.corruptPayload("vqgan: k=\(k) is not a codebook of this model (\(model.architecture.rateCodes.map(String.init).joined(separator: ", ")))")
            }
            let grid = IndexGrid(width: width, height: height, unit: unit)
            // A block of n indices codes at most n·16 bits (every frequency ≥ 1 of 2^16) plus the
            // coder's flush: a larger length disagrees with the image size.
            var lengths: [Int] = []
            lengths.reserveCapacity(min(grid.blocks.count, payload.count))
            for b in grid.blocks {
                let n = try Self.readLEB128(&r)
                guard n <= 2 * b.height * b.width + 8 else {
                    throw CodecError.corruptPayload("vqgan block table: a block of \(b.height * b.width) indices cannot take \(n) bytes")
                }
                lengths.append(n)
            }
            var checks: [UInt16] = []
            for _ in grid.blocks { checks.append(try r.u16()) }
            let tableCRC = crc32(payload[..<r.offset])
            guard try r.u32() == tableCRC else {
                throw CodecError.corruptPayload("vqgan block table is damaged (CRC-32 mismatch): the blocks cannot be located")
            }
            guard lengths.reduce(0, +) == r.remaining else {
                throw CodecError.corruptPayload("vqgan block table disagrees with the payload: \(lengths.reduce(0, +)) bytes of blocks listed, \(r.remaining) present")
            }
            var blocks: [BlockBytes] = []
            for (n, check) in zip(lengths, checks) {
                let bytes = Array(try r.take(n))
                blocks.append(BlockBytes(bytes: UInt16(truncatingIfNeeded: crc32(bytes[...])) == check ? bytes : nil))
            }
            return (grid, k, blocks)
        } catch let e as CodecError {
            throw e
        } catch {
            throw .corruptPayload("vqgan payload: \(error)")
        }
    }

    /// The indices of one block: phase by phase under the logits of the phases decoded so far,
    /// the same logits `codeBlock` coded under (same tokens, deterministic kernels).
    static func decodeBlock(_ bytes: [UInt8], height h: Int, width w: Int, prior: IndexTransformer,
                            phase0: inout Phase0Logits) throws(EntropyCodingError) -> [Int] {
        var decoder = try RangeDecoder(bytes)
        var tokens = [Int](repeating: prior.maskToken, count: h * w)
        let k = prior.codes
        let order = codingOrder(height: h, width: w)
        var start = 0
        for s in 0..<IndexTransformer.phases {
            let positions = order[start...].prefix { IndexTransformer.phase(row: $0 / w, col: $0 % w) == s }
            guard !positions.isEmpty else { continue }
            start += positions.count
            // Phase 0's logits (all positions, cached per shape) are indexed by position, a later
            // phase's (only its own positions: the same bits, less head work) by rank in the phase.
            let logits = s == 0 ? phase0.logits(prior, height: h, width: w)
                                : prior.logits(tokens, height: h, width: w, rows: Array(positions), path: .deterministic).scalars
            for (n, p) in positions.enumerated() {
                let row = s == 0 ? p : n
                let model = CumulativeFrequencyModel(cumulative: LogitFrequencies.cumulative(logits[(row * k)..<((row + 1) * k)], precision: precision),
                                                     precision: precision)
                tokens[p] = try decoder.decode(model: model)
            }
        }
        try decoder.finish()
        return tokens
    }

    /// Phase 0 sees every index masked, so its logits depend only on the block's shape: computed
    /// once per shape and decode (at most four shapes: whole, right edge, bottom edge, corner).
    struct Phase0Logits {
        private var byShape: [Int: [Float]] = [:]
        mutating func logits(_ prior: IndexTransformer, height h: Int, width w: Int) -> [Float] {
            if let hit = byShape[h * 64 + w] { return hit }
            let l = prior.logits([Int](repeating: prior.maskToken, count: h * w), height: h, width: w, path: .deterministic).scalars
            byShape[h * 64 + w] = l
            return l
        }
    }

    // MARK: Restoration

    /// Fills the `lost` indices, one `lossBlock` x `lossBlock` patch at a time (row-major): the
    /// index transformer sees the window (at most its side) centred on the patch, with the indices
    /// still lost masked and the known and already restored ones visible, and each lost index of the
    /// patch takes its most likely code (ties to the lower one). Returns how many it restored.
    func restore(_ indices: inout [Int], lost: [Bool], rows: Int, columns: Int, prior: IndexTransformer) -> Int {
        var missing = lost
        let side = prior.architecture.window, b = min(Self.lossBlock, side), k = prior.codes
        var restored = 0
        for br in stride(from: 0, to: rows, by: b) {
            for bc in stride(from: 0, to: columns, by: b) {
                let patch = (br..<min(rows, br + b)).flatMap { r in (bc..<min(columns, bc + b)).map { r * columns + $0 } }
                guard patch.contains(where: { missing[$0] }) else { continue }
                let (wh, ww) = (min(side, rows), min(side, columns))
                let r0 = min(max(0, br + b / 2 - wh / 2), rows - wh), c0 = min(max(0, bc + b / 2 - ww / 2), columns - ww)
                let tokens = (0..<wh * ww).map { i in
                    let p = (r0 + i / ww) * columns + c0 + i % ww
                    return missing[p] ? prior.maskToken : indices[p]
                }
                let logits = prior.logits(tokens, height: wh, width: ww, path: .deterministic).scalars
                for p in patch where missing[p] {
                    let i = (p / columns - r0) * ww + (p % columns - c0)
                    var best = 0
                    for j in 1..<k where logits[i * k + j] > logits[i * k + best] { best = j }
                    indices[p] = best
                    restored += 1
                }
                for p in patch { missing[p] = false }
            }
        }
        return restored
    }

    // MARK: Pixels in and out

    /// `[1, 3, 16·rows, 16·columns]` in [−1, 1]: gray feeds all three channels, alpha is left out,
    /// the edges are repeated into the padding.
    static func inputTensor(_ image: Image, grid: IndexGrid) -> Tensor {
        let (w, h, c) = (image.width, image.height, image.channels)
        let (pw, ph) = (grid.columns * down, grid.rows * down)
        let scale = 2 / Float(image.maxValue)
        var x = [Float](repeating: 0, count: 3 * ph * pw)
        image.samples.withUnsafeBufferPointer { s in
            for p in 0..<3 {
                let source = c >= 3 ? p : 0
                for y in 0..<ph {
                    let row = min(y, h - 1) * w
                    for xx in 0..<pw { x[(p * ph + y) * pw + xx] = Float(s[(row + min(xx, w - 1)) * c + source]) * scale - 1 }
                }
            }
        }
        return Tensor(shape: [1, 3, ph, pw], scalars: x)
    }

    /// The decoder's output `[1, 3, PH, PW]` as samples: (clamp(x, −1, 1) + 1) / 2 · max, rounded,
    /// cropped; gray is the mean of the three channels.
    static func image(_ out: Tensor, grid: IndexGrid, channels: Int, bitDepth: Int, significantBits: Int?) -> Image {
        let (w, h) = (grid.width, grid.height)
        let (ph, pw) = (out.shape[2], out.shape[3])
        let half = Float((1 << bitDepth) - 1) / 2
        func v(_ p: Int, _ y: Int, _ x: Int) -> Float { (min(max(out.scalars[(p * ph + y) * pw + x], -1), 1) + 1) * half }
        var samples = [UInt16](repeating: 0, count: w * h * channels)
        for y in 0..<h {
            for x in 0..<w {
                if channels == 3 {
                    for p in 0..<3 { samples[(y * w + x) * 3 + p] = UInt16(v(p, y, x).rounded()) }
                } else {
                    samples[y * w + x] = UInt16(((v(0, y, x) + v(1, y, x) + v(2, y, x)) / 3).rounded())
                }
            }
        }
        return Image(width: w, height: h, channels: channels, bitDepth: bitDepth, samples: samples, significantBits: significantBits)
    }

    // MARK: LEB128 lengths

    static func leb128(_ value: Int, into w: inout ByteWriter) {
        var v = UInt(value)
        while v >= 0x80 {
            w.u8(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        w.u8(UInt8(v))
    }

    /// At most 4 bytes (lengths below 2^28; the caller bounds them further).
    static func readLEB128(_ r: inout ByteReader) throws(CodecError) -> Int {
        var v = 0
        for i in 0..<4 {
            let byte: UInt8
            do { byte = try r.u8() } catch { throw .corruptPayload("vqgan block table ends early: \(error)") }
            v |= Int(byte & 0x7F) << (7 * i)
            if byte < 0x80 { return v }
        }
        throw .corruptPayload("vqgan block table: a length longer than 4 bytes")
    }
}

/// The index grid of a picture (one index per 16x16 pixels) and its blocks of at most
/// `unit` x `unit` indices, row-major.
struct IndexGrid {
    struct Block { var row: Int, col: Int, height: Int, width: Int }
    let width: Int, height: Int, unit: Int
    let rows: Int, columns: Int
    let blocks: [Block]

    init(width: Int, height: Int, unit: Int) {
        self.width = width
        self.height = height
        self.unit = unit
        rows = (height + VQGANCodec.down - 1) / VQGANCodec.down
        columns = (width + VQGANCodec.down - 1) / VQGANCodec.down
        var blocks: [Block] = []
        for r in stride(from: 0, to: rows, by: unit) {
            for c in stride(from: 0, to: columns, by: unit) {
                blocks.append(Block(row: r, col: c, height: min(unit, rows - r), width: min(unit, columns - c)))
            }
        }
        self.blocks = blocks
    }

    func positions(_ b: Block) -> [Int] {
        (b.row..<(b.row + b.height)).flatMap { r in (b.col..<(b.col + b.width)).map { r * columns + $0 } }
    }

    func extract(_ indices: [Int], _ b: Block) -> [Int] { positions(b).map { indices[$0] } }

    func insert(_ values: [Int], into indices: inout [Int], _ b: Block) {
        for (v, p) in zip(values, positions(b)) { indices[p] = v }
    }

    func mark(_ b: Block, in lost: inout [Bool]) {
        for p in positions(b) { lost[p] = true }
    }
}
