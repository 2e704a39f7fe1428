/*
 * The body of one deterministic dot-product kernel (Neural's `Kernels.dot`, many at once),
 * included once per instruction set by kernels.c with CK_NAME (the function), CK_TARGET (the
 * target attribute), CK_ROWS and CK_COLS (the register tile: outputs computed together) set.
 *
 * Every output is the portable `dot`'s exact sequence: two 16-lane accumulators over steps of 32
 * elements (acc0 = acc0 + x·w on elements [i, i+16), acc1 on [i+16, i+32)), then
 * s16 = acc0 + acc1, s8 = low 8 + high 8, s4 = low 4 + high 4, s2 = s4[0,1] + s4[2,3],
 * s = s2[0] + s2[1], then the tail elements added one by one in index order. A tile of
 * CK_ROWS x CK_COLS outputs shares its loads: each input row and weight row is loaded once per
 * step for CK_COLS or CK_ROWS dot products. The 16-lane vectors are AVX-512 registers, or pairs
 * of AVX2 ones (the same lanes, the same operations).
 */
#define CK_CAT2(a, b) a##b
#define CK_CAT(a, b) CK_CAT2(a, b)
#define CK_TILE CK_CAT(CK_NAME, _tile)
#define CK_REDUCE CK_CAT(CK_NAME, _reduce)

static inline __attribute__((always_inline, target(CK_TARGET)))
float CK_REDUCE(const ck_v16 *acc0, const ck_v16 *acc1) {  /* by pointer: a 64-byte vector argument has no AVX2 ABI */
    const ck_v16 s16 = *acc0 + *acc1;
    const ck_v8 s8 = __builtin_shufflevector(s16, s16, 0, 1, 2, 3, 4, 5, 6, 7)
                   + __builtin_shufflevector(s16, s16, 8, 9, 10, 11, 12, 13, 14, 15);
    const ck_v4 s4 = __builtin_shufflevector(s8, s8, 0, 1, 2, 3) + __builtin_shufflevector(s8, s8, 4, 5, 6, 7);
    const float s2_0 = s4[0] + s4[2], s2_1 = s4[1] + s4[3];
    return s2_0 + s2_1;
}

/* One tile of `rows` x `cols` outputs (constants after inlining, so the loops over them unroll and
 * the accumulators stay in registers) at input row r and weight row c. */
static inline __attribute__((always_inline, target(CK_TARGET)))
void CK_TILE(const float *x, ptrdiff_t ldx, const float *w, ptrdiff_t ldw, const float *bias, float *y, ptrdiff_t ldy,
             ptrdiff_t r, ptrdiff_t c, ptrdiff_t k, const int rows, const int cols) {
    ck_v16 acc0[CK_ROWS][CK_COLS], acc1[CK_ROWS][CK_COLS];
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) acc0[i][j] = acc1[i][j] = (ck_v16){0};
    ptrdiff_t e = 0;
    for (; e + 32 <= k; e += 32) {
        ck_v16 w0[CK_COLS], w1[CK_COLS];
        for (int j = 0; j < cols; j++) {
            w0[j] = *(const ck_v16 *)(w + (c + j) * ldw + e);
            w1[j] = *(const ck_v16 *)(w + (c + j) * ldw + e + 16);
        }
        for (int i = 0; i < rows; i++) {
            const ck_v16 x0 = *(const ck_v16 *)(x + (r + i) * ldx + e);
            const ck_v16 x1 = *(const ck_v16 *)(x + (r + i) * ldx + e + 16);
            for (int j = 0; j < cols; j++) {
                acc0[i][j] = acc0[i][j] + x0 * w0[j];
                acc1[i][j] = acc1[i][j] + x1 * w1[j];
            }
        }
    }
    float sums[CK_ROWS * CK_COLS];
    if (rows * cols == 8) {
        /* A full tile of 8: the same tree for all 8 at once, each level's sums of 8 outputs
         * packed into fewer vectors (s8 of 2 outputs per vector, s4 of 4, then s2 and s of 8):
         * every lane adds exactly the pair the per-output tree adds, for a quarter of the
         * shuffles and adds. */
        ck_v16 s16[8];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) s16[i * cols + j] = acc0[i][j] + acc1[i][j];
        ck_v16 t[4];  /* t[p] = [s8 of output 2p | s8 of output 2p+1] */
        for (int p = 0; p < 4; p++)
            t[p] = __builtin_shufflevector(s16[2 * p], s16[2 * p + 1], 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23)
                 + __builtin_shufflevector(s16[2 * p], s16[2 * p + 1], 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
        ck_v16 u[2];  /* u[q] = [s4 of outputs 4q, 4q+1, 4q+2, 4q+3] */
        for (int q = 0; q < 2; q++)
            u[q] = __builtin_shufflevector(t[2 * q], t[2 * q + 1], 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27)
                 + __builtin_shufflevector(t[2 * q], t[2 * q + 1], 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
        /* v, block b (4 lanes): [s2 of output b (2 lanes), s2 of output 4 + b (2 lanes)] */
        const ck_v16 v = __builtin_shufflevector(u[0], u[1], 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29)
                       + __builtin_shufflevector(u[0], u[1], 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
        /* z, block b: [s of output b, s of output 4 + b, (repeated)] */
        const ck_v16 z = __builtin_shufflevector(v, v, 0, 2, 0, 2, 4, 6, 4, 6, 8, 10, 8, 10, 12, 14, 12, 14)
                       + __builtin_shufflevector(v, v, 1, 3, 1, 3, 5, 7, 5, 7, 9, 11, 9, 11, 13, 15, 13, 15);
        for (int b = 0; b < 4; b++) {
            sums[b] = z[4 * b];
            sums[4 + b] = z[4 * b + 1];
        }
    } else {
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) sums[i * cols + j] = CK_REDUCE(&acc0[i][j], &acc1[i][j]);
    }
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            const float *xr = x + (r + i) * ldx, *wc = w + (c + j) * ldw;
            float s = sums[i * cols + j];
            for (ptrdiff_t t = e; t < k; t++) s = s + xr[t] * wc[t];
            if (bias) s = s + bias[c + j];
            y[(r + i) * ldy + c + j] = s;
        }
}

__attribute__((target(CK_TARGET)))
void CK_NAME(const float *x, ptrdiff_t ldx, const float *w, ptrdiff_t ldw, const float *bias, float *y, ptrdiff_t ldy,
             ptrdiff_t m, ptrdiff_t col0, ptrdiff_t col1, ptrdiff_t k) {
    ptrdiff_t c = col0;
    for (; c + CK_COLS <= col1; c += CK_COLS) {
        ptrdiff_t r = 0;
        for (; r + CK_ROWS <= m; r += CK_ROWS) CK_TILE(x, ldx, w, ldw, bias, y, ldy, r, c, k, CK_ROWS, CK_COLS);
        for (; r < m; r++) CK_TILE(x, ldx, w, ldw, bias, y, ldy, r, c, k, 1, CK_COLS);
    }
    for (; c < col1; c++) {
        ptrdiff_t r = 0;
        for (; r + CK_ROWS <= m; r += CK_ROWS) CK_TILE(x, ldx, w, ldw, bias, y, ldy, r, c, k, CK_ROWS, 1);
        for (; r < m; r++) CK_TILE(x, ldx, w, ldw, bias, y, ldy, r, c, k, 1, 1);
    }
}

#undef CK_REDUCE
#undef CK_TILE
#undef CK_CAT
#undef CK_CAT2
