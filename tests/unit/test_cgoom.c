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

/* The directory of the run's cgroup, the mount point's length with it. */
static void test_dirs(void **state)
{
    (void)state;
    static char cg[4096], mi[65536];
    char out[600];
    size_t ml = 0;
    size_t cn = load(FX "linux-6.18-hybrid/cgroup", cg, sizeof(cg)),
           mn = load(FX "linux-6.18-hybrid/mountinfo", mi, sizeof(mi));
    assert_int_equal(pm_cgroup_dir(cg, cn, mi, mn, 1, out, sizeof(out), &ml), 0);
    assert_string_equal(out, "/sys/fs/cgroup/memory/ci/job-17");
    assert_int_equal(ml, strlen("/sys/fs/cgroup/memory"));
    /* cgroup2's "0::/": the mount root itself */
    assert_int_equal(pm_cgroup_dir(cg, cn, mi, mn, 0, out, sizeof(out), &ml), 0);
    assert_string_equal(out, "/sys/fs/cgroup/unified");
    assert_int_equal(ml, strlen(out));
    /* a container's namespace: "0::/" with the mount's root "/" */
    cn = load(FX "tree-v2-namespace/proc/1/cgroup", cg, sizeof(cg));
    mn = load(FX "tree-v2-namespace/proc/self/mountinfo", mi, sizeof(mi));
    assert_int_equal(pm_cgroup_dir(cg, cn, mi, mn, 0, out, sizeof(out), &ml), 0);
    assert_string_equal(out, "/sys/fs/cgroup");
    assert_int_equal(ml, strlen(out));
    assert_int_equal(pm_cgroup_dir(cg, cn, mi, mn, 1, out, sizeof(out), &ml), -1); /* no v1 */
    /* too small */
    assert_int_equal(pm_cgroup_dir(cg, cn, mi, mn, 0, out, 14, &ml), -1);
}

/* memory.max, memory.high, memory.limit_in_bytes. */
static void test_limits(void **state)
{
    (void)state;
    char buf[256];
    int64_t v = -1;
    size_t n = load("tests/fixtures/proc/cgroup2-handmade/memory.max", buf, sizeof(buf));
    assert_int_equal(pm_parse_cg_limit(buf, n, &v), 1); /* "max" */
    n = load(FX "tree-v2-namespace/sys/fs/cgroup/memory.max", buf, sizeof(buf));
    assert_int_equal(pm_parse_cg_limit(buf, n, &v), 0);
    assert_int_equal(v, 104857600);
    n = load(FX "tree-v1-hybrid/sys/fs/cgroup/memory/memory.limit_in_bytes", buf, sizeof(buf));
    assert_int_equal(pm_parse_cg_limit(buf, n, &v), 1); /* v1's "unlimited" with 4 KiB pages */
    assert_int_equal(pm_parse_cg_limit("9223372036854710272\n", 20, &v), 1); /* ... with 64 KiB pages */
    assert_int_equal(pm_parse_cg_limit("4611686018427387903\n", 20, &v), 0); /* 2^62 - 1 */
    assert_int_equal(v, INT64_C(4611686018427387903));
    assert_int_equal(pm_parse_cg_limit("0\n", 2, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(pm_parse_cg_limit("maximum\n", 8, &v), -1);
    assert_int_equal(pm_parse_cg_limit("-1\n", 3, &v), -1);
    assert_int_equal(pm_parse_cg_limit("", 0, &v), -1);
    assert_int_equal(pm_parse_cg_limit("12 34\n", 6, &v), -1);
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

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* "0::/" in a container's cgroup namespace: the counter is the mount
 * root's memory.events, and a rise there is an event; the system's root
 * cgroup has none and says so. */
static void test_namespace_root(void **state)
{
    (void)state;
    char dir[64], cmd[256], why[256] = "";
    snprintf(dir, sizeof dir, "/tmp/pm-test-cgoom-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd, "cp -R " FX "tree-v2-namespace/. %s/", dir);
    assert_int_equal(system(cmd), 0);
    struct pm_cgoom *c = pm_cgoom_open_at(dir, 1, why, sizeof(why));
    if (!c)
        fail_msg("pm_cgoom_open_at(%s): %s", dir, why);
    char want[128];
    snprintf(want, sizeof want, "%s/sys/fs/cgroup/memory.events", dir);
    assert_string_equal(pm_cgoom_file(c), want);
    struct pm_ring ring;
    assert_int_equal(pm_ring_init(&ring, 8), 0);
    assert_int_equal(pm_cgoom_check(c, 0, &ring), 0);
    write_text(want, "low 0\nhigh 0\nmax 9\noom 3\noom_kill 3\noom_group_kill 0\n");
    assert_int_equal(pm_cgoom_check(c, 0, &ring), 1);
    struct pm_rec r;
    assert_true(pm_ring_pop(&ring, &r));
    assert_int_equal(r.u.ev.kind, PM_EV_OOM_KILL);
    pm_ring_free(&ring);
    pm_cgoom_close(c);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);

    why[0] = '\0';
    assert_null(pm_cgoom_open_at(FX "tree-v2-root", 1, why, sizeof(why)));
    assert_non_null(strstr(why, "root cgroup has no memory.events"));
    /* v1 on a fake root: the memory controller's file, under the root */
    c = pm_cgoom_open_at(FX "tree-v1-hybrid", 1, why, sizeof(why));
    assert_null(c); /* the tree has no memory.oom_control */
    assert_non_null(strstr(why, FX "tree-v1-hybrid/sys/fs/cgroup/memory/ci/job-17/memory.oom_control"));
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
        cmocka_unit_test(test_dirs),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_namespace_root),
        cmocka_unit_test(test_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
