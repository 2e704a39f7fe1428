import COpenBLAS

/// Winograd F(2x2, 3x3) (Lavin & Gray 2016) for 3x3 stride-1 convolutions on the fast path: each
/// 2x2 output tile comes from a 4x4 input tile with 16 multiplies per (in, out) channel pair
/// instead of 36, so the matrix work is 16 sgemms of `[out, in] · [in, tiles]`, 2.25x fewer
/// multiply-adds than im2col. Only the fast path uses it: the transforms reorder the arithmetic.
///
///     Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]
///     Aᵀ = [1 1 1 0; 0 1 -1 -1]                       Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A
enum Winograd {
    /// U = G g Gᵀ for every (out, in) pair, laid out `[groups][16][outG][inG]`.
    static func transformWeights(_ weight: Tensor, groups: Int) -> [Float] {
        let (cout, cinG) = (weight.shape[0], weight.shape[1])
        let coutG = cout / groups
        var u = [Float](repeating: 0, count: 16 * cout * cinG)
        for o in 0..<cout {
            let (g, og) = (o / coutG, o % coutG)
            for i in 0..<cinG {
                let k = Array(weight.scalars[(o * cinG + i) * 9..<(o * cinG + i + 1) * 9])
                // Gg: 4x3
                var gg = [Float](repeating: 0, count: 12)
                for c in 0..<3 {
                    let (a, b, d) = (k[c], k[3 + c], k[6 + c])
                    gg[c] = a; gg[3 + c] = 0.5 * (a + b + d); gg[6 + c] = 0.5 * (a - b + d); gg[9 + c] = d
                }
                for r in 0..<4 {
                    let (a, b, d) = (gg[3 * r], gg[3 * r + 1], gg[3 * r + 2])
                    let row = [a, 0.5 * (a + b + d), 0.5 * (a - b + d), d]
                    for c in 0..<4 { u[((g * 16 + 4 * r + c) * coutG + og) * cinG + i] = row[c] }
                }
            }
        }
        return u
    }
}

extension Winograd {
    typealias V8 = SIMD8<Float>

