/*
 * diff: what separates one run (or group of runs) from another
 * (DESIGN.md §7, docs/DIFF.md).
 *
 * pm_diff_compute reads each run once (one query for its system samples,
 * one for its process samples), summarizes every catalog metric in one pass,
 * then ranks the metrics by a robust effect size with a noise floor:
 *   - one run per side: the difference of the headline statistic divided by
 *     the runs' own variability (pooled IQR / 1.349), never by less than the
 *     metric unit's noise floor;
 *   - groups: Cliff's delta of the per-run headline statistic across runs
 *     (AUC = (delta + 1) / 2), damped when the difference is under the floor.
 * Metrics whose difference is under the floor are never "significant" and
 * always rank after those that are: "0 to 0.001" never comes first.
 * Sign convention everywhere: positive = side A higher than side B.
 *
 * Rendering (text, JSON, Markdown) is cli/diff.c's job; this module only
 * computes.  It does not print.
 */
#ifndef PM_DIFF_H
#define PM_DIFF_H

#include <stdint.h>

#include <sqlite3.h>

#include "../sampler/catalog.h"
#include "stats.h"

#define PM_DIFF_SPARK 24     /* sparkline points: buckets of time since start */
#define PM_DIFF_NMETRICS (PM_SYS_N + PM_PROC_N)

enum pm_diff_stat { PM_STAT_MIN, PM_STAT_P05, PM_STAT_P50, PM_STAT_MEAN, PM_STAT_P95, PM_STAT_MAX };
const char *pm_diff_stat_name(enum pm_diff_stat s);

/* One metric on one side (a run, or the median over a group's runs). */
struct pm_diff_side {
    int runs;                  /* runs of the side that have this metric */
    struct pm_summary s;       /* values in the metric's unit; counters as rates per second */
    double headline;           /* the ranked statistic (median over runs for groups) */
    int has_threshold;
    double above_frac;         /* fraction of time beyond the threshold (mean over runs) */
    double above_s;            /* seconds beyond the threshold (mean over runs) */
    double worst;              /* worst 1 s window mean (worst over runs) */
    double worst_at_s;         /* where it started, seconds since the run's start */
    double spark[PM_DIFF_SPARK]; /* bucket means over the common time axis; NaN: no data */
};

struct pm_diff_metric {
    enum pm_scope scope;       /* PROCESS: aggregated over the whole recorded tree */
    const struct pm_metric *m;
    char name[64];             /* "memory available", "tree: process resident memory" */
    char key[48];              /* stable JSON key: column, "tree." prefix for the tree */
    enum pm_diff_stat stat;
    struct pm_diff_side a, b;
    double threshold;          /* the pressure threshold, when has_threshold */
    int threshold_below;       /* 1: "beyond" means below (lower is worse) */
    double change;             /* a.headline - b.headline */
    double floor;              /* noise floor of the change, in the metric's unit */
    double effect;             /* standardized difference, or Cliff's delta (groups) */
    double score;              /* ranking key */
    int significant;           /* above the noise floor and the effect threshold */
    double aux;                /* groups: change / pooled across-run MAD sigma (tie-break) */
};

/* Events of one kind on one side. */
struct pm_diff_event {
    char kind[24];
    int64_t count_a, count_b;  /* events in all runs of the side */
    int runs_a, runs_b;        /* runs with at least one */
};

/* Processes matched by command shape: comm + argv with digits folded. */
struct pm_diff_proc {
    char key[128];
    int runs_a, runs_b;        /* runs where it appears */
    int64_t count_a, count_b;  /* processes */
    double peak_rss_a, peak_rss_b; /* bytes, max over the side */
    int peak_kernel_a, peak_kernel_b; /* 1: that peak is wait4's high-water mark; 0: the
                                       * largest 40 ms sample, which misses a shorter spike */
    double cpu_a, cpu_b;       /* CPU seconds, mean per run of the side */
    int64_t failed_a, failed_b;    /* nonzero exits */
    int64_t signaled_a, signaled_b;
    int sig_a, sig_b;          /* the most common terminating signal, 0 if none */
    char killer_a[40], killer_b[40]; /* "comm(pid)" of a known sender, if any */
    double score;
};

struct pm_diff_run {
    int64_t id;
    char uid[17];
    char label[64];
    char host[64];
    char state[16];
    int64_t host_id;
    int64_t duration_ns;       /* last sample time when still recording */
    int has_status, exit_code, signal;
    char outcome[8];
    int64_t samples;
};

struct pm_diff {
    int group_mode;            /* 0: one run per side */
    int na, nb;
    struct pm_diff_run *ra, *rb;
    int different_hosts;
    int recording;             /* runs still recording (compared as far as written) */
    int nmetrics;
    struct pm_diff_metric *metrics; /* ranked, best first */
    int nevents;
    struct pm_diff_event *events;
    int nprocs;
    struct pm_diff_proc *procs;    /* ranked: one-side-only and kills first */
    double span_s;             /* common time axis of the sparklines */
};

/* Compare the runs a[0..na) with b[0..nb) (integer run ids, both na, nb >= 1).
 * Returns 0 or -1 with a message in err. */
int pm_diff_compute(sqlite3 *db, const int64_t *a, int na, const int64_t *b, int nb, struct pm_diff *out,
                    char *err, size_t errlen);
void pm_diff_free(struct pm_diff *d);

/* Helpers shared with the renderers and `show`. */
/* Format a value of metric m (a rate for counters) with its unit: "3.1 GiB",
 * "42%", "12.0/s", "1.5 MiB/s". */
const char *pm_diff_fmt(const struct pm_metric *m, double v, char *buf, size_t len);
/* One line of plain language: "memory available was lower in the failing
 * runs: p05 1.2 GiB vs 3.4 GiB". */
const char *pm_diff_reading(const struct pm_diff_metric *dm, const char *name_a, const char *name_b,
                            char *buf, size_t len);
/* The "command shape" key used to match processes across runs. */
void pm_diff_proc_key(const char *comm, const char *argv_json, char *key, size_t len);

#endif
