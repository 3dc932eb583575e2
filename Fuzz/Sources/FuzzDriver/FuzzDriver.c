#include "FuzzDriver.h"

// In libFuzzer (linked by -sanitize=fuzzer) since LLVM 11.
extern int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

int custos_fuzz_run(int argc, char **argv, custos_fuzz_input input) {
    return LLVMFuzzerRunDriver(&argc, &argv, input);
}