    /// One row of tiles: `d` points at the top-left of the first 4x4 tile (rows `cols` apart, tiles
    /// 2 columns apart); writes the 16 transformed values of tile t to `out[ξ·planeStride + t]`.
    /// Eight tiles at a time: a 16-float load split into its even and odd lanes gives column
    /// 2t+0 / 2t+1 of eight adjacent tiles (and one 2 further on, columns 2t+2 / 2t+3).
    @inline(__always)
    static func inputTransform(_ d: UnsafePointer<Float>, cols: Int, tiles: Int, into out: UnsafeMutablePointer<Float>, planeStride: Int) {
        let raw = UnsafeRawPointer(d)
        var t = 0
        while t + 8 <= tiles {
            // Row r of the eight tiles times B (column combinations 0...3), eight tiles per vector.
            @inline(__always) func rowTimesB(_ r: Int) -> (V8, V8, V8, V8) {
                let a = raw.loadUnaligned(fromByteOffset: 4 * (r * cols + 2 * t), as: SIMD16<Float>.self)
                let b = raw.loadUnaligned(fromByteOffset: 4 * (r * cols + 2 * t + 2), as: SIMD16<Float>.self)
                let (e0, e1, e2, e3) = (a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
                return (e0 - e2, e1 + e2, e2 - e1, e1 - e3)
            }
            // Bᵀ on the rows, for column combination k.
            @inline(__always) func bTransposed(_ c0: V8, _ c1: V8, _ c2: V8, _ c3: V8, _ k: Int) {
                store(c0 - c2, out + (0 + k) * planeStride + t)
                store(c1 + c2, out + (4 + k) * planeStride + t)
                store(c2 - c1, out + (8 + k) * planeStride + t)
                store(c1 - c3, out + (12 + k) * planeStride + t)
            }
            let (r0, r1, r2, r3) = (rowTimesB(0), rowTimesB(1), rowTimesB(2), rowTimesB(3))
            bTransposed(r0.0, r1.0, r2.0, r3.0, 0)
            bTransposed(r0.1, r1.1, r2.1, r3.1, 1)
            bTransposed(r0.2, r1.2, r2.2, r3.2, 2)
            bTransposed(r0.3, r1.3, r2.3, r3.3, 3)
            t += 8
        }
        while t < tiles {
            for k in 0..<4 {
                @inline(__always) func col(_ j: Int, _ r: Int) -> Float { d[r * cols + 2 * t + j] }
                // Column combination k of every row, then the row combinations.
                func comb(_ r: Int) -> Float {
                    switch k {
                    case 0: return col(0, r) - col(2, r)
                    case 1: return col(1, r) + col(2, r)
                    case 2: return col(2, r) - col(1, r)
                    default: return col(1, r) - col(3, r)
                    }
                }
                let (c0, c1, c2, c3) = (comb(0), comb(1), comb(2), comb(3))
                out[(0 + k) * planeStride + t] = c0 - c2
                out[(4 + k) * planeStride + t] = c1 + c2
                out[(8 + k) * planeStride + t] = c2 - c1
                out[(12 + k) * planeStride + t] = c1 - c3
            }
            t += 1
        }
    }

    /// One row of tiles: reads the 16 products of tile t at `m[ξ·planeStride + t]`, writes its 2x2
    /// outputs (+ bias) at columns 2t, 2t+1 of `y` and, if `secondRow`, of the next output row.
    @inline(__always)
    static func outputTransform(_ m: UnsafePointer<Float>, planeStride: Int, tiles: Int, bias: Float,
                                into y: UnsafeMutablePointer<Float>, width: Int, secondRow: Bool) {
        let raw = UnsafeMutableRawPointer(y)
        var t = 0
        while t + 8 <= tiles && 2 * t + 16 <= width {
            @inline(__always) func at(_ xi: Int) -> V8 { UnsafeRawPointer(m + xi * planeStride + t).loadUnaligned(as: V8.self) }
            // Aᵀ m: s0 = m0 + m1 + m2, s1 = m1 - m2 - m3 over rows of the 4x4, for column k.
            @inline(__always) func aTransposed(_ k: Int) -> (V8, V8) {
                let (m0, m1, m2, m3) = (at(k), at(4 + k), at(8 + k), at(12 + k))
                return (m0 + m1 + m2, m1 - m2 - m3)
            }
            let (k0, k1, k2, k3) = (aTransposed(0), aTransposed(1), aTransposed(2), aTransposed(3))
            let s0 = (k0.0, k1.0, k2.0, k3.0), s1 = (k0.1, k1.1, k2.1, k3.1)
            var top = SIMD16<Float>(), bottom = SIMD16<Float>()
            top.evenHalf = s0.0 + s0.1 + s0.2 + bias; top.oddHalf = s0.1 - s0.2 - s0.3 + bias
            bottom.evenHalf = s1.0 + s1.1 + s1.2 + bias; bottom.oddHalf = s1.1 - s1.2 - s1.3 + bias
            raw.storeBytes(of: top, toByteOffset: 4 * 2 * t, as: SIMD16<Float>.self)
            if secondRow { raw.storeBytes(of: bottom, toByteOffset: 4 * (width + 2 * t), as: SIMD16<Float>.self) }
            t += 8
        }
        while t < tiles {
            @inline(__always) func at(_ xi: Int) -> Float { m[xi * planeStride + t] }
            var s0 = SIMD4<Float>(), s1 = SIMD4<Float>()
            for k in 0..<4 { s0[k] = at(k) + at(4 + k) + at(8 + k); s1[k] = at(4 + k) - at(8 + k) - at(12 + k) }
            y[2 * t] = s0[0] + s0[1] + s0[2] + bias
            if 2 * t + 1 < width { y[2 * t + 1] = s0[1] - s0[2] - s0[3] + bias }
            if secondRow {
                y[width + 2 * t] = s1[0] + s1[1] + s1[2] + bias
                if 2 * t + 1 < width { y[width + 2 * t + 1] = s1[1] - s1[2] - s1[3] + bias }
            }
            t += 1
        }
    }

    @inline(__always)
    static func store(_ v: V8, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V8.self) }
}

