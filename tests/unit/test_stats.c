/*
 * analysis/stats.c against brute-force references: quantiles against a full
 * sort, Cliff's delta against the O(n^2) pair count, on random, sorted,
 * reversed and tie-heavy inputs.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis/stats.h"

/* cmocka 1.1 has no assert_near: compare and show both values. */
#define assert_near(a, b, eps) assert_near_at((a), (b), (eps), #a, __FILE__, __LINE__)
static void assert_near_at(double a, double b, double eps, const char *what, const char *file, int line)
{
    if (!(fabs(a - b) <= eps)) {
        print_error("%s = %.17g, expected %.17g (within %g)\n", what, a, b, eps);
        _fail(file, line);
    }
}

static int cmp_d(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Type-7 quantile of a sorted array. */
static double ref_q(const double *s, size_t n, double q)
{
    double h = q * (double)(n - 1);
    size_t k = (size_t)floor(h);
    return k + 1 < n ? s[k] + (s[k + 1] - s[k]) * (h - (double)k) : s[k];
}

static void check_summary(const double *orig, size_t n)
{
    double *s = malloc(n * sizeof *s), *d = malloc(n * sizeof *d);
    float *f = malloc(n * sizeof *f);
    memcpy(s, orig, n * sizeof *s);
    memcpy(d, orig, n * sizeof *d);
    for (size_t i = 0; i < n; i++)
        f[i] = (float)orig[i];
    qsort(s, n, sizeof *s, cmp_d);
    struct pm_summary sd, sf;
    pm_summarize_d(d, n, &sd);
    pm_summarize_f(f, n, &sf);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += s[i];
    assert_int_equal(sd.n, n);
    assert_near(sd.min, s[0], 1e-9);
    assert_near(sd.max, s[n - 1], 1e-9);
    assert_near(sd.mean, sum / (double)n, 1e-6);
    assert_near(sd.p05, ref_q(s, n, 0.05), 1e-9);
    assert_near(sd.p25, ref_q(s, n, 0.25), 1e-9);
    assert_near(sd.p50, ref_q(s, n, 0.50), 1e-9);
    assert_near(sd.p75, ref_q(s, n, 0.75), 1e-9);
    assert_near(sd.p95, ref_q(s, n, 0.95), 1e-9);
    /* float path: values here are small integers or halves, exact in float */
    assert_near(sf.p05, sd.p05, 1e-3);
    assert_near(sf.p50, sd.p50, 1e-3);
    assert_near(sf.p95, sd.p95, 1e-3);
    free(s);
    free(d);
    free(f);
}

static void test_quantiles(void **state)
{
    (void)state;
    srand(7);
    size_t sizes[] = {1, 2, 3, 5, 10, 101, 1000, 4097};
    double *v = malloc(5000 * sizeof *v);
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        for (size_t i = 0; i < n; i++) /* random */
            v[i] = (double)(rand() % 1000) / 2.0;
        check_summary(v, n);
        for (size_t i = 0; i < n; i++) /* many ties */
            v[i] = (double)(rand() % 3);
        check_summary(v, n);
        for (size_t i = 0; i < n; i++) /* sorted */
            v[i] = (double)i;
        check_summary(v, n);
        for (size_t i = 0; i < n; i++) /* reversed */
            v[i] = (double)(n - i);
        check_summary(v, n);
        for (size_t i = 0; i < n; i++) /* constant */
            v[i] = 4.0;
        check_summary(v, n);
    }
    free(v);
}

static int cmp_f(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return (a > b) - (a < b);
}

/* The float path above PM_RADIX_MIN values (radix histogram, then
 * quickselect inside the buckets) against a full sort of the same floats:
 * the quantiles must be exactly the type-7 ones, whatever the shape. */
