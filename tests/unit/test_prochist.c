/*
 * Per-process history: counters become deltas, gauges stay, and a record
 * is pushed only when something changed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sampler/prochist.h"

static void test_deltas_and_quiet_processes(void **state)
{
    struct pm_ring ring;
    assert_int_equal(pm_ring_init(&ring, 16), 0);
    struct pm_proc_hist h;
    pm_proc_hist_reset(&h);
    int64_t cur[PM_PROC_N] = {0};
    uint64_t all = (UINT64_C(1) << PM_PROC_N) - 1;
    cur[PM_M_P_RSS] = 1000;
    cur[PM_M_P_CPU_USER] = 5000;
    struct pm_rec r;

    /* First reading: gauges only, counters have no delta yet. */
    assert_int_equal(pm_proc_hist_push(&h, 10, 42, 'R', cur, all, &ring), 1);
    assert_int_equal(pm_ring_pop(&ring, &r), 1);
    assert_int_equal(r.type, PM_REC_PROC_SAMPLE);
    assert_int_equal(r.u.ps.pid, 42);
    assert_int_equal(r.u.ps.v[PM_M_P_RSS], 1000);
    assert_false(r.u.ps.present & (UINT64_C(1) << PM_M_P_CPU_USER));

    /* Nothing moved: no record. */
    assert_int_equal(pm_proc_hist_push(&h, 20, 42, 'R', cur, all, &ring), 0);
    assert_int_equal(pm_ring_pop(&ring, &r), 0);

    /* CPU moved: a delta. */
    cur[PM_M_P_CPU_USER] = 7500;
    assert_int_equal(pm_proc_hist_push(&h, 30, 42, 'R', cur, all, &ring), 1);
    assert_int_equal(pm_ring_pop(&ring, &r), 1);
    assert_int_equal(r.u.ps.v[PM_M_P_CPU_USER], 2500);
    assert_int_equal(r.u.ps.t_ns, 30);

    /* Only the state changed: still a record. */
    assert_int_equal(pm_proc_hist_push(&h, 40, 42, 'D', cur, all, &ring), 1);
    assert_int_equal(pm_ring_pop(&ring, &r), 1);
    assert_int_equal(r.u.ps.state, 'D');
    assert_int_equal(r.u.ps.v[PM_M_P_CPU_USER], 0);

    /* A counter that runs backwards (a reused slot, a wrapped value) gives 0, not a negative rate. */
    cur[PM_M_P_CPU_USER] = 100;
    cur[PM_M_P_RSS] = 900;
    assert_int_equal(pm_proc_hist_push(&h, 50, 42, 'D', cur, all, &ring), 1);
    assert_int_equal(pm_ring_pop(&ring, &r), 1);
    assert_int_equal(r.u.ps.v[PM_M_P_CPU_USER], 0);
    assert_int_equal(r.u.ps.v[PM_M_P_RSS], 900);

    /* A metric that stops being readable (io needs privilege) is absent, not 0. */
    uint64_t no_io = all & ~(UINT64_C(1) << PM_M_P_READ);
    cur[PM_M_P_RSS] = 950;
    assert_int_equal(pm_proc_hist_push(&h, 60, 42, 'D', cur, no_io, &ring), 1);
    assert_int_equal(pm_ring_pop(&ring, &r), 1);
    assert_false(r.u.ps.present & (UINT64_C(1) << PM_M_P_READ));
    pm_ring_free(&ring);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_deltas_and_quiet_processes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
