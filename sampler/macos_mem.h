/*
 * Activity Monitor's memory figures, derived from macOS VM page counts.
 *
 * The kernel reports pages (host_statistics64 HOST_VM_INFO64 and the
 * vm.page_* sysctls); Activity Monitor shows App Memory, Wired, Compressed,
 * Cached Files, Memory Used.  This module holds the formulas in one place,
 * as portable C over a struct of our own (no Mach headers), so that they
 * are tested on Linux with fixture numbers for 16 KiB and 4 KiB pages.
 *
 * Formulas (pages x page_size; page_size must be vm_kernel_page_size,
 * 16 KiB on Apple Silicon -- vm_page_size is 4 KiB under Rosetta and would
 * undercount by 4x):
 *   free        = free_count - speculative_count
 *                 (vm_statistics64 free_count includes speculative pages;
 *                 vm_stat(1) prints "Pages free" the same way)
 *   app         = internal_page_count - purgeable_count
 *                 (anonymous memory, minus what apps marked purgeable)
 *   wired       = wire_count
 *   compressed  = compressor_page_count  (memory the compressor occupies,
 *                 not the uncompressed size of what it holds)
 *   cached      = external_page_count + purgeable_count
 *                 (file-backed pages and purgeable memory: "Cached Files")
 *   used        = app + wired + compressed  ("Memory Used")
 *   available   = free + speculative + cached
 *                 = free_count + external_page_count + purgeable_count
 *                 (what can be had without compressing or swapping; the
 *                 catalog's mem_available_kb on macOS)
 * A figure whose inputs would go negative (counts read at slightly
 * different instants) is clamped at 0.
 */
#ifndef PM_MACOS_MEM_H
#define PM_MACOS_MEM_H

#include <stdint.h>

/* The vm_statistics64 fields pressmon uses, in pages (counters are
 * cumulative since boot). */
struct pm_mac_vmstat {
    uint64_t free_count;         /* includes speculative_count */
    uint64_t speculative_count;
    uint64_t active_count;
    uint64_t inactive_count;
    uint64_t wire_count;
    uint64_t throttled_count;
    uint64_t purgeable_count;
    uint64_t external_page_count;
    uint64_t internal_page_count;
    uint64_t compressor_page_count;
    uint64_t total_uncompressed_pages_in_compressor;
    /* counters */
    uint64_t faults, pageins, pageouts, swapins, swapouts, compressions, decompressions;
};

/* Derived figures in bytes. */
struct pm_mac_mem {
    int64_t total;      /* hw.memsize */
    int64_t free;
    int64_t speculative;
    int64_t app;
    int64_t wired;
    int64_t compressed;
    int64_t cached;
    int64_t used;
    int64_t available;
};

/* Returns 0, or -1 if page_size is 0 (nothing derived). */
int pm_mac_mem_derive(const struct pm_mac_vmstat *v, uint64_t page_size, uint64_t mem_total,
                      struct pm_mac_mem *out);

/* The fast path: the vm.page_* sysctls are read every tick (they are not
 * rate-limited like host_statistics64), the rest comes from the last
 * host_statistics64 copy.  vm.page_free_count does NOT include speculative
 * pages, unlike vm_statistics64 free_count: this puts them in the same
 * shape.  Any argument < 0 means "sysctl absent": keep `v`'s field. */
void pm_mac_vmstat_apply_sysctls(struct pm_mac_vmstat *v, int64_t page_free_count,
                                 int64_t page_speculative_count, int64_t pageable_internal_count,
                                 int64_t pageable_external_count, int64_t purgeable_count);

/* kern.memorystatus_vm_pressure_level -> 0..3 for people: 1 normal,
 * 2 warning, 4 critical (kVMPressure* values); anything else is returned
 * as is.  Name for docs/events. */
const char *pm_mac_pressure_name(int64_t level);

/* notify "com.apple.system.thermalpressurelevel" state: 0 nominal,
 * 1 moderate, 2 heavy, 3 trapping, 4 sleeping. */
const char *pm_mac_thermal_name(int64_t level);

#endif
