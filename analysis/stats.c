/*
 * Robust statistics (see stats.h).  Quantiles use quickselect on the
 * caller's array: a one-hour run at 100 Hz is 360k values per metric, and
 * selecting the handful of order statistics a summary needs is several
 * times faster than sorting them.
 */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Quickselect with a median-of-three pivot and a Hoare partition that
 * stops on equal keys, so long runs of identical values (an idle counter
 * is all zeros) and already sorted input (memory filling up) stay O(n). */
#define PM_DEFINE_SELECT(NAME, T)                                                 \
    static void NAME(T *v, size_t lo, size_t hi, size_t k)                        \
    { /* on return v[k] is the k-th smallest of v[lo..hi] (inclusive) */          \
        while (hi > lo) {                                                         \
            size_t mid = lo + (hi - lo) / 2;                                      \
            T a = v[lo], b = v[mid], c = v[hi], p;                                \
            if (a < b)                                                            \
                p = b < c ? b : (a < c ? c : a);                                  \
            else                                                                  \
                p = a < c ? a : (b < c ? c : b);                                  \
            size_t i = lo, j = hi;                                                \
            for (;;) {                                                            \
                while (v[i] < p)                                                  \
                    i++;                                                          \
                while (p < v[j])                                                  \
                    j--;                                                          \
                if (i >= j)                                                       \
                    break;                                                        \
                T t = v[i];                                                       \
                v[i] = v[j];                                                      \
                v[j] = t;                                                         \
                i++;                                                              \
                j--;                                                              \
            }                                                                     \
            /* now v[lo..j] <= p <= v[j+1..hi] */                                 \
            if (k <= j)                                                           \
                hi = j;                                                           \
            else                                                                  \
                lo = j + 1;                                                       \
        }                                                                         \
    }                                                                             \
    /* Put each rank (sorted ascending, distinct) in place within [lo, hi]. */   \
    static void NAME##_ranks(T *v, size_t lo, size_t hi, const size_t *r, int nr) \
    {                                                                             \
        if (nr <= 0)                                                              \
            return;                                                               \
        int m = nr / 2;                                                           \
        NAME(v, lo, hi, r[m]);                                                    \
        if (m > 0 && r[m] > lo)                                                   \
            NAME##_ranks(v, lo, r[m] - 1, r, m);                                  \
        if (m + 1 < nr)                                                           \
            NAME##_ranks(v, r[m] + 1, hi, r + m + 1, nr - m - 1);                 \
    }

PM_DEFINE_SELECT(select_f, float)
PM_DEFINE_SELECT(select_d, double)

static const double summary_q[5] = {0.05, 0.25, 0.50, 0.75, 0.95};

/* Ranks needed for type-7 quantiles: floor(q(n-1)) and the one above. */
static int needed_ranks(size_t n, size_t *r)
{
    int nr = 0;
    for (int i = 0; i < 5; i++) {
        double h = summary_q[i] * (double)(n - 1);
        size_t k = (size_t)floor(h);
        for (size_t kk = k; kk <= k + 1 && kk < n; kk++)
            if (nr == 0 || r[nr - 1] != kk)
                r[nr++] = kk;
    }
    return nr;
}

static double interp(double lo, double hi, double frac)
{
    return frac == 0.0 ? lo : lo + (hi - lo) * frac;
}

