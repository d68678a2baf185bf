/*
 * Tests of the /dev/kmsg OOM source (sampler/linux/kmsg.c): the record
 * parser against records captured on kernel 6.18 after real memcg OOM kills
 * (tests/fixtures/kmsg/capture.sh), hand-written variants (global OOM, old
 * kernels, comm with parentheses, a record forged by userspace) and garbled
 * headers; and, as root, the live reader: it must not replay old records
 * and must ignore a forged "Killed process" written into /dev/kmsg.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sampler/linux/kmsg.h"

#define FX "tests/fixtures/kmsg/"

struct recs {
    char *buf;
    size_t n;
    const char *start[256];
    size_t len[256];
};

/* Split a fixture into records as read(2) would return them: a record
 * starts at every line that does not begin with a space. */
static void load(const char *path, struct recs *r)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open fixture %s (run the tests from the repository root)", path);
    static char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[len] = '\0';
    r->buf = buf;
    r->n = 0;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        do {
            const char *nl = memchr(buf + j, '\n', len - j);
            j = nl ? (size_t)(nl - buf) + 1 : len;
        } while (j < len && buf[j] == ' ');
        assert_true(r->n < 256);
        r->start[r->n] = buf + i;
        r->len[r->n] = j - i;
        r->n++;
        i = j;
    }
}

/* An independent reading of the pid after `key` in a record. */
static long pid_after(const char *rec, size_t len, const char *key)
{
    char tmp[2048];
    snprintf(tmp, sizeof(tmp), "%.*s", (int)len, rec);
    const char *k = strstr(tmp, key);
    return k ? strtol(k + strlen(key), NULL, 10) : -1;
}

static void test_capture(void **state)
{
    (void)state;
    struct recs r;
    load(FX "capture-6.18.kmsg", &r);
    int killed = 0, constraints = 0, other = 0;
    pid_t last_constraint = 0;
    for (size_t i = 0; i < r.n; i++) {
        struct pm_kmsg_rec k;
        int rc = pm_kmsg_parse(r.start[i], r.len[i], &k);
        char tmp[2048];
        snprintf(tmp, sizeof(tmp), "%.*s", (int)r.len[i], r.start[i]);
        assert_int_equal(k.ts_us, strtoll(strchr(strchr(tmp, ',') + 1, ',') + 1, NULL, 10));
        if (strstr(tmp, "Killed process")) {
            assert_int_equal(rc, 1);
            assert_int_equal(k.kind, PM_KMSG_OOM_KILLED);
            assert_int_equal(k.pid, pid_after(r.start[i], r.len[i], "Killed process "));
            assert_string_equal(k.comm, "python3");
            assert_true(k.memcg_oom);
            assert_int_equal(k.anon_rss_kb, pid_after(r.start[i], r.len[i], "anon-rss:"));
            assert_int_equal(k.total_vm_kb, pid_after(r.start[i], r.len[i], "total-vm:"));
            /* the kernel prints the constraint record first, same pid */
            assert_int_equal(k.pid, last_constraint);
            killed++;
        } else if (strstr(tmp, ";oom-kill:")) {
            assert_int_equal(rc, 1);
            assert_int_equal(k.kind, PM_KMSG_OOM_CONSTRAINT);
            assert_int_equal(k.pid, pid_after(r.start[i], r.len[i], ",pid="));
            assert_string_equal(k.constraint, "CONSTRAINT_MEMCG");
            char want[160];
            snprintf(want, sizeof(want), ",task_memcg=%s,", k.memcg);
            assert_true(k.memcg[0] == '/');
            assert_non_null(strstr(tmp, want));
            last_constraint = k.pid;
            constraints++;
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(k.kind, PM_KMSG_NONE);
            other++;
        }
    }
    assert_true(killed >= 1);
    assert_int_equal(killed, constraints);
    assert_true(other >= 3); /* dictionary records and "invoked oom-killer" */
}

