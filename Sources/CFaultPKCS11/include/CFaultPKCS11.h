#ifndef CFAULTPKCS11_H
#define CFAULTPKCS11_H

// A PKCS#11 module that forwards every call to a real module and injects configured faults.
// The real module is named by custos_fault_set_target() or, failing that, $CUSTOS_FAULT_TARGET.
// Tests load a private copy of this library so that each test has its own fault state.

/// Sets the path of the real module; must be called before C_GetFunctionList.
void custos_fault_set_target(const char *path);
/// The next `count` calls of `function` (e.g. "C_Sign", or "*" for any) return `rv` without forwarding.
void custos_fault_inject(const char *function, unsigned long rv, unsigned long count);
/// Every call except C_Finalize returns `rv` until the next C_Initialize (a removed device).
void custos_fault_remove_device(unsigned long rv);
/// Every call of `function` sleeps `micros` before forwarding.
void custos_fault_latency(const char *function, unsigned long micros);
/// How many times `function` has been called (forwarded or failed).
unsigned long custos_fault_calls(const char *function);
/// Clears injected faults, latency and counters.
void custos_fault_reset(void);

#endif
