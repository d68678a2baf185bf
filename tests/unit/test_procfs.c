/*
 * Unit tests for the Linux /proc and /sys parsers (sampler/linux/procfs.c)
 * against the captured and hand-written files in tests/fixtures/proc/ (see
 * the README there).  Run from the repository root.
 *
 * Every parser sees its input in a malloc'd block of exactly `len` bytes, so
 * AddressSanitizer (make test-san) flags any read past the end.  Expected
 * values for the live captures are recomputed here with sscanf over the
 * fixture text (an independent reading), so a re-capture keeps the tests
 * meaningful; hand-written fixtures are checked against the numbers that
 * are literally in them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sampler/linux/procfs.h"

#define FX "tests/fixtures/proc/"
#define LIVE FX "linux-6.18/"
#define VAR FX "variants/"

struct fx {
    char *buf;  /* exactly len bytes, no terminator */
    size_t len;
    char *text; /* NUL-terminated copy for the sscanf reference */
};

static struct fx load(const char *path)
{
    struct fx f = {0};
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("cannot open fixture %s (run the tests from the repository root)", path);
    char tmp[1 << 16];
    f.len = fread(tmp, 1, sizeof tmp, fp);
    assert_true(feof(fp)); /* fixtures are small; a bigger one needs a bigger tmp */
    fclose(fp);
    f.buf = malloc(f.len ? f.len : 1);
    f.text = malloc(f.len + 1);
    assert_non_null(f.buf);
    assert_non_null(f.text);
    memcpy(f.buf, tmp, f.len);
    memcpy(f.text, tmp, f.len);
    f.text[f.len] = '\0';
    if (f.len == 0) { /* a zero-length block: nothing at all may be read */
        free(f.buf);
        f.buf = malloc(0);
    }
    return f;
}

/* The same bytes as a fresh exact-size block of `n` bytes (a prefix). */
static char *exact(const char *src, size_t n)
{
    char *b = malloc(n ? n : 1);
    assert_non_null(b);
    memcpy(b, src, n);
    return b;
}

static void unload(struct fx *f)
{
    free(f->buf);
    free(f->text);
}

/* Reference reader: the integer after `key` at the start of a line, or -1. */
static long long ref(const char *text, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        long long v;
        if (strncmp(p, key, kl) == 0 && sscanf(p + kl, " %lld", &v) == 1)
            return v;
    }
    return -1;
}

/* ------------------------------------------------------------------ meminfo */

static const char *const mi_names[PM_MI_N] = {
    [PM_MI_TOTAL] = "MemTotal:",       [PM_MI_FREE] = "MemFree:",
    [PM_MI_AVAILABLE] = "MemAvailable:", [PM_MI_BUFFERS] = "Buffers:",
    [PM_MI_CACHED] = "Cached:",        [PM_MI_ANON] = "AnonPages:",
    [PM_MI_DIRTY] = "Dirty:",          [PM_MI_UNEVICTABLE] = "Unevictable:",
    [PM_MI_MLOCKED] = "Mlocked:",      [PM_MI_SWAP_TOTAL] = "SwapTotal:",
    [PM_MI_SWAP_FREE] = "SwapFree:",   [PM_MI_ZSWAP] = "Zswap:",
    [PM_MI_SHMEM] = "Shmem:",
};

static void check_meminfo_against_ref(const struct pm_meminfo *m, const char *text)
{
    for (int i = 0; i < PM_MI_N; i++) {
        long long want = ref(text, mi_names[i]);
        if (want < 0) {
            assert_false(m->present & (1u << i));
            assert_int_equal(m->kb[i], 0);
        } else {
            assert_true(m->present & (1u << i));
            assert_int_equal(m->kb[i], want);
        }
    }
}

static void test_meminfo_live(void **state)
{
    (void)state;
    struct fx f = load(LIVE "meminfo");
    struct pm_meminfo m;
    assert_int_equal(pm_parse_meminfo(f.buf, f.len, &m), 0);
    check_meminfo_against_ref(&m, f.text);
    /* 6.18 prints every key pressmon reads, Zswap included. */
    assert_int_equal(m.present, (1u << PM_MI_N) - 1);
    assert_true(m.kb[PM_MI_TOTAL] > 0);
    unload(&f);
}

static void test_meminfo_crlf(void **state)
{
    (void)state;
    struct fx live = load(LIVE "meminfo"), f = load(VAR "meminfo-crlf");
    struct pm_meminfo a, b;
    assert_int_equal(pm_parse_meminfo(live.buf, live.len, &a), 0);
    assert_int_equal(pm_parse_meminfo(f.buf, f.len, &b), 0);
    assert_memory_equal(&a, &b, sizeof a);
    unload(&live);
    unload(&f);
}

static void test_meminfo_3_10(void **state)
{
    (void)state;
    struct fx f = load(FX "linux-3.10-style/meminfo");
    struct pm_meminfo m;
    assert_int_equal(pm_parse_meminfo(f.buf, f.len, &m), 0);
    check_meminfo_against_ref(&m, f.text);
    assert_int_equal(m.kb[PM_MI_TOTAL], 8052372);
    assert_int_equal(m.kb[PM_MI_ANON], 146508);
    assert_int_equal(m.kb[PM_MI_SWAP_TOTAL], 2097148);
    assert_false(m.present & (1u << PM_MI_AVAILABLE)); /* before 3.14 */
    assert_false(m.present & (1u << PM_MI_ZSWAP));
    unload(&f);
}

static void test_meminfo_truncated(void **state)
{
    (void)state;
    struct fx f = load(VAR "meminfo-truncated");
    struct pm_meminfo m;
    assert_int_equal(pm_parse_meminfo(f.buf, f.len, &m), 0);
    assert_int_equal(m.kb[PM_MI_TOTAL], ref(f.text, "MemTotal:"));
    assert_int_equal(m.kb[PM_MI_FREE], ref(f.text, "MemFree:"));
    /* MemAvailable is cut after two digits: not trusted, not guessed. */
    assert_int_equal(m.present, (1u << PM_MI_TOTAL) | (1u << PM_MI_FREE));
    assert_int_equal(m.kb[PM_MI_AVAILABLE], 0);
    unload(&f);
}

static void test_meminfo_noeol(void **state)
{
    (void)state;
    struct fx f = load(VAR "meminfo-noeol"), g = load(VAR "meminfo-unit-noeol");
    struct pm_meminfo m;
    assert_int_equal(pm_parse_meminfo(f.buf, f.len, &m), 0);
    assert_int_equal(m.kb[PM_MI_TOTAL], 16384);
    assert_int_equal(m.present, 1u << PM_MI_TOTAL); /* "MemFree: 8192" may be cut */
    /* Followed by its unit, the last value is complete even without '\n'. */
    assert_int_equal(pm_parse_meminfo(g.buf, g.len, &m), 0);
    assert_int_equal(m.kb[PM_MI_TOTAL], 16384);
    unload(&f);
    unload(&g);
}

