/*
 * macOS system sampling: pm_sys_open / pm_sys_read / pm_sys_close.
 *
 * Sources (DESIGN §6), all opened or resolved once in pm_sys_open:
 *   every tick (cheap, not rate-limited; sysctl MIBs resolved with
 *   sysctlnametomib at open so a read is one sysctl(2) call):
 *     kern.memorystatus_level                -> mem_level_pct
 *     kern.memorystatus_vm_pressure_level    -> mem_pressure_level
 *     vm.page_free_count, vm.page_speculative_count,
 *     vm.page_pageable_internal_count, vm.page_pageable_external_count,
 *     vm.page_purgeable_count                -> the page counts of macos_mem.h
 *     vm.swapusage (struct xsw_usage)        -> swap_used_kb
 *     vm.loadavg (struct loadavg)            -> load1_milli
 *     host_processor_info(PROCESSOR_CPU_LOAD_INFO) -> cpu_user/system/idle,
 *       cpu_busiest_pm (the kernel allocates the array in our address
 *       space: vm_deallocate it every time -- a Mach VM call, not malloc)
 *     notify_check on "com.apple.system.thermalpressurelevel" (shared
 *       memory; notify_get_state only when it changed) -> thermal_level
 *   at most once a second:
 *     host_statistics64(HOST_VM_INFO64): the kernel rate-limits it for
 *     binaries not signed by Apple (only 2-10 calls/s get fresh data, the
 *     rest silently return a cached copy), so pressmon reads it at 1 Hz and
 *     keeps the last copy: wired and compressed pages between reads, and
 *     the fault/pagein/swap counters, reported as a delta on the tick that
 *     read fresh data and absent (NULL) on the ticks in between.
 * Columns this platform has no source for stay absent (NULL), never 0.
 */
#include <mach/mach.h>
#include <mach/processor_info.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysctl.h>
#include <unistd.h>

#include "darwin.h"
#include "sampler/macos_mem.h"
#include "sampler/platform.h"

#if defined(__has_include)
#if __has_include(<notify.h>)
#include <notify.h>
#define PM_HAVE_NOTIFY_H 1
#endif
#endif
#ifndef PM_HAVE_NOTIFY_H
/* libnotify is part of libSystem, but zig's macOS headers lack <notify.h>:
 * the four calls used here, as declared in the SDK. */
uint32_t notify_register_check(const char *name, int *out_token);
uint32_t notify_check(int token, int *check);
uint32_t notify_get_state(int token, uint64_t *state64);
uint32_t notify_cancel(int token);
#define NOTIFY_STATUS_OK 0
#endif

#define VMSTAT_PERIOD_NS 1000000000LL /* host_statistics64 at <= 1 Hz */
#define MAX_CPUS 512

enum {
    S_MEM_LEVEL, S_PRESSURE, S_PAGE_FREE, S_PAGE_SPEC, S_PAGE_INTERNAL, S_PAGE_EXTERNAL,
    S_PAGE_PURGEABLE, S_SWAPUSAGE, S_LOADAVG, S_N
};
static const char *const sysctl_names[S_N] = {
    "kern.memorystatus_level", "kern.memorystatus_vm_pressure_level", "vm.page_free_count",
    "vm.page_speculative_count", "vm.page_pageable_internal_count",
    "vm.page_pageable_external_count", "vm.page_purgeable_count", "vm.swapusage", "vm.loadavg",
};

struct mib {
    int v[CTL_MAXNAME];
    u_int len;
    int ok;
};

struct cpu_ticks {
    uint64_t user, system, idle, nice;
};