static void check_summary_f(const float *orig, size_t n)
{
    float *f = malloc(n * sizeof *f), *s = malloc(n * sizeof *s);
    double *sd = malloc(n * sizeof *sd);
    memcpy(f, orig, n * sizeof *f);
    memcpy(s, orig, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_f);
    for (size_t i = 0; i < n; i++)
        sd[i] = s[i];
    struct pm_summary sf;
    pm_summarize_f(f, n, &sf);
    assert_int_equal(sf.n, n);
    assert_near(sf.min, sd[0], 0);
    assert_near(sf.max, sd[n - 1], 0);
    const double q[5] = {0.05, 0.25, 0.50, 0.75, 0.95};
    const double got[5] = {sf.p05, sf.p25, sf.p50, sf.p75, sf.p95};
    for (int i = 0; i < 5; i++)
        assert_near(got[i], ref_q(sd, n, q[i]), 1e-9 * fmax(1, fabs(sd[n - 1])));
    free(f);
    free(s);
    free(sd);
}

static void test_quantiles_large_float(void **state)
{
    (void)state;
    srand(11);
    size_t sizes[] = {PM_RADIX_MIN - 1, PM_RADIX_MIN, 6000, 100003, 360000};
    float *v = malloc(360000 * sizeof *v);
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        for (size_t i = 0; i < n; i++) /* noisy gauge in a narrow band: few buckets */
            v[i] = 4e9f + (float)(rand() % 1000000) * 1024.0f;
        check_summary_f(v, n);
        for (size_t i = 0; i < n; i++) /* both signs and many magnitudes, with -0 and +0 */
            v[i] = (float)((rand() % 2 ? -1 : 1) * ldexp((double)(rand() % 1000), rand() % 60 - 30));
        v[0] = -0.0f;
        v[1] = 0.0f;
        check_summary_f(v, n);
        for (size_t i = 0; i < n; i++) /* idle counter: mostly zero, rare spikes */
            v[i] = rand() % 100 ? 0.0f : (float)(rand() % 50);
        check_summary_f(v, n);
        for (size_t i = 0; i < n; i++) /* memory filling up: sorted */
            v[i] = (float)i * 4096.0f;
        check_summary_f(v, n);
        for (size_t i = 0; i < n; i++) /* constant: one bucket holds everything */
            v[i] = 12.5f;
        check_summary_f(v, n);
        for (size_t i = 0; i < n; i++) /* two values straddling the wanted ranks */
            v[i] = i % 2 ? 1.0f : 2.0f;
        check_summary_f(v, n);
    }
    free(v);
}

static void test_empty(void **state)
{
    (void)state;
    struct pm_summary s;
    pm_summarize_d(NULL, 0, &s);
    assert_int_equal(s.n, 0);
    assert_true(isnan(s.p50));
    assert_true(isnan(pm_quantile_d(NULL, 0, 0.5)));
    assert_near(pm_cliffs_delta(NULL, 0, (double[]){1}, 1), 0, 0);
}

static void test_quantile_single(void **state)
{
    (void)state;
    double v[] = {9, 1, 5, 3, 7};
    assert_near(pm_quantile_d(v, 5, 0.5), 5, 1e-12);
    double w[] = {9, 1, 5, 3};
    assert_near(pm_quantile_d(w, 4, 0.5), 4, 1e-12);
    double x[] = {2, 8};
    assert_near(pm_quantile_d(x, 2, 1.0), 8, 1e-12);
    assert_near(pm_quantile_d(x, 2, 0.0), 2, 1e-12);
}

static void test_mad(void **state)
{
    (void)state;
    /* median 3; deviations 2 1 0 1 97 -> MAD 1, the outlier does not matter */
    double v[] = {1, 2, 3, 4, 100};
    assert_near(pm_mad(v, 5), 1.0, 1e-12);
    double c[] = {5, 5, 5};
    assert_near(pm_mad(c, 3), 0.0, 1e-12);
}

static double ref_delta(const double *a, size_t na, const double *b, size_t nb)
{
    double g = 0, l = 0;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++) {
            g += a[i] > b[j];
            l += a[i] < b[j];
        }
    return (g - l) / ((double)na * (double)nb);
}

