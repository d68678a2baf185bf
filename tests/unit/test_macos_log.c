/*
 * Tests for the macOS `log stream --style ndjson` parser (sampler/macos_log.c)
 * against tests/fixtures/macos/log_stream.ndjson, whose lines have the
 * shape log(1) writes (escaped slashes, every field), one per message
 * family plus malformed lines.  log_stream.expected says, per line, what
 * the parser must find: rc kind pid comm reason extra ("_" in comm is a
 * space; extra is "fatal", "path=...", "sender=..." or "-").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sampler/macos_log.h"

#define FIX "tests/fixtures/macos/"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (run from the repository root)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return b;
}

struct lines {
    char *line[64];
    size_t len[64];
    int n;
};

static void collect(const char *line, size_t len, void *arg)
{
    struct lines *l = arg;
    assert_true(l->n < 64);
    l->line[l->n] = malloc(len + 1);
    memcpy(l->line[l->n], line, len);
    l->line[l->n][len] = '\0';
    l->len[l->n] = len;
    l->n++;
}

static void free_lines(struct lines *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->line[i]);
    l->n = 0;
}

/* Feed the fixture in chunks of `chunk` bytes: lines must come out whole
 * whatever the cut. */
static void split_fixture(size_t chunk, struct lines *out)
{
    size_t len;
    char *data = slurp(FIX "log_stream.ndjson", &len);
    static struct pm_mlog_splitter sp;
    memset(&sp, 0, sizeof(sp));
    memset(out, 0, sizeof(*out));
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        pm_mlog_feed(&sp, data + off, n, collect, out);
    }
    pm_mlog_finish(&sp, collect, out);
    assert_int_equal(sp.overlong, 0);
    free(data);
}

static void check_against_expected(struct lines *l)
{
    FILE *f = fopen(FIX "log_stream.expected", "r");
    assert_non_null(f);
    char exp[512];
    int i = 0, checked = 0;
    while (fgets(exp, sizeof(exp), f)) {
        if (exp[0] == '#')
            continue;
        int rc;
        char kind[32], comm[64], reason[64], extra[300];
        int pid;
        assert_int_equal(sscanf(exp, "%d %31s %d %63s %63s %299s", &rc, kind, &pid, comm, reason, extra), 6);
        for (char *c = comm; *c; c++)
            if (*c == '_')
                *c = ' ';
        assert_true(i < l->n);
        struct pm_mlog_event ev;
        int got = pm_mlog_parse_line(l->line[i], l->len[i], &ev);
        if (got != rc)
            fail_msg("line %d: rc %d, expected %d: %.120s", i + 1, got, rc, l->line[i]);
        if (rc == 1) {
            assert_string_equal(pm_event_kind_name(ev.kind), kind);
            assert_int_equal(ev.pid, pid);
            if (strcmp(comm, "-"))
                assert_string_equal(ev.comm, comm);
            assert_string_equal(ev.reason, reason);
            assert_int_equal(ev.fatal, !strcmp(extra, "fatal"));
            if (!strncmp(extra, "path=", 5))
                assert_string_equal(ev.path, extra + 5);
            /* Kernel lines: the sender is the kernel, never the victim. */
            assert_int_equal(ev.sender_pid, 0);
            assert_string_equal(ev.sender_comm, "kernel");
            assert_true(ev.mach_ts > 0);
            assert_true(ev.detail[0] != '\0');
        } else {
            assert_int_equal(ev.kind, 0);
            assert_int_equal(ev.pid, 0);
            if (!strncmp(extra, "sender=", 7))
                assert_string_equal(ev.sender_comm, extra + 7);
        }
        i++;
        checked++;
    }
    fclose(f);
    assert_int_equal(i, l->n); /* every fixture line has an expectation */
    assert_true(checked > 25);
}

static void test_fixture_whole(void **state)
{
    (void)state;
    struct lines l;
    split_fixture(1 << 20, &l);
    check_against_expected(&l);
    free_lines(&l);
}

static void test_fixture_byte_by_byte(void **state)
{
    (void)state;
    struct lines l;
    split_fixture(1, &l);
    check_against_expected(&l);
    free_lines(&l);
}

static void test_fixture_odd_chunks(void **state)
{
    (void)state;
    struct lines l;
    split_fixture(97, &l);
    check_against_expected(&l);
    free_lines(&l);
}