struct pm_sys {
    struct mib mib[S_N];
    host_t host;
    uint64_t page_size;
    uint64_t mem_total;
    int64_t us_per_tick;
    int ncpu_prev;
    int have_prev_cpu;
    struct cpu_ticks prev[MAX_CPUS];
    /* host_statistics64 cache */
    int have_vm;                  /* 0 never read, 1 cached copy, 2 fresh this tick */
    int64_t vm_read_at;
    struct pm_mac_vmstat vm;      /* last fresh copy (pages) */
    struct pm_mac_vmstat vm_prev; /* the one before, for counter deltas */
    int have_vm_prev;
    /* thermal */
    int notify_ok;
    int notify_token;
    int64_t thermal;
};

static int read_num(struct pm_sys *s, int which, int64_t *out)
{
    if (!s->mib[which].ok)
        return -1;
    union {
        uint32_t u32;
        uint64_t u64;
    } v = {0};
    size_t len = sizeof(v);
    if (sysctl(s->mib[which].v, s->mib[which].len, &v, &len, NULL, 0) != 0)
        return -1;
    if (len == 4)
        *out = (int64_t)v.u32;
    else if (len == 8)
        *out = (int64_t)v.u64;
    else
        return -1;
    return 0;
}

struct pm_sys *pm_sys_open(const struct pm_sys_opts *o, char *sources, size_t sources_len, char *err,
                           size_t errlen)
{
    (void)o; /* no cgroups on macOS */
    struct pm_sys *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory opening the macOS system sources");
        return NULL;
    }
    s->host = mach_host_self();
    s->page_size = (uint64_t)vm_kernel_page_size;
    size_t len = sizeof(s->mem_total);
    if (sysctlbyname("hw.memsize", &s->mem_total, &len, NULL, 0) != 0)
        s->mem_total = 0;
    long hz = sysconf(_SC_CLK_TCK);
    s->us_per_tick = 1000000 / (hz > 0 ? hz : 100);

    char list[256] = "";
    int n_ok = 0;
    for (int i = 0; i < S_N; i++) {
        size_t l = CTL_MAXNAME;
        if (sysctlnametomib(sysctl_names[i], s->mib[i].v, &l) == 0) {
            s->mib[i].len = (u_int)l;
            s->mib[i].ok = 1;
            n_ok++;
        }
    }
    if (s->mib[S_MEM_LEVEL].ok)
        strncat(list, "memorystatus ", sizeof(list) - strlen(list) - 1);
    if (s->mib[S_PAGE_FREE].ok)
        strncat(list, "vm.page_* ", sizeof(list) - strlen(list) - 1);
    if (s->mib[S_SWAPUSAGE].ok)
        strncat(list, "swapusage ", sizeof(list) - strlen(list) - 1);
    if (s->mib[S_LOADAVG].ok)
        strncat(list, "loadavg ", sizeof(list) - strlen(list) - 1);
    strncat(list, "host_processor_info host_statistics64@1Hz ", sizeof(list) - strlen(list) - 1);
    if (notify_register_check("com.apple.system.thermalpressurelevel", &s->notify_token) ==
        NOTIFY_STATUS_OK) {
        s->notify_ok = 1;
        s->thermal = -1;
        strncat(list, "thermalpressure", sizeof(list) - strlen(list) - 1);
    }
    if (sources && sources_len)
        pm_strlcpy(sources, list, sources_len);
    if (n_ok == 0) {
        snprintf(err, errlen, "no macOS memory sysctl could be resolved (sysctlnametomib failed)");
        pm_sys_close(s);
        return NULL;
    }
    return s;
}

static void put(struct pm_sys_rec *out, int id, int64_t v)
{
    out->v[id] = v;
    out->present |= UINT64_C(1) << id;
}

static int64_t delta(uint64_t cur, uint64_t prev)
{
    return cur >= prev ? (int64_t)(cur - prev) : 0;
}

