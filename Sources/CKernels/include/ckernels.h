#ifndef CKERNELS_H
#define CKERNELS_H
/*
 * Wider-vector versions of Neural's deterministic kernels, chosen at run time.
 *
 * The package builds for portable x86-64 (SSE2), so Swift's SIMD code runs 4 lanes at a time even
 * on machines with AVX2 (8) or AVX-512 (16). Swift has no per-function target attribute; C does:
 * these functions are compiled for AVX2 or AVX-512F and called only where the CPU and the OS
 * support them (ckernels_level). Each computes every output element with exactly the operations
 * of the portable Swift kernel, in the same order, with no fused multiply-add (contraction is off
 * for the whole file), so the bits are the same on every path: only the lane count differs.
 * Tests/NeuralTests/KernelTests.swift checks each path against the portable one.
 */
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The widest kernel set this process may use: 0 portable (Swift only), 1 AVX2, 2 AVX-512F.
 * Detected once (CPUID and the OS's saved register state, XGETBV); the environment variable
 * NEURALCODECS_SIMD=portable|avx2 caps it, for measuring and for checking the portable path. */
int ckernels_level(void);

/* The cores this process may run on: the CPU affinity mask's count (taskset, cgroup cpusets)
 * where the OS reports one, else the online processors. */
int ckernels_cpu_count(void);

#if defined(__x86_64__)
/* Rows [row0, row1) of c = a·b (+ c when accumulate): a is [M, k] (row-major, stride k), b has
 * rows of length >= n at stride ldb, c rows at stride ldc. Every c[r, j] is computed as
 * c = c + a[r, kk]·b[kk, j] (one rounded multiply, one rounded add) for kk = 0, 1, ..., k - 1,
 * starting from 0 or the old c: the contract of Kernels.deterministicMatmul. */
void ckernels_matmul_avx2(const float *a, const float *b, float *c, ptrdiff_t row0, ptrdiff_t row1,
                          ptrdiff_t n, ptrdiff_t k, ptrdiff_t ldb, ptrdiff_t ldc, int accumulate);
void ckernels_matmul_avx512(const float *a, const float *b, float *c, ptrdiff_t row0, ptrdiff_t row1,
                            ptrdiff_t n, ptrdiff_t k, ptrdiff_t ldb, ptrdiff_t ldc, int accumulate);

/* y[r·ldy + c] = dot(x + r·ldx, w + c·ldw, k) (+ bias[c] when bias is not NULL) for rows
 * r in [0, m) and columns c in [col0, col1): many `Kernels.dot`s at once, each with that
 * function's exact operations and order (two 16-lane accumulators over 32-element steps, the
 * fixed tree reduction, the scalar tail, then the bias): the contract of Kernels.dots. */
void ckernels_dots_avx2(const float *x, ptrdiff_t ldx, const float *w, ptrdiff_t ldw, const float *bias, float *y,
                        ptrdiff_t ldy, ptrdiff_t m, ptrdiff_t col0, ptrdiff_t col1, ptrdiff_t k);
void ckernels_dots_avx512(const float *x, ptrdiff_t ldx, const float *w, ptrdiff_t ldw, const float *bias, float *y,
                          ptrdiff_t ldy, ptrdiff_t m, ptrdiff_t col0, ptrdiff_t col1, ptrdiff_t k);

/* DMath.softmaxInPlace on v[0, n) (maximum, exp of the differences, sum in index order, scale),
 * Activation.geluTanh and Activation.silu in place: the Swift functions' lane-wise operations on
 * 16 lanes. */
void ckernels_softmax_avx2(float *v, ptrdiff_t n);
void ckernels_softmax_avx512(float *v, ptrdiff_t n);
void ckernels_gelu_tanh_avx2(float *v, ptrdiff_t n);
void ckernels_gelu_tanh_avx512(float *v, ptrdiff_t n);
void ckernels_silu_avx2(float *v, ptrdiff_t n);
void ckernels_silu_avx512(float *v, ptrdiff_t n);

/* n IEEE half-precision values (little-endian, any alignment) → floats, exactly as SafeTensors'
 * floatFromHalf (every finite half is exact in float; infinities and NaNs by the same formula). */
void ckernels_half_to_float_avx512(const void *halves, float *out, ptrdiff_t n);
#endif

#ifdef __cplusplus
}
#endif
#endif
