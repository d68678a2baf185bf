/*
 * Robust statistics (see stats.h).  Quantiles use quickselect on the
 * caller's array: a one-hour run at 100 Hz is 360k values per metric, and
 * selecting the handful of order statistics a summary needs is several
 * times faster than sorting them.  From PM_RADIX_MIN float values on, one
 * radix histogram pass narrows the selection to a few small buckets
 * first (radix_ranks_f): quickselect's repeated partitioning of the whole
 * array was the largest cost of a diff.
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
#define PM_MAX_RANKS 10 /* two order statistics per quantile */

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

/* Where rank k's value is among the selected ranks r[0..nr). */
static double rank_value(const size_t *r, const double *vals, int nr, size_t k)
{
    for (int i = 0; i < nr; i++)
        if (r[i] == k)
            return vals[i];
    return NAN; /* not reached: every rank read was selected */
}

/* A float's bits as an unsigned key with the same order (NaN excluded):
 * flip every bit of a negative, only the sign bit of a positive. */
static uint32_t fkey(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return (u & 0x80000000u) ? ~u : u | 0x80000000u;
}

/* Exact order statistics of a float array by one radix digit: a histogram
 * of the keys (one sequential pass) says which bucket holds each wanted
 * rank; a second pass copies only those buckets out, and quickselect
 * finishes inside them.  With ten ranks quickselect alone makes several
 * partitioning passes over all of v; this makes two reads and writes only
 * the candidates.  The digit adapts to the data: the keys from min to max
 * are cut into about n/4 equal buckets (at most 2^16), so a metric that
 * moves in a narrow band still spreads over many buckets.  If everything
 * falls into one bucket (a few distinct values) it is one copy and a
 * quickselect, as before.  v is not modified.  Writes the values of ranks
 * r[0..nr) (ascending, distinct) to out and returns 0; -1 without memory. */
static int radix_ranks_f(const float *v, size_t n, float mn, float mx, const size_t *r, int nr, double *out)
{
    uint32_t kmin = fkey(mn), range = fkey(mx) - kmin;
    if (range == 0) { /* constant (or only -0 and +0) */
        for (int i = 0; i < nr; i++)
            out[i] = mn;
        return 0;
    }
    int bits = 2, width = 1;
    while (bits < 16 && ((size_t)1 << (bits + 2)) < n)
        bits++;
    while (width < 32 && (range >> width) != 0)
        width++;
    int shift = width > bits ? width - bits : 0;
    size_t nb = ((size_t)range >> shift) + 1;
    uint32_t *hist = calloc(nb, sizeof *hist);
    uint8_t *slot = malloc(nb);
    float *cand = NULL;
    int ret = -1;
    if (!hist || !slot)
        goto out;
    for (size_t i = 0; i < n; i++)
        hist[(fkey(v[i]) - kmin) >> shift]++;
    memset(slot, 0xff, nb);
    size_t sbase[PM_MAX_RANKS], off[PM_MAX_RANKS + 1], fill[PM_MAX_RANKS];
    int rslot[PM_MAX_RANKS], ns = 0, j = 0;
    size_t base = 0;
    off[0] = 0;
    for (size_t b = 0; b < nb && j < nr; b++) {
        size_t c = hist[b];
        if (c && r[j] < base + c) {
            slot[b] = (uint8_t)ns;
            sbase[ns] = base;
            off[ns + 1] = off[ns] + c;
            while (j < nr && r[j] < base + c)
                rslot[j++] = ns;
            ns++;
        }
        base += c;
    }
    cand = malloc((off[ns] ? off[ns] : 1) * sizeof *cand);
    if (!cand)
        goto out;
    for (int k = 0; k < ns; k++)
        fill[k] = off[k];
    for (size_t i = 0; i < n; i++) {
        uint8_t k = slot[(fkey(v[i]) - kmin) >> shift];
        if (k != 0xff)
            cand[fill[k]++] = v[i];
    }
    for (int k = 0, q = 0; k < ns; k++) {
        size_t local[PM_MAX_RANKS];
        int nl = 0, first = q;
        for (; q < nr && rslot[q] == k; q++)
            local[nl++] = r[q] - sbase[k];
        /* A bucket of one repeated value (the zeros of an idle counter)
         * needs no selection, and quickselect would swap all of it. */
        float *c = cand + off[k], lo = c[0], hi = c[0];
        for (size_t i = 1; i < off[k + 1] - off[k] && lo == hi; i++) {
            lo = c[i] < lo ? c[i] : lo;
            hi = c[i] > hi ? c[i] : hi;
        }
        if (lo != hi)
            select_f_ranks(c, 0, off[k + 1] - off[k] - 1, local, nl);
        for (int i = 0; i < nl; i++)
            out[first + i] = cand[off[k] + local[i]];
    }
    ret = 0;
out:
    free(hist);
    free(slot);
    free(cand);
    return ret;
}

