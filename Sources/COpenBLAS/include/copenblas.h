#pragma once
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

// OpenBLAS's runtime kernel choice (DYNAMIC_ARCH builds) and its re-initialisation; exported by
// libopenblas but not declared in cblas.h.
char *openblas_get_corename(void);
void gotoblas_dynamic_init(void);
void gotoblas_dynamic_quit(void);

/// Once per process, before the first sgemm: a DYNAMIC_ARCH OpenBLAS that does not recognise the
/// CPU model (0.3.21 falls back to "Prescott", SSE3 kernels, on Xeons newer than it, e.g. family 6
/// model 207) is switched to the widest kernel set the CPU's feature flags support: SkylakeX with
/// AVX-512, Haswell with AVX2 + FMA. Measured ~3-4x faster sgemm on such a Xeon. An explicit
/// OPENBLAS_CORETYPE, a recognised CPU or a non-DYNAMIC_ARCH build is left alone. Returns the
/// kernel set in use.
static inline const char *neuralcodecs_openblas_select_kernels(void) {
#if defined(__x86_64__)
    const char *core = openblas_get_corename();
    if (core != NULL && strcmp(core, "Prescott") == 0 && getenv("OPENBLAS_CORETYPE") == NULL) {
        __builtin_cpu_init();
        const char *wanted = NULL;
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512dq")) {
            wanted = "SkylakeX";
        } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
            wanted = "Haswell";
        }
        if (wanted != NULL) {
            setenv("OPENBLAS_CORETYPE", wanted, 0);
            gotoblas_dynamic_quit();
            gotoblas_dynamic_init();
            unsetenv("OPENBLAS_CORETYPE");
        }
    }
    return openblas_get_corename();
#else
    return openblas_get_corename();
#endif
}
