/*
 * The Linux system sampler's /sys sources (sampler/linux/sys_linux.c)
 * against the fake sysfs trees of tests/fixtures/sysfs/ (see the README
 * there): pm_sys_open with pm_sys_opts.sysfs_root pointing at a tree, then
 * pm_sys_read, checking temp_max_mc, throttle and cooling_max_pct.  /proc
 * is the real one (meminfo, stat, ... of this machine); this machine has
 * no thermal zones, throttle counters or cooling devices of its own.
 * The run's cgroup (memory usage, limits, PSI) is read from the fake roots
 * of tests/fixtures/cgroup/tree-* through pm_sys_opts.root_dir.
 * Trees that a test changes are copied to a temporary directory first.
 * Run from the repository root.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sampler/platform.h"

#define FX "tests/fixtures/sysfs/"
#define MS (1000LL * 1000)

static int has(const struct pm_sys_rec *r, int id)
{
    return (r->present >> id) & 1;
}

/* Is `word` one of the space-separated words of `list`? */
static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

static struct pm_sys *open_root(const char *root, char *sources, size_t len)
{
    struct pm_sys_opts o = {.sysfs_root = root};
    char err[256] = "";
    struct pm_sys *s = pm_sys_open(&o, sources, len, err, sizeof err);
    if (!s)
        fail_msg("pm_sys_open(%s): %s", root, err);
    return s;
}

static void write_file(const char *dir, const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "w"); /* truncates in place: the sampler's fd sees the new text */
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void copy_tree(const char *fixture, char *dir, size_t len)
{
    snprintf(dir, len, "/tmp/pm-test-sysfs-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp -R %s/. %s/", fixture, dir);
    assert_int_equal(system(cmd), 0);
}

