/*
 * Tests of the PSI trigger source (sampler/linux/psi_trigger.c): trigger
 * specs the kernel would take or refuse, the event detail computed from
 * /proc/pressure/memory captured on 6.18 (expected values re-read with
 * sscanf), and the live trigger: the default spec must be accepted by this
 * kernel, and a window the kernel refuses must be reported with a reason.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sampler/linux/psi_trigger.h"

static void test_spec(void **state)
{
    (void)state;
    struct pm_psi_spec sp;
    char why[200];
    assert_int_equal(pm_psi_spec_parse(PM_PSI_TRIGGER_DEFAULT, &sp, why, sizeof(why)), 0);
    assert_int_equal(sp.full, 0);
    assert_int_equal(sp.stall_us, 150000);
    assert_int_equal(sp.window_us, 2000000);
    assert_int_equal(pm_psi_spec_parse("full 500000 10000000", &sp, why, sizeof(why)), 0);
    assert_int_equal(sp.full, 1);
    static const char *const bad[] = {
        "", "some", "some 1 2 3", "half 1000 1000000", "some 1000 400000", "some 1000 10000001",
        "some 0 1000000", "some 2000000 1000000", "some -5 1000000", "some 10x 1000000",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why[0] = '\0';
        assert_int_equal(pm_psi_spec_parse(bad[i], &sp, why, sizeof(why)), -1);
        assert_non_null(strstr(why, "PSI trigger"));
    }
    assert_int_equal(pm_psi_spec_parse(NULL, &sp, why, sizeof(why)), -1);
}

static void test_detail(void **state)
{
    (void)state;
    FILE *f = fopen("tests/fixtures/proc/linux-6.18/pressure/memory", "rb");
    assert_non_null(f);
    char buf[512];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    struct pm_psi now, prev;
    assert_int_equal(pm_parse_psi(buf, n, &now), 0);
    double avg10;
    long long total;
    assert_int_equal(sscanf(buf, "some avg10=%lf avg60=%*f avg300=%*f total=%lld", &avg10, &total), 2);
    prev = now;
    prev.some.total_us -= 812345;
    struct pm_psi_spec sp = {0, 150000, 2000000};
    char d[PM_DETAIL_MAX], want[PM_DETAIL_MAX];
    pm_psi_event_detail(&sp, &now, &prev, d, sizeof(d));
    snprintf(want, sizeof(want), "memory some stall >= 150 ms in 2.0 s; avg10 %.2f%%; +812 ms stalled since the last event",
             avg10);
    assert_string_equal(d, want);
    /* nothing read: the trigger alone */
    struct pm_psi none;
    memset(&none, 0, sizeof(none));
    pm_psi_event_detail(&sp, &none, &none, d, sizeof(d));
    assert_string_equal(d, "memory some stall >= 150 ms in 2.0 s");
    /* counter went backwards (another boot's values): no delta */
    prev.some.total_us = now.some.total_us + 1;
    pm_psi_event_detail(&sp, &now, &prev, d, sizeof(d));
    assert_null(strstr(d, "since the last"));
    /* a small buffer is cut, never overrun */
    char small[12];
    pm_psi_event_detail(&sp, &now, &now, small, sizeof(small));
    assert_int_equal(strlen(small), sizeof(small) - 1);
}

static void test_live(void **state)
{
    (void)state;
    if (access("/proc/pressure/memory", R_OK) != 0)
        skip();
    char why[256] = "";
    struct pm_psi_trig *p = pm_psi_trig_open(PM_PSI_TRIGGER_DEFAULT, why, sizeof(why));
    if (!p)
        fail_msg("the default trigger was refused: %s", why);
    assert_true(pm_psi_trig_fd(p) >= 0);
    struct pm_ring ring;
    assert_int_equal(pm_ring_init(&ring, 8), 0);
    assert_int_equal(pm_psi_trig_fire(p, 0, &ring), 1);
    struct pm_rec r;
    assert_true(pm_ring_pop(&ring, &r));
    assert_int_equal(r.u.ev.kind, PM_EV_PRESSURE);
    assert_non_null(strstr(r.u.ev.detail, "; avg10 "));
    pm_ring_free(&ring);
    pm_psi_trig_close(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec),
        cmocka_unit_test(test_detail),
        cmocka_unit_test(test_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
