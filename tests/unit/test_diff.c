/*
 * diff against runs with planted differences, written into a real SQLite
 * database through the store API (as `record` writes them).  Every metric
 * carries noise; the planted difference must rank first, and a trivial
 * change (0 -> 0.001) must never rank above it.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "analysis/diff.h"
#include "cli/cli.h"

/* Deterministic noise: xorshift64* and Box-Muller. */
static uint64_t rng = 88172645463325252ull;
static double urand(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double)((rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}
static double nrand(void)
{
    double u = urand(), v = urand();
    return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

/* Per-metric base level in stored units (something plausible, never 0 so
 * relative noise is visible). */
static double base_of(int i)
{
    const struct pm_metric *m = &pm_sys_metrics[i];
    if (!strcmp(m->unit, "bytes"))
        return m->kind == PM_COUNTER ? 50 : 4 * 1024 * 1024; /* KiB: 4 GiB */
    if (!strcmp(m->unit, "seconds"))
        return 3000; /* us per 10 ms sample: 30% */
    if (!strcmp(m->unit, "percent"))
        return 60;
    if (!strcmp(m->unit, "ratio") || !strcmp(m->unit, "load"))
        return 500;
    if (!strcmp(m->unit, "celsius"))
        return 50000;
    return 20;
}

struct plant {
    int nsamples;
    double run_noise;  /* relative sd of a whole run's level, every metric */
    double sample_noise; /* relative sd of each sample */
    int target;        /* metric index to shift, -1 none */
    double factor;     /* target level multiplier */
    int trivial;       /* metric index set to `trivial_value` per sample, -1 none */
    int64_t trivial_value;
};

static struct pm_host host = {.hostname = "testhost", .os = "linux", .cpu_count = 2,
                              .mem_total = 8LL << 30, .page_size = 4096};

static int64_t plant_run(struct pm_store *st, const char *label, int exit_code, const struct plant *p)
{
    static int seq;
    char *argv[] = {"planted", NULL};
    struct pm_run_info ri = {.label = label, .argv = argv, .argc = 1, .cwd = "/",
                             .started_at = (1000 + seq) * 1000000000LL, .interval_ns = 10000000,
                             .proc_interval_ns = 40000000, .host = &host, .recorder_pid = getpid()};
    pm_run_uid(ri.uid, ri.started_at + seq++);
    int64_t id = pm_store_run_begin(st, &ri);
    assert_true(id > 0);
    double level[PM_SYS_N];
    for (int i = 0; i < PM_SYS_N; i++)
        level[i] = base_of(i) * (1 + p->run_noise * nrand()) * (i == p->target ? p->factor : 1.0);
    assert_int_equal(pm_store_begin(st), 0);
    for (int k = 0; k < p->nsamples; k++) {
        struct pm_sys_rec r = {.t_ns = (int64_t)k * 10000000};
        for (int i = 0; i < PM_SYS_N; i++) {
            if (k == 0 && pm_sys_metrics[i].kind == PM_COUNTER)
                continue;
            double x = level[i] * (1 + p->sample_noise * nrand());
            r.v[i] = i == p->trivial ? p->trivial_value : (int64_t)llround(x < 0 ? 0 : x);
            r.present |= UINT64_C(1) << i;
        }
        assert_int_equal(pm_store_put_sys(st, id, &r), 0);
    }
    assert_int_equal(pm_store_commit(st), 0);
    struct pm_run_end re = {.ended_at = ri.started_at + (int64_t)p->nsamples * 10000000,
                            .duration_ns = (int64_t)p->nsamples * 10000000, .has_status = 1,
                            .exit_code = exit_code, .samples = p->nsamples};
    assert_int_equal(pm_store_run_end(st, id, &re), 0);
    return id;
}

struct fx {
    char dir[64], path[96];
    struct pm_store *st;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pm-diff-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    char err[256];
    f->st = pm_store_open(f->path, PM_STORE_WRITE, err, sizeof err);
    assert_non_null(f->st);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    pm_store_close(f->st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static int rank_of(const struct pm_diff *d, const char *key)
{
    for (int i = 0; i < d->nmetrics; i++)
        if (!strcmp(d->metrics[i].key, key))
            return i;
    return -1;
}

static void test_two_runs_planted(void **state)
{
    struct fx *f = *state;
    int mem = pm_metric_find(PM_SCOPE_SYSTEM, "mem_available_kb");
    int steal = pm_metric_find(PM_SCOPE_SYSTEM, "cpu_steal_us");
    /* B: memory available 20% lower; steal goes from 0 to 0.001 s/s (10 us
     * per 10 ms sample) — the pmdiff trap. */
    struct plant pa = {.nsamples = 3000, .sample_noise = 0.05, .target = -1, .factor = 1, .trivial = steal,
                       .trivial_value = 0};
    struct plant pb = {.nsamples = 2500, .sample_noise = 0.05, .target = mem, .factor = 0.8, .trivial = steal,
                       .trivial_value = 10};
    int64_t a = plant_run(f->st, "a", 0, &pa), b = plant_run(f->st, "b", 0, &pb);
    struct pm_diff d;
    char err[256];
    assert_int_equal(pm_diff_compute(pm_store_db(f->st), &a, 1, &b, 1, &d, err, sizeof err), 0);
    assert_int_equal(d.group_mode, 0);
    assert_string_equal(d.metrics[0].key, "mem_available_kb");
    assert_true(d.metrics[0].significant);
    assert_true(d.metrics[0].effect > 0); /* A higher */
    assert_true(d.metrics[0].change > 0.15 * d.metrics[0].a.headline);
    int rs = rank_of(&d, "cpu_steal_us");
    assert_true(rs > 0);
    assert_false(d.metrics[rs].significant);
    assert_true(fabs(d.metrics[rs].b.headline - 0.001) < 1e-6); /* the rate is right */
    /* nothing but the planted metric is significant: noise stays noise */
    for (int i = 1; i < d.nmetrics; i++)
        if (d.metrics[i].significant)
            fail_msg("%s ranked significant (effect %.2f)", d.metrics[i].key, d.metrics[i].effect);
    char rd[256];
    pm_diff_reading(&d.metrics[0], "A", "B", rd, sizeof rd);
    assert_non_null(strstr(rd, "higher in A"));
    pm_diff_free(&d);
}

static void test_groups_planted(void **state)
{
    struct fx *f = *state;
    int sep = pm_metric_find(PM_SCOPE_SYSTEM, "psi_mem_some_us");
    rng = 12345;
    for (int r = 0; r < 24; r++) {
        int failing = r % 3 == 1 && r < 21; /* 7 failing runs among 24 */
        struct plant p = {.nsamples = 300, .run_noise = 0.15, .sample_noise = 0.3, .target = sep,
                          .factor = failing ? 1.6 : 1.0, .trivial = -1};
        plant_run(f->st, "grp", failing ? 1 : 0, &p);
    }
    int64_t *fa, *pa;
    int nf = pm_select_group(f->st, "outcome:fail", &fa), np = pm_select_group(f->st, "outcome:pass", &pa);
    assert_int_equal(nf, 7);
    assert_int_equal(np, 17);
    struct pm_diff d;
    char err[256];
    assert_int_equal(pm_diff_compute(pm_store_db(f->st), fa, nf, pa, np, &d, err, sizeof err), 0);
    assert_int_equal(d.group_mode, 1);
    assert_string_equal(d.metrics[0].key, "psi_mem_some_us");
    assert_true(d.metrics[0].significant);
    assert_true(d.metrics[0].effect > 0.7); /* overlaps a little: 15% run-to-run noise */
    assert_int_equal(d.metrics[0].a.runs, 7);
    assert_int_equal(d.metrics[0].b.runs, 17);
    /* the runner-up is far behind */
    assert_true(d.metrics[1].score < d.metrics[0].score - 0.2);
    pm_diff_free(&d);
    free(fa);
    free(pa);
}

/* The diff's process row of a command shape, or NULL. */
static const struct pm_diff_proc *proc_by_key(const struct pm_diff *d, const char *key)
{
    for (int i = 0; i < d->nprocs; i++)
        if (!strcmp(d->procs[i].key, key))
            return &d->procs[i];
    return NULL;
}

/* A process that lives from t0 + 1 ms to t0 + 250 ms, with five samples. */
static void put_proc_at(struct pm_store *st, int64_t run, int64_t t0, pid_t pid, const char *comm, const char *arg,
                        int64_t rss_kb, int sig)
{
    struct pm_proc_start_rec s = {.t_ns = t0 + 1000000, .pid = pid, .ppid = 1, .start_ns = t0 + 1000000};
    pm_strlcpy(s.comm, comm, sizeof s.comm);
    int n = snprintf(s.argv, sizeof s.argv, "%s", comm);
    n += 1 + snprintf(s.argv + n + 1, sizeof s.argv - (size_t)n - 1, "%s", arg);
    s.argv_len = (uint16_t)(n + 1);
    assert_int_equal(pm_store_put_proc_start(st, run, &s), 0);
    for (int k = 1; k <= 5; k++) {
        struct pm_proc_sample_rec ps = {.t_ns = t0 + k * 40000000, .pid = pid, .state = 'R'};
        ps.v[PM_M_P_RSS] = rss_kb * k / 5;
        ps.v[PM_M_P_CPU_USER] = 10000;
        ps.present = (UINT64_C(1) << PM_M_P_RSS) | (UINT64_C(1) << PM_M_P_CPU_USER);
        assert_int_equal(pm_store_put_proc_sample(st, run, &ps), 0);
    }
    struct pm_proc_exit_rec e = {.t_ns = t0 + 250000000, .pid = pid, .status_src = PM_STATUS_WAIT, .signal = sig};
    int changed;
    assert_int_equal(pm_store_put_proc_exit(st, run, &e, &changed), 0);
}

static void put_proc(struct pm_store *st, int64_t run, pid_t pid, const char *comm, const char *arg,
                     int64_t rss_kb, int sig)
{
    put_proc_at(st, run, 0, pid, comm, arg, rss_kb, sig);
}

/* A pid the kernel hands out twice in one run names two processes: each
 * keeps its own samples (they are told apart by time). */
static void test_pid_reused(void **state)
{
    struct fx *f = *state;
    struct plant p = {.nsamples = 50, .sample_noise = 0.01, .target = -1, .factor = 1, .trivial = -1};
    int64_t a = plant_run(f->st, "ra", 1, &p), b = plant_run(f->st, "rb", 0, &p);
    assert_int_equal(pm_store_begin(f->st), 0);
    put_proc_at(f->st, a, 0, 100, "hog", "x", 900000, 9);
    put_proc_at(f->st, a, 300000000, 100, "sleep", "1", 500, 0);
    put_proc_at(f->st, b, 0, 200, "sleep", "1", 500, 0);
    assert_int_equal(pm_store_commit(f->st), 0);
    struct pm_diff d;
    char err[256];
    assert_int_equal(pm_diff_compute(pm_store_db(f->st), &a, 1, &b, 1, &d, err, sizeof err), 0);
    const struct pm_diff_proc *hog = proc_by_key(&d, "hog x"), *slp = proc_by_key(&d, "sleep N");
    assert_non_null(hog);
    assert_non_null(slp);
    assert_true(fabs(hog->peak_rss_a - 900000 * 1024.0) < 1);
    assert_true(fabs(slp->peak_rss_a - 500 * 1024.0) < 1);
    assert_true(fabs(hog->cpu_a - 0.05) < 1e-9); /* 5 x 10 ms each */
    assert_true(fabs(slp->cpu_a - 0.05) < 1e-9);
    pm_diff_free(&d);
}

static void test_process_matching(void **state)
{
    struct fx *f = *state;
    struct plant p = {.nsamples = 50, .sample_noise = 0.01, .target = -1, .factor = 1, .trivial = -1};
    int64_t a = plant_run(f->st, "pa", 0, &p), b = plant_run(f->st, "pb", 1, &p);
    assert_int_equal(pm_store_begin(f->st), 0);
    put_proc(f->st, a, 100, "worker", "--shard=1", 10240, 0);
    put_proc(f->st, a, 101, "worker", "--shard=2", 20480, 0);
    put_proc(f->st, b, 7100, "worker", "--shard=3", 20480, 0);
    put_proc(f->st, b, 7101, "worker", "--shard=14", 512000, 9);
    put_proc(f->st, b, 7102, "worker", "--shard=5", 10240, 0);
    put_proc(f->st, b, 7103, "helper", "x", 1024, 0);
    assert_int_equal(pm_store_commit(f->st), 0);
    struct pm_diff d;
    char err[256];
    assert_int_equal(pm_diff_compute(pm_store_db(f->st), &a, 1, &b, 1, &d, err, sizeof err), 0);
    const struct pm_diff_proc *w = proc_by_key(&d, "worker --shard=N"), *h = proc_by_key(&d, "helper x");
    assert_non_null(w);
    assert_non_null(h);
    assert_int_equal(d.nprocs, 2); /* different pids and arguments, one command */
    assert_int_equal(w->count_a, 2);
    assert_int_equal(w->count_b, 3);
    assert_int_equal(w->signaled_a, 0);
    assert_int_equal(w->signaled_b, 1);
    assert_int_equal(w->sig_b, 9);
    assert_true(fabs(w->peak_rss_a - 20480 * 1024.0) < 1);
    assert_true(fabs(w->peak_rss_b - 512000 * 1024.0) < 1);
    assert_true(fabs(w->cpu_a - 0.1) < 1e-9); /* 2 procs x 5 x 10 ms */
    assert_int_equal(h->count_a, 0);
    assert_true(d.procs[0].score >= d.procs[1].score);
    assert_ptr_equal(w, &d.procs[0]); /* a kill outranks a new helper */
    /* the tree: rss summed over live processes */
    int t = rank_of(&d, "tree.rss_kb");
    assert_true(t >= 0);
    assert_true(d.metrics[t].b.s.max >= (512000 + 20480 + 10240) * 1024.0 * 0.99);
    pm_diff_free(&d);
}

/* Runs are read on several threads (PRESSMON_DIFF_THREADS caps them); the
 * result must be the serial one bit for bit, whichever thread read which
 * run: metrics, sparklines, processes (first-seen order feeds the ranking)
 * and events. */
static void test_threads_same_result(void **state)
{
    struct fx *f = *state;
    int sep = pm_metric_find(PM_SCOPE_SYSTEM, "psi_mem_some_us");
    rng = 777;
    assert_int_equal(pm_store_begin(f->st), 0);
    assert_int_equal(pm_store_commit(f->st), 0);
    for (int r = 0; r < 9; r++) {
        int failing = r % 3 == 0;
        struct plant p = {.nsamples = 200 + 37 * r, .run_noise = 0.1, .sample_noise = 0.2, .target = sep,
                          .factor = failing ? 1.5 : 1.0, .trivial = -1};
        int64_t id = plant_run(f->st, "thr", failing ? 1 : 0, &p);
        assert_int_equal(pm_store_begin(f->st), 0);
        put_proc(f->st, id, 300 + r % 2, "worker", r % 2 ? "--a=1" : "--b=2", 4096 * (r + 1), failing ? 9 : 0);
        put_proc(f->st, id, 400 + r, "helper", "x", 1024, 0);
        assert_int_equal(pm_store_commit(f->st), 0);
    }
    int64_t *fa, *pa;
    int nf = pm_select_group(f->st, "outcome:fail", &fa), np = pm_select_group(f->st, "outcome:pass", &pa);
    assert_int_equal(nf, 3);
    assert_int_equal(np, 6);
    struct pm_diff d1, d4;
    char err[256];
    const char *old = getenv("PRESSMON_DIFF_THREADS");
    char *saved = old ? strdup(old) : NULL;
    setenv("PRESSMON_DIFF_THREADS", "1", 1);
    assert_int_equal(pm_diff_compute(pm_store_db(f->st), fa, nf, pa, np, &d1, err, sizeof err), 0);
    setenv("PRESSMON_DIFF_THREADS", "4", 1);
    assert_int_equal(pm_diff_compute(pm_store_db(f->st), fa, nf, pa, np, &d4, err, sizeof err), 0);
    if (saved)
        setenv("PRESSMON_DIFF_THREADS", saved, 1);
    else
        unsetenv("PRESSMON_DIFF_THREADS");
    free(saved);
    assert_string_equal(d1.metrics[0].key, "psi_mem_some_us");
    assert_int_equal(d1.nmetrics, d4.nmetrics);
    assert_int_equal(d1.nprocs, d4.nprocs);
    assert_int_equal(d1.nevents, d4.nevents);
    assert_true(d1.nprocs >= 2);
    assert_true(d1.nevents >= 1); /* the killed workers */
    for (int i = 0; i < d1.nmetrics; i++)
        if (memcmp(&d1.metrics[i], &d4.metrics[i], sizeof d1.metrics[i]))
            fail_msg("metric %d differs: %s vs %s", i, d1.metrics[i].key, d4.metrics[i].key);
    assert_memory_equal(d1.procs, d4.procs, (size_t)d1.nprocs * sizeof *d1.procs);
    assert_memory_equal(d1.events, d4.events, (size_t)d1.nevents * sizeof *d1.events);
    assert_memory_equal(d1.ra, d4.ra, (size_t)nf * sizeof *d1.ra);
    pm_diff_free(&d1);
    pm_diff_free(&d4);
    free(fa);
    free(pa);
}

static void test_proc_key(void **state)
{
    (void)state;
    char k1[128], k2[128];
    pm_diff_proc_key("sleep", "[\"/bin/sleep\",\"1\"]", k1, sizeof k1);
    pm_diff_proc_key("sleep", "[\"sleep\",\"25\"]", k2, sizeof k2);
    assert_string_equal(k1, "sleep N");
    assert_string_equal(k1, k2);
    pm_diff_proc_key("cc", "[\"cc\",\"-c\",\"/tmp/x123/a.c\"]", k1, sizeof k1);
    assert_string_equal(k1, "cc -c /tmp/xN/a.c");
    pm_diff_proc_key(NULL, "not json", k1, sizeof k1);
    assert_string_equal(k1, "?");
    char small[6];
    pm_diff_proc_key("longcommand", "[\"a\",\"b\"]", small, sizeof small);
    assert_int_equal(strlen(small), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_runs_planted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_groups_planted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_matching, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pid_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_same_result, setup, teardown),
        cmocka_unit_test(test_proc_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