static void remove_tree(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* An Intel laptop: the hottest zone, the throttle counters as deltas, and
 * the highest CPU cooling state (a Processor device at 1 of 3) with the
 * fan at full speed, the backlight and the TCC offset left out.  Values
 * changed in the files show up on the next read of their source. */
static void test_laptop(void **state)
{
    (void)state;
    char dir[64], sources[256];
    copy_tree(FX "laptop-intel", dir, sizeof dir);
    struct pm_sys *s = open_root(dir, sources, sizeof sources);
    assert_true(has_word(sources, "thermal"));
    assert_true(has_word(sources, "throttle"));
    assert_true(has_word(sources, "cooling"));
    assert_true(has_word(sources, "meminfo")); /* the real /proc, read as ever */

    struct pm_sys_rec r;
    pm_sys_read(s, 0, 0, &r);
    assert_true(has(&r, PM_M_MEM_AVAILABLE));
    assert_true(has(&r, PM_M_TEMP_MAX));
    assert_int_equal(r.v[PM_M_TEMP_MAX], 71000);
    assert_false(has(&r, PM_M_THROTTLE)); /* a counter: nothing to subtract from yet */
    assert_true(has(&r, PM_M_COOLING_MAX));
    assert_int_equal(r.v[PM_M_COOLING_MAX], 33); /* 1 of 3, rounded */

    /* 10 ms later: temperature and throttle every tick, cooling not due. */
    write_file(dir, "devices/system/cpu/cpu2/thermal_throttle/core_throttle_count", "10\n");
    write_file(dir, "class/thermal/thermal_zone3/temp", "88500\n");
    write_file(dir, "class/thermal/cooling_device3/cur_state", "3\n");
    pm_sys_read(s, 10 * MS, 0, &r);
    assert_int_equal(r.v[PM_M_TEMP_MAX], 88500);
    assert_true(has(&r, PM_M_THROTTLE));
    assert_int_equal(r.v[PM_M_THROTTLE], 3); /* 12+0+10+3 - (12+0+7+3) */
    assert_false(has(&r, PM_M_COOLING_MAX));

    /* 100 ms after its last read the cooling state is read again. */
    pm_sys_read(s, 100 * MS, 0, &r);
    assert_true(has(&r, PM_M_COOLING_MAX));
    assert_int_equal(r.v[PM_M_COOLING_MAX], 100);
    assert_int_equal(r.v[PM_M_THROTTLE], 0);

    /* read_all (the run's last sample) reads it whatever its period. */
    write_file(dir, "class/thermal/cooling_device3/cur_state", "0\n");
    write_file(dir, "class/thermal/cooling_device4/cur_state", "20\n"); /* powerclamp 20 of 100 */
    pm_sys_read(s, 110 * MS, 1, &r);
    assert_true(has(&r, PM_M_COOLING_MAX));
    assert_int_equal(r.v[PM_M_COOLING_MAX], 33);
    write_file(dir, "class/thermal/cooling_device1/cur_state", "0\n");
    pm_sys_read(s, 120 * MS, 1, &r);
    assert_int_equal(r.v[PM_M_COOLING_MAX], 20);

    /* Devices that do not slow the CPU never count, however high. */
    write_file(dir, "class/thermal/cooling_device4/cur_state", "0\n");
    pm_sys_read(s, 130 * MS, 1, &r);
    assert_true(has(&r, PM_M_COOLING_MAX));
    assert_int_equal(r.v[PM_M_COOLING_MAX], 0); /* Fan 1/1, LCD 12/15, TCC 10/63 left out */
    pm_sys_close(s);
    remove_tree(dir);
}

/* At a 10 ms tick the cooling devices are read on every 10th tick: the
 * first tick, then whenever 100 ms have passed since the last read. */
static void test_cooling_cadence(void **state)
{
    (void)state;
    char sources[256];
    struct pm_sys *s = open_root(FX "laptop-intel", sources, sizeof sources);
    struct pm_sys_rec r;
    int reads = 0;
    for (int k = 0; k <= 100; k++) {
        pm_sys_read(s, k * 10 * MS, 0, &r);
        assert_true(has(&r, PM_M_TEMP_MAX)); /* zones: every tick */
        if (has(&r, PM_M_COOLING_MAX)) {
            assert_int_equal(k % 10, 0);
            assert_int_equal(r.v[PM_M_COOLING_MAX], 33);
            reads++;
        }
    }
    assert_int_equal(reads, 11);
    pm_sys_close(s);
}

/* An ARM board: cpufreq cooling of two clusters, GPU devfreq and a PWM
 * fan at full state left out; no thermal_throttle counters at all. */
static void test_arm_board(void **state)
{
    (void)state;
    char sources[256];
    struct pm_sys *s = open_root(FX "arm-board", sources, sizeof sources);
    assert_true(has_word(sources, "thermal"));
    assert_false(has_word(sources, "throttle"));
    assert_true(has_word(sources, "cooling"));
    struct pm_sys_rec r;
    for (int k = 0; k < 2; k++) {
        pm_sys_read(s, k * 100 * MS, 0, &r);
        assert_int_equal(r.v[PM_M_TEMP_MAX], 62222);
        assert_false(has(&r, PM_M_THROTTLE));
        assert_true(has(&r, PM_M_COOLING_MAX));
        assert_int_equal(r.v[PM_M_COOLING_MAX], 43); /* cpufreq-cpu4 3 of 7 */
    }
    pm_sys_close(s);
}

/* Damaged devices are left out at open or skipped at read; what remains
 * is intel_powerclamp reading -1 (not injecting idle), which is 0%. */
static void test_variants(void **state)
{
    (void)state;
    char sources[256];
    struct pm_sys *s = open_root(FX "variants", sources, sizeof sources);
    assert_true(has_word(sources, "cooling"));
    struct pm_sys_rec r;
    pm_sys_read(s, 0, 0, &r);
    assert_int_equal(r.v[PM_M_TEMP_MAX], 41000); /* a zone that fails to read, one reading "n/a" */
    assert_true(has(&r, PM_M_COOLING_MAX));
    assert_int_equal(r.v[PM_M_COOLING_MAX], 0);
    pm_sys_read(s, 100 * MS, 0, &r);
    assert_true(has(&r, PM_M_THROTTLE)); /* the readable counter alone */
    assert_int_equal(r.v[PM_M_THROTTLE], 0);
    assert_int_equal(r.v[PM_M_COOLING_MAX], 0);
    pm_sys_close(s);
}

/* A CPU cooling device that opens but never reads: the column is absent
 * (NULL), not 0, and everything else is read as usual. */
static void test_unreadable(void **state)
{
    (void)state;
    char sources[256];
    struct pm_sys *s = open_root(FX "unreadable", sources, sizeof sources);
    assert_true(has_word(sources, "cooling"));
    struct pm_sys_rec r;
    for (int k = 0; k < 3; k++) {
        pm_sys_read(s, k * 100 * MS, k == 2, &r);
        assert_false(has(&r, PM_M_COOLING_MAX));
        assert_int_equal(r.v[PM_M_TEMP_MAX], 30000);
        assert_true(has(&r, PM_M_MEM_AVAILABLE));
    }
    pm_sys_close(s);
}

/* No CPU cooling device (fans only), and no /sys at all: the run goes on,
 * the optional columns are absent and their sources are not listed. */
static void test_absent(void **state)
{
    (void)state;
    char sources[256];
    struct pm_sys *s = open_root(FX "fans-only", sources, sizeof sources);
    assert_false(has_word(sources, "cooling"));
    assert_true(has_word(sources, "thermal"));
    struct pm_sys_rec r;
    pm_sys_read(s, 0, 0, &r);
    assert_false(has(&r, PM_M_COOLING_MAX));
    assert_int_equal(r.v[PM_M_TEMP_MAX], 55000);
    assert_true(has(&r, PM_M_MEM_AVAILABLE));
    pm_sys_close(s);

    s = open_root(FX "no-such-tree", sources, sizeof sources);
    assert_false(has_word(sources, "thermal"));
    assert_false(has_word(sources, "throttle"));
    assert_false(has_word(sources, "cooling"));
    assert_true(has_word(sources, "stat"));
    for (int k = 0; k < 2; k++) {
        pm_sys_read(s, k * 100 * MS, k, &r);
        assert_false(has(&r, PM_M_TEMP_MAX));
        assert_false(has(&r, PM_M_THROTTLE));
        assert_false(has(&r, PM_M_COOLING_MAX));
        assert_true(has(&r, PM_M_MEM_AVAILABLE));
    }
    pm_sys_close(s);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* A server with more CPU cooling devices than the sampler keeps: 64 are
 * opened (one fd each), the rest ignored, and the value is still read. */
static void test_many_devices(void **state)
{
    (void)state;
    char dir[64], rel[128], sources[256];
    snprintf(dir, sizeof dir, "/tmp/pm-test-sysfs-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/class", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/class/thermal", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    for (int i = 0; i < 100; i++) {
        snprintf(path, sizeof path, "%s/class/thermal/cooling_device%d", dir, i);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(rel, sizeof rel, "class/thermal/cooling_device%d/type", i);
        write_file(dir, rel, "Processor\n");
        snprintf(rel, sizeof rel, "class/thermal/cooling_device%d/max_state", i);
        write_file(dir, rel, "4\n");
        snprintf(rel, sizeof rel, "class/thermal/cooling_device%d/cur_state", i);
        write_file(dir, rel, "2\n");
    }
    int before = count_fds();
    struct pm_sys *none = open_root(FX "no-such-tree", sources, sizeof sources);
    int base = count_fds() - before;
    pm_sys_close(none);
    assert_int_equal(count_fds(), before);

    struct pm_sys *s = open_root(dir, sources, sizeof sources);
    assert_int_equal(count_fds() - before - base, 64);
    struct pm_sys_rec r;
    pm_sys_read(s, 0, 0, &r);
    assert_int_equal(r.v[PM_M_COOLING_MAX], 50);
    pm_sys_close(s);
    assert_int_equal(count_fds(), before);
    remove_tree(dir);
}

/* ---------------------------------------------------- the run's cgroup */

#define CGFX "tests/fixtures/cgroup/"

/* pm_sys_open with the cgroup of `pid` found under the fake root `root`
 * (tests/fixtures/cgroup/README); sysfs is a tree without thermal files. */
static struct pm_sys *open_cg(const char *root, pid_t pid, char *sources, size_t len)
{
    struct pm_sys_opts o = {.cgroup_pid = pid, .sysfs_root = FX "no-such-tree", .root_dir = root};
    char err[256] = "";
    struct pm_sys *s = pm_sys_open(&o, sources, len, err, sizeof err);
    if (!s)
        fail_msg("pm_sys_open(%s): %s", root, err);
    return s;
}

/* A container in its own cgroup namespace: "0::/" is its cgroup, not the
 * root's, because memory.current is at the mount root.  Usage every tick
 * while a limit binds it (every 100 ms when none does), the limit once a
 * second and on read_all, "max" is no limit. */
static void test_cg_namespace(void **state)
{
    (void)state;
    char dir[64], sources[256];
    copy_tree(CGFX "tree-v2-namespace", dir, sizeof dir);
    struct pm_sys *s = open_cg(dir, 1, sources, sizeof sources);
    assert_true(has_word(sources, "cgroup"));
    assert_false(has_word(sources, "cgroup-v1-memory"));
    struct pm_sys_rec r;
    pm_sys_read(s, 0, 0, &r);
    assert_true(has(&r, PM_M_CG_MEM_CURRENT));
    assert_int_equal(r.v[PM_M_CG_MEM_CURRENT], 51200); /* 52428800 bytes */
    assert_true(has(&r, PM_M_CG_MEM_MAX));
    assert_int_equal(r.v[PM_M_CG_MEM_MAX], 102400); /* 100 MiB */
    assert_false(has(&r, PM_M_CG_MEM_HIGH));         /* "max" */
    assert_false(has(&r, PM_M_CG_MEM_SOME));         /* a counter: nothing to subtract from yet */
    assert_true(has(&r, PM_M_CG_MEM_HEADROOM));
    assert_int_equal(r.v[PM_M_CG_MEM_HEADROOM], 50);

    write_file(dir, "sys/fs/cgroup/memory.current", "104800000\n");
    write_file(dir, "sys/fs/cgroup/memory.pressure",
               "some avg10=9.00 avg60=2.00 avg300=0.50 total=3500000\n"
               "full avg10=5.00 avg60=1.00 avg300=0.20 total=1250000\n");
    pm_sys_read(s, 10 * MS, 0, &r);
    assert_int_equal(r.v[PM_M_CG_MEM_CURRENT], 102343);
    assert_int_equal(r.v[PM_M_CG_MEM_SOME], 100000);
    assert_int_equal(r.v[PM_M_CG_MEM_FULL], 50000);
    assert_false(has(&r, PM_M_CG_MEM_MAX)); /* not due before 1 s */
    assert_true(has(&r, PM_M_CG_MEM_HEADROOM)); /* every tick, against the last limit read */
    assert_int_equal(r.v[PM_M_CG_MEM_HEADROOM], 0); /* 56 KiB of 100 MiB left */

    int reads = 0;
    for (int k = 2; k <= 200; k++) {
        pm_sys_read(s, k * 10 * MS, 0, &r);
        assert_true(has(&r, PM_M_CG_MEM_CURRENT));
        assert_true(has(&r, PM_M_CG_MEM_HEADROOM));
        if (has(&r, PM_M_CG_MEM_MAX)) {
            assert_int_equal(k % 100, 0);
            reads++;
        }
    }
    assert_int_equal(reads, 2);

    write_file(dir, "sys/fs/cgroup/memory.max", "max\n");
    write_file(dir, "sys/fs/cgroup/memory.high", "94371840\n");
    pm_sys_read(s, 2010 * MS, 1, &r); /* the last sample reads everything */
    assert_false(has(&r, PM_M_CG_MEM_MAX));
    assert_false(has(&r, PM_M_CG_MEM_HEADROOM)); /* no limit any more */
    assert_true(has(&r, PM_M_CG_MEM_HIGH));
    assert_int_equal(r.v[PM_M_CG_MEM_HIGH], 92160); /* 90 MiB */
    pm_sys_read(s, 2020 * MS, 0, &r);
    assert_true(has(&r, PM_M_CG_MEM_CURRENT)); /* memory.high binds it: every tick */

    /* No limit at all: the usage every 100 ms, not every tick. */
    write_file(dir, "sys/fs/cgroup/memory.high", "max\n");
    pm_sys_read(s, 3020 * MS, 1, &r);
    assert_true(has(&r, PM_M_CG_MEM_CURRENT));
    assert_false(has(&r, PM_M_CG_MEM_HIGH));
    int usage = 0;
    for (int k = 1; k <= 20; k++) {
        pm_sys_read(s, (3020 + k * 10) * MS, 0, &r);
        if (has(&r, PM_M_CG_MEM_CURRENT)) {
            assert_int_equal(k % 10, 0);
            usage++;
        }
    }
    assert_int_equal(usage, 2);
    pm_sys_close(s);
    remove_tree(dir);
}

/* The true root cgroup of a cgroup2 host: the same "0::/", but no
 * memory.current at the mount root; its PSI is the system's.  Nothing. */
static void test_cg_root(void **state)
{
    (void)state;
    char sources[256];
    int before = count_fds();
    struct pm_sys *none = open_root(FX "no-such-tree", sources, sizeof sources);
    int base = count_fds() - before;
    pm_sys_close(none);

    struct pm_sys *s = open_cg(CGFX "tree-v2-root", 1, sources, sizeof sources);
    assert_false(has_word(sources, "cgroup"));
    assert_int_equal(count_fds() - before, base);
    struct pm_sys_rec r;
    for (int k = 0; k < 2; k++) {
        pm_sys_read(s, k * 1000 * MS, 1, &r);
        assert_false(has(&r, PM_M_CG_MEM_CURRENT));
        assert_false(has(&r, PM_M_CG_MEM_MAX));
        assert_false(has(&r, PM_M_CG_MEM_SOME));
        assert_false(has(&r, PM_M_CG_CPU_SOME));
        assert_true(has(&r, PM_M_MEM_AVAILABLE));
    }
    pm_sys_close(s);
}

/* A job below a systemd service: the service's 100 MiB memory.max binds
 * the job whose own is "max"; the job's own memory.high is the lower. */
static void test_cg_nested(void **state)
{
    (void)state;
    char sources[256];
    int before = count_fds();
    struct pm_sys *s = open_cg(CGFX "tree-v2-nested", 1, sources, sizeof sources);
    assert_true(has_word(sources, "cgroup"));
    struct pm_sys_rec r;
    pm_sys_read(s, 0, 0, &r);
    assert_int_equal(r.v[PM_M_CG_MEM_CURRENT], 71680); /* the job's own, 70 MiB */
    assert_true(has(&r, PM_M_CG_MEM_MAX));
    assert_int_equal(r.v[PM_M_CG_MEM_MAX], 102400);
    assert_true(has(&r, PM_M_CG_MEM_HIGH));
    assert_int_equal(r.v[PM_M_CG_MEM_HIGH], 81920);
    assert_int_equal(r.v[PM_M_CG_MEM_HEADROOM], 30); /* 70 of the service's 100 MiB */
    pm_sys_read(s, 10 * MS, 0, &r);
    assert_true(has(&r, PM_M_CG_CPU_SOME));
    assert_int_equal(r.v[PM_M_CG_CPU_SOME], 0);
    pm_sys_close(s);
    assert_int_equal(count_fds(), before);
}

/* A hybrid host: memory from the v1 memory controller (usage and limit),
 * no cgroup2 PSI (the process is in cgroup2's root); the v1 root memory
 * cgroup is the machine's and is not read. */
static void test_cg_v1(void **state)
{
    (void)state;
    char sources[256];
    int before = count_fds();
    struct pm_sys *s = open_cg(CGFX "tree-v1-hybrid", 1, sources, sizeof sources);
    assert_true(has_word(sources, "cgroup-v1-memory"));
    assert_false(has_word(sources, "cgroup"));
    struct pm_sys_rec r;
    pm_sys_read(s, 0, 0, &r);
    assert_int_equal(r.v[PM_M_CG_MEM_CURRENT], 8644); /* 8851456 bytes, rounded down */
    assert_true(has(&r, PM_M_CG_MEM_MAX));
    assert_int_equal(r.v[PM_M_CG_MEM_MAX], 204800); /* job-17's 200 MiB; /ci and the root unlimited */
    assert_int_equal(r.v[PM_M_CG_MEM_HEADROOM], 95); /* 8.4 of 200 MiB used */
    assert_false(has(&r, PM_M_CG_MEM_HIGH));
    pm_sys_read(s, 10 * MS, 0, &r);
    assert_false(has(&r, PM_M_CG_MEM_SOME));
    assert_false(has(&r, PM_M_CG_MEM_MAX));
    assert_true(has(&r, PM_M_CG_MEM_CURRENT));
    pm_sys_close(s);
    assert_int_equal(count_fds(), before);

    s = open_cg(CGFX "tree-v1-hybrid", 2, sources, sizeof sources);
    assert_false(has_word(sources, "cgroup-v1-memory"));
    assert_false(has_word(sources, "cgroup"));
    pm_sys_read(s, 0, 1, &r);
    assert_false(has(&r, PM_M_CG_MEM_CURRENT));
    assert_false(has(&r, PM_M_CG_MEM_MAX));
    assert_false(has(&r, PM_M_CG_MEM_HEADROOM));
    pm_sys_close(s);
    assert_int_equal(count_fds(), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_laptop),      cmocka_unit_test(test_cooling_cadence),
        cmocka_unit_test(test_arm_board),   cmocka_unit_test(test_variants),
        cmocka_unit_test(test_unreadable),  cmocka_unit_test(test_absent),
        cmocka_unit_test(test_many_devices),
        cmocka_unit_test(test_cg_namespace), cmocka_unit_test(test_cg_root),
        cmocka_unit_test(test_cg_nested),   cmocka_unit_test(test_cg_v1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