static void test_cliffs_delta(void **state)
{
    (void)state;
    double a[] = {10, 11, 12}, b[] = {1, 2, 3, 4};
    assert_near(pm_cliffs_delta(a, 3, b, 4), 1.0, 1e-12);
    assert_near(pm_cliffs_delta(b, 4, a, 3), -1.0, 1e-12);
    assert_near(pm_cliffs_delta(a, 3, a, 3), 0.0, 1e-12);
    srand(11);
    double x[200], y[150];
    for (int rep = 0; rep < 50; rep++) {
        size_t na = 1 + (size_t)(rand() % 200), nb = 1 + (size_t)(rand() % 150);
        for (size_t i = 0; i < na; i++)
            x[i] = rand() % 20;
        for (size_t i = 0; i < nb; i++)
            y[i] = rand() % 20 + rep % 5;
        assert_near(pm_cliffs_delta(x, na, y, nb), ref_delta(x, na, y, nb), 1e-12);
    }
}

/* A counter of stalled time (seconds) read every 10 ms whose deltas are
 * bunched the way /proc/stat ticks and lazily folded PSI totals are: a
 * true rate of 1.0 s/s (100%, the bound of a PSI share) shows up as 0, 0,
 * 0, 40 and 10 ms per 10 ms interval.  Per interval the rate reaches 4.0
 * (400%); every window of >= 100 ms is 1.0, never above the bound. */
static void test_rate_windows(void **state)
{
    (void)state;
    static const double pattern[5] = {0, 0, 0, 0.040, 0.010};
    struct pm_rate_win w;
    pm_rate_win_init(&w, PM_RATE_WINDOW_NS);
    double max_interval = 0, r;
    int windows = 0;
    int64_t t = 0;
    for (int i = 0; i < 200; i++) {
        int64_t since = t;
        t += 10000000;
        double d = pattern[i % 5];
        if (d * 1e9 / (double)(t - since) > max_interval)
            max_interval = d * 1e9 / (double)(t - since);
        if (pm_rate_win_add(&w, since, t, d, &r)) {
            windows++;
            assert_near(r, 1.0, 1e-9);
        }
    }
    assert_near(max_interval, 4.0, 1e-9);
    assert_int_equal(windows, 20);
    assert_false(pm_rate_win_finish(&w, t, &r)); /* no tail: 200 intervals fill 20 windows */

    /* Uneven intervals (a late tick, a counter read every 40 ms) still
     * give windows of >= 100 ms, and the rate is the summed delta over the
     * window's span. */
    pm_rate_win_init(&w, PM_RATE_WINDOW_NS);
    assert_false(pm_rate_win_add(&w, 0, 40000000, 0.080, &r));
    assert_false(pm_rate_win_add(&w, 40000000, 80000000, 0.0, &r));
    assert_true(pm_rate_win_add(&w, 80000000, 120000000, 0.040, &r));
    assert_near(r, 0.120 / 0.120, 1e-12);
    /* A run shorter than one window still gets its one rate. */
    pm_rate_win_init(&w, PM_RATE_WINDOW_NS);
    assert_false(pm_rate_win_add(&w, 5000000, 15000000, 0.005, &r));
    assert_true(pm_rate_win_finish(&w, 15000000, &r));
    assert_near(r, 0.5, 1e-12);
    /* A zero-length interval adds nothing. */
    assert_false(pm_rate_win_add(&w, 15000000, 15000000, 1.0, &r));
}

static void test_sparkline(void **state)
{
    (void)state;
    double v[] = {0, 1, 2, 3, 4, 5, 6, 7, NAN};
    char buf[PM_SPARK_BYTES(9)];
    pm_sparkline(v, 9, 0, 8, buf, sizeof buf);
    assert_string_equal(buf, "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588 ");
    /* flat series: lowest bar, never a division by zero */
    double f[] = {3, 3, 3};
    pm_sparkline(f, 3, 3, 3, buf, sizeof buf);
    assert_string_equal(buf, "\u2581\u2581\u2581");
    /* too small a buffer: truncated on a character boundary */
    char small[8];
    pm_sparkline(v, 9, 0, 8, small, sizeof small);
    assert_int_equal(strlen(small), 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantiles), cmocka_unit_test(test_quantiles_large_float),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_quantile_single), cmocka_unit_test(test_mad),
        cmocka_unit_test(test_cliffs_delta), cmocka_unit_test(test_sparkline),
        cmocka_unit_test(test_rate_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
