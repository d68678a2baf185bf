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

/* Summarize v[0..n) in O(n) expected time.  Reorders v (selection, no
 * full sort).  With n == 0 every field is NaN and n is 0. */
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

/* Bytes a sparkline of n points needs, with the terminator. */
#define PM_SPARK_BYTES(n) ((size_t)(n) * 3 + 1)

#endif
