/*
 * The body of the element-wise deterministic kernels (DMath's exp, the softmax, the tanh GELU and
 * the SiLU built on it), included once per instruction set by kernels.c with CK_SUFFIX (the functions'
 * name suffix) and CK_TARGET (the target attribute) set.
 *
 * Each lane takes exactly the operations of the Swift `DMath.exp` / `DMath.softmaxInPlace` /
 * `Activation.geluTanh` / `Activation.silu`, in the same order, with the same Float constants (contraction is off for
 * the file): only the lane count (16 instead of 8) differs, and every operation is lane-wise, so
 * the bits are the same.
 */
#define CK_CAT2(a, b) a##b
#define CK_CAT(a, b) CK_CAT2(a, b)
#define CK_EXP CK_CAT(ck_exp16_, CK_SUFFIX)

static inline __attribute__((always_inline, target(CK_TARGET)))
void CK_EXP(const ck_v16 *in, ck_v16 *out) {
    const ck_v16 x = *in;
    const ck_i16 low = (ck_i16)(x < -104.0f), high = (ck_i16)(x > 89.0f);
    ck_v16 xc = CK_SELECT(low, (ck_v16){0} + -104.0f, x);
    xc = CK_SELECT(high, (ck_v16){0} + 89.0f, xc);
    const ck_v16 shifted = xc * 1.44269504f + 12582912.0f;
    const ck_v16 n = shifted - 12582912.0f;
    const ck_i16 k = (ck_i16)((ck_u16)shifted - 0x4B400000u);
    const ck_v16 r = (xc - n * 0.69314575f) - n * 1.4286068e-6f;
    ck_v16 p = (ck_v16){0} + 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const ck_i16 half = k >> 1;  /* arithmetic, as Swift's &>> on Int32 */
    const ck_v16 s1 = (ck_v16)(((ck_u16)half + 127u) << 23);
    const ck_v16 s2 = (ck_v16)(((ck_u16)k - (ck_u16)half + 127u) << 23);
    ck_v16 y = p * s1 * s2;
    y = CK_SELECT((ck_i16)(x >= 88.72283f), (ck_v16){0} + __builtin_inff(), y);
    y = CK_SELECT((ck_i16)(x < -103.97208f), (ck_v16){0}, y);
    y = CK_SELECT((ck_i16)(x != x), x, y);  /* NaN stays NaN */
    *out = y;
}

/* Applies `op` to v[0, n) 16 at a time; the tail goes through a zero-padded vector, as DMath.map
 * pads its 8-lane tail (lane-wise functions: padding changes no valid lane). */
#define CK_MAP(v, n, op)                                                                   \
    do {                                                                                   \
        ptrdiff_t i_ = 0;                                                                  \
        for (; i_ + 16 <= (n); i_ += 16) {                                                 \
            ck_v16 a_ = *(ck_v16 *)((v) + i_), b_;                                         \
            op(&a_, &b_);                                                                  \
            *(ck_v16 *)((v) + i_) = b_;                                                    \
        }                                                                                  \
        if (i_ < (n)) {                                                                    \
            float t_[16] = {0};                                                            \
            for (ptrdiff_t j_ = i_; j_ < (n); j_++) t_[j_ - i_] = (v)[j_];                 \
            ck_v16 a_ = *(ck_v16 *)t_, b_;                                                 \
            op(&a_, &b_);                                                                  \
            *(ck_v16 *)t_ = b_;                                                            \
            for (ptrdiff_t j_ = i_; j_ < (n); j_++) (v)[j_] = t_[j_ - i_];                 \
        }                                                                                  \
    } while (0)

#define CK_SOFTMAX_EXP CK_CAT(ck_softmax_exp_, CK_SUFFIX)
#define CK_GELU CK_CAT(ck_gelu_tanh_, CK_SUFFIX)
#define CK_SILU CK_CAT(ck_silu_, CK_SUFFIX)

static inline __attribute__((always_inline, target(CK_TARGET)))
void CK_SILU(const ck_v16 *in, ck_v16 *out) {
    const ck_v16 x = *in, a = -x;  /* x / (1 + exp(-x)), as Activation.silu */
    ck_v16 e;
    CK_EXP(&a, &e);
    *out = x / (1.0f + e);
}

static inline __attribute__((always_inline, target(CK_TARGET)))
void CK_GELU(const ck_v16 *in, ck_v16 *out) {
    const ck_v16 x = *in;
    /* 0.5·(1 + tanh(u)) = sigmoid(2u), as Activation.geluTanh. */
    const ck_v16 u = 0.7978846f * (x + 0.044715f * (x * x * x));
    const ck_v16 a = -2.0f * u;
    ck_v16 e;
    CK_EXP(&a, &e);
    *out = x / (1.0f + e);
}

__attribute__((target(CK_TARGET)))
void CK_CAT(ckernels_softmax_, CK_SUFFIX)(float *v, ptrdiff_t n) {
    if (n <= 0) return;
    float m = v[0];
    for (ptrdiff_t i = 0; i < n; i++)
        if (v[i] > m) m = v[i];
    const ck_v16 mv = (ck_v16){0} + m;
#define CK_SHIFTED_EXP(a, b)            \
    do {                                \
        const ck_v16 d_ = *(a) - mv;    \
        CK_EXP(&d_, (b));               \
    } while (0)
    CK_MAP(v, n, CK_SHIFTED_EXP);
#undef CK_SHIFTED_EXP
    float sum = 0;
    for (ptrdiff_t i = 0; i < n; i++) sum += v[i];  /* in index order, as the Swift loop */
    const float inv = 1 / sum;
    for (ptrdiff_t i = 0; i < n; i++) v[i] *= inv;
}

__attribute__((target(CK_TARGET)))
void CK_CAT(ckernels_gelu_tanh_, CK_SUFFIX)(float *v, ptrdiff_t n) {
    CK_MAP(v, n, CK_GELU);
}

__attribute__((target(CK_TARGET)))
void CK_CAT(ckernels_silu_, CK_SUFFIX)(float *v, ptrdiff_t n) {
    CK_MAP(v, n, CK_SILU);
}

#undef CK_SILU
#undef CK_SOFTMAX_EXP
#undef CK_GELU
#undef CK_EXP
#undef CK_CAT
#undef CK_CAT2
