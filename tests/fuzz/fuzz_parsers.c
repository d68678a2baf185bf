/*
 * One fuzz target for every parser that reads bytes pressmon did not write:
 * the /proc and /sys files, kernel log records, trace lines, cgroup and
 * mount tables, macOS `log stream` lines, and what a user types (durations,
 * PSI trigger specs) or stored (argv JSON).
 *
 * The first input byte picks the parser, the rest is its input, copied into
 * a buffer of exactly that length: the (buf, len) parsers promise never to
 * read past len and not to need a NUL, and AddressSanitizer holds them to it.
 * Parsers that take a C string get a NUL-terminated copy.  The macOS
 * formulas and exit decoding, which take numbers from the kernel, get the
 * bytes as numbers.  Each result is
 * checked against what the header promises (a NUL-terminated comm, a
 * cmdline copy that fits its cap, ...), so a parser can fail here without
 * crashing.
 *
 *   make fuzz                   libFuzzer (clang), FUZZ_SECONDS per run
 *   build/san/tests/fuzz_replay tests/fuzz/corpus/...   (part of make test)
 *
 * tests/fuzz/corpus/ holds the inputs that once broke a parser or reach a
 * branch the fixtures do not; fuzz_replay.c runs them all on every
 * `make test`, under the sanitizers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/diff.h"
#include "cli/cli.h"
#include "sampler/linux/cgoom.h"
#include "sampler/linux/kmsg.h"
#include "sampler/linux/procfs.h"
#include "sampler/linux/psi_trigger.h"
#include "sampler/linux/tracefs.h"
#include "sampler/exitinfo.h"
#include "sampler/macos_log.h"
#include "sampler/macos_mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern const unsigned pm_fuzz_ntargets;

/* A promise a parser broke: abort, so that libFuzzer keeps the input and
 * fuzz_replay fails. */
#define PROMISE(cond)                                                                       \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "fuzz_parsers: broken promise at %s:%d: %s\n", __FILE__,        \
                    __LINE__, #cond);                                                       \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

