/*
 * diff: compare runs or groups of runs metric by metric (see diff.h and
 * docs/DIFF.md for the statistics and why they were chosen).
 *
 * Cost model: a one-hour run at 100 Hz is 360k rows of ~45 columns.  Each
 * run is read with one query over its primary-key range, every metric is
 * accumulated in the same pass (values into a float array, sparkline
 * buckets, 1 s windows, time beyond threshold), then summarized by a radix
 * histogram plus selection (stats.c), and the arrays reused for the next
 * run: nothing is sorted.  Runs are read on up to one thread per CPU
 * (load_runs), each on its own connection, so memory peaks at one run's
 * worth of floats per thread (65 MB for a one-hour run).  What is left is
 * mostly SQLite decoding the rows (docs/BENCHMARKS.md, "## diff").
 */
#include "diff.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#define NS_PER_S 1000000000LL
/* Worst-window length: short enough to catch a burst, long enough that one
 * late 10 ms sample does not make a "window". */
#define PM_WINDOW_NS NS_PER_S
/* Rank-statistic threshold: Cliff's |delta| >= 0.474 is a "large" effect
 * (Romano et al. 2006), about AUC 0.74. */
#define PM_DELTA_LARGE 0.474
/* Relative part of the noise floor: changes under 1% of the values are noise. */
#define PM_FLOOR_REL 0.01
/* Reader threads at most: two already saturate the usual small CI runner,
 * and every thread holds one run's values (4 bytes x samples x metrics). */
#define PM_DIFF_THREADS 4
#define KIB 1024.0
#define MIB (1024.0 * 1024.0)

const char *pm_diff_stat_name(enum pm_diff_stat s)
{
    static const char *const n[] = {"min", "p05", "p50", "mean", "p95", "max"};
    return (unsigned)s < sizeof n / sizeof n[0] ? n[s] : "?";
}

static double stat_of(const struct pm_summary *s, enum pm_diff_stat st)
{
    switch (st) {
    case PM_STAT_MIN: return s->min;
    case PM_STAT_P05: return s->p05;
    case PM_STAT_P50: return s->p50;
    case PM_STAT_MEAN: return s->mean;
    case PM_STAT_P95: return s->p95;
    case PM_STAT_MAX: return s->max;
    }
    return NAN;
}

/* The statistic that is ranked: for a counter its mean rate (the total over
 * the time); for a lower-is-worse gauge its low tail (p05: how bad it got,
 * robust to one sample); for other pressure gauges the high tail; else the
 * median. */
static enum pm_diff_stat headline_stat(const struct pm_metric *m)
{
    if (m->kind == PM_COUNTER)
        return PM_STAT_MEAN;
    if (m->flags & PM_F_LOWER_IS_WORSE)
        return PM_STAT_P05;
    if (m->flags & PM_F_PRESSURE)
        return PM_STAT_P95;
    return PM_STAT_P50;
}

/* Smallest change that means something, per unit of the catalog (never per
 * metric: the catalog is the only list of metrics).  Counters are rates. */
static double unit_floor(const struct pm_metric *m)
{
    const char *u = m->unit;
    if (m->kind == PM_COUNTER) {
        if (!strcmp(u, "bytes"))
            return MIB; /* 1 MiB/s */
        if (!strcmp(u, "seconds"))
            return 0.02; /* 2% of one CPU, or of wall time stalled */
        return 1.0;      /* one fault / page / switch per second */
    }
    if (!strcmp(u, "bytes"))
        return 16 * MIB;
    if (!strcmp(u, "percent"))
        return 1.0;
    if (!strcmp(u, "level") || !strcmp(u, "tasks"))
        return 0.5;
    if (!strcmp(u, "ratio"))
        return 0.02;
    if (!strcmp(u, "load"))
        return 0.1;
    if (!strcmp(u, "celsius") || !strcmp(u, "threads"))
        return 1.0;
    return 0.0;
}

/* Pressure thresholds, by unit.  Returns 1 and the threshold if the metric
 * has one; *below says "beyond" means under it. */
static int pressure_threshold(const struct pm_metric *m, int ncpu, double *thr, int *below)
{
    *below = 0;
    if (!(m->flags & PM_F_PRESSURE))
        return 0;
    const char *u = m->unit;
    if (m->kind == PM_COUNTER) {
        /* seconds per second: stalled / stolen more than 10% of the time;
         * anything else (major faults, swap-ins, OOM kills): any at all */
        *thr = !strcmp(u, "seconds") ? 0.10 : 0.0;
        return 1;
    }
    if (!strcmp(u, "percent") && (m->flags & PM_F_LOWER_IS_WORSE)) {
        *thr = 10.0;
        *below = 1;
        return 1;
    }
    if (!strcmp(u, "percent")) {
        *thr = 0.0; /* cooling_max_pct: any CPU cooling device engaged at all */
        return 1;
    }
    if (!strcmp(u, "ratio")) {
        *thr = 0.90;
        return 1;
    }
    if (!strcmp(u, "level")) {
        *thr = 1.0; /* macOS memory pressure "warning" (2) and up; thermal "heavy" (2) and up */
        return 1;
    }
    if (!strcmp(u, "tasks") || !strcmp(u, "load")) {
        *thr = ncpu > 0 ? ncpu : 1; /* more runnable work than CPUs */
        return 1;
    }
    if (!strcmp(u, "celsius")) {
        *thr = 80.0;
        return 1;
    }
    return 0;
}

/* ---- per-run accumulation ----------------------------------------------- */

struct macc {
    float *v;
    size_t n, cap;
    double bsum[PM_DIFF_SPARK];
    int64_t bn[PM_DIFF_SPARK];
    double wsum;
    int64_t wn, widx;
    int have_worst;
    double worst;
    int64_t worst_at;
    int64_t above_ns, total_ns;
    int has_thr, below;
    double thr;
};

/* What one run contributes for one metric. */
struct mres {
    int present;
    struct pm_summary s;
    int has_thr;
    double above_frac, above_s, worst, worst_at_s;
    double spark[PM_DIFF_SPARK];
};

static int worse(double x, double than, int below)
{
    return below ? x < than : x > than;
}

static void acc_window_close(struct macc *a)
{
    if (a->wn == 0)
        return;
    double mean = a->wsum / (double)a->wn;
    if (!a->have_worst || worse(mean, a->worst, a->below)) {
        a->worst = mean;
        a->worst_at = a->widx * PM_WINDOW_NS;
        a->have_worst = 1;
    }
    a->wsum = 0;
    a->wn = 0;
}

/* Spark bucket and window of time t: computed once per row, not per metric. */
static int64_t bucket_of(int64_t t, int64_t span_ns)
{
    int64_t b = span_ns > 0 ? (int64_t)((double)t * PM_DIFF_SPARK / (double)span_ns) : 0;
    return b < 0 ? 0 : b >= PM_DIFF_SPARK ? PM_DIFF_SPARK - 1 : b;
}

/* Out of line: taken about 20 times per metric per run, the add itself
 * 16 million times per one-hour run. */
