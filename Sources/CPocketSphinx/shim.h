// pocketsphinx 0.8+5prealpha (Debian libpocketsphinx-dev) and the sphinxbase it needs.
// Perception/PocketSphinxASR.swift uses it. cmd_ln_init is variadic, which Swift cannot call;
// the engine builds its configuration with cmd_ln_parse_r from an argv array instead.
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
