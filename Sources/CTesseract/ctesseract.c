#include "ctesseract.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static ctesseract_api api;
static const ctesseract_api *loaded;
static char error[512] = "not loaded";

static void load(void) {
    void *lib = dlopen("libtesseract.so.5", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        snprintf(error, sizeof error, "%s (Debian: apt-get install libtesseract5)", dlerror());
        lib = dlopen("libtesseract.so", RTLD_NOW | RTLD_LOCAL);  // the dev link: another soname
        if (lib == NULL) return;
    }
    struct { const char *name; void **slot; } functions[] = {
#define F(name) {#name, (void **)&api.name}
        F(TessBaseAPICreate), F(TessBaseAPISetVariable), F(TessBaseAPIInit3), F(TessBaseAPIEnd),
        F(TessBaseAPIDelete), F(TessBaseAPISetImage), F(TessBaseAPIClear),
        F(TessBaseAPIClearAdaptiveClassifier), F(TessBaseAPIGetUTF8Text), F(TessDeleteText),
#undef F
    };
    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
        if ((*functions[i].slot = dlsym(lib, functions[i].name)) == NULL) {
            snprintf(error, sizeof error, "%s", dlerror());
            return;  // the library stays loaded: dlclose of a C++ library with OpenMP is not safe
        }
    }
    // Searched in libtesseract and what it loaded (libgomp): RTLD_LOCAL keeps it out of the global scope.
    *(void **)&api.omp_set_max_active_levels = dlsym(lib, "omp_set_max_active_levels");
    loaded = &api;
}

const ctesseract_api *ctesseract_load(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load);
    return loaded;
}

const char *ctesseract_load_error(void) { return error; }