static int acc_grow(struct macc *a)
{
    size_t ncap = a->cap ? a->cap * 2 : 4096;
    float *p = realloc(a->v, ncap * sizeof *p);
    if (!p)
        return -1;
    a->v = p;
    a->cap = ncap;
    return 0;
}

static inline int acc_add_at(struct macc *a, int64_t b, int64_t w, int64_t dt, double x)
{
    if (a->n == a->cap && acc_grow(a) < 0)
        return -1;
    a->v[a->n++] = (float)x;
    a->bsum[b] += x;
    a->bn[b]++;
    if (w != a->widx) {
        acc_window_close(a);
        a->widx = w;
    }
    a->wsum += x;
    a->wn++;
    a->total_ns += dt;
    if (a->has_thr && (a->below ? x < a->thr : x > a->thr))
        a->above_ns += dt;
    return 0;
}

static int acc_add(struct macc *a, int64_t t, int64_t dt, double x, int64_t span_ns)
{
    return acc_add_at(a, bucket_of(t, span_ns), t / PM_WINDOW_NS, dt, x);
}

static void acc_finish(struct macc *a, struct mres *r)
{
    memset(r, 0, sizeof *r);
    for (int i = 0; i < PM_DIFF_SPARK; i++)
        r->spark[i] = NAN;
    if (a->n == 0)
        return;
    acc_window_close(a);
    r->present = 1;
    pm_summarize_f(a->v, a->n, &r->s);
    for (int i = 0; i < PM_DIFF_SPARK; i++)
        r->spark[i] = a->bn[i] ? a->bsum[i] / (double)a->bn[i] : NAN;
    r->has_thr = a->has_thr;
    r->above_s = (double)a->above_ns / NS_PER_S;
    r->above_frac = a->total_ns > 0 ? (double)a->above_ns / (double)a->total_ns : 0;
    r->worst = a->worst;
    r->worst_at_s = (double)a->worst_at / NS_PER_S;
}

static void acc_reset(struct macc *a, const struct pm_metric *m, int ncpu)
{
    float *v = a->v;
    size_t cap = a->cap;
    memset(a, 0, sizeof *a);
    a->v = v;
    a->cap = cap;
    a->widx = -1;
    a->has_thr = pressure_threshold(m, ncpu, &a->thr, &a->below);
    if (!a->has_thr)
        a->below = (m->flags & PM_F_LOWER_IS_WORSE) != 0;
}

/* ---- processes ------------------------------------------------------------ */

struct proc_row {
    int64_t pid, start_ns, end_ns;
    int has_end;
    char key[128];
    int has_exit, exit_code, signal;
    char killer[40];
    /* running state while reading proc_samples */
    int64_t last[PM_PROC_N];
    uint64_t have;
    int removed;
    double peak_rss, cpu_s;    /* peak_rss: the largest 40 ms sample, bytes */
    double kernel_rss;         /* wait4's high-water mark (procs.maxrss_kb), bytes; 0: not reaped by pressmon */
};

/* Per side, per command shape. */
struct pacc {
    char key[128];
    int last_run[2];
    int runs[2];
    int64_t count[2], failed[2], signaled[2];
    double peak_rss[2], cpu[2];
    int peak_kernel[2];        /* the side's peak is a wait4 figure, not a sample */
    int sigs[2][65];
    char killer[2][40];
};

struct pset {
    struct pacc *v;
    int n, cap;
};

void pm_diff_proc_key(const char *comm, const char *argv_json, char *key, size_t len)
{
    size_t o = 0;
    key[0] = 0;
    o += (size_t)snprintf(key, len, "%s", comm && *comm ? comm : "?");
    json_t *arr = argv_json ? json_loads(argv_json, 0, NULL) : NULL;
    if (json_is_array(arr)) {
        /* argv[0] is the program (comm says it); the arguments keep their
         * shape with digit runs folded to N, so "sleep 1" and "sleep 2", or
         * two temp directories, are the same command. */
        for (size_t i = 1; i < json_array_size(arr) && o + 2 < len; i++) {
            const char *s = json_string_value(json_array_get(arr, i));
            if (!s)
                continue;
            key[o++] = ' ';
            int in_digits = 0;
            size_t taken = 0;
            for (const char *p = s; *p && o + 1 < len && taken < 40; p++) {
                if (*p >= '0' && *p <= '9') {
                    if (!in_digits) {
                        key[o++] = 'N';
                        taken++;
                    }
                    in_digits = 1;
                    continue;
                }
                in_digits = 0;
                key[o++] = (*p == '\n' || *p == '\t') ? ' ' : *p;
                taken++;
            }
            key[o] = 0;
        }
    }
    json_decref(arr);
    if (o >= len)
        key[len - 1] = 0;
}

static struct pacc *pset_get(struct pset *ps, const char *key)
{
    for (int i = 0; i < ps->n; i++)
        if (!strcmp(ps->v[i].key, key))
            return &ps->v[i];
    if (ps->n == ps->cap) {
        int ncap = ps->cap ? ps->cap * 2 : 32;
        struct pacc *p = realloc(ps->v, (size_t)ncap * sizeof *p);
        if (!p)
            return NULL;
        ps->v = p;
        ps->cap = ncap;
    }
    struct pacc *e = &ps->v[ps->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->key, sizeof e->key, "%s", key);
    e->last_run[0] = e->last_run[1] = -1;
    return e;
}

/* ---- reading one run -------------------------------------------------- */

struct loader {
    sqlite3 *db;
    sqlite3_stmt *sys_q, *proc_q, *procs_q, *ev_q;
    struct macc acc[PM_DIFF_NMETRICS];
    char *err;
    size_t errlen;
};

static const struct pm_metric *metric_at(int i, enum pm_scope *scope)
{
    if (i < PM_SYS_N) {
        *scope = PM_SCOPE_SYSTEM;
        return &pm_sys_metrics[i];
    }
    *scope = PM_SCOPE_PROCESS;
    return &pm_proc_metrics[i - PM_SYS_N];
}

static int prepare(struct loader *L, const char *sql, sqlite3_stmt **q)
{
    if (sqlite3_prepare_v2(L->db, sql, -1, q, NULL) != SQLITE_OK) {
        snprintf(L->err, L->errlen, "cannot read the database: %s (is it a pressmon database?)",
                 sqlite3_errmsg(L->db));
        return -1;
    }
    return 0;
}