static void test_meminfo_huge_and_bad_numbers(void **state)
{
    (void)state;
    struct fx f = load(VAR "meminfo-huge");
    struct pm_meminfo m;
    assert_int_equal(pm_parse_meminfo(f.buf, f.len, &m), 0);
    assert_int_equal(m.kb[PM_MI_TOTAL], INT64_MAX);
    assert_int_equal(m.kb[PM_MI_FREE], INT64_MAX); /* exactly INT64_MAX */
    assert_int_equal(m.kb[PM_MI_AVAILABLE], INT64_MAX); /* INT64_MAX + 1 */
    assert_int_equal(m.kb[PM_MI_DIRTY], INT64_MAX);
    assert_false(m.present & (1u << PM_MI_BUFFERS)); /* -5 */
    assert_false(m.present & (1u << PM_MI_CACHED));  /* 12x */
    unload(&f);
}

static void test_meminfo_missing_total(void **state)
{
    (void)state;
    struct fx f = load(VAR "meminfo-missing-total");
    struct pm_meminfo m;
    assert_int_equal(pm_parse_meminfo(f.buf, f.len, &m), -1);
    assert_true(m.present & (1u << PM_MI_FREE));
    assert_int_equal(m.kb[PM_MI_FREE], ref(f.text, "MemFree:"));
    unload(&f);
}

/* ------------------------------------------------------------------- vmstat */

static long long ref_sum(const char *text, const char *const *keys, int *found)
{
    long long s = 0;
    *found = 0;
    for (; *keys; keys++) {
        char k[64];
        snprintf(k, sizeof k, "%s ", *keys);
        long long v = ref(text, k);
        if (v >= 0) {
            s += v;
            *found = 1;
        }
    }
    return s;
}

static void expect_vm(const struct pm_vmstat *v, int idx, int present, long long want)
{
    if (!present) {
        assert_false(v->present & (1u << idx));
        assert_int_equal(v->v[idx], 0);
    } else {
        assert_true(v->present & (1u << idx));
        assert_int_equal(v->v[idx], want);
    }
}

static void test_vmstat_live(void **state)
{
    (void)state;
    struct fx f = load(LIVE "vmstat");
    struct pm_vmstat v;
    static const char *const scan[] = {"pgscan_kswapd", "pgscan_direct", "pgscan_khugepaged", NULL};
    static const char *const steal[] = {"pgsteal_kswapd", "pgsteal_direct", "pgsteal_khugepaged",
                                        NULL};
    static const char *const refault[] = {"workingset_refault_anon", "workingset_refault_file",
                                          NULL};
    static const char *const stall[] = {"allocstall_dma", "allocstall_dma32", "allocstall_normal",
                                        "allocstall_movable", "allocstall_device", NULL};
    static const struct { int idx; const char *key; } single[] = {
        {PM_VM_PGFAULT, "pgfault "}, {PM_VM_PGMAJFAULT, "pgmajfault "}, {PM_VM_PSWPIN, "pswpin "},
        {PM_VM_PSWPOUT, "pswpout "}, {PM_VM_OOM_KILL, "oom_kill "},    {PM_VM_PGPGIN, "pgpgin "},
        {PM_VM_PGPGOUT, "pgpgout "},
    };
    int found;
    assert_int_equal(pm_parse_vmstat(f.buf, f.len, &v), 0);
    for (size_t i = 0; i < sizeof single / sizeof single[0]; i++)
        expect_vm(&v, single[i].idx, 1, ref(f.text, single[i].key));
    long long s = ref_sum(f.text, scan, &found);
    expect_vm(&v, PM_VM_PGSCAN, found, s);
    s = ref_sum(f.text, steal, &found);
    expect_vm(&v, PM_VM_PGSTEAL, found, s);
    s = ref_sum(f.text, refault, &found);
    expect_vm(&v, PM_VM_REFAULT, found, s);
    s = ref_sum(f.text, stall, &found);
    expect_vm(&v, PM_VM_ALLOCSTALL, found, s);
    assert_int_equal(v.present, (1u << PM_VM_N) - 1);
    assert_true(v.v[PM_VM_PGFAULT] > 0);
    unload(&f);
}

static void test_vmstat_4_19(void **state)
{
    (void)state;
    struct fx f = load(FX "linux-4.19-style/vmstat");
    struct pm_vmstat v;
    assert_int_equal(pm_parse_vmstat(f.buf, f.len, &v), 0);
    assert_int_equal(v.present, (1u << PM_VM_N) - 1);
    assert_int_equal(v.v[PM_VM_ALLOCSTALL], 0 + 3 + 40 + 500);
    assert_int_equal(v.v[PM_VM_REFAULT], 48213);
    assert_int_equal(v.v[PM_VM_PGSCAN], 900000 + 8000); /* not pgscan_direct_throttle */
    assert_int_equal(v.v[PM_VM_PGSTEAL], 700000 + 6000);
    assert_int_equal(v.v[PM_VM_PGFAULT], 87654321);
    assert_int_equal(v.v[PM_VM_PGMAJFAULT], 43210);
    assert_int_equal(v.v[PM_VM_PSWPIN], 1201);
    assert_int_equal(v.v[PM_VM_PSWPOUT], 4502);
    assert_int_equal(v.v[PM_VM_OOM_KILL], 2);
    assert_int_equal(v.v[PM_VM_PGPGIN], 8123456);
    assert_int_equal(v.v[PM_VM_PGPGOUT], 23456789);
    unload(&f);
}

static void test_vmstat_3_10(void **state)
{
    (void)state;
    struct fx f = load(FX "linux-3.10-style/vmstat");
    struct pm_vmstat v;
    assert_int_equal(pm_parse_vmstat(f.buf, f.len, &v), 0);
    assert_int_equal(v.v[PM_VM_ALLOCSTALL], 123);
    assert_int_equal(v.v[PM_VM_PGSCAN], 0 + 15000 + 300000 + 0 + 0 + 500 + 6000 + 0);
    assert_int_equal(v.v[PM_VM_PGSTEAL], 0 + 11000 + 220000 + 0 + 0 + 300 + 4000 + 0);
    assert_int_equal(v.v[PM_VM_PGFAULT], 212345678);
    expect_vm(&v, PM_VM_REFAULT, 0, 0);  /* no workingset_* before 3.15 */
    expect_vm(&v, PM_VM_OOM_KILL, 0, 0); /* oom_kill appeared in 4.13 */
    unload(&f);
}

static void test_vmstat_truncated(void **state)
{
    (void)state;
    struct fx f = load(VAR "vmstat-truncated");
    struct pm_vmstat v;
    assert_int_equal(pm_parse_vmstat(f.buf, f.len, &v), 0);
    assert_int_equal(v.v[PM_VM_PGPGIN], ref(f.text, "pgpgin "));
    assert_int_equal(v.v[PM_VM_PSWPOUT], ref(f.text, "pswpout "));
    /* Cut inside the pgfault value; everything after it is gone. */
    expect_vm(&v, PM_VM_PGFAULT, 0, 0);
    expect_vm(&v, PM_VM_PGMAJFAULT, 0, 0);
    expect_vm(&v, PM_VM_OOM_KILL, 0, 0);
    unload(&f);
}

