/*
 * diff benchmark (figures for docs/BENCHMARKS.md, "## diff"): generates
 * databases through the store API and times pm_diff_compute.
 *   1. two one-hour runs at 100 Hz: 360k system samples each, every
 *      catalog column filled;
 *   2. outcome:fail vs outcome:pass over 50 runs of 60 s at 100 Hz.
 * Usage: bench_diff [DIR]  (databases are written there, default /tmp).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analysis/diff.h"
#include "cli/cli.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static int64_t noise(int64_t base)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return base + (int64_t)(rng % (uint64_t)(base / 5 + 1));
}

static int64_t plant(struct pm_store *st, int seq, int nsamples, int exit_code, double shift)
{
    struct pm_host h = {.hostname = "bench", .os = "linux", .cpu_count = 2, .mem_total = 8LL << 30,
                        .page_size = 4096};
    char *argv[] = {"bench", NULL};
    struct pm_run_info ri = {.argv = argv, .argc = 1, .cwd = "/", .started_at = (int64_t)(1000 + seq) * 1000000000LL,
                             .interval_ns = 10000000, .proc_interval_ns = 40000000, .host = &h,
                             .recorder_pid = getpid()};
    pm_run_uid(ri.uid, ri.started_at + seq);
    int64_t id = pm_store_run_begin(st, &ri);
    if (id < 0)
        return -1;
    pm_store_begin(st);
    for (int k = 0; k < nsamples; k++) {
        struct pm_sys_rec r = {.t_ns = (int64_t)k * 10000000, .present = ~UINT64_C(0) >> (64 - PM_SYS_N)};
        for (int i = 0; i < PM_SYS_N; i++)
            r.v[i] = noise(i == 0 ? (int64_t)(4000000 * shift) : 1000 + i * 100);
        if (pm_store_put_sys(st, id, &r) < 0)
            return -1;
        if (k % 20000 == 19999) {
            pm_store_commit(st);
            pm_store_begin(st);
        }
    }
    pm_store_commit(st);
    struct pm_run_end re = {.ended_at = ri.started_at + (int64_t)nsamples * 10000000,
                            .duration_ns = (int64_t)nsamples * 10000000, .has_status = 1,
                            .exit_code = exit_code, .samples = nsamples};
    pm_store_run_end(st, id, &re);
    return id;
}

static int run(const char *path, int nruns, int nsamples, int groups)
{
    char err[256];
    unlink(path);
    struct pm_store *st = pm_store_open(path, PM_STORE_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "bench_diff: %s\n", err);
        return 1;
    }
    double t0 = now_s();
    for (int r = 0; r < nruns; r++)
        if (plant(st, r, nsamples, groups && r % 4 == 0 ? 1 : 0, r % 4 == 0 ? 0.8 : 1.0) < 0) {
            fprintf(stderr, "bench_diff: cannot write %s: %s\n", path, pm_store_errmsg(st));
            return 1;
        }
    double t1 = now_s();
    int64_t *a, *b, one[2] = {1, 2};
    int na = 1, nb = 1;
    double ts = now_s();
    if (groups) {
        na = pm_select_group(st, "outcome:fail", &a);
        nb = pm_select_group(st, "outcome:pass", &b);
    } else {
        a = &one[0];
        b = &one[1];
    }
    struct pm_diff d;
    if (pm_diff_compute(pm_store_db(st), a, na, b, nb, &d, err, sizeof err) < 0) {
        fprintf(stderr, "bench_diff: %s\n", err);
        return 1;
    }
    double t2 = now_s();
    printf("%-34s runs %2d x %6d samples: generate %5.1f s, diff %.3f s (%d vs %d runs), top: %s\n",
           groups ? "outcome:fail vs outcome:pass" : "two one-hour runs at 100 Hz", nruns, nsamples, t1 - t0,
           t2 - ts, na, nb, d.metrics[0].key);
    pm_diff_free(&d);
    if (groups) {
        free(a);
        free(b);
    }
    pm_store_close(st);
    unlink(path);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    char p1[512], p2[512];
    snprintf(p1, sizeof p1, "%s/bench_diff_2x1h.db", dir);
    snprintf(p2, sizeof p2, "%s/bench_diff_50x60s.db", dir);
    return run(p1, 2, 360000, 0) || run(p2, 50, 6000, 1);
}