static int loader_init(struct loader *L)
{
    /* The column lists come from the catalog, in catalog order. */
    char sql[4096];
    size_t o = (size_t)snprintf(sql, sizeof sql, "SELECT t_ns");
    for (int i = 0; i < PM_SYS_N; i++)
        o += (size_t)snprintf(sql + o, sizeof sql - o, ", %s", pm_sys_metrics[i].column);
    snprintf(sql + o, sizeof sql - o, " FROM samples WHERE run_id = ?1 ORDER BY t_ns");
    if (prepare(L, sql, &L->sys_q) < 0)
        return -1;
    o = (size_t)snprintf(sql, sizeof sql, "SELECT pid, t_ns");
    for (int i = 0; i < PM_PROC_N; i++)
        o += (size_t)snprintf(sql + o, sizeof sql - o, ", %s", pm_proc_metrics[i].column);
    snprintf(sql + o, sizeof sql - o, " FROM proc_samples WHERE run_id = ?1 ORDER BY t_ns");
    if (prepare(L, sql, &L->proc_q) < 0)
        return -1;
    if (prepare(L,
                "SELECT pid, start_ns, end_ns, comm, argv, exit_code, signal, killer_pid, killer_comm, maxrss_kb "
                "FROM procs WHERE run_id = ?1 ORDER BY id",
                &L->procs_q) < 0)
        return -1;
    return prepare(L,
                   "SELECT kind, count(*) FROM events WHERE run_id = ?1 "
                   "AND kind NOT IN ('exec', 'fork', 'exit') GROUP BY kind UNION ALL "
                   "SELECT 'killed_by_signal', count(*) FROM procs WHERE run_id = ?1 AND signal IS NOT NULL",
                   &L->ev_q);
}

static void loader_free(struct loader *L)
{
    sqlite3_finalize(L->sys_q);
    sqlite3_finalize(L->proc_q);
    sqlite3_finalize(L->procs_q);
    sqlite3_finalize(L->ev_q);
    for (int i = 0; i < PM_DIFF_NMETRICS; i++)
        free(L->acc[i].v);
}

struct run_meta {
    struct pm_diff_run pub;
    int ncpu;
    int64_t proc_interval_ns, interval_ns, last_t;
};

static int load_meta(struct loader *L, int64_t id, struct run_meta *rm)
{
    sqlite3_stmt *q;
    if (prepare(L,
                "SELECT r.uid, r.label, r.state, r.host_id, h.hostname, h.cpu_count, r.duration_ns, "
                "r.exit_code, r.signal, r.outcome, r.samples, r.proc_interval_ns, r.interval_ns, "
                "(SELECT max(t_ns) FROM samples s WHERE s.run_id = r.id) "
                "FROM runs r JOIN hosts h ON h.id = r.host_id WHERE r.id = ?1",
                &q) < 0)
        return -1;
    sqlite3_bind_int64(q, 1, id);
    int rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        snprintf(L->err, L->errlen, "run %lld is not in the database (%s)", (long long)id,
                 rc == SQLITE_DONE ? "deleted?" : sqlite3_errmsg(L->db));
        sqlite3_finalize(q);
        return -1;
    }
    memset(rm, 0, sizeof *rm);
    struct pm_diff_run *r = &rm->pub;
    r->id = id;
#define TXT(col) (sqlite3_column_text(q, col) ? (const char *)sqlite3_column_text(q, col) : "")
    snprintf(r->uid, sizeof r->uid, "%s", TXT(0));
    snprintf(r->label, sizeof r->label, "%s", TXT(1));
    snprintf(r->state, sizeof r->state, "%s", TXT(2));
    r->host_id = sqlite3_column_int64(q, 3);
    snprintf(r->host, sizeof r->host, "%s", TXT(4));
    rm->ncpu = sqlite3_column_int(q, 5);
    rm->last_t = sqlite3_column_int64(q, 13);
    r->duration_ns = sqlite3_column_type(q, 6) == SQLITE_NULL ? rm->last_t : sqlite3_column_int64(q, 6);
    if (r->duration_ns < rm->last_t)
        r->duration_ns = rm->last_t;
    r->has_status = sqlite3_column_type(q, 7) != SQLITE_NULL || sqlite3_column_type(q, 8) != SQLITE_NULL;
    r->exit_code = sqlite3_column_int(q, 7);
    r->signal = sqlite3_column_int(q, 8);
    snprintf(r->outcome, sizeof r->outcome, "%s", TXT(9));
    r->samples = sqlite3_column_int64(q, 10);
    rm->proc_interval_ns = sqlite3_column_int64(q, 11);
    rm->interval_ns = sqlite3_column_int64(q, 12);
#undef TXT
    sqlite3_finalize(q);
    return 0;
}

static int oom(struct loader *L)
{
    snprintf(L->err, L->errlen, "out of memory while reading samples");
    return -1;
}

static int load_sys(struct loader *L, const struct run_meta *rm, int64_t span_ns)
{
    sqlite3_stmt *q = L->sys_q;
    sqlite3_reset(q);
    sqlite3_bind_int64(q, 1, rm->pub.id);
    int64_t prev = -1;
    int rc;
    /* pm_metric_value is linear: take its factor once, not per value. */
    double factor[PM_SYS_N];
    for (int i = 0; i < PM_SYS_N; i++)
        factor[i] = pm_metric_value(&pm_sys_metrics[i], 1);
    /* A value stands for the time since the previous non-NULL value of its
     * own column, and a counter is the delta over that time: slow sources
     * are not read every tick (catalog.h).  Before a column's first value
     * that time starts at the run's first row, where the counters were
     * first read (the first row itself stands for one interval). */
    int64_t since[PM_SYS_N];
    /* Counter rates over windows of >= 100 ms, as `show` gives them
     * (analysis/stats.h: a 10 ms delta of /proc/stat or of a PSI total is
     * not a rate the kernel resolves; read as one, psi_cpu_some reached
     * 146% and cpu_user 250% on 2 CPUs).  A window is weighted by its
     * length and counted at its end. */
    struct pm_rate_win win[PM_SYS_N];
    for (int i = 0; i < PM_SYS_N; i++)
        pm_rate_win_init(&win[i], PM_RATE_WINDOW_NS);
    int64_t last_t = -1;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t t = sqlite3_column_int64(q, 0);
        last_t = t;
        int64_t row_since = prev >= 0 ? prev : t - rm->interval_ns;
        if (prev < 0)
            for (int i = 0; i < PM_SYS_N; i++)
                since[i] = row_since;
        int64_t dt = t - row_since;
        int first = prev < 0;
        prev = t;
        if (dt <= 0)
            continue;
        int64_t b = bucket_of(t, span_ns), w = t / PM_WINDOW_NS;
        for (int i = 0; i < PM_SYS_N; i++) {
            /* NULL reads as 0: ask for the type only then, which halves
             * the calls into SQLite for the usual nonzero values. */
            int64_t raw = sqlite3_column_int64(q, i + 1);
            if (raw == 0 && sqlite3_column_type(q, i + 1) == SQLITE_NULL)
                continue; /* not read at this tick, or no such metric here */
            int64_t mdt = dt;
            if (since[i] != row_since) /* the column skipped rows */
                mdt = t - since[i];
            double x = (double)raw * factor[i];
            if (pm_sys_metrics[i].kind == PM_COUNTER) {
                int64_t ws = win[i].start_ns == INT64_MIN ? since[i] : win[i].start_ns;
                if (!pm_rate_win_add(&win[i], since[i], t, x, &x)) {
                    since[i] = t;
                    continue;
                }
                mdt = t - ws;
            }
            since[i] = t;
            if (acc_add_at(&L->acc[i], b, w, mdt, x) < 0)
                return oom(L);
        }
        if (first) /* every counter was first read here */
            for (int i = 0; i < PM_SYS_N; i++)
                since[i] = t;
    }
    if (rc != SQLITE_DONE) {
        snprintf(L->err, L->errlen, "cannot read samples of run %s: %s", rm->pub.uid, sqlite3_errmsg(L->db));
        return -1;
    }
    /* A run shorter than one window: its one rate. */
    for (int i = 0; last_t >= 0 && i < PM_SYS_N; i++) {
        int64_t ws = win[i].start_ns;
        double x;
        if (pm_sys_metrics[i].kind == PM_COUNTER && pm_rate_win_finish(&win[i], last_t, &x) &&
            acc_add_at(&L->acc[i], bucket_of(last_t, span_ns), last_t / PM_WINDOW_NS, last_t - ws, x) < 0)
            return oom(L);
    }
    return 0;
}