#define PM_DEFINE_SUMMARIZE(NAME, T, SEL)                                          \
    void NAME(T *v, size_t n, struct pm_summary *s)                                \
    {                                                                              \
        memset(s, 0, sizeof *s);                                                   \
        if (n == 0) {                                                              \
            s->min = s->p05 = s->p25 = s->p50 = s->p75 = s->p95 = s->max = NAN;    \
            s->mean = NAN;                                                         \
            return;                                                                \
        }                                                                          \
        double sum = 0, mn = v[0], mx = v[0];                                      \
        for (size_t i = 0; i < n; i++) {                                           \
            sum += v[i];                                                           \
            if (v[i] < mn)                                                         \
                mn = v[i];                                                         \
            if (v[i] > mx)                                                         \
                mx = v[i];                                                         \
        }                                                                          \
        size_t r[10];                                                              \
        int nr = needed_ranks(n, r);                                               \
        SEL##_ranks(v, 0, n - 1, r, nr);                                           \
        double *out[5] = {&s->p05, &s->p25, &s->p50, &s->p75, &s->p95};            \
        for (int i = 0; i < 5; i++) {                                              \
            double h = summary_q[i] * (double)(n - 1);                             \
            size_t k = (size_t)floor(h);                                           \
            double hi = k + 1 < n ? v[k + 1] : v[k];                               \
            *out[i] = interp(v[k], hi, h - (double)k);                             \
        }                                                                          \
        s->n = n;                                                                  \
        s->min = mn;                                                               \
        s->max = mx;                                                               \
        s->mean = sum / (double)n;                                                 \
    }

PM_DEFINE_SUMMARIZE(pm_summarize_f, float, select_f)
PM_DEFINE_SUMMARIZE(pm_summarize_d, double, select_d)

double pm_quantile_d(double *v, size_t n, double q)
{
    if (n == 0)
        return NAN;
    if (q < 0)
        q = 0;
    if (q > 1)
        q = 1;
    double h = q * (double)(n - 1);
    size_t k = (size_t)floor(h);
    size_t r[2] = {k, k + 1};
    select_d_ranks(v, 0, n - 1, r, k + 1 < n ? 2 : 1);
    return interp(v[k], k + 1 < n ? v[k + 1] : v[k], h - (double)k);
}

double pm_mad(const double *v, size_t n)
{
    if (n == 0)
        return NAN;
    double *t = malloc(n * sizeof *t);
    if (!t)
        return NAN;
    memcpy(t, v, n * sizeof *t);
    double med = pm_quantile_d(t, n, 0.5);
    for (size_t i = 0; i < n; i++)
        t[i] = fabs(v[i] - med);
    double mad = pm_quantile_d(t, n, 0.5);
    free(t);
    return mad;
}

static int cmp_d(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

double pm_cliffs_delta(const double *a, size_t na, const double *b, size_t nb)
{
    if (na == 0 || nb == 0)
        return 0.0;
    double *sa = malloc(na * sizeof *sa), *sb = malloc(nb * sizeof *sb);
    if (!sa || !sb) {
        free(sa);
        free(sb);
        return 0.0;
    }
    memcpy(sa, a, na * sizeof *sa);
    memcpy(sb, b, nb * sizeof *sb);
    qsort(sa, na, sizeof *sa, cmp_d);
    qsort(sb, nb, sizeof *sb, cmp_d);
    /* For each a: how many b are below it (lt) and how many not above (le);
     * both pointers only move forward over the sorted b. */
    double greater = 0, less = 0;
    size_t lt = 0, le = 0;
    for (size_t i = 0; i < na; i++) {
        while (lt < nb && sb[lt] < sa[i])
            lt++;
        while (le < nb && sb[le] <= sa[i])
            le++;
        greater += (double)lt;
        less += (double)(nb - le);
    }
    free(sa);
    free(sb);
    return (greater - less) / ((double)na * (double)nb);
}

const char *pm_sparkline(const double *v, int n, double lo, double hi, char *buf, size_t len)
{
    /* U+2581..U+2588, LOWER ONE EIGHTH BLOCK .. FULL BLOCK */
    static const char *const bars[8] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                        "\u2585", "\u2586", "\u2587", "\u2588"};
    size_t o = 0;
    if (len == 0)
        return buf;
    for (int i = 0; i < n; i++) {
        const char *g;
        if (isnan(v[i])) {
            g = " ";
        } else {
            double f = hi > lo ? (v[i] - lo) / (hi - lo) : 0.0;
            int k = (int)floor(f * 8.0);
            k = k < 0 ? 0 : k > 7 ? 7 : k;
            g = bars[k];
        }
        size_t gl = strlen(g);
        if (o + gl + 1 > len)
            break;
        memcpy(buf + o, g, gl);
        o += gl;
    }
    buf[o] = 0;
    return buf;
}
