#pragma once
// pocketsphinx 0.8+5prealpha (Debian libpocketsphinx-dev) and the sphinxbase it needs, loaded on
// first use: the headers give the types, cpocketsphinx_load() the functions.
// Perception/PocketSphinxASR.swift uses it.
//
// Why not link them: every `codec` process paid for loading and binding them at start, whatever
// it was asked to do (with libtesseract, 27 ms of CPU: `codec --version` 46 ms linked, 19 ms not),
// while only `codec score`'s ASR task and the Perception tests call pocketsphinx.
// Nothing links them now.
#include <sphinxbase/cmd_ln.h>
#include <sphinxbase/err.h>

#pragma clang assume_nonnull begin

// pocketsphinx.h itself needs -I/usr/include/pocketsphinx (it includes its siblings with <>),
// which a SwiftPM C target can pass only as an unsafe flag, so its decoder type and the six
// functions used are declared here as that header declares them (ABI: libpocketsphinx.so.3).
typedef struct ps_decoder_s ps_decoder_t;

typedef struct {
    __typeof__(err_set_logfp) *err_set_logfp;
    __typeof__(cmd_ln_parse_r) *cmd_ln_parse_r;
    __typeof__(cmd_ln_free_r) *cmd_ln_free_r;
    arg_t const *_Nonnull (*_Nonnull ps_args)(void);
    ps_decoder_t *_Nullable (*_Nonnull ps_init)(cmd_ln_t *config);
    int (*ps_start_utt)(ps_decoder_t *ps);
    int (*ps_process_raw)(ps_decoder_t *ps, int16 const *data, size_t n_samples, int no_search, int full_utt);
    int (*ps_end_utt)(ps_decoder_t *ps);
    char const *_Nullable (*_Nonnull ps_get_hyp)(ps_decoder_t *ps, int32 *_Nullable out_best_score);
    int (*ps_free)(ps_decoder_t *ps);
} cpocketsphinx_api;

/// The functions, from libsphinxbase.so.3 and libpocketsphinx.so.3 (or their dev links), loaded at
/// the first call, once per process, thread-safe, never unloaded. NULL when a library or a
/// function is missing; cpocketsphinx_load_error() then says why (dlerror's text).
const cpocketsphinx_api *_Nullable cpocketsphinx_load(void);
const char *cpocketsphinx_load_error(void);

#pragma clang assume_nonnull end
