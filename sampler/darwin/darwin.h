/*
 * Helpers shared by the macOS platform files (sampler/darwin/ only).
 */
#ifndef PM_DARWIN_H
#define PM_DARWIN_H

#include <stdint.h>

/* Mach absolute time units <-> ns.  mach_timebase_info is 1/1 on Intel
 * and 125/3 on Apple Silicon (24 MHz ticks); it is read once. */
int64_t pm_mach_to_ns(uint64_t mach);
uint64_t pm_ns_to_mach(int64_t ns);

#endif
