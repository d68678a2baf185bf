/*
 * pm_parse_duration (cli/util.c): the durations of record's options, of
 * push's timeouts and of prune --older-than, with every unit; a bare number
 * (no unit) and what else is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cli/cli.h"

static int64_t parse(const char *s)
{
    int64_t ns = -42;
    assert_int_equal(pm_parse_duration(s, &ns), 0);
    return ns;
}

static void test_units(void **state)
{
    assert_int_equal(parse("250000ns"), 250000);
    assert_int_equal(parse("500us"), 500000);
    assert_int_equal(parse("10ms"), 10000000);
    assert_int_equal(parse("1.5s"), 1500000000);
    assert_int_equal(parse("2m"), 120000000000LL);
    assert_int_equal(parse("2min"), 120000000000LL);
    assert_int_equal(parse("1h"), 3600000000000LL);
    (void)state;
}

/* Days, for prune --older-than 7d. */
static void test_days(void **state)
{
    assert_int_equal(parse("1d"), 86400LL * 1000000000);
    assert_int_equal(parse("7d"), 7 * 86400LL * 1000000000);
    assert_int_equal(parse("0.5d"), 43200LL * 1000000000);
    assert_int_equal(parse("0d"), 0);
    /* 106,751 days is the most int64 nanoseconds hold */
    assert_int_equal(parse("106000d"), 106000LL * 86400 * 1000000000);
    int64_t ns;
    assert_int_equal(pm_parse_duration("107000d", &ns), -1);
    (void)state;
}

/* A bare number is refused with its own code, so that the message can ask
 * for a unit: record -i 1 meant 1 ms and -D 1 meant 1 s before. */
static void test_bare_number_refused(void **state)
{
    static const char *const bare[] = {"5", "1", "0", "0.5", "10.", "1e3"};
    for (size_t i = 0; i < sizeof bare / sizeof bare[0]; i++) {
        int64_t ns = -42;
        if (pm_parse_duration(bare[i], &ns) != PM_DURATION_NO_UNIT)
            fail_msg("bare '%s' was not refused as a number without a unit", bare[i]);
        assert_int_equal(ns, -42);
    }
    (void)state;
}

static void test_refused(void **state)
{
    static const char *const bad[] = {"", "d", "7x", "7 d", "7dd", "7D", "-1d", "nan", "inf", "1e30h", "7days"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ns = -42;
        if (pm_parse_duration(bad[i], &ns) != -1)
            fail_msg("'%s' was accepted as %lld ns", bad[i], (long long)ns);
        assert_int_equal(ns, -42);
    }
    int64_t ns;
    assert_int_equal(pm_parse_duration(NULL, &ns), -1);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_days),
        cmocka_unit_test(test_bare_number_refused),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