/* A rejected page whose file changed after signing is the seed's cargo
 * case: the flag must be set only for "!=". */
static void test_mtime_changed(void **state)
{
    (void)state;
    struct pm_mlog_event ev;
    assert_int_equal(pm_mlog_classify("CODE SIGNING: process 7[t]: rejecting invalid page at address 0x1 from "
                                      "offset 0x0 in file \"/a b/t\" (cs_mtime:1.2 != mtime:1.3) (signed:1)",
                                      &ev),
                     1);
    assert_true(ev.mtime_changed);
    assert_string_equal(ev.path, "/a b/t");
    assert_int_equal(ev.pid, 7);
    assert_int_equal(pm_mlog_classify("CODE SIGNING: process 7[t]: rejecting invalid page at address 0x1 from "
                                      "offset 0x0 in file \"/a/t\" (cs_mtime:1.2 == mtime:1.2) (signed:1)",
                                      &ev),
                     1);
    assert_false(ev.mtime_changed);
}

/* Truncated versions of every recognised message: never a wrong pid. */
static void test_truncated_messages(void **state)
{
    (void)state;
    static const char *const msgs[] = {
        "memorystatus: killing_specific_process pid 4711 [cargo] (per-process-limit 10 38s rf:-) 1KB",
        "CODE SIGNING: cs_invalid_page(0x104b00000): p=32528[gopls] final status 0x23020200, denying page sending SIGKILL",
        "EXC_RESOURCE -> cargo[4711] exceeded mem limit: ActiveHard 3072 MB (fatal)",
        "ASP: Security policy would not allow process: 50321, /x/y",
    };
    static const int pids[] = {4711, 32528, 4711, 50321};
    for (size_t m = 0; m < sizeof(msgs) / sizeof(msgs[0]); m++) {
        size_t n = strlen(msgs[m]);
        for (size_t cut = 0; cut <= n; cut++) {
            char buf[256];
            memcpy(buf, msgs[m], cut);
            buf[cut] = '\0';
            struct pm_mlog_event ev;
            int rc = pm_mlog_classify(buf, &ev);
            assert_true(rc == 0 || rc == 1);
            if (rc == 1 && ev.pid)
                assert_int_equal(ev.pid, pids[m]);
            if (rc == 0)
                assert_int_equal(ev.pid, 0);
        }
    }
}

/* An overlong line is dropped whole; the next line still parses. */
static void test_overlong_line(void **state)
{
    (void)state;
    static struct pm_mlog_splitter sp;
    memset(&sp, 0, sizeof(sp));
    struct lines l;
    memset(&l, 0, sizeof(l));
    char *big = malloc(PM_MLOG_LINE_MAX * 2);
    memset(big, 'x', PM_MLOG_LINE_MAX * 2);
    pm_mlog_feed(&sp, big, PM_MLOG_LINE_MAX * 2, collect, &l);
    pm_mlog_feed(&sp, "\n{\"eventMessage\":\"ok\"}\npartial", 31, collect, &l);
    assert_int_equal(l.n, 1);
    assert_int_equal(sp.overlong, 1);
    assert_string_equal(l.line[0], "{\"eventMessage\":\"ok\"}");
    pm_mlog_finish(&sp, collect, &l);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.line[1], "partial");
    free(big);
    free_lines(&l);
}

/* The parser must not read past len even without a NUL. */
static void test_no_nul(void **state)
{
    (void)state;
    const char src[] = "{\"eventMessage\":\"ASP: Security policy would not allow process: 12, /bin/x\"}TRAILING";
    size_t len = strlen(src) - strlen("TRAILING");
    char *copy = malloc(len);
    memcpy(copy, src, len);
    struct pm_mlog_event ev;
    assert_int_equal(pm_mlog_parse_line(copy, len, &ev), 1);
    assert_int_equal(ev.pid, 12);
    assert_string_equal(ev.path, "/bin/x");
    assert_int_equal(pm_mlog_parse_line(copy, len - 1, &ev), -1);
    free(copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_whole),     cmocka_unit_test(test_fixture_byte_by_byte),
        cmocka_unit_test(test_fixture_odd_chunks), cmocka_unit_test(test_mtime_changed),
        cmocka_unit_test(test_truncated_messages), cmocka_unit_test(test_overlong_line),
        cmocka_unit_test(test_no_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