static void test_vmstat_huge(void **state)
{
    (void)state;
    struct fx f = load(VAR "vmstat-huge");
    struct pm_vmstat v;
    assert_int_equal(pm_parse_vmstat(f.buf, f.len, &v), 0);
    assert_int_equal(v.v[PM_VM_PGSCAN], INT64_MAX); /* the sum saturates */
    assert_int_equal(v.v[PM_VM_ALLOCSTALL], INT64_MAX);
    assert_int_equal(v.v[PM_VM_PGFAULT], INT64_MAX);
    expect_vm(&v, PM_VM_PGMAJFAULT, 0, 0); /* -3 */
    assert_int_equal(v.v[PM_VM_OOM_KILL], 7);
    unload(&f);
}

static void test_vmstat_wrong_file(void **state)
{
    (void)state;
    struct fx f = load(LIVE "meminfo");
    struct pm_vmstat v;
    assert_int_equal(pm_parse_vmstat(f.buf, f.len, &v), -1);
    assert_int_equal(v.present, 0);
    unload(&f);
}

/* --------------------------------------------------------------------- stat */

static int ref_cpu(const char *line, struct pm_cpu_times *t)
{
    long long c[10] = {0};
    int n = sscanf(line, "%*s %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld", &c[0], &c[1],
                   &c[2], &c[3], &c[4], &c[5], &c[6], &c[7], &c[8], &c[9]);
    *t = (struct pm_cpu_times){c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9]};
    return n;
}

static void assert_cpu_equal(const struct pm_cpu_times *a, const struct pm_cpu_times *b)
{
    assert_memory_equal(a, b, sizeof *a);
}

static void test_stat_live(void **state)
{
    (void)state;
    struct fx f = load(LIVE "stat");
    struct pm_stat s;
    struct pm_cpu_times cpus[64], want;
    int nref = 0;
    assert_int_equal(pm_parse_stat(f.buf, f.len, &s, cpus, 64), 0);
    assert_int_equal(ref_cpu(f.text, &want), 10);
    assert_cpu_equal(&s.total, &want);
    for (const char *p = f.text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        int id;
        if (strncmp(p, "cpu", 3) == 0 && p[3] >= '0' && p[3] <= '9' &&
            sscanf(p, "cpu%d ", &id) == 1) {
            assert_true(nref < 64);
            ref_cpu(p, &want);
            assert_cpu_equal(&cpus[nref], &want);
            nref++;
        }
    }
    assert_true(nref >= 1);
    assert_int_equal(s.ncpu, nref);
    assert_int_equal(s.ncpu_seen, nref);
    assert_int_equal(s.ctxt, ref(f.text, "ctxt "));
    assert_int_equal(s.processes, ref(f.text, "processes "));
    assert_int_equal(s.procs_running, ref(f.text, "procs_running "));
    assert_int_equal(s.procs_blocked, ref(f.text, "procs_blocked "));
    assert_int_equal(s.present, PM_ST_CTXT | PM_ST_PROCESSES | PM_ST_RUNNING | PM_ST_BLOCKED);

    /* Room for one CPU: the rest are counted, not stored. */
    struct pm_cpu_times one[2];
    memset(one, 0x5a, sizeof one);
    assert_int_equal(pm_parse_stat(f.buf, f.len, &s, one, 1), 0);
    assert_int_equal(s.ncpu, 1);
    assert_int_equal(s.ncpu_seen, nref);
    assert_cpu_equal(&one[0], &cpus[0]);
    assert_int_equal(one[1].user, 0x5a5a5a5a5a5a5a5a); /* untouched */
    /* No per-CPU array at all. */
    assert_int_equal(pm_parse_stat(f.buf, f.len, &s, NULL, 0), 0);
    assert_int_equal(s.ncpu, 0);
    assert_int_equal(s.ncpu_seen, nref);
    unload(&f);
}

static void test_stat_2_4(void **state)
{
    (void)state;
    struct fx f = load(FX "linux-2.4-style/stat");
    struct pm_stat s;
    struct pm_cpu_times c[4];
    assert_int_equal(pm_parse_stat(f.buf, f.len, &s, c, 4), 0);
    assert_int_equal(s.total.user, 1234);
    assert_int_equal(s.total.nice, 56);
    assert_int_equal(s.total.system, 789);
    assert_int_equal(s.total.idle, 100000);
    assert_int_equal(s.total.iowait, 0);
    assert_int_equal(s.total.steal, 0);
    assert_int_equal(s.ncpu, 2);
    assert_int_equal(c[1].user, 634);
    assert_int_equal(c[1].idle, 50000);
    assert_int_equal(s.ctxt, 115315);
    assert_int_equal(s.processes, 86031);
    assert_int_equal(s.present, PM_ST_CTXT | PM_ST_PROCESSES); /* no procs_* in 2.4 */
    unload(&f);
}

static void test_stat_2_6_9(void **state)
{
    (void)state;
    struct fx f = load(FX "linux-2.6.9-style/stat");
    struct pm_stat s;
    struct pm_cpu_times c[4];
    assert_int_equal(pm_parse_stat(f.buf, f.len, &s, c, 4), 0);
    struct pm_cpu_times want = {2255, 34, 2290, 22625563, 6290, 127, 456, 0, 0, 0};
    assert_cpu_equal(&s.total, &want);
    assert_int_equal(s.ncpu, 2);
    assert_int_equal(c[0].softirq, 438);
    assert_int_equal(c[1].iowait, 2614);
    assert_int_equal(s.procs_running, 1);
    assert_int_equal(s.procs_blocked, 0);
    assert_int_equal(s.present, PM_ST_CTXT | PM_ST_PROCESSES | PM_ST_RUNNING | PM_ST_BLOCKED);
    unload(&f);
}

static void test_stat_2_6_11(void **state)
{
    (void)state;
    struct fx f = load(FX "linux-2.6.11-style/stat");
    struct pm_stat s;
    struct pm_cpu_times c[1];
    assert_int_equal(pm_parse_stat(f.buf, f.len, &s, c, 1), 0);
    struct pm_cpu_times want = {4705, 356, 584, 3699, 23, 23, 0, 71, 0, 0};
    assert_cpu_equal(&s.total, &want);
    assert_cpu_equal(&c[0], &want);
    assert_int_equal(s.procs_running, 2);
    assert_int_equal(s.procs_blocked, 1);
    unload(&f);
}

static void test_stat_many_cpus(void **state)
{
    (void)state;
    struct fx f = load(VAR "stat-64cpu");
    struct pm_stat s;
    struct pm_cpu_times c[8];
    assert_int_equal(pm_parse_stat(f.buf, f.len, &s, c, 8), 0);
    assert_int_equal(s.ncpu, 8);
    assert_int_equal(s.ncpu_seen, 64);
    for (int i = 0; i < 8; i++) { /* cpuN columns are (N+1)*10 + k */
        assert_int_equal(c[i].user, (i + 1) * 10);
        assert_int_equal(c[i].guest_nice, (i + 1) * 10 + 9);
    }
    assert_int_equal(s.total.guest_nice, 64 * 10 * 10);
    assert_int_equal(s.procs_running, 64);
    unload(&f);
}