static void read_vmstat(struct pm_sys *s, int64_t now)
{
    if (s->have_vm && now - s->vm_read_at < VMSTAT_PERIOD_NS)
        return;
    vm_statistics64_data_t vs;
    mach_msg_type_number_t count = HOST_VM_INFO64_COUNT;
    if (host_statistics64(s->host, HOST_VM_INFO64, (host_info64_t)&vs, &count) != KERN_SUCCESS)
        return;
    s->vm_prev = s->vm;
    s->have_vm_prev = s->have_vm;
    struct pm_mac_vmstat *v = &s->vm;
    v->free_count = vs.free_count;
    v->speculative_count = vs.speculative_count;
    v->active_count = vs.active_count;
    v->inactive_count = vs.inactive_count;
    v->wire_count = vs.wire_count;
    v->throttled_count = vs.throttled_count;
    v->purgeable_count = vs.purgeable_count;
    v->external_page_count = vs.external_page_count;
    v->internal_page_count = vs.internal_page_count;
    v->compressor_page_count = vs.compressor_page_count;
    v->total_uncompressed_pages_in_compressor = vs.total_uncompressed_pages_in_compressor;
    v->faults = vs.faults;
    v->pageins = vs.pageins;
    v->pageouts = vs.pageouts;
    v->swapins = vs.swapins;
    v->swapouts = vs.swapouts;
    v->compressions = vs.compressions;
    v->decompressions = vs.decompressions;
    s->vm_read_at = now;
    s->have_vm = 2; /* fresh on this tick: pm_sys_read reports counter deltas */
}

static void read_cpu(struct pm_sys *s, struct pm_sys_rec *out)
{
    natural_t ncpu = 0;
    processor_info_array_t info = NULL;
    mach_msg_type_number_t count = 0;
    if (host_processor_info(s->host, PROCESSOR_CPU_LOAD_INFO, &ncpu, &info, &count) != KERN_SUCCESS)
        return;
    processor_cpu_load_info_t load = (processor_cpu_load_info_t)info;
    int n = ncpu > MAX_CPUS ? MAX_CPUS : (int)ncpu;
    uint64_t du = 0, ds = 0, di = 0;
    int64_t busiest = -1;
    int have = s->have_prev_cpu && s->ncpu_prev == n;
    for (int i = 0; i < n; i++) {
        struct cpu_ticks c = {load[i].cpu_ticks[CPU_STATE_USER], load[i].cpu_ticks[CPU_STATE_SYSTEM],
                              load[i].cpu_ticks[CPU_STATE_IDLE], load[i].cpu_ticks[CPU_STATE_NICE]};
        if (have) {
            /* Tick counters are 32-bit in the kernel: unsigned wrap-around
             * subtraction in 32 bits gives the right delta. */
            uint64_t u = (uint32_t)(c.user - s->prev[i].user) + (uint32_t)(c.nice - s->prev[i].nice);
            uint64_t sy = (uint32_t)(c.system - s->prev[i].system);
            uint64_t id = (uint32_t)(c.idle - s->prev[i].idle);
            du += u;
            ds += sy;
            di += id;
            uint64_t tot = u + sy + id;
            if (tot > 0) {
                int64_t pm = (int64_t)((u + sy) * 1000 / tot);
                if (pm > busiest)
                    busiest = pm;
            }
        }
        s->prev[i] = c;
    }
    vm_deallocate(mach_task_self(), (vm_address_t)info, (vm_size_t)count * sizeof(integer_t));
    if (have) {
        put(out, PM_M_CPU_USER, (int64_t)du * s->us_per_tick);
        put(out, PM_M_CPU_SYSTEM, (int64_t)ds * s->us_per_tick);
        put(out, PM_M_CPU_IDLE, (int64_t)di * s->us_per_tick);
        if (busiest >= 0)
            put(out, PM_M_CPU_BUSIEST, busiest);
    }
    s->ncpu_prev = n;
    s->have_prev_cpu = 1;
}