static void test_variants(void **state)
{
    (void)state;
    struct recs r;
    load(FX "variants.kmsg", &r);
    assert_int_equal(r.n, 9);
    struct pm_kmsg_rec k;

    assert_int_equal(pm_kmsg_parse(r.start[0], r.len[0], &k), 1);
    assert_int_equal(k.kind, PM_KMSG_OOM_CONSTRAINT);
    assert_int_equal(k.pid, 4242);
    assert_string_equal(k.comm, "my (weird) p");
    assert_string_equal(k.memcg, "/user.slice/user-1000.slice/session-2.scope");
    assert_string_equal(k.constraint, "CONSTRAINT_NONE");

    assert_int_equal(pm_kmsg_parse(r.start[1], r.len[1], &k), 1);
    assert_int_equal(k.kind, PM_KMSG_OOM_KILLED);
    assert_int_equal(k.pid, 4242);
    assert_string_equal(k.comm, "my (weird) p");
    assert_false(k.memcg_oom);
    assert_int_equal(k.total_vm_kb, 4194304);
    assert_int_equal(k.anon_rss_kb, 3145728);
    assert_int_equal(k.file_rss_kb, 1024);
    assert_int_equal(k.shmem_rss_kb, 0);
    assert_int_equal(k.seq, 1001);

    /* before 5.x: "Killed process" alone, fewer fields */
    assert_int_equal(pm_kmsg_parse(r.start[2], r.len[2], &k), 1);
    assert_int_equal(k.pid, 777);
    assert_string_equal(k.comm, "oldkern");
    assert_int_equal(k.anon_rss_kb, 800);
    assert_int_equal(k.shmem_rss_kb, -1);
    assert_int_equal(pm_kmsg_parse(r.start[3], r.len[3], &k), 1);
    assert_int_equal(k.pid, 778);
    assert_string_equal(k.comm, "bare");
    assert_int_equal(k.total_vm_kb, -1);

    /* the reaper's line is not a kill; a constraint without a pid and a
     * kill without a number are useless */
    assert_int_equal(pm_kmsg_parse(r.start[4], r.len[4], &k), 0);
    assert_int_equal(pm_kmsg_parse(r.start[5], r.len[5], &k), 0);
    assert_int_equal(pm_kmsg_parse(r.start[6], r.len[6], &k), 0);
    /* extra header fields after the flags */
    assert_int_equal(pm_kmsg_parse(r.start[7], r.len[7], &k), 0);
    assert_int_equal(k.ts_us, 3000050);
    /* forged by userspace (facility user): ignored */
    assert_int_equal(pm_kmsg_parse(r.start[8], r.len[8], &k), 0);
    assert_int_equal(k.kind, PM_KMSG_NONE);
}

static void test_garbled_and_truncated(void **state)
{
    (void)state;
    struct recs r;
    load(FX "garbled.kmsg", &r);
    for (size_t i = 0; i < r.n; i++) {
        struct pm_kmsg_rec k;
        assert_int_equal(pm_kmsg_parse(r.start[i], r.len[i], &k), -1);
    }
    /* every prefix of a real kill record parses without reading past it */
    load(FX "variants.kmsg", &r);
    for (size_t n = 0; n <= r.len[1]; n++) {
        char *copy = malloc(n ? n : 1);
        memcpy(copy, r.start[1], n);
        struct pm_kmsg_rec k;
        int rc = pm_kmsg_parse(copy, n, &k);
        assert_true(rc >= -1 && rc <= 1);
        if (rc == 1)
            assert_int_equal(k.pid, 4242);
        free(copy);
    }
}

static void test_to_rec(void **state)
{
    (void)state;
    struct pm_kmsg_rec k = {.kind = PM_KMSG_OOM_KILLED, .ts_us = 10000000, .pid = 99, .memcg_oom = 1,
                            .total_vm_kb = 5, .anon_rss_kb = 4};
    strcpy(k.comm, "hog");
    struct pm_rec out;
    /* record time within 5 s of now: kept, relative to the run start */
    pm_kmsg_to_rec(&k, "/grp", 9000000000LL, 11000000000LL, &out);
    assert_int_equal(out.type, PM_REC_EVENT);
    assert_int_equal(out.u.ev.kind, PM_EV_OOM_KILL);
    assert_int_equal(out.u.ev.pid, 99);
    assert_int_equal(out.u.ev.signal, SIGKILL);
    assert_int_equal(out.u.ev.t_ns, 1000000000LL);
    assert_int_equal(strncmp(out.u.ev.detail, "kernel OOM killer", 17), 0);
    assert_non_null(strstr(out.u.ev.detail, "; cgroup /grp"));
    assert_non_null(strstr(out.u.ev.detail, "anon-rss 4 kB"));
    /* a printk clock far from CLOCK_MONOTONIC: now is used instead */
    pm_kmsg_to_rec(&k, NULL, 9000000000LL, 100000000000LL, &out);
    assert_int_equal(out.u.ev.t_ns, 91000000000LL);
    assert_null(strstr(out.u.ev.detail, "; cgroup"));
}

static void test_live(void **state)
{
    (void)state;
    char why[256] = "";
    struct pm_kmsg *k = pm_kmsg_open(why, sizeof(why));
    if (!k) {
        if (geteuid() == 0)
            fail_msg("root cannot open /dev/kmsg: %s", why);
        assert_non_null(strstr(why, "/dev/kmsg"));
        skip();
    }
    struct pm_ring ring;
    assert_int_equal(pm_ring_init(&ring, 64), 0);
    /* old records (the capture above came from this buffer) are skipped */
    assert_int_equal(pm_kmsg_drain(k, 0, &ring), 0);
    int w = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
    if (w >= 0) {
        const char forged[] = "Out of memory: Killed process 31337 (forged) total-vm:1kB, anon-rss:1kB\n";
        assert_int_equal(write(w, forged, sizeof(forged) - 1), (ssize_t)sizeof(forged) - 1);
        close(w);
        assert_int_equal(pm_kmsg_drain(k, 0, &ring), 0);
    }
    struct pm_rec rec;
    assert_false(pm_ring_pop(&ring, &rec));
    pm_ring_free(&ring);
    pm_kmsg_close(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capture),
        cmocka_unit_test(test_variants),
        cmocka_unit_test(test_garbled_and_truncated),
        cmocka_unit_test(test_to_rec),
        cmocka_unit_test(test_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
