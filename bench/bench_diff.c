/*
 * diff benchmark (figures for docs/BENCHMARKS.md, "## diff"): generates
 * databases through the store API and times pm_diff_compute.
 *   1. two one-hour runs at 100 Hz: 360k system samples each, every
 *      catalog column filled;
 *   2. the same with Linux-like columns: the two macOS-only levels NULL for
 *      the whole run, the first sample's counters NULL, and the rare-event
 *      counters (swap, OOM kills, stalls, throttling) zero 99% of the time
 *      (SQLite is asked for a column's type only when its value reads 0),
 *      which is what a real recording looks like to the reader;
 *   3. outcome:fail vs outcome:pass over 50 runs of 60 s at 100 Hz.
 * Usage: bench_diff [-r REPS] [-k] [DIR]
 *   DIR   where the databases are written (default /tmp)
 *   -r    time each diff REPS times (default 3)
 *   -k    keep the databases and reuse them when present (generation takes
 *         longer than the diffs; the generator is deterministic)
 *
 * The machine is shared, so absolute times move with the load.  Each diff
 * is paired with a baseline measured just before it on the same database:
 * a plain `SELECT * FROM samples WHERE run_id = ?` stepped over every run
 * of the diff (rows stepped, no column read).  The ratio diff / baseline
 * is what to compare across machines and loads.
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

static int64_t noise(uint64_t *rng, int64_t base)
{
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    return base + (int64_t)(*rng % (uint64_t)(base / 5 + 1));
}

/* Columns a Linux recording leaves NULL, and counters that are almost
 * always 0 there. */
static int macos_only(int i)
{
    return i == PM_M_MEM_PRESSURE_LEVEL || i == PM_M_THERMAL_LEVEL;
}

static int rare(int i)
{
    return i == PM_M_VM_SWAPIN || i == PM_M_VM_SWAPOUT || i == PM_M_VM_OOM_KILL || i == PM_M_VM_ALLOCSTALL ||
           i == PM_M_VM_PGMAJFAULT || i == PM_M_THROTTLE || i == PM_M_PSI_MEM_FULL || i == PM_M_PSI_IO_FULL;
}

static int64_t plant(struct pm_store *st, uint64_t *rng, int seq, int nsamples, int exit_code, double shift,
                     int linux_like)
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
        for (int i = 0; i < PM_SYS_N; i++) {
            r.v[i] = noise(rng, i == 0 ? (int64_t)(4000000 * shift) : 1000 + i * 100);
            if (!linux_like)
                continue;
            if (macos_only(i) || (k == 0 && pm_sys_metrics[i].kind == PM_COUNTER))
                r.present &= ~(UINT64_C(1) << i);
            else if (rare(i)) /* a few events in 1% of the intervals */
                r.v[i] = r.v[i] % 100 == 0 ? 1 + r.v[i] / 100 % 5 : 0;
        }
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

/* Rows of runs [1..nruns] with nsamples each: the database is the one this
 * program wrote. */
static int complete(sqlite3 *db, int nruns, int nsamples)
{
    sqlite3_stmt *q;
    int ok = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*), sum(samples) FROM runs WHERE state = 'done'", -1, &q, NULL) ==
        SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        ok = sqlite3_column_int64(q, 0) == nruns && sqlite3_column_int64(q, 1) == (int64_t)nruns * nsamples;
    sqlite3_finalize(q);
    return ok;
}

/* The baseline: step `SELECT *` over the samples of every run compared. */
static double scan(sqlite3 *db, const int64_t *ids, int n, int64_t *rows)
{
    sqlite3_stmt *q;
    double t0 = now_s();
    *rows = 0;
    if (sqlite3_prepare_v2(db, "SELECT * FROM samples WHERE run_id = ?1", -1, &q, NULL) != SQLITE_OK)
        return -1;
    for (int i = 0; i < n; i++) {
        sqlite3_reset(q);
        sqlite3_bind_int64(q, 1, ids[i]);
        while (sqlite3_step(q) == SQLITE_ROW)
            (*rows)++;
    }
    sqlite3_finalize(q);
    return now_s() - t0;
}

