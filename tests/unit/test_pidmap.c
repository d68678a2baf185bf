/*
 * The pid -> slot map: finds what was put, forgets what was deleted, and
 * stays fast (no full-table probes) after many more insert/delete cycles
 * than it has entries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sampler/pidmap.h"

static void test_basic(void **state)
{
    struct pm_pidmap m;
    assert_int_equal(pm_pidmap_init(&m, 64), 0);
    assert_int_equal(pm_pidmap_find(&m, 42), -1);
    assert_int_equal(pm_pidmap_put(&m, 42, 7), 0);
    assert_int_equal(pm_pidmap_put(&m, 42 + 64, 8), 0); /* same bucket chain */
    assert_int_equal(pm_pidmap_find(&m, 42), 7);
    assert_int_equal(pm_pidmap_find(&m, 42 + 64), 8);
    pm_pidmap_del(&m, 42);
    assert_int_equal(pm_pidmap_find(&m, 42), -1);
    assert_int_equal(pm_pidmap_find(&m, 42 + 64), 8); /* still behind the tombstone */
    assert_int_equal(pm_pidmap_put(&m, 42 + 64, 9), 0); /* replace */
    assert_int_equal(pm_pidmap_find(&m, 42 + 64), 9);
    pm_pidmap_free(&m);
    (void)state;
}

/* A fork storm: 200,000 pids each put and deleted, with 100 always live. */
static void test_churn(void **state)
{
    struct pm_pidmap m;
    assert_int_equal(pm_pidmap_init(&m, 256), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(pm_pidmap_put(&m, 1000000 + i, i), 0);
    for (int p = 1; p <= 200000; p++) {
        assert_int_equal(pm_pidmap_put(&m, p, p % 1000), 0);
        assert_int_equal(pm_pidmap_find(&m, p), p % 1000);
        pm_pidmap_del(&m, p);
        assert_int_equal(pm_pidmap_find(&m, p), -1);
    }
    for (int i = 0; i < 100; i++)
        assert_int_equal(pm_pidmap_find(&m, 1000000 + i), i);
    assert_true(m.dead <= (m.mask + 1) / 4 + 1); /* tombstones were cleared */
    assert_int_equal(m.used, 100);
    pm_pidmap_free(&m);
    (void)state;
}

static void test_full(void **state)
{
    struct pm_pidmap m;
    assert_int_equal(pm_pidmap_init(&m, 16), 0);
    for (int i = 0; i < 16; i++)
        assert_int_equal(pm_pidmap_put(&m, 100 + i, i), 0);
    assert_int_equal(pm_pidmap_put(&m, 999, 1), -1); /* full: refused, not a hang */
    assert_int_equal(pm_pidmap_find(&m, 999), -1);
    pm_pidmap_free(&m);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_churn),
        cmocka_unit_test(test_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