/* pid -> index of the procs row of the process that has that pid at the
 * time being read: open addressing, rebuilt per run.  A pid the kernel
 * handed out twice within a run names two rows; the samples, read in time
 * order, switch to the newer row once its process has started. */
struct pidmap {
    int64_t *pid;
    int *idx;
    size_t cap;
};

static int pidmap_init(struct pidmap *pm, int n)
{
    pm->cap = 16;
    while (pm->cap < (size_t)n * 2 + 1)
        pm->cap *= 2;
    pm->pid = malloc(pm->cap * sizeof *pm->pid);
    pm->idx = malloc(pm->cap * sizeof *pm->idx);
    if (!pm->pid || !pm->idx)
        return -1;
    for (size_t i = 0; i < pm->cap; i++)
        pm->idx[i] = -1;
    return 0;
}

static void pidmap_set(struct pidmap *pm, int64_t pid, int idx)
{
    size_t h = ((uint64_t)pid * 0x9E3779B97F4A7C15ull) & (pm->cap - 1);
    while (pm->idx[h] >= 0 && pm->pid[h] != pid)
        h = (h + 1) & (pm->cap - 1);
    pm->pid[h] = pid;
    pm->idx[h] = idx;
}

static int pidmap_get(const struct pidmap *pm, int64_t pid)
{
    size_t h = ((uint64_t)pid * 0x9E3779B97F4A7C15ull) & (pm->cap - 1);
    while (pm->idx[h] >= 0) {
        if (pm->pid[h] == pid)
            return pm->idx[h];
        h = (h + 1) & (pm->cap - 1);
    }
    return -1;
}

static int load_procs(struct loader *L, const struct run_meta *rm, struct proc_row **out, int *nout)
{
    sqlite3_stmt *q = L->procs_q;
    sqlite3_reset(q);
    sqlite3_bind_int64(q, 1, rm->pub.id);
    struct proc_row *p = NULL;
    int n = 0, cap = 0, rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            struct proc_row *np = realloc(p, (size_t)cap * sizeof *np);
            if (!np) {
                free(p);
                return oom(L);
            }
            p = np;
        }
        struct proc_row *r = &p[n++];
        memset(r, 0, sizeof *r);
        r->pid = sqlite3_column_int64(q, 0);
        r->start_ns = sqlite3_column_int64(q, 1);
        r->has_end = sqlite3_column_type(q, 2) != SQLITE_NULL;
        r->end_ns = sqlite3_column_int64(q, 2);
        pm_diff_proc_key((const char *)sqlite3_column_text(q, 3), (const char *)sqlite3_column_text(q, 4),
                         r->key, sizeof r->key);
        r->has_exit = sqlite3_column_type(q, 5) != SQLITE_NULL;
        r->exit_code = sqlite3_column_int(q, 5);
        r->signal = sqlite3_column_int(q, 6);
        r->kernel_rss = (double)sqlite3_column_int64(q, 9) * 1024.0;
        if (sqlite3_column_type(q, 8) != SQLITE_NULL)
            snprintf(r->killer, sizeof r->killer, "%.24s(%lld)", (const char *)sqlite3_column_text(q, 8),
                     (long long)sqlite3_column_int64(q, 7));
    }
    if (rc != SQLITE_DONE) {
        free(p);
        snprintf(L->err, L->errlen, "cannot read processes of run %s: %s", rm->pub.uid, sqlite3_errmsg(L->db));
        return -1;
    }
    *out = p;
    *nout = n;
    return 0;
}

/* (time, row) pairs, a row's end or start, sorted with plain qsort:
 * qsort_r differs between glibc and macOS. */
struct end_ref {
    int64_t end_ns;
    int idx;
};

static int cmp_end(const void *x, const void *y)
{
    const struct end_ref *a = x, *b = y;
    if (a->end_ns != b->end_ns)
        return (a->end_ns > b->end_ns) - (a->end_ns < b->end_ns);
    return (a->idx > b->idx) - (a->idx < b->idx);
}

/* The process tree as a whole: proc_samples hold a row only when a process
 * changed, so the tree's gauges are the sum of each live process's last
 * value, carried forward, evaluated on a grid of the run's process interval;
 * counter deltas are summed per grid cell and divided by its width. */