/* The order statistics r[0..nr) of v[0..n) (whose extremes are mn, mx) into
 * out: in place by quickselect, or (PM_RADIX_MIN float values and more) by
 * radix_ranks_f, which costs two passes instead of several. */
static void ranks_f(float *v, size_t n, double mn, double mx, const size_t *r, int nr, double *out)
{
    if (n < PM_RADIX_MIN || radix_ranks_f(v, n, (float)mn, (float)mx, r, nr, out) < 0) {
        select_f_ranks(v, 0, n - 1, r, nr);
        for (int i = 0; i < nr; i++)
            out[i] = v[r[i]];
    }
}

static void ranks_d(double *v, size_t n, double mn, double mx, const size_t *r, int nr, double *out)
{
    (void)mn;
    (void)mx;
    select_d_ranks(v, 0, n - 1, r, nr);
    for (int i = 0; i < nr; i++)
        out[i] = v[r[i]];
}

#define PM_DEFINE_SUMMARIZE(NAME, T, RANKS)                                        \
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
        size_t r[PM_MAX_RANKS];                                                    \
        double vals[PM_MAX_RANKS];                                                 \
        int nr = needed_ranks(n, r);                                               \
        RANKS(v, n, mn, mx, r, nr, vals);                                                \
        double *out[5] = {&s->p05, &s->p25, &s->p50, &s->p75, &s->p95};            \
        for (int i = 0; i < 5; i++) {                                              \
            double h = summary_q[i] * (double)(n - 1);                             \
            size_t k = (size_t)floor(h);                                           \
            double lo = rank_value(r, vals, nr, k);                                \
            double hi = k + 1 < n ? rank_value(r, vals, nr, k + 1) : lo;           \
            *out[i] = interp(lo, hi, h - (double)k);                               \
        }                                                                          \
        s->n = n;                                                                  \
        s->min = mn;                                                               \
        s->max = mx;                                                               \
        s->mean = sum / (double)n;                                                 \
    }

PM_DEFINE_SUMMARIZE(pm_summarize_f, float, ranks_f)
PM_DEFINE_SUMMARIZE(pm_summarize_d, double, ranks_d)

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

void pm_rate_win_init(struct pm_rate_win *w, int64_t min_ns)
{
    w->min_ns = min_ns > 0 ? min_ns : 1;
    w->start_ns = INT64_MIN;
    w->sum = 0;
    w->emitted = 0;
}

int pm_rate_win_add(struct pm_rate_win *w, int64_t since_ns, int64_t t_ns, double d, double *rate)
{
    if (t_ns <= since_ns)
        return 0;
    if (w->start_ns == INT64_MIN)
        w->start_ns = since_ns;
    w->sum += d;
    if (t_ns - w->start_ns < w->min_ns)
        return 0;
    *rate = w->sum * 1e9 / (double)(t_ns - w->start_ns);
    w->start_ns = t_ns;
    w->sum = 0;
    w->emitted++;
    return 1;
}

int pm_rate_win_finish(struct pm_rate_win *w, int64_t last_ns, double *rate)
{
    if (w->emitted || w->start_ns == INT64_MIN || last_ns <= w->start_ns)
        return 0;
    *rate = w->sum * 1e9 / (double)(last_ns - w->start_ns);
    w->emitted++;
    return 1;
}
