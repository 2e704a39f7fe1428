#include "copenblas.h"

// Exported by the pthread build of libopenblas (its fork handler uses it), not declared in cblas.h;
// weak, so a serial or OpenMP build, which lacks it, links too and is left alone.
void blas_thread_shutdown_(void) __attribute__((weak));

/* OpenBLAS (pthread build) starts its worker threads when the library loads, and each one spins
 * on sched_yield for its thread timeout (2^28 cycles by default) before it sleeps: about 0.1 s of
 * CPU per process on this machine's 2 cores, whatever the process does. Most runs of `codec`
 * (lossless, the text codecs, the deterministic kernels) never call a threaded product, so that
 * time was pure waste: 15% of a Kodak `lossless` decode. This constructor runs after
 * libopenblas's own (a library's constructors run before those of the code that links it) and
 * stops the pool; the first threaded product starts it again (OpenBLAS re-creates the pool
 * lazily, the path it uses after fork), so the fast path keeps its threads where it has work. */
__attribute__((constructor)) static void neuralcodecs_openblas_stop_idle_threads(void) {
    if (blas_thread_shutdown_ != NULL) blas_thread_shutdown_();
}