static int load_tree(struct loader *L, const struct run_meta *rm, struct proc_row *p, int np, int64_t span_ns)
{
    struct macc *acc = &L->acc[PM_SYS_N];
    if (np == 0)
        return 0;
    struct pidmap pm = {0};
    int *ends = malloc((size_t)np * sizeof *ends);
    int *starts = malloc((size_t)np * sizeof *starts);
    struct end_ref *refs = malloc((size_t)np * sizeof(*refs));
    if (!ends || !starts || !refs || pidmap_init(&pm, np) < 0) {
        free(ends);
        free(starts);
        free(refs);
        free(pm.pid);
        free(pm.idx);
        return oom(L);
    }
    /* The rows in order of start (a process that predates the run starts
     * at 0), for pidmap_set as the samples' time passes them. */
    for (int i = 0; i < np; i++)
        refs[i] = (struct end_ref){p[i].start_ns, i};
    qsort(refs, (size_t)np, sizeof(*refs), cmp_end);
    for (int i = 0; i < np; i++)
        starts[i] = refs[i].idx;
    int next_start = 0;
    int nends = 0;
    for (int i = 0; i < np; i++)
        if (p[i].has_end)
            ends[nends++] = i;
    for (int i = 0; i < nends; i++)
        refs[i] = (struct end_ref){p[ends[i]].end_ns, ends[i]};
    qsort(refs, (size_t)nends, sizeof(*refs), cmp_end);
    for (int i = 0; i < nends; i++)
        ends[i] = refs[i].idx;
    free(refs);
    int next_end = 0;

    int64_t cell = rm->proc_interval_ns > 0 ? rm->proc_interval_ns : 40000000;
    double gsum[PM_PROC_N] = {0}, csum[PM_PROC_N] = {0};
    uint64_t gpresent = 0, cpresent = 0;
    int64_t cell_start = -1;
    sqlite3_stmt *q = L->proc_q;
    sqlite3_reset(q);
    sqlite3_bind_int64(q, 1, rm->pub.id);
    int rc, ret = 0;

    /* Emit grid cells [cell_start, upto) with the state as it is. */
#define FLUSH_UNTIL(upto)                                                                              \
    while (cell_start >= 0 && cell_start + cell <= (upto)) {                                           \
        int64_t cell_end = cell_start + cell;                                                          \
        while (next_end < nends && p[ends[next_end]].end_ns < cell_end) {                              \
            struct proc_row *e = &p[ends[next_end++]];                                                 \
            for (int j = 0; j < PM_PROC_N; j++)                                                        \
                if (pm_proc_metrics[j].kind == PM_GAUGE && (e->have >> j & 1))                         \
                    gsum[j] -= pm_metric_value(&pm_proc_metrics[j], e->last[j]);                       \
            e->removed = 1;                                                                            \
        }                                                                                              \
        for (int j = 0; j < PM_PROC_N; j++) {                                                          \
            const struct pm_metric *m = &pm_proc_metrics[j];                                           \
            double x;                                                                                  \
            if (m->kind == PM_GAUGE) {                                                                 \
                if (!(gpresent >> j & 1))                                                              \
                    continue;                                                                          \
                x = gsum[j] < 0 ? 0 : gsum[j];                                                         \
            } else {                                                                                   \
                if (!(cpresent >> j & 1))                                                              \
                    continue;                                                                          \
                x = csum[j] / ((double)cell / NS_PER_S);                                               \
                csum[j] = 0;                                                                           \
            }                                                                                          \
            if (acc_add(&acc[j], cell_start, cell, x, span_ns) < 0) {                                  \
                ret = oom(L);                                                                          \
                goto out;                                                                              \
            }                                                                                          \
        }                                                                                              \
        cell_start = cell_end;                                                                         \
    }

    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t pid = sqlite3_column_int64(q, 0), t = sqlite3_column_int64(q, 1);
        if (cell_start < 0)
            cell_start = t - t % cell;
        FLUSH_UNTIL(t);
        while (next_start < np && p[starts[next_start]].start_ns <= t) {
            pidmap_set(&pm, p[starts[next_start]].pid, starts[next_start]);
            next_start++;
        }
        int k = pidmap_get(&pm, pid);
        if (k < 0 || p[k].removed)
            continue;
        struct proc_row *r = &p[k];
        for (int j = 0; j < PM_PROC_N; j++) {
            int64_t raw = sqlite3_column_int64(q, j + 2);
            if (raw == 0 && sqlite3_column_type(q, j + 2) == SQLITE_NULL)
                continue;
            const struct pm_metric *m = &pm_proc_metrics[j];
            double x = pm_metric_value(m, raw);
            if (m->kind == PM_GAUGE) {
                if (r->have >> j & 1)
                    gsum[j] -= pm_metric_value(m, r->last[j]);
                gsum[j] += x;
                r->last[j] = raw;
                r->have |= 1ull << j;
                gpresent |= 1ull << j;
                if (j == PM_M_P_RSS && x > r->peak_rss)
                    r->peak_rss = x;
            } else {
                csum[j] += x;
                cpresent |= 1ull << j;
                if (j == PM_M_P_CPU_USER || j == PM_M_P_CPU_SYSTEM)
                    r->cpu_s += x;
            }
        }
    }
    if (rc != SQLITE_DONE) {
        snprintf(L->err, L->errlen, "cannot read process samples of run %s: %s", rm->pub.uid,
                 sqlite3_errmsg(L->db));
        ret = -1;
        goto out;
    }
    /* Close the last cell, then carry on to the end of the run while
     * something is still alive. */
    if (cell_start >= 0) {
        int64_t end = rm->pub.duration_ns > cell_start ? rm->pub.duration_ns : cell_start + cell;
        FLUSH_UNTIL(end);
    }
#undef FLUSH_UNTIL
out:
    free(ends);
    free(starts);
    free(pm.pid);
    free(pm.idx);
    return ret;
}

static int load_events(struct loader *L, const struct run_meta *rm, int side, struct pm_diff *d, int *cap)
{
    sqlite3_stmt *q = L->ev_q;
    sqlite3_reset(q);
    sqlite3_bind_int64(q, 1, rm->pub.id);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(q, 0);
        int64_t c = sqlite3_column_int64(q, 1);
        if (!kind || c == 0)
            continue;
        struct pm_diff_event *e = NULL;
        for (int i = 0; i < d->nevents; i++)
            if (!strcmp(d->events[i].kind, kind))
                e = &d->events[i];
        if (!e) {
            if (d->nevents == *cap) {
                *cap = *cap ? *cap * 2 : 16;
                struct pm_diff_event *ne = realloc(d->events, (size_t)*cap * sizeof *ne);
                if (!ne)
                    return oom(L);
                d->events = ne;
            }
            e = &d->events[d->nevents++];
            memset(e, 0, sizeof *e);
            snprintf(e->kind, sizeof e->kind, "%s", kind);
        }
        if (side == 0) {
            e->count_a += c;
            e->runs_a++;
        } else {
            e->count_b += c;
            e->runs_b++;
        }
    }
    if (rc != SQLITE_DONE) {
        snprintf(L->err, L->errlen, "cannot read events of run %s: %s", rm->pub.uid, sqlite3_errmsg(L->db));
        return -1;
    }
    return 0;
}

static int add_procs(struct pset *ps, const struct proc_row *p, int np, int side, int run_index)
{
    for (int i = 0; i < np; i++) {
        struct pacc *e = pset_get(ps, p[i].key);
        if (!e)
            return -1;
        if (e->last_run[side] != run_index) {
            e->last_run[side] = run_index;
            e->runs[side]++;
        }
        e->count[side]++;
        /* The kernel's high-water mark where pressmon reaped the process
         * (a 40 ms sample misses a short spike: 173-194 MiB sampled for
         * 213 MiB); it covers the descendants it waited for, as a subtree
         * figure, which is what a command's peak in its tree is. */
        int kernel = p[i].kernel_rss > 0;
        double peak = kernel && p[i].kernel_rss >= p[i].peak_rss ? p[i].kernel_rss : p[i].peak_rss;
        if (peak > e->peak_rss[side]) {
            e->peak_rss[side] = peak;
            e->peak_kernel[side] = kernel;
        }
        e->cpu[side] += p[i].cpu_s;
        if (p[i].signal > 0) {
            e->signaled[side]++;
            e->sigs[side][p[i].signal < 65 ? p[i].signal : 0]++;
            if (p[i].killer[0] && !e->killer[side][0])
                snprintf(e->killer[side], sizeof e->killer[side], "%s", p[i].killer);
        } else if (p[i].has_exit && p[i].exit_code != 0) {
            e->failed[side]++;
        }
    }
    return 0;
}

/* ---- reading the runs in parallel -------------------------------------- */

