/*
 * Tests for sampler/macos_mem.c: Activity Monitor figures from
 * vm_statistics64 page counts and vm.page_* sysctls, with 16 KiB (Apple
 * Silicon) and 4 KiB (Intel) pages.  The fixtures under
 * tests/fixtures/macos/vmstat64_*.txt hold the inputs and the expected
 * bytes, computed separately from the formulas documented in macos_mem.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sampler/macos_mem.h"

#define FIX "tests/fixtures/macos/"

struct kv {
    char key[64];
    int64_t val;
};

static int load(const char *path, struct kv *kv, int cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s (run from the repository root)", path);
    char line[256];
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        assert_true(n < cap);
        assert_int_equal(sscanf(line, "%63s %" SCNd64, kv[n].key, &kv[n].val), 2);
        n++;
    }
    fclose(f);
    return n;
}

static int64_t get(const struct kv *kv, int n, const char *key)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(kv[i].key, key))
            return kv[i].val;
    fail_msg("fixture has no key %s", key);
    return -1;
}

static void check_expect(const struct kv *kv, int n, const char *prefix, const struct pm_mac_mem *m)
{
    char k[64];
#define EXPECT(field)                                                  \
    snprintf(k, sizeof(k), "%s.%s", prefix, #field);                   \
    assert_int_equal(m->field, get(kv, n, k))
    EXPECT(free);
    EXPECT(app);
    EXPECT(wired);
    EXPECT(compressed);
    EXPECT(cached);
    EXPECT(used);
    EXPECT(available);
#undef EXPECT
}

static void run_fixture(const char *path)
{
    struct kv kv[64];
    int n = load(path, kv, 64);
    struct pm_mac_vmstat v;
    memset(&v, 0, sizeof(v));
#define SET(field) v.field = (uint64_t)get(kv, n, #field)
    SET(free_count);
    SET(speculative_count);
    SET(active_count);
    SET(inactive_count);
    SET(wire_count);
    SET(throttled_count);
    SET(purgeable_count);
    SET(external_page_count);
    SET(internal_page_count);
    SET(compressor_page_count);
    SET(total_uncompressed_pages_in_compressor);
#undef SET
    uint64_t ps = (uint64_t)get(kv, n, "page_size");
    uint64_t total = (uint64_t)get(kv, n, "memsize");
    struct pm_mac_mem m;
    assert_int_equal(pm_mac_mem_derive(&v, ps, total, &m), 0);
    assert_int_equal(m.total, (int64_t)total);
    check_expect(kv, n, "expect", &m);
    /* The figures Activity Monitor shows add up: used + available never
     * exceeds physical memory. */
    assert_true(m.used + m.available <= m.total);

    pm_mac_vmstat_apply_sysctls(&v, get(kv, n, "sys_page_free_count"), get(kv, n, "sys_page_speculative_count"),
                                get(kv, n, "sys_pageable_internal"), get(kv, n, "sys_pageable_external"),
                                get(kv, n, "sys_purgeable"));
    assert_int_equal(pm_mac_mem_derive(&v, ps, total, &m), 0);
    check_expect(kv, n, "expect_fast", &m);
    /* Wired and compressed come from host_statistics64 only: unchanged. */
    assert_int_equal(m.wired, (int64_t)(get(kv, n, "wire_count") * (int64_t)ps));
}

static void test_arm64_16k(void **state)
{
    (void)state;
    run_fixture(FIX "vmstat64_arm64_16k.txt");
}

static void test_x86_4k(void **state)
{
    (void)state;
    run_fixture(FIX "vmstat64_x86_4k.txt");
}

/* Same page counts, the wrong page size (vm_page_size under Rosetta):
 * every figure is 4x smaller.  Guards the unit, not the formula. */
static void test_page_size_scales(void **state)
{
    (void)state;
    struct pm_mac_vmstat v = {.free_count = 100, .speculative_count = 10, .wire_count = 7,
                              .internal_page_count = 50, .purgeable_count = 5, .external_page_count = 20,
                              .compressor_page_count = 3};
    struct pm_mac_mem a, b;
    pm_mac_mem_derive(&v, 16384, 1 << 30, &a);
    pm_mac_mem_derive(&v, 4096, 1 << 30, &b);
    assert_int_equal(a.app, 4 * b.app);
    assert_int_equal(a.available, 4 * b.available);
    assert_int_equal(a.app, 45 * 16384);
    assert_int_equal(pm_mac_mem_derive(&v, 0, 1, &a), -1);
}

/* Counts read at different instants can be inconsistent: clamp at 0. */
static void test_clamps(void **state)
{
    (void)state;
    struct pm_mac_vmstat v = {.free_count = 5, .speculative_count = 9, .internal_page_count = 2,
                              .purgeable_count = 8};
    struct pm_mac_mem m;
    pm_mac_mem_derive(&v, 4096, 1 << 20, &m);
    assert_int_equal(m.free, 0);
    assert_int_equal(m.app, 0);
    assert_true(m.available >= 0);
    /* Saturates instead of overflowing. */
    v.wire_count = UINT64_MAX / 2;
    pm_mac_mem_derive(&v, 16384, 1 << 20, &m);
    assert_int_equal(m.wired, INT64_MAX);
}

static void test_absent_sysctls_keep_values(void **state)
{
    (void)state;
    struct pm_mac_vmstat v = {.free_count = 100, .speculative_count = 10, .internal_page_count = 50};
    pm_mac_vmstat_apply_sysctls(&v, -1, -1, -1, -1, -1);
    assert_int_equal(v.free_count, 100);
    assert_int_equal(v.internal_page_count, 50);
    pm_mac_vmstat_apply_sysctls(&v, 40, -1, -1, -1, -1);
    assert_int_equal(v.free_count, 50); /* 40 free + the 10 speculative kept */
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(pm_mac_pressure_name(1), "normal");
    assert_string_equal(pm_mac_pressure_name(4), "critical");
    assert_string_equal(pm_mac_pressure_name(3), "unknown");
    assert_string_equal(pm_mac_thermal_name(2), "heavy");
    assert_string_equal(pm_mac_thermal_name(5), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arm64_16k),  cmocka_unit_test(test_x86_4k),
        cmocka_unit_test(test_page_size_scales), cmocka_unit_test(test_clamps),
        cmocka_unit_test(test_absent_sysctls_keep_values), cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
