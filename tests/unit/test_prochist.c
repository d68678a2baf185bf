/*
 * Per-process history: counters become deltas, gauges stay, and a record
 * is pushed only when something changed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sampler/prochist.h"

/* A process history, a ring for what it pushes, and a reading with every
 * metric present and 1000 kB resident. */
struct fx {
    struct pm_ring ring;
    struct pm_proc_hist h;
    int64_t cur[PM_PROC_N];
    uint64_t all;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f || pm_ring_init(&f->ring, 16) != 0)
        return -1;
    pm_proc_hist_reset(&f->h);
    f->all = (UINT64_C(1) << PM_PROC_N) - 1;
    f->cur[PM_M_P_RSS] = 1000;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    pm_ring_free(&f->ring);
    free(f);
    return 0;
}

static void test_deltas_and_quiet_processes(void **state)
{
    struct fx *f = *state;
    f->cur[PM_M_P_CPU_USER] = 5000;
    struct pm_rec r;

    /* First reading: gauges only, counters have no delta yet. */
    assert_int_equal(pm_proc_hist_push(&f->h, 10, 42, 'R', f->cur, f->all, &f->ring), 1);
    assert_int_equal(pm_ring_pop(&f->ring, &r), 1);
    assert_int_equal(r.type, PM_REC_PROC_SAMPLE);
    assert_int_equal(r.u.ps.pid, 42);
    assert_int_equal(r.u.ps.v[PM_M_P_RSS], 1000);
    assert_false(r.u.ps.present & (UINT64_C(1) << PM_M_P_CPU_USER));

    /* Nothing moved: no record. */
    assert_int_equal(pm_proc_hist_push(&f->h, 20, 42, 'R', f->cur, f->all, &f->ring), 0);
    assert_int_equal(pm_ring_pop(&f->ring, &r), 0);

    /* CPU moved: a delta. */
    f->cur[PM_M_P_CPU_USER] = 7500;
    assert_int_equal(pm_proc_hist_push(&f->h, 30, 42, 'R', f->cur, f->all, &f->ring), 1);
    assert_int_equal(pm_ring_pop(&f->ring, &r), 1);
    assert_int_equal(r.u.ps.v[PM_M_P_CPU_USER], 2500);
    assert_int_equal(r.u.ps.t_ns, 30);

    /* Only the state changed: still a record. */
    assert_int_equal(pm_proc_hist_push(&f->h, 40, 42, 'D', f->cur, f->all, &f->ring), 1);
    assert_int_equal(pm_ring_pop(&f->ring, &r), 1);
    assert_int_equal(r.u.ps.state, 'D');
    assert_int_equal(r.u.ps.v[PM_M_P_CPU_USER], 0);

    /* A counter that runs backwards (a reused slot, a wrapped value) gives 0, not a negative rate. */
    f->cur[PM_M_P_CPU_USER] = 100;
    f->cur[PM_M_P_RSS] = 900;
    assert_int_equal(pm_proc_hist_push(&f->h, 50, 42, 'D', f->cur, f->all, &f->ring), 1);
    assert_int_equal(pm_ring_pop(&f->ring, &r), 1);
    assert_int_equal(r.u.ps.v[PM_M_P_CPU_USER], 0);
    assert_int_equal(r.u.ps.v[PM_M_P_RSS], 900);

    /* A metric that stops being readable (io needs privilege) is absent, not 0. */
    uint64_t no_io = f->all & ~(UINT64_C(1) << PM_M_P_READ);
    f->cur[PM_M_P_RSS] = 950;
    assert_int_equal(pm_proc_hist_push(&f->h, 60, 42, 'D', f->cur, no_io, &f->ring), 1);
    assert_int_equal(pm_ring_pop(&f->ring, &r), 1);
    assert_false(r.u.ps.present & (UINT64_C(1) << PM_M_P_READ));
}

static void test_idle_skip(void **state)
{
    struct fx *f = *state;
    f->cur[PM_M_P_THREADS] = 1;
    f->cur[PM_M_P_MINFLT] = 70;
    struct pm_rec r;
    const int64_t ms = 1000000;

    /* Never read in full: no skipping. */
    assert_false(pm_proc_hist_idle(&f->h, 0, 5000));
    assert_int_equal(pm_proc_hist_push(&f->h, 0, 42, 'S', f->cur, f->all, &f->ring), 1);
    pm_proc_hist_ran(&f->h, 0, 5000);
    assert_int_equal(pm_ring_pop(&f->ring, &r), 1);

    assert_true(pm_proc_hist_idle(&f->h, 40 * ms, 5000));
    assert_false(pm_proc_hist_idle(&f->h, 40 * ms, 5001)); /* it ran */
    assert_false(pm_proc_hist_idle(&f->h, 40 * ms, 0));    /* run time not known */
    assert_false(pm_proc_hist_idle(&f->h, PM_PROC_FULL_NS, 5000)); /* due for a full reading */

    /* Skipped with the same resident size: nothing to record. */
    assert_int_equal(pm_proc_hist_push_idle(&f->h, 40 * ms, 42, 1000, &f->ring), 0);
    assert_int_equal(pm_ring_pop(&f->ring, &r), 0);
    /* Reclaim took pages from the sleeping process: a row with the new
     * size, its state, and zero deltas. */
    assert_int_equal(pm_proc_hist_push_idle(&f->h, 80 * ms, 42, 600, &f->ring), 1);
    assert_int_equal(pm_ring_pop(&f->ring, &r), 1);
    assert_int_equal(r.u.ps.t_ns, 80 * ms);
    assert_int_equal(r.u.ps.v[PM_M_P_RSS], 600);
    assert_int_equal(r.u.ps.state, 'S');
    assert_int_equal(r.u.ps.v[PM_M_P_MINFLT], 0);
    assert_true(r.u.ps.present & (UINT64_C(1) << PM_M_P_MINFLT));
    /* Resident size unknown: the last one stands. */
    assert_int_equal(pm_proc_hist_push_idle(&f->h, 120 * ms, 42, -1, &f->ring), 0);
    assert_int_equal(f->h.prev[PM_M_P_RSS], 600);

    /* The next full reading counts the faults from the last full one. */
    f->cur[PM_M_P_RSS] = 600;
    f->cur[PM_M_P_MINFLT] = 75;
    assert_int_equal(pm_proc_hist_push(&f->h, 160 * ms, 42, 'S', f->cur, f->all, &f->ring), 1);
    assert_int_equal(pm_ring_pop(&f->ring, &r), 1);
    assert_int_equal(r.u.ps.v[PM_M_P_MINFLT], 5);

    /* A second thread: the main thread's run time no longer covers it. */
    f->cur[PM_M_P_THREADS] = 2;
    assert_int_equal(pm_proc_hist_push(&f->h, 200 * ms, 42, 'S', f->cur, f->all, &f->ring), 1);
    pm_proc_hist_ran(&f->h, 200 * ms, 9000);
    assert_false(pm_proc_hist_idle(&f->h, 240 * ms, 9000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test_setup_teardown(test_deltas_and_quiet_processes, setup, teardown),
                                       cmocka_unit_test_setup_teardown(test_idle_skip, setup, teardown)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