/* Reading a run (SQLite row decoding, accumulation) and summarizing it
 * (selection) is nearly all of a diff's time, and runs are independent:
 * each worker thread takes the next unread run, on its own read-only
 * connection (a connection is used by one thread at a time), with its own
 * accumulators.  Results go to per-run slots; everything that merges runs
 * happens afterwards, in run order. */
struct job {
    struct run_meta *rm;
    int nr;
    int64_t span;
    struct mres *res;          /* [nr][PM_DIFF_NMETRICS] */
    struct proc_row **procs;   /* per run, kept for add_procs */
    int *np;
    atomic_int next;           /* next run to read */
    atomic_int failed;         /* a worker failed: the others stop */
};

struct worker {
    struct loader L;
    struct job *job;
    char err[256];
    pthread_t th;
    int ret;
};

static int load_one(struct loader *L, struct job *j, int r)
{
    for (int i = 0; i < PM_DIFF_NMETRICS; i++) {
        enum pm_scope sc;
        acc_reset(&L->acc[i], metric_at(i, &sc), j->rm[r].ncpu);
    }
    if (load_sys(L, &j->rm[r], j->span) < 0 || load_procs(L, &j->rm[r], &j->procs[r], &j->np[r]) < 0)
        return -1;
    if (load_tree(L, &j->rm[r], j->procs[r], j->np[r], j->span) < 0) {
        if (!L->err[0])
            oom(L);
        return -1;
    }
    for (int i = 0; i < PM_DIFF_NMETRICS; i++)
        acc_finish(&L->acc[i], &j->res[(size_t)r * PM_DIFF_NMETRICS + i]);
    return 0;
}

static int work(struct loader *L, struct job *j)
{
    int r;
    while (!atomic_load(&j->failed) && (r = atomic_fetch_add(&j->next, 1)) < j->nr)
        if (load_one(L, j, r) < 0) {
            atomic_store(&j->failed, 1);
            return -1;
        }
    return 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    w->ret = work(&w->L, w->job);
    return NULL;
}

/* Threads for reading: one per run, at most one per CPU and PM_DIFF_THREADS;
 * PRESSMON_DIFF_THREADS overrides (1: read serially, for comparison). */
static int thread_count(int nr)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    const char *e = getenv("PRESSMON_DIFF_THREADS");
    if (e && atoi(e) > 0)
        n = atoi(e);
    if (n > PM_DIFF_THREADS)
        n = PM_DIFF_THREADS;
    if (n > nr)
        n = nr;
    return n < 1 ? 1 : (int)n;
}

/* Read and summarize every run of j.  The calling thread reads too, on the
 * caller's connection (L).  A helper whose connection cannot be opened (an
 * in-memory database, a single-threaded SQLite) is simply not started: the
 * others read its share. */
static int load_runs(struct loader *L, struct job *j)
{
    struct worker w[PM_DIFF_THREADS];
    int nw = 0, nt = thread_count(j->nr);
    const char *path = sqlite3_db_filename(L->db, "main");
    if (!path || !*path || !sqlite3_threadsafe())
        nt = 1;
    for (int k = 1; k < nt; k++) {
        struct worker *x = &w[nw];
        memset(x, 0, sizeof *x);
        x->job = j;
        x->L.err = x->err;
        x->L.errlen = sizeof x->err;
        if (sqlite3_open_v2(path, &x->L.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
            sqlite3_close(x->L.db);
            break;
        }
        sqlite3_busy_timeout(x->L.db, 10000);
        if (loader_init(&x->L) < 0 || pthread_create(&x->th, NULL, worker_main, x) != 0) {
            loader_free(&x->L);
            sqlite3_close(x->L.db);
            break;
        }
        nw++;
    }
    int ret = work(L, j);
    for (int k = 0; k < nw; k++) {
        pthread_join(w[k].th, NULL);
        if (w[k].ret < 0 && ret == 0) {
            snprintf(L->err, L->errlen, "%s", w[k].err);
            ret = -1;
        }
        loader_free(&w[k].L);
        sqlite3_close(w[k].L.db);
    }
    return ret;
}

/* ---- putting it together ---------------------------------------------- */

static double median_of(double *v, int n)
{
    return n > 0 ? pm_quantile_d(v, (size_t)n, 0.5) : NAN;
}

/* Combine the runs of one side for metric i. */
static void side_combine(struct pm_diff_side *s, struct mres *const *rs, int n, enum pm_diff_stat st,
                         int below, double *headlines)
{
    memset(s, 0, sizeof *s);
    for (int k = 0; k < PM_DIFF_SPARK; k++)
        s->spark[k] = NAN;
    double *tmp = malloc((size_t)(n > 0 ? n : 1) * sizeof *tmp);
    int m = 0;
    for (int r = 0; r < n; r++)
        if (rs[r]->present)
            headlines[m++] = stat_of(&rs[r]->s, st);
    s->runs = m;
    if (m == 0 || !tmp) {
        s->s.min = s->s.p05 = s->s.p25 = s->s.p50 = s->s.p75 = s->s.p95 = s->s.max = s->s.mean = NAN;
        s->headline = s->worst = NAN;
        free(tmp);
        return;
    }
    /* Each statistic is the median over the side's runs: one wild run does
     * not move a group. */
    double *fields[8] = {&s->s.min, &s->s.p05, &s->s.p25, &s->s.p50, &s->s.p75, &s->s.p95, &s->s.max, &s->s.mean};
    for (int f = 0; f < 8; f++) {
        int c = 0;
        for (int r = 0; r < n; r++)
            if (rs[r]->present) {
                const struct pm_summary *x = &rs[r]->s;
                const double vals[8] = {x->min, x->p05, x->p25, x->p50, x->p75, x->p95, x->max, x->mean};
                tmp[c++] = vals[f];
            }
        *fields[f] = median_of(tmp, c);
    }
    for (int r = 0; r < n; r++)
        tmp[r] = headlines[r];
    s->headline = median_of(tmp, m);
    int first = 1;
    for (int r = 0; r < n; r++) {
        const struct mres *x = rs[r];
        if (!x->present)
            continue;
        s->s.n += x->s.n;
        s->has_threshold = x->has_thr;
        s->above_frac += x->above_frac / m;
        s->above_s += x->above_s / m;
        if (first || worse(x->worst, s->worst, below)) {
            s->worst = x->worst;
            s->worst_at_s = x->worst_at_s;
            first = 0;
        }
    }
    for (int k = 0; k < PM_DIFF_SPARK; k++) {
        double sum = 0;
        int c = 0;
        for (int r = 0; r < n; r++)
            if (rs[r]->present && !isnan(rs[r]->spark[k])) {
                sum += rs[r]->spark[k];
                c++;
            }
        s->spark[k] = c ? sum / c : NAN;
    }
    free(tmp);
}

static void rank_metric(struct pm_diff_metric *dm, int group_mode, const double *ha, int nha,
                        const double *hb, int nhb, const struct pm_summary *sa, const struct pm_summary *sb)
{
    dm->change = dm->a.headline - dm->b.headline;
    double mag = fmax(fabs(dm->a.headline), fabs(dm->b.headline));
    dm->floor = fmax(unit_floor(dm->m), PM_FLOOR_REL * mag);
    if (dm->a.runs == 0 || dm->b.runs == 0 || isnan(dm->change)) {
        dm->effect = dm->score = 0;
        dm->significant = 0;
        return;
    }
    double damp = dm->floor > 0 ? fmin(1.0, fabs(dm->change) / dm->floor) : 1.0;
    if (!group_mode) {
        /* Within-run variability: pooled IQR as a robust sigma. */
        double ia = (sa->p75 - sa->p25) / 1.349, ib = (sb->p75 - sb->p25) / 1.349;
        double scale = sqrt((ia * ia + ib * ib) / 2);
        double denom = fmax(scale, dm->floor);
        dm->effect = denom > 0 ? dm->change / denom : 0;
        dm->score = fabs(dm->effect);
        dm->significant = fabs(dm->effect) >= 1.0 && fabs(dm->change) >= dm->floor && dm->floor >= 0 &&
                          dm->change != 0;
        dm->aux = dm->effect;
    } else {
        dm->effect = pm_cliffs_delta(ha, (size_t)nha, hb, (size_t)nhb);
        dm->score = fabs(dm->effect) * damp;
        double sigma = 1.4826 * sqrt((pow(pm_mad(ha, (size_t)nha), 2) + pow(pm_mad(hb, (size_t)nhb), 2)) / 2);
        double denom = fmax(sigma, dm->floor);
        dm->aux = denom > 0 ? dm->change / denom : 0;
        dm->significant = fabs(dm->effect) >= PM_DELTA_LARGE && fabs(dm->change) >= dm->floor && dm->change != 0;
    }
}

static int cmp_metric(const void *x, const void *y)
{
    const struct pm_diff_metric *a = x, *b = y;
    if (a->significant != b->significant)
        return b->significant - a->significant;
    if (a->score != b->score)
        return a->score < b->score ? 1 : -1;
    if (fabs(a->aux) != fabs(b->aux))
        return fabs(a->aux) < fabs(b->aux) ? 1 : -1;
    return strcmp(a->key, b->key);
}

static int cmp_proc(const void *x, const void *y)
{
    const struct pm_diff_proc *a = x, *b = y;
    if (a->score != b->score)
        return a->score < b->score ? 1 : -1;
    return strcmp(a->key, b->key);
}

static void metric_name(const struct pm_metric *m, enum pm_scope scope, char *buf, size_t len)
{
    /* From the Prometheus name: drop the unit and _total, underscores to spaces. */
    char t[64];
    snprintf(t, sizeof t, "%s", m->prom);
    static const char *const suffix[] = {"_total", "_bytes", "_seconds", "_percent", "_ratio", "_celsius"};
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
            size_t n = strlen(t), s = strlen(suffix[i]);
            if (n > s && !strcmp(t + n - s, suffix[i]))
                t[n - s] = 0;
        }
    for (char *p = t; *p; p++)
        if (*p == '_')
            *p = ' ';
    snprintf(buf, len, "%s%.56s", scope == PM_SCOPE_PROCESS ? "tree: " : "", t);
}