static int nul_within(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

static void line_cb(const char *line, size_t len, void *arg)
{
    struct pm_mlog_event ev;
    size_t *lines = arg;
    PROMISE(len < PM_MLOG_LINE_MAX);
    PROMISE(memchr(line, '\n', len) == NULL);
    int r = pm_mlog_parse_line(line, len, &ev);
    PROMISE(r >= -1 && r <= 1);
    (*lines)++;
}

static void fuzz_one(unsigned which, const char *b, size_t n)
{
    switch (which) {
    case 0: {
        struct pm_meminfo m;
        int r = pm_parse_meminfo(b, n, &m);
        PROMISE(r == 0 || r == -1);
        if (r == 0)
            PROMISE(m.present & (1u << PM_MI_TOTAL));
        for (int i = 0; i < PM_MI_N; i++)
            PROMISE(m.kb[i] >= 0);
        break;
    }
    case 1: {
        struct pm_vmstat v;
        int r = pm_parse_vmstat(b, n, &v);
        PROMISE(r == 0 || r == -1);
        for (int i = 0; i < PM_VM_N; i++)
            PROMISE(v.v[i] >= 0);
        break;
    }
    case 2: {
        struct pm_stat st;
        struct pm_cpu_times cpus[4];
        int r = pm_parse_stat(b, n, &st, cpus, 4);
        PROMISE(r == 0 || r == -1);
        PROMISE(st.ncpu >= 0 && st.ncpu <= 4 && st.ncpu <= st.ncpu_seen);
        break;
    }
    case 3: {
        struct pm_loadavg l;
        int r = pm_parse_loadavg(b, n, &l);
        PROMISE(r == 0 || r == -1);
        break;
    }
    case 4: {
        struct pm_psi p;
        int r = pm_parse_psi(b, n, &p);
        PROMISE(r == 0 || r == -1);
        if (r == 0)
            PROMISE(p.some.present);
        break;
    }
    case 5: {
        struct pm_pid_stat s;
        if (pm_parse_pid_stat(b, n, &s) == 0)
            PROMISE(nul_within(s.comm, sizeof(s.comm)));
        break;
    }
    case 6: {
        struct pm_pid_statm s;
        int64_t run;
        struct pm_pid_io io;
        (void)pm_parse_pid_statm(b, n, &s);
        (void)pm_parse_pid_schedstat(b, n, &run);
        (void)pm_parse_pid_io(b, n, &io);
        break;
    }
    case 7: {
        char out[64];
        size_t w = pm_parse_cmdline(b, n, out, sizeof(out));
        PROMISE(w <= sizeof(out));
        if (w > 0)
            PROMISE(out[w - 1] == '\0');
        break;
    }
    case 8: {
        char out[48];
        if (pm_parse_cgroup_v2(b, n, out, sizeof(out)) == 0)
            PROMISE(nul_within(out, sizeof(out)));
        break;
    }
    case 9: {
        int64_t v, pct;
        (void)pm_parse_int(b, n, &v);
        (void)pm_cooling_type_is_cpu(b, n);
        if (pm_parse_cooling_pct(b, n, 7, &pct) == 0)
            PROMISE(pct >= 0 && pct <= 100);
        (void)pm_parse_keyed(b, n, "oom_kill", &v);
        break;
    }
    case 10: {
        struct pm_kmsg_rec k;
        int r = pm_kmsg_parse(b, n, &k);
        PROMISE(r >= -1 && r <= 1);
        if (r == 1) {
            PROMISE(nul_within(k.comm, sizeof(k.comm)));
            PROMISE(nul_within(k.memcg, sizeof(k.memcg)));
            PROMISE(nul_within(k.constraint, sizeof(k.constraint)));
        }
        break;
    }
    case 11: {
        struct pm_ksig_event ev;
        int r = pm_ksig_parse_line(b, n, &ev);
        PROMISE(r >= -1 && r <= 1);
        if (r == 1) {
            PROMISE(nul_within(ev.sender_comm, sizeof(ev.sender_comm)));
            PROMISE(nul_within(ev.comm, sizeof(ev.comm)));
            (void)pm_ksig_code_name(ev.code);
        }
        break;
    }
    case 12: {
        /* /proc/PID/cgroup and mountinfo, split at the first NUL byte. */
        const char *z = memchr(b, '\0', n);
        size_t clen = z ? (size_t)(z - b) : n / 2;
        const char *mi = z ? z + 1 : b + clen;
        char out[128];
        if (pm_cgoom_path(b, clen, mi, n - (size_t)(mi - b), out, sizeof(out)) == 0)
            PROMISE(nul_within(out, sizeof(out)));
        break;
    }
    case 13: {
        struct pm_mlog_event ev;
        int r = pm_mlog_parse_line(b, n, &ev);
        PROMISE(r >= -1 && r <= 1);
        break;
    }
    case 14: {
        /* A stream cut into chunks at the bytes' own values. */
        static struct pm_mlog_splitter s;
        size_t lines = 0;
        memset(&s, 0, sizeof(s));
        for (size_t i = 0; i < n;) {
            size_t chunk = 1 + (unsigned char)b[i] % 97;
            if (chunk > n - i)
                chunk = n - i;
            pm_mlog_feed(&s, b + i, chunk, line_cb, &lines);
            i += chunk;
        }
        pm_mlog_finish(&s, line_cb, &lines);
        break;
    }
    case 19: {
        /* Numbers as macOS hands them over: vm_statistics64 counts, the
         * vm.page_* sysctls, a NOTE_EXIT kevent's data, an exit reason. */
        struct {
            struct pm_mac_vmstat v;
            uint64_t page_size, mem_total;
            int64_t sysctl[5];
            uint32_t kdata, ns, flags;
            uint64_t code;
        } in;
        memset(&in, 0, sizeof(in));
        memcpy(&in, b, n < sizeof(in) ? n : sizeof(in));
        /* Real machines: pages of 4 or 16 KiB, at most 2^40 of them. */
        in.page_size = in.page_size & 1 ? 16384 : 4096;
        uint64_t *pages = (uint64_t *)&in.v;
        for (size_t i = 0; i < sizeof(in.v) / sizeof(uint64_t); i++)
            pages[i] &= (1ull << 40) - 1;
        in.mem_total &= (1ull << 52) - 1;
        for (int i = 0; i < 5; i++)
            if (in.sysctl[i] > 0)
                in.sysctl[i] &= (1ll << 40) - 1;
        pm_mac_vmstat_apply_sysctls(&in.v, in.sysctl[0], in.sysctl[1], in.sysctl[2], in.sysctl[3],
                                    in.sysctl[4]);
        struct pm_mac_mem m;
        PROMISE(pm_mac_mem_derive(&in.v, in.page_size, in.mem_total, &m) == 0);
        PROMISE(m.free >= 0 && m.speculative >= 0 && m.app >= 0 && m.wired >= 0 &&
                m.compressed >= 0 && m.cached >= 0 && m.used >= 0 && m.available >= 0);
        PROMISE(pm_mac_mem_derive(&in.v, 0, in.mem_total, &m) == -1);
        PROMISE(pm_mac_pressure_name((int64_t)in.code) && pm_mac_thermal_name((int64_t)in.code));
        struct pm_exit_info e;
        pm_exit_from_kevent(in.kdata, in.flags & 1, in.flags & 2, &e);
        pm_exit_apply_reason(&e, in.ns, in.code);
        PROMISE(nul_within(e.cause, sizeof(e.cause)) && nul_within(e.detail, sizeof(e.detail)));
        pm_exit_from_status((int)in.kdata, &e);
        PROMISE(e.signal >= 0 && e.signal < 128);
        (void)pm_exit_reason_ns_name(in.ns);
        (void)pm_jetsam_cause_name(in.code);
        break;
    }
    default: {
        /* C-string parsers: what a user types, what a run stored. */
        char *s = malloc(n + 1);
        if (!s)
            return;
        memcpy(s, b, n);
        s[n] = '\0';
        if (which == 15) {
            int64_t ns;
            if (pm_parse_duration(s, &ns) == 0)
                PROMISE(ns >= 0);
        } else if (which == 16) {
            struct pm_psi_spec sp;
            char why[128];
            if (pm_psi_spec_parse(s, &sp, why, sizeof(why)) == 0)
                PROMISE(sp.stall_us > 0 && sp.window_us >= sp.stall_us);
            else
                PROMISE(nul_within(why, sizeof(why)) && why[0] != '\0');
        } else if (which == 17) {
            struct pm_mlog_event ev;
            int r = pm_mlog_classify(s, &ev);
            PROMISE(r == 0 || r == 1);
        } else {
            /* comm, NUL, argv JSON */
            char key[96];
            size_t cl = strlen(s);
            pm_diff_proc_key(s, cl < n ? s + cl + 1 : "", key, sizeof(key));
            PROMISE(nul_within(key, sizeof(key)));
        }
        free(s);
        break;
    }
    }
}

/* tools/fuzz.sh reads this line to seed every target. */
#define NTARGETS 20
const unsigned pm_fuzz_ntargets = NTARGETS;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n = size - 1;
    /* Exactly n bytes on the heap: one byte too far is an ASan report. */
    char *b = malloc(n ? n : 1);
    if (!b)
        return 0;
    memcpy(b, data + 1, n);
    fuzz_one(data[0] % NTARGETS, b, n);
    free(b);
    return 0;
}