static void test_stat_truncated(void **state)
{
    (void)state;
    struct fx f = load(VAR "stat-truncated"), g = load(VAR "stat-truncated-total");
    struct pm_stat s;
    struct pm_cpu_times c[4], want;
    assert_int_equal(pm_parse_stat(f.buf, f.len, &s, c, 4), 0);
    ref_cpu(f.text, &want);
    assert_cpu_equal(&s.total, &want);
    assert_int_equal(s.ncpu, 1); /* cpu1 was cut inside its first column */
    assert_int_equal(s.ncpu_seen, 1);
    assert_int_equal(s.present, 0);
    /* Cut inside the aggregate line: no usable sample. */
    assert_int_equal(pm_parse_stat(g.buf, g.len, &s, c, 4), -1);
    unload(&f);
    unload(&g);
}

static void test_stat_odd_columns(void **state)
{
    (void)state;
    struct fx h = load(VAR "stat-huge"), e = load(VAR "stat-11cols"), t = load(VAR "stat-3cols");
    struct pm_stat s;
    struct pm_cpu_times c[2];
    assert_int_equal(pm_parse_stat(h.buf, h.len, &s, c, 2), 0);
    assert_int_equal(s.total.user, INT64_MAX);
    assert_int_equal(s.total.guest_nice, 9);
    assert_int_equal(s.ctxt, INT64_MAX);
    assert_int_equal(s.ncpu, 1);
    /* A future 11th column is ignored, the known ten kept. */
    assert_int_equal(pm_parse_stat(e.buf, e.len, &s, c, 2), 0);
    assert_int_equal(s.total.guest_nice, 10);
    assert_int_equal(c[0].guest_nice, 10);
    /* Three columns is not a cpu line any kernel printed. */
    assert_int_equal(pm_parse_stat(t.buf, t.len, &s, c, 2), -1);
    unload(&h);
    unload(&e);
    unload(&t);
}

/* ------------------------------------------------------------------ loadavg */

static void test_loadavg(void **state)
{
    (void)state;
    struct fx f = load(LIVE "loadavg");
    struct pm_loadavg l;
    int a, b, c, d, e, g, r, t, pid;
    assert_int_equal(sscanf(f.text, "%d.%d %d.%d %d.%d %d/%d %d", &a, &b, &c, &d, &e, &g, &r, &t,
                            &pid), 9);
    assert_int_equal(pm_parse_loadavg(f.buf, f.len, &l), 0);
    assert_int_equal(l.load1_milli, a * 1000 + b * 10);
    assert_int_equal(l.load5_milli, c * 1000 + d * 10);
    assert_int_equal(l.load15_milli, e * 1000 + g * 10);
    assert_int_equal(l.runnable, r);
    assert_int_equal(l.threads, t);
    assert_int_equal(l.last_pid, pid);
    unload(&f);

    f = load(VAR "loadavg-noeol");
    assert_int_equal(pm_parse_loadavg(f.buf, f.len, &l), 0);
    assert_int_equal(l.load1_milli, 520);
    assert_int_equal(l.load5_milli, 580);
    assert_int_equal(l.load15_milli, 590);
    assert_int_equal(l.runnable, 2);
    assert_int_equal(l.threads, 301);
    assert_int_equal(l.last_pid, 0); /* "12345" at the end may be cut */
    unload(&f);

    f = load(VAR "loadavg-huge");
    assert_int_equal(pm_parse_loadavg(f.buf, f.len, &l), 0);
    assert_int_equal(l.load1_milli, INT64_MAX);
    assert_int_equal(l.load5_milli, 1500);
    assert_int_equal(l.load15_milli, 125);
    assert_int_equal(l.last_pid, 6);
    unload(&f);

    f = load(VAR "loadavg-garbage");
    assert_int_equal(pm_parse_loadavg(f.buf, f.len, &l), -1);
    unload(&f);
}

/* --------------------------------------------------------------------- PSI */

static void ref_psi_line(const char *text, const char *kind, struct pm_psi_line *l)
{
    const char *p = strstr(text, kind);
    int a, b, c, d, e, g;
    long long total;
    memset(l, 0, sizeof *l);
    if (!p)
        return;
    assert_int_equal(sscanf(p + strlen(kind), " avg10=%d.%d avg60=%d.%d avg300=%d.%d total=%lld",
                            &a, &b, &c, &d, &e, &g, &total), 7);
    *l = (struct pm_psi_line){1, a * 100 + b, c * 100 + d, e * 100 + g, total};
}

static void check_psi_file(const char *path, int want_full)
{
    struct fx f = load(path);
    struct pm_psi psi, want;
    assert_int_equal(pm_parse_psi(f.buf, f.len, &psi), 0);
    ref_psi_line(f.text, "some", &want.some);
    ref_psi_line(f.text, "full", &want.full);
    assert_memory_equal(&psi.some, &want.some, sizeof want.some);
    assert_memory_equal(&psi.full, &want.full, sizeof want.full);
    assert_int_equal(psi.some.present, 1);
    assert_int_equal(psi.full.present, want_full);
    unload(&f);
}

static void test_psi_live(void **state)
{
    (void)state;
    check_psi_file(LIVE "pressure/cpu", 1); /* 6.18: cpu has a full line */
    check_psi_file(LIVE "pressure/memory", 1);
    check_psi_file(LIVE "pressure/io", 1);
    check_psi_file(LIVE "cgroup2/memory.pressure", 1);
    check_psi_file(LIVE "cgroup2/cpu.pressure", 1);
    check_psi_file(LIVE "cgroup2/io.pressure", 1);
    check_psi_file(FX "linux-5.4-style/pressure/cpu", 0);
}

static void test_psi_5_4_values(void **state)
{
    (void)state;
    struct fx f = load(FX "linux-5.4-style/pressure/cpu");
    struct pm_psi p;
    assert_int_equal(pm_parse_psi(f.buf, f.len, &p), 0);
    assert_int_equal(p.some.avg10_c, 123);
    assert_int_equal(p.some.avg60_c, 45);
    assert_int_equal(p.some.avg300_c, 6);
    assert_int_equal(p.some.total_us, 123456789);
    assert_int_equal(p.full.present, 0);
    assert_int_equal(p.full.total_us, 0);
    unload(&f);
}

static void test_psi_damaged(void **state)
{
    (void)state;
    struct pm_psi p;
    struct fx f = load(VAR "psi-noeol");
    assert_int_equal(pm_parse_psi(f.buf, f.len, &p), -1); /* total=12 may be cut */
    assert_int_equal(p.some.present, 0);
    unload(&f);

    f = load(VAR "psi-full-noeol");
    assert_int_equal(pm_parse_psi(f.buf, f.len, &p), 0);
    assert_int_equal(p.some.present, 1);
    assert_int_equal(p.some.avg10_c, 10);
    assert_int_equal(p.some.avg300_c, 30);
    assert_int_equal(p.some.total_us, 400);
    assert_int_equal(p.full.present, 0);
    unload(&f);

    f = load(VAR "psi-huge");
    assert_int_equal(pm_parse_psi(f.buf, f.len, &p), 0);
    assert_int_equal(p.some.avg10_c, 10000);
    assert_int_equal(p.some.avg60_c, INT64_MAX);
    assert_int_equal(p.some.avg300_c, 0); /* 0.004: third decimal dropped */
    assert_int_equal(p.some.total_us, INT64_MAX);
    assert_int_equal(p.full.avg10_c, 500);
    assert_int_equal(p.full.avg60_c, 50);
    assert_int_equal(p.full.avg300_c, 5);
    assert_int_equal(p.full.total_us, INT64_MAX);
    unload(&f);

    f = load(VAR "psi-missing-total");
    assert_int_equal(pm_parse_psi(f.buf, f.len, &p), -1);
    assert_int_equal(p.some.present, 0);
    assert_int_equal(p.full.present, 1);
    assert_int_equal(p.full.total_us, 3);
    unload(&f);
}