static int most_common_sig(const int *sigs)
{
    int best = 0;
    for (int s = 1; s < 65; s++)
        if (sigs[s] > sigs[best] || (best == 0 && sigs[s] > 0))
            best = s;
    return sigs[best] > 0 ? best : 0;
}

int pm_diff_compute(sqlite3 *db, const int64_t *a, int na, const int64_t *b, int nb, struct pm_diff *d,
                    char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    struct loader L = {.db = db, .err = err, .errlen = errlen};
    int nr = na + nb, ret = -1, evcap = 0;
    struct run_meta *rm = calloc((size_t)nr, sizeof *rm);
    struct mres *res = calloc((size_t)nr * PM_DIFF_NMETRICS, sizeof *res);
    struct pset ps = {0};
    struct mres **col = calloc((size_t)nr, sizeof *col);
    double *hbuf = calloc((size_t)nr, sizeof *hbuf);
    struct proc_row **procs = calloc((size_t)nr, sizeof *procs);
    int *np = calloc((size_t)nr, sizeof *np);
    if (!rm || !res || !col || !hbuf || !procs || !np) {
        oom(&L);
        goto out;
    }
    if (loader_init(&L) < 0)
        goto out;
    d->group_mode = na > 1 || nb > 1;
    d->na = na;
    d->nb = nb;
    int64_t span = 0;
    for (int r = 0; r < nr; r++) {
        if (load_meta(&L, r < na ? a[r] : b[r - na], &rm[r]) < 0)
            goto out;
        if (rm[r].pub.duration_ns > span)
            span = rm[r].pub.duration_ns;
        if (!strcmp(rm[r].pub.state, "recording"))
            d->recording++;
        if (rm[r].pub.host_id != rm[0].pub.host_id)
            d->different_hosts = 1;
    }
    /* Sparklines share one time axis: time since each run's start, up to the
     * longest run, so a shorter run simply ends early. */
    d->span_s = (double)span / NS_PER_S;
    struct job job = {.rm = rm, .nr = nr, .span = span, .res = res, .procs = procs, .np = np};
    if (load_runs(&L, &job) < 0)
        goto out;
    /* Per-side merges in run order, as a serial read would do them: the
     * result does not depend on which thread read which run. */
    for (int r = 0; r < nr; r++) {
        int side = r < na ? 0 : 1;
        if (add_procs(&ps, procs[r], np[r], side, r) < 0) {
            oom(&L);
            goto out;
        }
        if (load_events(&L, &rm[r], side, d, &evcap) < 0) {
            if (!err[0])
                oom(&L);
            goto out;
        }
    }

    d->ra = malloc((size_t)na * sizeof *d->ra);
    d->rb = malloc((size_t)nb * sizeof *d->rb);
    d->metrics = calloc(PM_DIFF_NMETRICS, sizeof *d->metrics);
    if (!d->ra || !d->rb || !d->metrics) {
        oom(&L);
        goto out;
    }
    for (int r = 0; r < na; r++)
        d->ra[r] = rm[r].pub;
    for (int r = 0; r < nb; r++)
        d->rb[r] = rm[na + r].pub;

    for (int i = 0; i < PM_DIFF_NMETRICS; i++) {
        enum pm_scope sc;
        const struct pm_metric *m = metric_at(i, &sc);
        struct pm_diff_metric *dm = &d->metrics[d->nmetrics];
        memset(dm, 0, sizeof *dm);
        dm->scope = sc;
        dm->m = m;
        dm->stat = headline_stat(m);
        metric_name(m, sc, dm->name, sizeof dm->name);
        snprintf(dm->key, sizeof dm->key, "%s%s", sc == PM_SCOPE_PROCESS ? "tree." : "", m->column);
        int below;
        double thr;
        int has = pressure_threshold(m, rm[0].ncpu, &thr, &below);
        dm->threshold = has ? thr : NAN;
        dm->threshold_below = has ? below : (m->flags & PM_F_LOWER_IS_WORSE) != 0;
        for (int r = 0; r < na; r++)
            col[r] = &res[(size_t)r * PM_DIFF_NMETRICS + i];
        side_combine(&dm->a, col, na, dm->stat, dm->threshold_below, hbuf);
        int nha = dm->a.runs;
        double *ha = malloc((size_t)(nha ? nha : 1) * sizeof *ha);
        if (!ha) {
            oom(&L);
            goto out;
        }
        memcpy(ha, hbuf, (size_t)nha * sizeof *ha);
        for (int r = 0; r < nb; r++)
            col[r] = &res[(size_t)(na + r) * PM_DIFF_NMETRICS + i];
        side_combine(&dm->b, col, nb, dm->stat, dm->threshold_below, hbuf);
        if (dm->a.runs == 0 && dm->b.runs == 0) {
            free(ha);
            continue; /* neither side recorded it (not on this platform) */
        }
        rank_metric(dm, d->group_mode, ha, nha, hbuf, dm->b.runs, &dm->a.s, &dm->b.s);
        free(ha);
        d->nmetrics++;
    }
    qsort(d->metrics, (size_t)d->nmetrics, sizeof *d->metrics, cmp_metric);

    d->procs = calloc((size_t)(ps.n ? ps.n : 1), sizeof *d->procs);
    if (!d->procs) {
        oom(&L);
        goto out;
    }
    for (int i = 0; i < ps.n; i++) {
        const struct pacc *e = &ps.v[i];
        struct pm_diff_proc *p = &d->procs[d->nprocs++];
        snprintf(p->key, sizeof p->key, "%s", e->key);
        p->runs_a = e->runs[0];
        p->runs_b = e->runs[1];
        p->count_a = e->count[0];
        p->count_b = e->count[1];
        p->peak_rss_a = e->peak_rss[0];
        p->peak_rss_b = e->peak_rss[1];
        p->peak_kernel_a = e->peak_kernel[0];
        p->peak_kernel_b = e->peak_kernel[1];
        p->cpu_a = e->cpu[0] / na;
        p->cpu_b = e->cpu[1] / nb;
        p->failed_a = e->failed[0];
        p->failed_b = e->failed[1];
        p->signaled_a = e->signaled[0];
        p->signaled_b = e->signaled[1];
        p->sig_a = most_common_sig(e->sigs[0]);
        p->sig_b = most_common_sig(e->sigs[1]);
        snprintf(p->killer_a, sizeof p->killer_a, "%s", e->killer[0]);
        snprintf(p->killer_b, sizeof p->killer_b, "%s", e->killer[1]);
        /* Present on one side only, then kills, then failures, then how many
         * and how big: the things that explain a failure come first. */
        double ca = (double)p->count_a / na, cb = (double)p->count_b / nb;
        double s = 0;
        if ((p->runs_a > 0) != (p->runs_b > 0))
            s += 4;
        s += 3 * fabs((double)p->signaled_a / na - (double)p->signaled_b / nb) / fmax(1, fmax(ca, cb));
        s += 2 * fabs((double)p->failed_a / na - (double)p->failed_b / nb) / fmax(1, fmax(ca, cb));
        s += fabs(ca - cb) / fmax(ca, cb);
        double rmax = fmax(p->peak_rss_a, p->peak_rss_b);
        if (rmax > 16 * MIB) /* a big process that grew or appeared matters more than a shell */
            s += 2 * fabs(p->peak_rss_a - p->peak_rss_b) / rmax * fmin(4, log2(rmax / (16 * MIB)) + 1);
        p->score = s;
    }
    qsort(d->procs, (size_t)d->nprocs, sizeof *d->procs, cmp_proc);
    ret = 0;
out:
    loader_free(&L);
    free(rm);
    free(res);
    free(col);
    free(hbuf);
    for (int r = 0; procs && r < nr; r++)
        free(procs[r]);
    free(procs);
    free(np);
    free(ps.v);
    if (ret < 0)
        pm_diff_free(d);
    return ret;
}

