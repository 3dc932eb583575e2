#ifndef CUSTOS_FUZZ_DRIVER_H
#define CUSTOS_FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

/// One input for a fuzz target; returns 0.
typedef int (*custos_fuzz_input)(const uint8_t *data, size_t size);

/// Runs libFuzzer with the process's arguments over `input`. SwiftPM gives every executable its own
/// entry point (`main` is an alias of `<Target>_main`), so libFuzzer's `main` is never used; each
/// target's main calls this, libFuzzer's documented entry for programs with a main of their own.
/// (Targets still export `LLVMFuzzerTestOneInput`, which libFuzzer's unused main refers to.)
int custos_fuzz_run(int argc, char **argv, custos_fuzz_input input);

#endif