/* ------------------------------------------------------------ /proc/PID/... */

static void test_pid_stat_live(void **state)
{
    (void)state;
    struct fx f = load(LIVE "pid/stat");
    struct pm_pid_stat s;
    long long pid, ppid, pgrp, sess, minflt, majflt, ut, st, nth, start, vsz, rss;
    char st_c;
    const char *rp = strrchr(f.text, ')');
    assert_non_null(rp);
    assert_int_equal(sscanf(f.text, "%lld", &pid), 1);
    assert_int_equal(sscanf(rp + 1,
                            " %c %lld %lld %lld %*d %*d %*u %lld %*u %lld %*u %lld %lld %*d %*d"
                            " %*d %*d %lld %*d %lld %lld %lld",
                            &st_c, &ppid, &pgrp, &sess, &minflt, &majflt, &ut, &st, &nth, &start,
                            &vsz, &rss), 12);
    assert_int_equal(pm_parse_pid_stat(f.buf, f.len, &s), 0);
    assert_string_equal(s.comm, "(a) b)"); /* the capture script's helper */
    assert_int_equal(s.pid, pid);
    assert_int_equal(s.state, st_c);
    assert_int_equal(s.ppid, ppid);
    assert_int_equal(s.pgrp, pgrp);
    assert_int_equal(s.session, sess);
    assert_int_equal(s.minflt, minflt);
    assert_int_equal(s.majflt, majflt);
    assert_int_equal(s.utime, ut);
    assert_int_equal(s.stime, st);
    assert_int_equal(s.num_threads, nth);
    assert_int_equal(s.starttime, start);
    assert_int_equal(s.vsize, vsz);
    assert_int_equal(s.rss, rss);
    assert_true(s.rss > 0);
    unload(&f);
}

static void test_pid_stat_hostile(void **state)
{
    (void)state;
    struct pm_pid_stat s;
    struct fx f = load(VAR "pid-stat-comm-newline");
    assert_int_equal(pm_parse_pid_stat(f.buf, f.len, &s), 0);
    assert_string_equal(s.comm, "a\nb) c");
    assert_int_equal(s.pid, 77);
    assert_int_equal(s.state, 'R');
    assert_int_equal(s.ppid, 1);
    assert_int_equal(s.minflt, 10);
    assert_int_equal(s.majflt, 2);
    assert_int_equal(s.utime, 3);
    assert_int_equal(s.stime, 4);
    assert_int_equal(s.num_threads, 1);
    assert_int_equal(s.starttime, 500);
    assert_int_equal(s.vsize, 1000);
    assert_int_equal(s.rss, 20);
    unload(&f);

    f = load(VAR "pid-stat-longcomm");
    assert_int_equal(pm_parse_pid_stat(f.buf, f.len, &s), 0);
    assert_int_equal(strlen(s.comm), sizeof s.comm - 1);
    assert_memory_equal(s.comm, "kworker/u8:3-events_unbound_lon", sizeof s.comm);
    assert_int_equal(s.state, 'I');
    assert_int_equal(s.stime, 12);
    assert_int_equal(s.starttime, 1234);
    unload(&f);

    f = load(VAR "pid-stat-huge");
    assert_int_equal(pm_parse_pid_stat(f.buf, f.len, &s), 0);
    assert_int_equal(s.minflt, INT64_MAX);
    assert_int_equal(s.vsize, INT64_MAX);
    assert_int_equal(s.num_threads, 4);
    assert_int_equal(s.rss, 8);
    unload(&f);

    f = load(VAR "pid-stat-negative"); /* minflt -7 */
    assert_int_equal(pm_parse_pid_stat(f.buf, f.len, &s), -1);
    unload(&f);
    f = load(VAR "pid-stat-short"); /* ends at num_threads */
    assert_int_equal(pm_parse_pid_stat(f.buf, f.len, &s), -1);
    assert_int_equal(s.pid, 0);
    unload(&f);
}

static void test_pid_statm(void **state)
{
    (void)state;
    struct fx f = load(LIVE "pid/statm");
    struct pm_pid_statm m;
    long long a, b, c;
    assert_int_equal(sscanf(f.text, "%lld %lld %lld", &a, &b, &c), 3);
    assert_int_equal(pm_parse_pid_statm(f.buf, f.len, &m), 0);
    assert_int_equal(m.size, a);
    assert_int_equal(m.resident, b);
    assert_int_equal(m.shared, c);
    unload(&f);

    f = load(VAR "pid-statm-noeol");
    assert_int_equal(pm_parse_pid_statm(f.buf, f.len, &m), 0);
    assert_int_equal(m.size, 100);
    assert_int_equal(m.resident, 20);
    assert_int_equal(m.shared, 5);
    unload(&f);
    f = load(VAR "pid-statm-cut");
    assert_int_equal(pm_parse_pid_statm(f.buf, f.len, &m), -1);
    unload(&f);
}

static void test_pid_schedstat(void **state)
{
    (void)state;
    struct fx f = load(LIVE "pid/schedstat");
    long long a;
    int64_t run;
    assert_int_equal(sscanf(f.text, "%lld", &a), 1);
    assert_true(a > 0);
    assert_int_equal(pm_parse_pid_schedstat(f.buf, f.len, &run), 0);
    assert_int_equal(run, a);
    unload(&f);

    /* Parsed as printed; pm_proc_hist_idle treats a 0 as "not known". */
    f = load(VAR "pid-schedstat-zero");
    assert_int_equal(pm_parse_pid_schedstat(f.buf, f.len, &run), 0);
    assert_int_equal(run, 0);
    unload(&f);
    f = load(VAR "pid-schedstat-huge");
    assert_int_equal(pm_parse_pid_schedstat(f.buf, f.len, &run), 0);
    assert_int_equal(run, INT64_MAX);
    unload(&f);
    /* No newline: the last number may be cut.  Two fields: not schedstat. */
    f = load(VAR "pid-schedstat-noeol");
    assert_int_equal(pm_parse_pid_schedstat(f.buf, f.len, &run), -1);
    assert_int_equal(run, 0);
    unload(&f);
    f = load(VAR "pid-schedstat-short");
    assert_int_equal(pm_parse_pid_schedstat(f.buf, f.len, &run), -1);
    unload(&f);
    f = load(LIVE "pid/statm"); /* seven fields */
    assert_int_equal(pm_parse_pid_schedstat(f.buf, f.len, &run), -1);
    unload(&f);
}

static void test_pid_io(void **state)
{
    (void)state;
    struct fx f = load(LIVE "pid/io");
    struct pm_pid_io io;
    assert_int_equal(pm_parse_pid_io(f.buf, f.len, &io), 0);
    assert_int_equal(io.rchar, ref(f.text, "rchar:"));
    assert_int_equal(io.wchar, ref(f.text, "wchar:"));
    assert_int_equal(io.read_bytes, ref(f.text, "read_bytes:"));
    assert_int_equal(io.write_bytes, ref(f.text, "write_bytes:"));
    assert_int_equal(io.cancelled_write_bytes, ref(f.text, "cancelled_write_bytes:"));
    assert_int_equal(io.present, 31);
    assert_true(io.rchar > 0);
    unload(&f);
}