extension Conv2d {
    /// `chunkBudget`: floats per transformed chunk (a parameter so tests can force several chunks).
    func winogradForward(_ x: Tensor, path: KernelPath, chunkBudget: Int = 1 << 21) -> Tensor {
        let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let (ho, wo) = outputSize(h, w)
        let (ty, tx) = ((ho + 1) / 2, (wo + 1) / 2)
        let (rows, cols) = (2 * ty + 2, 2 * tx + 2)  // padded input covering every 4x4 tile
        let cinG = inChannels / groups, coutG = outChannels / groups
        // Rows of tiles are processed in chunks whose transformed input and products stay within
        // ~8 MB each, so a large image does not need 16 copies of itself in memory.
        let chunkRows = max(1, min(ty, chunkBudget / max(1, 16 * max(cinG, coutG) * tx)))
        let chunkTiles = chunkRows * tx
        let threads = path.threads
        var out = uninitializedFloats(n * outChannels * ho * wo)
        ScratchPool.shared.withBuffer(count: inChannels * rows * cols) { padded in
        ScratchPool.shared.withBuffer(count: 16 * cinG * chunkTiles) { v in
        ScratchPool.shared.withBuffer(count: 16 * coutG * chunkTiles) { m in
            for b in 0..<n {
                x.scalars.withUnsafeBufferPointer { pad($0.baseAddress! + b * inChannels * h * w, h, w, into: &padded, rows: rows, cols: cols) }
                for g in 0..<groups {
                    for ty0 in Swift.stride(from: 0, to: ty, by: chunkRows) {
                        let tileRows = ty0..<min(ty, ty0 + chunkRows)
                        let tiles = tileRows.count * tx
                        // V[ξ][c][t] = (Bᵀ d B)[ξ] for the 4x4 input tile d of tile t, channel c.
                        padded.withUnsafeBufferPointer { pb in
                        v.withUnsafeMutableBufferPointer { vb in
                            let vp = SharedPointer(base: vb.baseAddress!)
                            let base = pb.baseAddress! + g * cinG * rows * cols
                            parallelChunks(cinG, threads: threads) { channels in
                                for c in channels {
                                    for (i, yy) in tileRows.enumerated() {
                                        Winograd.inputTransform(base + c * rows * cols + 2 * yy * cols, cols: cols, tiles: tx,
                                                                into: vp.base + c * tiles + i * tx, planeStride: cinG * tiles)
                                    }
                                }
                            }
                        }}
                        // M[ξ] = U[ξ] · V[ξ]: [outG, inG] · [inG, tiles].
                        BLAS.prepare(threads: threads)
                        winogradWeights.withUnsafeBufferPointer { ub in
                            v.withUnsafeBufferPointer { vb in
                                m.withUnsafeMutableBufferPointer { mb in
                                    for xi in 0..<16 {
                                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(coutG), Int32(tiles), Int32(cinG), 1,
                                                    ub.baseAddress! + (g * 16 + xi) * coutG * cinG, Int32(cinG),
                                                    vb.baseAddress! + xi * cinG * tiles, Int32(tiles), 0,
                                                    mb.baseAddress! + xi * coutG * tiles, Int32(tiles))
                                    }
                                }
                            }
                        }
                        // Y = Aᵀ M A per tile, plus bias, cropped to the output size.
                        m.withUnsafeBufferPointer { mb in
                            out.withUnsafeMutableBufferPointer { ob in
                                let op = SharedPointer(base: ob.baseAddress!)
                                let mp = mb.baseAddress!
                                parallelChunks(coutG, threads: threads) { channels in
                                    for c in channels {
                                        let dst = op.base + ((b * outChannels + g * coutG + c) * ho) * wo
                                        let bias = self.bias?.scalars[g * coutG + c] ?? 0
                                        for (i, yy) in tileRows.enumerated() {
                                            Winograd.outputTransform(mp + c * tiles + i * tx, planeStride: coutG * tiles, tiles: tx, bias: bias,
                                                                     into: dst + 2 * yy * wo, width: wo, secondRow: 2 * yy + 1 < ho)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }}}
        return Tensor(shape: [n, outChannels, ho, wo], scalars: out)
    }
}