static int run(const char *path, int nruns, int nsamples, int groups, int linux_like, int reps, int keep)
{
    char err[256];
    struct pm_store *st = NULL;
    if (keep) {
        st = pm_store_open(path, PM_STORE_WRITE, err, sizeof err);
        if (st && !complete(pm_store_db(st), nruns, nsamples)) {
            pm_store_close(st);
            st = NULL;
        }
    }
    const char *name = groups       ? "outcome:fail vs outcome:pass"
                       : linux_like ? "two one-hour runs, Linux-like"
                                    : "two one-hour runs at 100 Hz";
    if (!st) {
        unlink(path);
        st = pm_store_open(path, PM_STORE_WRITE, err, sizeof err);
        if (!st) {
            fprintf(stderr, "bench_diff: %s\n", err);
            return 1;
        }
        uint64_t rng = 0x9E3779B97F4A7C15ull;
        double t0 = now_s();
        for (int r = 0; r < nruns; r++)
            if (plant(st, &rng, r, nsamples, groups && r % 4 == 0 ? 1 : 0, r % 4 == 0 ? 0.8 : 1.0, linux_like) < 0) {
                fprintf(stderr, "bench_diff: cannot write %s: %s\n", path, pm_store_errmsg(st));
                return 1;
            }
        printf("%-30s generated %d runs x %d samples in %.1f s\n", name, nruns, nsamples, now_s() - t0);
    }
    int64_t *a, *b, one[2] = {1, 2};
    int na = 1, nb = 1;
    if (groups) {
        na = pm_select_group(st, "outcome:fail", &a);
        nb = pm_select_group(st, "outcome:pass", &b);
        if (na < 1 || nb < 1) {
            fprintf(stderr, "bench_diff: cannot select the groups: %s\n", pm_store_errmsg(st));
            return 1;
        }
    } else {
        a = &one[0];
        b = &one[1];
    }
    int64_t *all = malloc((size_t)(na + nb) * sizeof *all);
    if (!all)
        return 1;
    memcpy(all, a, (size_t)na * sizeof *all);
    memcpy(all + na, b, (size_t)nb * sizeof *all);
    for (int rep = 0; rep < reps; rep++) {
        int64_t rows;
        double base = scan(pm_store_db(st), all, na + nb, &rows);
        struct pm_diff d;
        double ts = now_s();
        if (pm_diff_compute(pm_store_db(st), a, na, b, nb, &d, err, sizeof err) < 0) {
            fprintf(stderr, "bench_diff: %s\n", err);
            return 1;
        }
        double t = now_s() - ts;
        printf("%-30s %d vs %d runs, %lld rows: diff %.3f s, scan baseline %.3f s, ratio %.2f, top: %s\n", name,
               na, nb, (long long)rows, t, base, t / base, d.nmetrics ? d.metrics[0].key : "-");
        pm_diff_free(&d);
    }
    free(all);
    if (groups) {
        free(a);
        free(b);
    }
    pm_store_close(st);
    if (!keep)
        unlink(path);
    return 0;
}

int main(int argc, char **argv)
{
    int reps = 3, keep = 0, c;
    while ((c = getopt(argc, argv, "r:k")) != -1) {
        if (c == 'r')
            reps = atoi(optarg);
        else if (c == 'k')
            keep = 1;
        else {
            fprintf(stderr, "usage: bench_diff [-r REPS] [-k] [DIR]\n");
            return 2;
        }
    }
    const char *dir = optind < argc ? argv[optind] : "/tmp";
    char p1[512], p2[512], p3[512];
    snprintf(p1, sizeof p1, "%s/bench_diff_2x1h.db", dir);
    snprintf(p2, sizeof p2, "%s/bench_diff_2x1h_linux.db", dir);
    snprintf(p3, sizeof p3, "%s/bench_diff_50x60s.db", dir);
    return run(p1, 2, 360000, 0, 0, reps, keep) || run(p2, 2, 360000, 0, 1, reps, keep) ||
           run(p3, 50, 6000, 1, 0, reps, keep);
}
