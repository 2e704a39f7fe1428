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

#if defined(__x86_64__)
/* Rows [row0, row1) of c = a·b (+ c when accumulate): a is [M, k] (row-major, stride k), b has
 * rows of length >= n at stride ldb, c rows at stride ldc. Every c[r, j] is computed as
 * c = c + a[r, kk]·b[kk, j] (one rounded multiply, one rounded add) for kk = 0, 1, ..., k - 1,
 * starting from 0 or the old c: the contract of Kernels.deterministicMatmul. */
void ckernels_matmul_avx2(const float *a, const float *b, float *c, ptrdiff_t row0, ptrdiff_t row1,
                          ptrdiff_t n, ptrdiff_t k, ptrdiff_t ldb, ptrdiff_t ldc, int accumulate);
void ckernels_matmul_avx512(const float *a, const float *b, float *c, ptrdiff_t row0, ptrdiff_t row1,
                            ptrdiff_t n, ptrdiff_t k, ptrdiff_t ldb, ptrdiff_t ldc, int accumulate);
#endif

#ifdef __cplusplus
}
#endif
#endif
