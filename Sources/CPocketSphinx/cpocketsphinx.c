#include "cpocketsphinx.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static cpocketsphinx_api api;
static const cpocketsphinx_api *loaded;
static char error[512] = "not loaded";

/// The library by its soname, else its dev link (another soname); NULL with the soname's error set.
static void *open_library(const char *soname, const char *dev_link, const char *package) {
    void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        snprintf(error, sizeof error, "%s (Debian: apt-get install %s)", dlerror(), package);
        lib = dlopen(dev_link, RTLD_NOW | RTLD_LOCAL);
    }
    return lib;
}

static void load(void) {
    void *sphinxbase = open_library("libsphinxbase.so.3", "libsphinxbase.so", "libsphinxbase3");
    void *pocketsphinx = sphinxbase ? open_library("libpocketsphinx.so.3", "libpocketsphinx.so", "libpocketsphinx3") : NULL;
    if (pocketsphinx == NULL) return;
    struct { void *lib; const char *name; void **slot; } functions[] = {
#define F(lib, name) {lib, #name, (void **)&api.name}
        F(sphinxbase, err_set_logfp), F(sphinxbase, cmd_ln_parse_r), F(sphinxbase, cmd_ln_free_r),
        F(pocketsphinx, ps_args), F(pocketsphinx, ps_init), F(pocketsphinx, ps_start_utt),
        F(pocketsphinx, ps_process_raw), F(pocketsphinx, ps_end_utt), F(pocketsphinx, ps_get_hyp),
        F(pocketsphinx, ps_free),
#undef F
    };
    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
        if ((*functions[i].slot = dlsym(functions[i].lib, functions[i].name)) == NULL) {
            snprintf(error, sizeof error, "%s", dlerror());
            return;
        }
    }
    loaded = &api;
}

const cpocketsphinx_api *cpocketsphinx_load(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load);
    return loaded;
}

const char *cpocketsphinx_load_error(void) { return error; }
