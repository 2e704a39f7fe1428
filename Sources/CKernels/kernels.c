#define _GNU_SOURCE  /* sched_getaffinity */
#include "ckernels.h"

#include <sched.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

int ckernels_cpu_count(void) {
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (online < 1) online = 1;
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        const int allowed = CPU_COUNT(&set);
        if (allowed >= 1 && allowed < online) return allowed;
    }
#endif
    return (int)online;
}

/* No fused multiply-add anywhere in this file: AVX-512F has FMA instructions, and a contracted
 * a·b + c rounds once where the portable kernels round twice. */
#pragma clang fp contract(off)

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

static int detect(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    /* AVX needs the CPU's support and the OS saving the YMM state (OSXSAVE, then XCR0). */
    if (!(c & (1u << 27)) || !(c & (1u << 28))) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    const unsigned long long xcr0 = ((unsigned long long)hi << 32) | lo;
    if ((xcr0 & 0x6) != 0x6) return 0;
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    const int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1;
    /* AVX-512 also needs the opmask and ZMM states saved (XCR0 bits 5-7). */
    if (avx512f && (xcr0 & 0xe6) == 0xe6) return 2;
    return avx2 ? 1 : 0;
}

int ckernels_level(void) {
    /* Threads racing here all compute the same value; relaxed atomics make the race defined. */
    static int level = -1;
    int l = __atomic_load_n(&level, __ATOMIC_RELAXED);
    if (l < 0) {
        l = detect();
        const char *cap = getenv("NEURALCODECS_SIMD");
        if (cap && strcmp(cap, "portable") == 0) l = 0;
        else if (cap && strcmp(cap, "avx2") == 0 && l > 1) l = 1;
        __atomic_store_n(&level, l, __ATOMIC_RELAXED);
    }
    return l;
}

#define CK_KBLOCK 256

#define CK_NAME ckernels_matmul_avx2
#define CK_TARGET "avx2"
#define CK_LANES 8
#include "matmul.h"
#undef CK_NAME
#undef CK_TARGET
#undef CK_LANES

#define CK_NAME ckernels_matmul_avx512
#define CK_TARGET "avx512f"
#define CK_LANES 16
#include "matmul.h"
#undef CK_NAME
#undef CK_TARGET
#undef CK_LANES

/* The dot kernels' vectors: 16 lanes as in the portable `dot` (two AVX2 registers, or one
 * AVX-512 register), and the halves its reduction tree takes. Unaligned loads. */
typedef float ck_v16 __attribute__((vector_size(64), aligned(4)));
typedef float ck_v8 __attribute__((vector_size(32), aligned(4)));
typedef float ck_v4 __attribute__((vector_size(16), aligned(4)));

/* Tiles: 2 x 1 outputs with AVX2 (4 registers of accumulators each, 16 registers in all),
 * 4 x 2 with AVX-512 (2 each, 32 in all). */
#define CK_NAME ckernels_dots_avx2
#define CK_TARGET "avx2"
#define CK_ROWS 2
#define CK_COLS 1
#include "dots.h"
#undef CK_NAME
#undef CK_TARGET
#undef CK_ROWS
#undef CK_COLS

#define CK_NAME ckernels_dots_avx512
#define CK_TARGET "avx512f"
#define CK_ROWS 4
#define CK_COLS 2
#include "dots.h"
#undef CK_NAME
#undef CK_TARGET
#undef CK_ROWS
#undef CK_COLS

/* Element-wise kernels: lane masks as integer vectors, selected bit by bit. */
typedef int ck_i16 __attribute__((vector_size(64), aligned(4)));
typedef unsigned ck_u16 __attribute__((vector_size(64), aligned(4)));
#define CK_SELECT(mask, a, b) ((ck_v16)(((mask) & (ck_i16)(a)) | (~(mask) & (ck_i16)(b))))

#define CK_SUFFIX avx2
#define CK_TARGET "avx2"
#include "elementwise.h"
#undef CK_SUFFIX
#undef CK_TARGET

#define CK_SUFFIX avx512
#define CK_TARGET "avx512f"
#include "elementwise.h"
#undef CK_SUFFIX
#undef CK_TARGET

/* IEEE half → float, as SafeTensors' floatFromHalf: exact for every finite value, so the
 * hardware conversion (vcvtph2ps, AVX-512F) gives its bits; 16-value chunks holding an infinity
 * or a NaN (exponent 31) take the scalar formula, which keeps a NaN's payload as is. */
static float ck_half_scalar(unsigned short h) {
    const unsigned sign = (unsigned)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    union { unsigned u; float f; } v;
    if (exponent == 0) {
        const float magnitude = (float)mantissa * 0x1p-24f;
        return sign ? -magnitude : magnitude;
    }
    v.u = exponent == 0x1f ? sign | 0x7f800000u | (mantissa << 13) : sign | ((exponent - 15 + 127) << 23) | (mantissa << 13);
    return v.f;
}

__attribute__((target("avx512f")))
void ckernels_half_to_float_avx512(const void *halves, float *out, ptrdiff_t n) {
    const unsigned char *h = (const unsigned char *)halves;  /* any alignment */
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i raw = _mm256_loadu_si256((const __m256i *)(h + 2 * i));
        const __m256i exponent = _mm256_and_si256(raw, _mm256_set1_epi16(0x7c00));
        const __m256i special = _mm256_cmpeq_epi16(exponent, _mm256_set1_epi16(0x7c00));  /* AVX2: implied by AVX-512F */
        if (_mm256_testz_si256(special, special)) {
            _mm512_storeu_ps(out + i, _mm512_cvtph_ps(raw));
            continue;
        }
        for (ptrdiff_t j = i; j < i + 16; j++) {
            unsigned short v;
            memcpy(&v, h + 2 * j, 2);
            out[j] = ck_half_scalar(v);
        }
    }
    for (; i < n; i++) {
        unsigned short v;
        memcpy(&v, h + 2 * i, 2);
        out[i] = ck_half_scalar(v);
    }
}

#else
int ckernels_level(void) { return 0; }
#endif