void pm_sys_read(struct pm_sys *s, int64_t tick_ns, int read_all, struct pm_sys_rec *out)
{
    /* HOST_VM_INFO64 keeps its own 1 Hz clock (the kernel's rate limit is
     * in real time, and a forced read would only return the cached copy). */
    (void)tick_ns;
    (void)read_all;
    int64_t now = pm_mono_ns();
    int64_t v;
    out->present = 0;
    if (read_num(s, S_MEM_LEVEL, &v) == 0)
        put(out, PM_M_MEM_LEVEL, v);
    if (read_num(s, S_PRESSURE, &v) == 0)
        put(out, PM_M_MEM_PRESSURE_LEVEL, v);

    read_vmstat(s, now);
    int fresh = s->have_vm == 2;
    if (fresh)
        s->have_vm = 1;
    /* Fast page counts over the last host_statistics64 copy. */
    int64_t pf = -1, psp = -1, pin = -1, pex = -1, ppu = -1;
    read_num(s, S_PAGE_FREE, &pf);
    read_num(s, S_PAGE_SPEC, &psp);
    read_num(s, S_PAGE_INTERNAL, &pin);
    read_num(s, S_PAGE_EXTERNAL, &pex);
    read_num(s, S_PAGE_PURGEABLE, &ppu);
    if (s->have_vm || pf >= 0) {
        struct pm_mac_vmstat cur = s->vm;
        pm_mac_vmstat_apply_sysctls(&cur, pf, psp, pin, pex, ppu);
        struct pm_mac_mem m;
        if (pm_mac_mem_derive(&cur, s->page_size, s->mem_total, &m) == 0) {
            put(out, PM_M_MEM_AVAILABLE, m.available / 1024);
            put(out, PM_M_MEM_FREE, m.free / 1024);
            put(out, PM_M_MEM_CACHED, m.cached / 1024);
            put(out, PM_M_MEM_ANON, m.app / 1024);
            if (s->have_vm) {
                put(out, PM_M_MEM_WIRED, m.wired / 1024);
                put(out, PM_M_MEM_COMPRESSED, m.compressed / 1024);
            }
        }
    }
    if (fresh && s->have_vm_prev) {
        put(out, PM_M_VM_PGFAULT, delta(s->vm.faults, s->vm_prev.faults));
        put(out, PM_M_VM_PGMAJFAULT, delta(s->vm.pageins, s->vm_prev.pageins));
        put(out, PM_M_VM_SWAPIN, delta(s->vm.swapins, s->vm_prev.swapins));
        put(out, PM_M_VM_SWAPOUT, delta(s->vm.swapouts, s->vm_prev.swapouts));
    }

    if (s->mib[S_SWAPUSAGE].ok) {
        struct xsw_usage sw;
        size_t len = sizeof(sw);
        if (sysctl(s->mib[S_SWAPUSAGE].v, s->mib[S_SWAPUSAGE].len, &sw, &len, NULL, 0) == 0)
            put(out, PM_M_SWAP_USED, (int64_t)(sw.xsu_used / 1024));
    }
    if (s->mib[S_LOADAVG].ok) {
        struct loadavg la;
        size_t len = sizeof(la);
        if (sysctl(s->mib[S_LOADAVG].v, s->mib[S_LOADAVG].len, &la, &len, NULL, 0) == 0 && la.fscale > 0)
            put(out, PM_M_LOAD1, (int64_t)la.ldavg[0] * 1000 / la.fscale);
    }
    read_cpu(s, out);

    if (s->notify_ok) {
        int check = 0;
        if (notify_check(s->notify_token, &check) == NOTIFY_STATUS_OK && (check || s->thermal < 0)) {
            uint64_t st = 0;
            if (notify_get_state(s->notify_token, &st) == NOTIFY_STATUS_OK)
                s->thermal = (int64_t)st;
        }
        if (s->thermal >= 0)
            put(out, PM_M_THERMAL_LEVEL, s->thermal);
    }
}

void pm_sys_close(struct pm_sys *s)
{
    if (!s)
        return;
    if (s->notify_ok)
        notify_cancel(s->notify_token);
    mach_port_deallocate(mach_task_self(), s->host);
    free(s);
}
