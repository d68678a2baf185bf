/*
 * Robust statistics for comparing recordings: quantiles by selection,
 * median absolute deviation, Cliff's delta, tumbling-window extremes and
 * sparklines.  Used by diff (analysis/diff.c) and by `show`.
 *
 * Why these: samples of pressure metrics are skewed and full of spikes, so
 * means and standard deviations mislead; quantiles, MAD and rank statistics
 * (Cliff's delta = P(a > b) - P(a < b), AUC = (delta + 1) / 2) do not care
 * about the shape of the distribution or about a few wild values.
 */
#ifndef PM_STATS_H
#define PM_STATS_H

#include <stddef.h>
#include <stdint.h>

/* One distribution in summary.  Quantiles interpolate linearly between
 * order statistics (type 7, what R and numpy do by default). */
struct pm_summary {
    size_t n;
    double min, p05, p25, p50, p75, p95, max, mean;
};

/* Summarize v[0..n) (no NaN) in O(n) expected time.  May reorder v
 * (selection, no full sort).  With n == 0 every field is NaN and n is 0.
 * Float arrays of PM_RADIX_MIN values and more take their quantiles by a
 * radix histogram pass (stats.c): same exact results, two passes. */
#define PM_RADIX_MIN 1024
void pm_summarize_f(float *v, size_t n, struct pm_summary *s);
void pm_summarize_d(double *v, size_t n, struct pm_summary *s);

/* The q-quantile (0..1) of v[0..n), reordering v.  NaN if n == 0. */
double pm_quantile_d(double *v, size_t n, double q);

/* Median absolute deviation around the median (unscaled: multiply by
 * 1.4826 for a normal-consistent sigma).  Does not modify v. */
double pm_mad(const double *v, size_t n);

/* Cliff's delta: P(a > b) - P(a < b) over all pairs, in [-1, 1], in
 * O((na + nb) log(na + nb)).  0 when either side is empty. */
double pm_cliffs_delta(const double *a, size_t na, const double *b, size_t nb);

/* Render v[0..n) as a sparkline of n UTF-8 block characters scaled to
 * [lo, hi]; NaN renders as a space.  Returns buf (always terminated). */
const char *pm_sparkline(const double *v, int n, double lo, double hi, char *buf, size_t len);

/* Counter rates over windows of at least PM_RATE_WINDOW_NS.  A counter's
 * delta over one 10 ms interval is not a rate the kernel can resolve:
 * /proc/stat counts CPU time in 10 ms ticks (and is read every 40 ms), and
 * the PSI totals are folded in lazily, so a 10 ms delta carries time that
 * belongs to its neighbours.  Measured on 2 CPUs with three busy loops
 * (docs/BENCHMARKS.md, "Counter rates"): per interval, cpu_user reached
 * 250% and psi_cpu_some 146%; over windows of >= 100 ms, 200.1% and 98.8%.
 * Consecutive deltas are merged until their time span reaches the window,
 * and the window's rate is its summed delta over its span. */
#define PM_RATE_WINDOW_NS 100000000LL

struct pm_rate_win {
    int64_t min_ns;      /* the shortest window */
    int64_t start_ns;    /* where the open window starts; INT64_MIN: none */
    double sum;          /* deltas in the open window */
    size_t emitted;      /* windows emitted so far */
};

void pm_rate_win_init(struct pm_rate_win *w, int64_t min_ns);
/* Add the delta `d` that accrued over (since_ns, t_ns].  Returns 1 and
 * the window's per-second rate in *rate when the open window reached
 * min_ns, else 0.  A gap (since_ns after the open window's end) cannot
 * happen with one column's deltas, which chain. */
int pm_rate_win_add(struct pm_rate_win *w, int64_t since_ns, int64_t t_ns, double d, double *rate);
/* At the end of the series: the open window's rate if no window was
 * emitted at all (a run shorter than min_ns still has a rate); a shorter
 * tail after full windows is left out, it would bring back the jitter.
 * Returns 1 with *rate, or 0.  `last_ns` is the series' last time. */
int pm_rate_win_finish(struct pm_rate_win *w, int64_t last_ns, double *rate);

/* Bytes a sparkline of n points needs, with the terminator. */
#define PM_SPARK_BYTES(n) ((size_t)(n) * 3 + 1)

#endif
