/*
 * Tests of the memory-cgroup oom_kill counter source (sampler/linux/cgoom.c):
 * which file holds the counter, from /proc/PID/cgroup and mountinfo captured
 * on a 6.18 hybrid system and written by hand for pure cgroup2 systems and
 * containers (tests/fixtures/cgroup/README); the counter itself read from
 * memory.oom_control (v1) and memory.events (v2); and the live source on
 * this machine, which must open and report no rise while nothing is killed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sampler/linux/cgoom.h"
#include "sampler/linux/procfs.h"

#define FX "tests/fixtures/cgroup/"

static size_t load(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open fixture %s (run the tests from the repository root)", path);
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n;
}

static int path_of(const char *cgroup, const char *mountinfo, char *out, size_t cap)
{
    static char cg[4096], mi[65536];
    size_t cn = load(cgroup, cg, sizeof(cg)), mn = load(mountinfo, mi, sizeof(mi));
    return pm_cgoom_path(cg, cn, mi, mn, out, cap);
}

static void test_paths(void **state)
{
    (void)state;
    char out[600];
    /* hybrid: the memory controller is on v1, cgroup2 has none */
    assert_int_equal(path_of(FX "linux-6.18-hybrid/cgroup", FX "linux-6.18-hybrid/mountinfo", out, sizeof(out)), 0);
    assert_string_equal(out, "/sys/fs/cgroup/memory/ci/job-17/memory.oom_control");
    assert_int_equal(path_of(FX "v2-handmade/cgroup", FX "v2-handmade/mountinfo", out, sizeof(out)), 0);
    assert_string_equal(out, "/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope/memory.events");
    /* a container whose cgroup2 mount starts at its own sub-cgroup */
    assert_int_equal(path_of(FX "v2-handmade/cgroup-container", FX "v2-handmade/mountinfo-container", out, sizeof(out)), 0);
    assert_string_equal(out, "/sys/fs/cgroup/job-7/memory.events");
    /* ... and a process outside that mount's subtree cannot be followed */
    assert_int_equal(path_of(FX "v2-handmade/cgroup", FX "v2-handmade/mountinfo-container", out, sizeof(out)), -1);
    /* the v2 root cgroup has no memory.events */
    assert_int_equal(path_of(FX "v2-handmade/cgroup-root", FX "v2-handmade/mountinfo", out, sizeof(out)), -1);
    /* v2 cgroup lines with a v1-only mount table: nothing to read */
    assert_int_equal(path_of(FX "v2-handmade/cgroup", FX "linux-6.18-hybrid/mountinfo", out, sizeof(out)), 0);
    assert_string_equal(out, "/sys/fs/cgroup/unified/user.slice/user-1000.slice/session-3.scope/memory.events");
    /* damaged input */
    assert_int_equal(pm_cgoom_path("", 0, "", 0, out, sizeof(out)), -1);
    assert_int_equal(pm_cgoom_path("4:memory", 8, "35 31 0:32 / /m rw - cgroup cgroup rw,memory", 44, out, sizeof(out)), -1);
    /* an output buffer too small is an error, not a cut path */
    assert_int_equal(path_of(FX "linux-6.18-hybrid/cgroup", FX "linux-6.18-hybrid/mountinfo", out, 20), -1);
}

static void test_counters(void **state)
{
    (void)state;
    char buf[1024];
    int64_t v = -1, want = -1;
    size_t n = load(FX "linux-6.18-hybrid/memory.oom_control", buf, sizeof(buf));
    assert_int_equal(sscanf(strstr(buf, "\noom_kill ") + 1, "oom_kill %" SCNd64, &want), 1);
    assert_int_equal(pm_parse_keyed(buf, n, "oom_kill", &v), 0);
    assert_int_equal(v, want);
    n = load("tests/fixtures/proc/cgroup2-handmade/memory.events", buf, sizeof(buf));
    assert_int_equal(pm_parse_keyed(buf, n, "oom_kill", &v), 0);
    assert_int_equal(v, 1);
    /* "oom_kill_disable 1" is not the counter */
    assert_int_equal(pm_parse_keyed("oom_kill_disable 1\nunder_oom 0\n", 30, "oom_kill", &v), -1);
}

static void test_live(void **state)
{
    (void)state;
    char why[256] = "";
    struct pm_cgoom *c = pm_cgoom_open(getpid(), why, sizeof(why));
    if (!c) {
        /* a machine without a memory cgroup says why */
        assert_true(why[0] != '\0');
        skip();
    }
    struct pm_ring ring;
    assert_int_equal(pm_ring_init(&ring, 8), 0);
    assert_int_equal(pm_cgoom_check(c, 0, &ring), 0);
    struct pm_rec r;
    assert_false(pm_ring_pop(&ring, &r));
    assert_non_null(strstr(pm_cgoom_file(c), "memory."));
    pm_ring_free(&ring);
    pm_cgoom_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
