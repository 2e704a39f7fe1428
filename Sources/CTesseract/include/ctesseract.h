#pragma once
// Tesseract's C API (Debian libtesseract-dev 5.3), loaded on first use: the header gives the
// types, ctesseract_load() the functions. Perception/TesseractOCR.swift uses it.
//
// Why not link libtesseract: with pocketsphinx it put 77 of the 111 libraries `ldd codec` listed
// into every process (leptonica, libcurl, gnutls, krb5, ldap, X11, ...). Loading and binding them
// (LD_DEBUG=bindings: 43.8k bindings at start, 22k without) took `codec --version` from 19 to
// 46 ms of CPU, paid by every encode and decode, while only `codec score`'s OCR task and the
// Perception tests call tesseract.
// Nothing links it now; do not call the header's functions directly (they are not linked).
#include <tesseract/capi.h>

#pragma clang assume_nonnull begin

typedef struct {
    TessBaseAPI *_Nullable (*_Nonnull TessBaseAPICreate)(void);  // capi.h declares it without a prototype
    __typeof__(TessBaseAPISetVariable) *TessBaseAPISetVariable;
    __typeof__(TessBaseAPIInit3) *TessBaseAPIInit3;
    __typeof__(TessBaseAPIEnd) *TessBaseAPIEnd;
    __typeof__(TessBaseAPIDelete) *TessBaseAPIDelete;
    __typeof__(TessBaseAPISetImage) *TessBaseAPISetImage;
    __typeof__(TessBaseAPIClear) *TessBaseAPIClear;
    __typeof__(TessBaseAPIClearAdaptiveClassifier) *TessBaseAPIClearAdaptiveClassifier;
    __typeof__(TessBaseAPIGetUTF8Text) *TessBaseAPIGetUTF8Text;
    __typeof__(TessDeleteText) *TessDeleteText;
    /// libgomp's, when this tesseract was built with OpenMP (Debian's is); NULL otherwise.
    void (*_Nullable omp_set_max_active_levels)(int);
} ctesseract_api;

/// The functions, from libtesseract.so.5 (or the libtesseract.so dev link), loaded at the first
/// call, once per process, thread-safe, never unloaded. NULL when the library or a function is
/// missing; ctesseract_load_error() then says why (dlerror's text).
const ctesseract_api *_Nullable ctesseract_load(void);
const char *ctesseract_load_error(void);

#pragma clang assume_nonnull end