static void test_cmdline(void **state)
{
    (void)state;
    char out[4096];
    struct fx f = load(LIVE "pid/cmdline");
    size_t n = pm_parse_cmdline(f.buf, f.len, out, sizeof out);
    assert_int_equal(n, f.len); /* ends in exactly one NUL already */
    assert_memory_equal(out, f.buf, n);
    assert_non_null(strstr(out, "(a) b)"));
    assert_string_equal(out + strlen(out) + 1, "-c");
    /* A cap inside the first argument cuts it and still ends in NUL. */
    n = pm_parse_cmdline(f.buf, f.len, out, 5);
    assert_int_equal(n, 5);
    assert_memory_equal(out, f.buf, 4);
    assert_int_equal(out[4], '\0');
    /* A cap just past an argument's NUL leaves a single final NUL. */
    size_t first = strlen(f.text) + 1;
    n = pm_parse_cmdline(f.buf, f.len, out, first + 1);
    assert_int_equal(n, first);
    assert_string_equal(out, f.text);
    assert_int_equal(pm_parse_cmdline(f.buf, f.len, out, 1), 0);
    assert_int_equal(out[0], '\0');
    assert_int_equal(pm_parse_cmdline(f.buf, f.len, out, 0), 0);
    unload(&f);

    f = load(VAR "cmdline-noterm");
    n = pm_parse_cmdline(f.buf, f.len, out, sizeof out);
    assert_int_equal(n, f.len + 1);
    assert_memory_equal(out, "python3\0-m\0http.server", n);
    unload(&f);

    f = load(VAR "cmdline-padded");
    n = pm_parse_cmdline(f.buf, f.len, out, sizeof out);
    assert_int_equal(n, sizeof "nginx: worker process");
    assert_string_equal(out, "nginx: worker process");
    unload(&f);

    f = load(VAR "empty");
    out[0] = 'x';
    assert_int_equal(pm_parse_cmdline(f.buf, f.len, out, sizeof out), 0);
    assert_int_equal(out[0], '\0');
    unload(&f);
}

static void test_cgroup(void **state)
{
    (void)state;
    char out[256];
    struct fx f = load(LIVE "pid/cgroup");
    const char *v2 = strstr(f.text, "0::");
    assert_non_null(v2);
    char want[256];
    assert_int_equal(sscanf(v2 + 3, "%255[^\n]", want), 1);
    assert_int_equal(pm_parse_cgroup_v2(f.buf, f.len, out, sizeof out), 0);
    assert_string_equal(out, want);
    unload(&f);

    f = load(VAR "cgroup-v2only");
    assert_int_equal(pm_parse_cgroup_v2(f.buf, f.len, out, sizeof out), 0);
    assert_string_equal(out, "/user.slice/user-1000.slice/session-2.scope");
    /* Too small for the path: refused rather than cut (a cut path names
     * another cgroup). Exactly enough room works. */
    size_t need = strlen("/user.slice/user-1000.slice/session-2.scope") + 1;
    assert_int_equal(pm_parse_cgroup_v2(f.buf, f.len, out, need - 1), -1);
    assert_int_equal(out[0], '\0');
    assert_int_equal(pm_parse_cgroup_v2(f.buf, f.len, out, need), 0);
    unload(&f);

    f = load(VAR "cgroup-v1only");
    assert_int_equal(pm_parse_cgroup_v2(f.buf, f.len, out, sizeof out), -1);
    unload(&f);
    f = load(VAR "cgroup-v2-noeol");
    assert_int_equal(pm_parse_cgroup_v2(f.buf, f.len, out, sizeof out), -1);
    unload(&f);
}

/* ----------------------------------------------------------- single values */

static void test_int(void **state)
{
    (void)state;
    int64_t v = 42;
    struct fx f = load(FX "cgroup2-handmade/memory.current");
    assert_int_equal(pm_parse_int(f.buf, f.len, &v), 0);
    assert_int_equal(v, 123456789);
    unload(&f);

    f = load(VAR "int-negative"); /* thermal zones go below zero */
    assert_int_equal(pm_parse_int(f.buf, f.len, &v), 0);
    assert_int_equal(v, -5000);
    unload(&f);
    f = load(VAR "int-huge");
    assert_int_equal(pm_parse_int(f.buf, f.len, &v), 0);
    assert_int_equal(v, INT64_MAX);
    unload(&f);

    const char *bad[] = {FX "cgroup2-handmade/memory.max", VAR "int-trailing-garbage",
                         VAR "empty", VAR "garbage"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        f = load(bad[i]);
        v = 42;
        assert_int_equal(pm_parse_int(f.buf, f.len, &v), -1);
        assert_int_equal(v, 42); /* untouched on failure */
        unload(&f);
    }

    /* The whole input is the value, so no newline is needed; extremes. */
    static const struct { const char *s; int64_t v; } ok[] = {
        {"7", 7}, {"  8 \n", 8}, {"-9223372036854775808\n", INT64_MIN},
        {"-99999999999999999999", INT64_MIN}, {"9223372036854775807", INT64_MAX},
        {"+3", 3},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char *b = exact(ok[i].s, strlen(ok[i].s));
        assert_int_equal(pm_parse_int(b, strlen(ok[i].s), &v), 0);
        assert_int_equal(v, ok[i].v);
        free(b);
    }
    static const char *const nok[] = {"-", "", " \n", "1 2", "--1", "0x10"};
    for (size_t i = 0; i < sizeof nok / sizeof nok[0]; i++) {
        char *b = exact(nok[i], strlen(nok[i]));
        assert_int_equal(pm_parse_int(b, strlen(nok[i]), &v), -1);
        free(b);
    }
}

/* Cooling device types, from the fake sysfs trees and by hand: the CPU
 * devices count, fans, backlight, TCC offset, GPU and radio do not. */
