/*
 * The body of one deterministic matmul kernel, included once per vector width by kernels.c with
 * CK_NAME (the function), CK_TARGET (the target attribute) and CK_LANES (floats per vector) set.
 *
 * Tiles of 4 rows x 2 vectors of columns keep 8 accumulators in registers; each column strip of b
 * is first packed contiguously ([kb, strip]), so the inner loop streams it from L1 instead of
 * striding a row (and, at large ldb, the same cache set) per step. k is taken in blocks of
 * CK_KBLOCK so the packed strip fits a stack buffer; between blocks the accumulators go through c,
 * which stores and reloads them exactly, so every element still sees c = c + a·b in increasing kk.
 */
#define CK_STRIP (2 * CK_LANES)
#define CK_CAT2(a, b) a##b
#define CK_CAT(a, b) CK_CAT2(a, b)
#define CK_TILES CK_CAT(CK_NAME, _strip)

/* One strip of `vectors` (1 or 2, a constant after inlining, so every loop over it unrolls and no
 * access becomes a variable-length memcpy) vectors of columns at j, rows [row0, row1), k-block
 * [k0, k0 + kb). */
static inline __attribute__((always_inline, target(CK_TARGET)))
void CK_TILES(const float *a, const float *b, float *c, ptrdiff_t row0, ptrdiff_t row1, ptrdiff_t j,
              ptrdiff_t k, ptrdiff_t k0, ptrdiff_t kb, ptrdiff_t ldb, ptrdiff_t ldc, int fromC, const int vectors,
              float *packed) {
    typedef float vec __attribute__((vector_size(4 * CK_LANES), aligned(4)));  /* unaligned loads */
    const int width = vectors * CK_LANES;
    for (ptrdiff_t kk = 0; kk < kb; kk++)
        for (int v = 0; v < vectors; v++)
            *(vec *)(packed + kk * width + v * CK_LANES) = *(const vec *)(b + (k0 + kk) * ldb + j + v * CK_LANES);
    ptrdiff_t r = row0;
    for (; r + 4 <= row1; r += 4) {
        vec acc[4][2];
        for (int i = 0; i < 4; i++)
            for (int v = 0; v < vectors; v++)
                acc[i][v] = fromC ? *(vec *)(c + (r + i) * ldc + j + v * CK_LANES) : (vec){0};
        const float *a0 = a + r * k + k0, *a1 = a0 + k, *a2 = a1 + k, *a3 = a2 + k;
        for (ptrdiff_t kk = 0; kk < kb; kk++) {
            for (int v = 0; v < vectors; v++) {
                const vec bv = *(const vec *)(packed + kk * width + v * CK_LANES);
                acc[0][v] = acc[0][v] + a0[kk] * bv;
                acc[1][v] = acc[1][v] + a1[kk] * bv;
                acc[2][v] = acc[2][v] + a2[kk] * bv;
                acc[3][v] = acc[3][v] + a3[kk] * bv;
            }
        }
        for (int i = 0; i < 4; i++)
            for (int v = 0; v < vectors; v++)
                *(vec *)(c + (r + i) * ldc + j + v * CK_LANES) = acc[i][v];
    }
    for (; r < row1; r++) {
        const float *ar = a + r * k + k0;
        for (int v = 0; v < vectors; v++) {
            vec acc = fromC ? *(vec *)(c + r * ldc + j + v * CK_LANES) : (vec){0};
            for (ptrdiff_t kk = 0; kk < kb; kk++) acc = acc + ar[kk] * *(const vec *)(packed + kk * width + v * CK_LANES);
            *(vec *)(c + r * ldc + j + v * CK_LANES) = acc;
        }
    }
}

__attribute__((target(CK_TARGET)))
void CK_NAME(const float *a, const float *b, float *c, ptrdiff_t row0, ptrdiff_t row1,
             ptrdiff_t n, ptrdiff_t k, ptrdiff_t ldb, ptrdiff_t ldc, int accumulate) {
    float packed[CK_KBLOCK * CK_STRIP] __attribute__((aligned(64)));
    if (k == 0) {  /* empty sums: zeros, or c unchanged */
        for (ptrdiff_t r = row0; r < row1 && !accumulate; r++) memset(c + r * ldc, 0, (size_t)n * sizeof(float));
        return;
    }
    for (ptrdiff_t k0 = 0; k0 < k; k0 += CK_KBLOCK) {
        const ptrdiff_t kb = k - k0 < CK_KBLOCK ? k - k0 : CK_KBLOCK;
        const int fromC = accumulate || k0 > 0;  /* continue from c, or start from zero */
        /* Strips of two vectors, then at most one of one vector. */
        ptrdiff_t j = 0;
        for (; j + CK_STRIP <= n; j += CK_STRIP) CK_TILES(a, b, c, row0, row1, j, k, k0, kb, ldb, ldc, fromC, 2, packed);
        if (j + CK_LANES <= n) {
            CK_TILES(a, b, c, row0, row1, j, k, k0, kb, ldb, ldc, fromC, 1, packed);
            j += CK_LANES;
        }
        /* The last columns (fewer than one vector): scalar, same order. */
        for (ptrdiff_t r = row0; r < row1; r++)
            for (ptrdiff_t jj = j; jj < n; jj++) {
                float s = fromC ? c[r * ldc + jj] : 0;
                for (ptrdiff_t kk = 0; kk < kb; kk++) s = s + a[r * k + k0 + kk] * b[(k0 + kk) * ldb + jj];
                c[r * ldc + jj] = s;
            }
    }
}

#undef CK_TILES
#undef CK_CAT
#undef CK_CAT2
#undef CK_STRIP