void pm_diff_free(struct pm_diff *d)
{
    free(d->ra);
    free(d->rb);
    free(d->metrics);
    free(d->events);
    free(d->procs);
    memset(d, 0, sizeof *d);
}

const char *pm_diff_fmt(const struct pm_metric *m, double v, char *buf, size_t len)
{
    if (isnan(v)) {
        snprintf(buf, len, "-");
        return buf;
    }
    const char *u = m->unit;
    int rate = m->kind == PM_COUNTER;
    if (!strcmp(u, "bytes")) {
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        double x = fabs(v);
        int k = 0;
        while (x >= 1024 && k < 4) {
            x /= 1024;
            k++;
        }
        snprintf(buf, len, "%s%.*f %s%s", v < 0 ? "-" : "", k == 0 || x >= 100 ? 0 : 1, x, units[k],
                 rate ? "/s" : "");
    } else if (!strcmp(u, "seconds") && rate) {
        /* seconds per second: a share of one CPU, or of wall time stalled */
        snprintf(buf, len, "%.1f%%", v * 100);
    } else if (!strcmp(u, "percent")) {
        snprintf(buf, len, "%.1f%%", v);
    } else if (!strcmp(u, "ratio")) {
        snprintf(buf, len, "%.0f%%", v * 100);
    } else if (!strcmp(u, "celsius")) {
        snprintf(buf, len, "%.1f C", v);
    } else {
        double x = fabs(v);
        const char *sfx = "";
        if (x >= 1e6) {
            v /= 1e6;
            sfx = "M";
        } else if (x >= 1e4) {
            v /= 1e3;
            sfx = "k";
        }
        snprintf(buf, len, "%.*f%s%s", fabs(v) >= 100 || (v == floor(v) && !rate) ? 0 : 2, v, sfx,
                 rate ? "/s" : "");
    }
    return buf;
}

const char *pm_diff_reading(const struct pm_diff_metric *dm, const char *name_a, const char *name_b,
                            char *buf, size_t len)
{
    char va[32], vb[32];
    pm_diff_fmt(dm->m, dm->a.headline, va, sizeof va);
    pm_diff_fmt(dm->m, dm->b.headline, vb, sizeof vb);
    if (dm->a.runs == 0 || dm->b.runs == 0) {
        snprintf(buf, len, "%s was recorded only in %s", dm->name, dm->a.runs ? name_a : name_b);
    } else if (dm->change == 0 || !dm->significant) {
        snprintf(buf, len, "%s: no difference above the noise floor (%s %s vs %s)", dm->name,
                 pm_diff_stat_name(dm->stat), va, vb);
    } else {
        const char *what = dm->m->kind == PM_COUNTER ? " (rate)" : "";
        snprintf(buf, len, "%s%s was %s in %s: %s %s vs %s", dm->name, what,
                 dm->change > 0 ? "higher" : "lower", name_a, pm_diff_stat_name(dm->stat), va, vb);
        (void)name_b;
    }
    return buf;
}