static void test_cooling_type(void **state)
{
    (void)state;
    static const struct { const char *path; int cpu; } fx[] = {
        {"tests/fixtures/sysfs/laptop-intel/class/thermal/cooling_device0/type", 1}, /* Processor */
        {"tests/fixtures/sysfs/laptop-intel/class/thermal/cooling_device4/type", 1}, /* intel_powerclamp */
        {"tests/fixtures/sysfs/laptop-intel/class/thermal/cooling_device5/type", 0}, /* TCC Offset */
        {"tests/fixtures/sysfs/laptop-intel/class/thermal/cooling_device6/type", 0}, /* Fan */
        {"tests/fixtures/sysfs/laptop-intel/class/thermal/cooling_device7/type", 0}, /* LCD */
        {"tests/fixtures/sysfs/laptop-intel/class/thermal/cooling_device8/type", 0}, /* iwlwifi_1 */
        {"tests/fixtures/sysfs/arm-board/class/thermal/cooling_device0/type", 1},    /* cpufreq-cpu0 */
        {"tests/fixtures/sysfs/arm-board/class/thermal/cooling_device2/type", 0},    /* devfreq GPU */
        {"tests/fixtures/sysfs/arm-board/class/thermal/cooling_device3/type", 0},    /* pwm-fan */
        {"tests/fixtures/sysfs/variants/class/thermal/cooling_device6/type", 1},     /* thermal-cpufreq-0 */
    };
    for (size_t i = 0; i < sizeof fx / sizeof fx[0]; i++) {
        struct fx f = load(fx[i].path);
        if (pm_cooling_type_is_cpu(f.buf, f.len) != fx[i].cpu)
            fail_msg("%s: %s", fx[i].path, f.text);
        unload(&f);
    }
    static const struct { const char *s; int cpu; } t[] = {
        {"Processor", 1}, {"Processor\r\n", 1}, {"thermal-idle-0\n", 1}, {"idle-cpu4\n", 1},
        {"cpufreq-cpu0", 1}, {"cpufreq-", 0}, {"Processo", 0}, {"Processors\n", 0},
        {"processor\n", 0}, {" Processor\n", 0}, {"intel_powerclamp2\n", 0}, {"gpio-fan\n", 0},
        {"thermal-devfreq-0\n", 0}, {"", 0}, {"\n", 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char *b = exact(t[i].s, strlen(t[i].s));
        if (pm_cooling_type_is_cpu(b, strlen(t[i].s)) != t[i].cpu)
            fail_msg("type \"%s\"", t[i].s);
        free(b);
    }
}

/* cur_state as a percent of max_state: rounded, clamped to 0..100, -1
 * (old intel_powerclamp, idle) is 0, and no answer without a range. */
static void test_cooling_pct(void **state)
{
    (void)state;
    static const struct { const char *s; int64_t max; int rc; int64_t pct; } t[] = {
        {"0\n", 3, 0, 0},       {"1\n", 3, 0, 33},      {"2\n", 3, 0, 67},     {"3\n", 3, 0, 100},
        {"3", 7, 0, 43},        {"-1\n", 50, 0, 0},     {"9\n", 4, 0, 100},    {"1\n", 200, 0, 1},
        {"1\n", 201, 0, 0},     {"9223372036854775806\n", INT64_MAX, 0, 100},
        {"1\n", 0, -1, 0},      {"1\n", -1, -1, 0},     {"", 3, -1, 0},        {"9 10\n", 10, -1, 0},
        {"ten\n", 10, -1, 0},   {"0x1\n", 10, -1, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char *b = exact(t[i].s, strlen(t[i].s));
        int64_t pct = -42;
        int rc = pm_parse_cooling_pct(b, strlen(t[i].s), t[i].max, &pct);
        if (rc != t[i].rc || (rc == 0 && pct != t[i].pct) || (rc != 0 && pct != -42))
            fail_msg("cur_state \"%s\" of %lld: rc %d pct %lld", t[i].s, (long long)t[i].max, rc,
                     (long long)pct);
        free(b);
    }
}

static void test_keyed(void **state)
{
    (void)state;
    int64_t v = -1;
    struct fx f = load(FX "cgroup2-handmade/memory.events");
    assert_int_equal(pm_parse_keyed(f.buf, f.len, "high", &v), 0);
    assert_int_equal(v, 12);
    assert_int_equal(pm_parse_keyed(f.buf, f.len, "max", &v), 0);
    assert_int_equal(v, 3);
    /* "oom" must not match "oom_kill" or "oom_group_kill", and vice versa. */
    assert_int_equal(pm_parse_keyed(f.buf, f.len, "oom", &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(pm_parse_keyed(f.buf, f.len, "oom_group_kill", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(pm_parse_keyed(f.buf, f.len, "oom_", &v), -1);
    assert_int_equal(pm_parse_keyed(f.buf, f.len, "om", &v), -1);
    assert_int_equal(pm_parse_keyed(f.buf, f.len, "", &v), -1);
    unload(&f);

    f = load(FX "cgroup2-handmade/memory.stat");
    assert_int_equal(pm_parse_keyed(f.buf, f.len, "anon", &v), 0);
    assert_int_equal(v, 104857600);
    assert_int_equal(pm_parse_keyed(f.buf, f.len, "workingset_refault_file", &v), 0);
    assert_int_equal(v, 230);
    assert_int_equal(pm_parse_keyed(f.buf, f.len, "pgsteal", &v), 0);
    assert_int_equal(v, 8000);
    unload(&f);

    /* Flat key files from /proc work too (vmstat is "key value"). */
    f = load(LIVE "vmstat");
    assert_int_equal(pm_parse_keyed(f.buf, f.len, "pgfault", &v), 0);
    assert_int_equal(v, ref(f.text, "pgfault "));
    unload(&f);
}

/* ------------------------------------------------- every parser, bad input */

static void test_empty_and_garbage_everywhere(void **state)
{
    (void)state;
    const char *paths[] = {VAR "empty", VAR "garbage"};
    for (size_t i = 0; i < 2; i++) {
        struct fx f = load(paths[i]);
        struct pm_meminfo mi;
        struct pm_vmstat vm;
        struct pm_stat st;
        struct pm_cpu_times c[4];
        struct pm_loadavg la;
        struct pm_psi psi;
        struct pm_pid_stat ps;
        struct pm_pid_statm sm;
        struct pm_pid_io io;
        char out[64];
        int64_t v;
        assert_int_equal(pm_parse_meminfo(f.buf, f.len, &mi), -1);
        assert_int_equal(mi.present, 0);
        assert_int_equal(pm_parse_vmstat(f.buf, f.len, &vm), -1);
        assert_int_equal(vm.present, 0);
        assert_int_equal(pm_parse_stat(f.buf, f.len, &st, c, 4), -1);
        assert_int_equal(st.ncpu, 0);
        assert_int_equal(pm_parse_loadavg(f.buf, f.len, &la), -1);
        assert_int_equal(pm_parse_psi(f.buf, f.len, &psi), -1);
        assert_int_equal(pm_parse_pid_stat(f.buf, f.len, &ps), -1);
        assert_int_equal(pm_parse_pid_statm(f.buf, f.len, &sm), -1);
        assert_int_equal(pm_parse_pid_schedstat(f.buf, f.len, &v), -1);
        assert_int_equal(pm_parse_pid_io(f.buf, f.len, &io), -1);
        assert_int_equal(pm_parse_cgroup_v2(f.buf, f.len, out, sizeof out), -1);
        assert_int_equal(pm_parse_int(f.buf, f.len, &v), -1);
        assert_int_equal(pm_parse_keyed(f.buf, f.len, "oom_kill", &v), -1);
        assert_int_equal(pm_parse_cooling_pct(f.buf, f.len, 10, &v), -1);
        assert_int_equal(pm_cooling_type_is_cpu(f.buf, f.len), 0);
        size_t n = pm_parse_cmdline(f.buf, f.len, out, sizeof out);
        assert_true(n <= sizeof out);
        if (n)
            assert_int_equal(out[n - 1], '\0');
        unload(&f);
    }
}

/*
 * The truncation policy, checked on every prefix of the live captures: a
 * field a parser reports from a cut file must equal what it reports from
 * the whole file (a half-read number is never passed off as a value), and
 * each prefix sits in its own exact-size block for ASan.
 */
static void test_every_prefix_is_safe(void **state)
{
    (void)state;
    struct fx mi = load(LIVE "meminfo"), vm = load(LIVE "vmstat"), st = load(LIVE "stat"),
              la = load(LIVE "loadavg"), ps = load(LIVE "pressure/memory"),
              pst = load(LIVE "pid/stat"), psm = load(LIVE "pid/statm"), pio = load(LIVE "pid/io");
    struct pm_meminfo m0, m;
    struct pm_vmstat v0, v;
    struct pm_stat s0, s;
    struct pm_cpu_times c0[64], c[64];
    struct pm_loadavg l0, l;
    struct pm_psi p0, p;
    struct pm_pid_stat t0, t;
    struct pm_pid_statm sm0, sm;
    struct pm_pid_io i0, io;
    assert_int_equal(pm_parse_meminfo(mi.buf, mi.len, &m0), 0);
    assert_int_equal(pm_parse_vmstat(vm.buf, vm.len, &v0), 0);
    assert_int_equal(pm_parse_stat(st.buf, st.len, &s0, c0, 64), 0);
    assert_int_equal(pm_parse_loadavg(la.buf, la.len, &l0), 0);
    assert_int_equal(pm_parse_psi(ps.buf, ps.len, &p0), 0);
    assert_int_equal(pm_parse_pid_stat(pst.buf, pst.len, &t0), 0);
    assert_int_equal(pm_parse_pid_statm(psm.buf, psm.len, &sm0), 0);
    assert_int_equal(pm_parse_pid_io(pio.buf, pio.len, &i0), 0);

    for (size_t n = 0; n <= mi.len; n++) {
        char *b = exact(mi.buf, n);
        pm_parse_meminfo(b, n, &m);
        for (int k = 0; k < PM_MI_N; k++)
            if (m.present & (1u << k))
                assert_int_equal(m.kb[k], m0.kb[k]);
        free(b);
    }
    for (size_t n = 0; n <= vm.len; n++) {
        char *b = exact(vm.buf, n);
        pm_parse_vmstat(b, n, &v);
        /* Sums may be partial when the cut drops later components; the
         * single counters must be exact. */
        static const int single[] = {PM_VM_PGFAULT, PM_VM_PGMAJFAULT, PM_VM_PSWPIN, PM_VM_PSWPOUT,
                                     PM_VM_OOM_KILL, PM_VM_PGPGIN, PM_VM_PGPGOUT};
        for (size_t k = 0; k < sizeof single / sizeof single[0]; k++)
            if (v.present & (1u << single[k]))
                assert_int_equal(v.v[single[k]], v0.v[single[k]]);
        for (int k = 0; k < PM_VM_N; k++)
            assert_true(v.v[k] <= v0.v[k] && v.v[k] >= 0);
        free(b);
    }
    for (size_t n = 0; n <= st.len; n++) {
        char *b = exact(st.buf, n);
        if (pm_parse_stat(b, n, &s, c, 64) == 0)
            assert_memory_equal(&s.total, &s0.total, sizeof s.total);
        assert_true(s.ncpu <= s0.ncpu);
        assert_memory_equal(c, c0, (size_t)s.ncpu * sizeof c[0]);
        if (s.present & PM_ST_CTXT)
            assert_int_equal(s.ctxt, s0.ctxt);
        free(b);
    }
    for (size_t n = 0; n <= la.len; n++) {
        char *b = exact(la.buf, n);
        if (pm_parse_loadavg(b, n, &l) == 0) {
            assert_int_equal(l.load15_milli, l0.load15_milli);
            assert_true(l.last_pid == 0 || l.last_pid == l0.last_pid);
            assert_true(l.threads == 0 || l.threads == l0.threads);
        }
        free(b);
    }
    for (size_t n = 0; n <= ps.len; n++) {
        char *b = exact(ps.buf, n);
        pm_parse_psi(b, n, &p);
        if (p.some.present)
            assert_memory_equal(&p.some, &p0.some, sizeof p.some);
        if (p.full.present)
            assert_memory_equal(&p.full, &p0.full, sizeof p.full);
        free(b);
    }
    for (size_t n = 0; n <= pst.len; n++) {
        char *b = exact(pst.buf, n);
        if (pm_parse_pid_stat(b, n, &t) == 0)
            assert_memory_equal(&t, &t0, sizeof t);
        free(b);
    }
    for (size_t n = 0; n <= psm.len; n++) {
        char *b = exact(psm.buf, n);
        if (pm_parse_pid_statm(b, n, &sm) == 0)
            assert_memory_equal(&sm, &sm0, sizeof sm);
        free(b);
    }
    for (size_t n = 0; n <= pio.len; n++) {
        char *b = exact(pio.buf, n);
        pm_parse_pid_io(b, n, &io);
        assert_int_equal(io.present & ~i0.present, 0);
        if (io.present & PM_IO_RCHAR)
            assert_int_equal(io.rchar, i0.rchar);
        if (io.present & PM_IO_CANCELLED)
            assert_int_equal(io.cancelled_write_bytes, i0.cancelled_write_bytes);
        free(b);
    }
    unload(&mi);
    unload(&vm);
    unload(&st);
    unload(&la);
    unload(&ps);
    unload(&pst);
    unload(&psm);
    unload(&pio);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meminfo_live),
        cmocka_unit_test(test_meminfo_crlf),
        cmocka_unit_test(test_meminfo_3_10),
        cmocka_unit_test(test_meminfo_truncated),
        cmocka_unit_test(test_meminfo_noeol),
        cmocka_unit_test(test_meminfo_huge_and_bad_numbers),
        cmocka_unit_test(test_meminfo_missing_total),
        cmocka_unit_test(test_vmstat_live),
        cmocka_unit_test(test_vmstat_4_19),
        cmocka_unit_test(test_vmstat_3_10),
        cmocka_unit_test(test_vmstat_truncated),
        cmocka_unit_test(test_vmstat_huge),
        cmocka_unit_test(test_vmstat_wrong_file),
        cmocka_unit_test(test_stat_live),
        cmocka_unit_test(test_stat_2_4),
        cmocka_unit_test(test_stat_2_6_9),
        cmocka_unit_test(test_stat_2_6_11),
        cmocka_unit_test(test_stat_many_cpus),
        cmocka_unit_test(test_stat_truncated),
        cmocka_unit_test(test_stat_odd_columns),
        cmocka_unit_test(test_loadavg),
        cmocka_unit_test(test_psi_live),
        cmocka_unit_test(test_psi_5_4_values),
        cmocka_unit_test(test_psi_damaged),
        cmocka_unit_test(test_pid_stat_live),
        cmocka_unit_test(test_pid_stat_hostile),
        cmocka_unit_test(test_pid_statm),
        cmocka_unit_test(test_pid_schedstat),
        cmocka_unit_test(test_pid_io),
        cmocka_unit_test(test_cmdline),
        cmocka_unit_test(test_cgroup),
        cmocka_unit_test(test_int),
        cmocka_unit_test(test_cooling_type),
        cmocka_unit_test(test_cooling_pct),
        cmocka_unit_test(test_keyed),
        cmocka_unit_test(test_empty_and_garbage_everywhere),
        cmocka_unit_test(test_every_prefix_is_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
