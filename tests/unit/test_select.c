/*
 * Run and group selectors (cli/select.c) against a real SQLite database
 * whose runs are written through the store API, as `record` writes them.
 * Error cases check both the -1 and the message the user sees on stderr.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/cli.h"

struct fx {
    char dir[64], path[96];
    struct pm_store *st;
    int64_t id[6];
};

/* uid, label, exit code (-1: still recording), started_at (s) */
static const struct {
    const char *uid, *label;
    int exit_code;
    int64_t start_s;
} planted[] = {
    {"01JDXA0000000001", "before", 0, 100},
    {"01JDXA0000000002", "before", 3, 200},
    {"01JDXB0000000003", "after", 0, 300},
    {"01JDXC0000000004", "after", 1, 400},
    {"01JDXC0000000005", NULL, 0, 500},
    {"01JDXD0000000006", "live", -1, 600},
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pm-select-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    char err[256];
    f->st = pm_store_open(f->path, PM_STORE_WRITE, err, sizeof err);
    assert_non_null(f->st);
    struct pm_host h = {.hostname = "testhost", .os = "linux", .cpu_count = 2, .mem_total = 1 << 30,
                        .page_size = 4096};
    for (size_t i = 0; i < sizeof planted / sizeof planted[0]; i++) {
        char *argv[] = {"true", NULL};
        struct pm_run_info ri = {.label = planted[i].label, .argv = argv, .argc = 1, .cwd = "/",
                                 .started_at = planted[i].start_s * 1000000000LL,
                                 .interval_ns = 10000000, .proc_interval_ns = 40000000, .host = &h,
                                 .recorder_pid = getpid()};
        memcpy(ri.uid, planted[i].uid, 17);
        f->id[i] = pm_store_run_begin(f->st, &ri);
        assert_true(f->id[i] > 0);
        if (planted[i].exit_code >= 0) {
            struct pm_run_end re = {.ended_at = ri.started_at + 1000000000, .duration_ns = 1000000000,
                                    .has_status = 1, .exit_code = planted[i].exit_code};
            assert_int_equal(pm_store_run_end(f->st, f->id[i], &re), 0);
        }
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    pm_store_close(f->st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (!getenv("PM_KEEP"))
        assert_int_equal(system(cmd), 0);
    else
        fprintf(stderr, "kept %s\n", f->path);
    free(f);
    return 0;
}

/* Run fn with stderr captured into buf. */
static char captured[4096];
static void capture_begin(FILE **tmp, int *saved)
{
    fflush(stderr);
    *tmp = tmpfile();
    *saved = dup(2);
    dup2(fileno(*tmp), 2);
}
static void capture_end(FILE *tmp, int saved)
{
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(captured, 1, sizeof captured - 1, tmp);
    captured[n] = 0;
    fclose(tmp);
}

static int run_err(struct pm_store *st, const char *sel)
{
    FILE *tmp;
    int saved;
    int64_t id = -7;
    capture_begin(&tmp, &saved);
    int rc = pm_select_run(st, sel, &id);
    capture_end(tmp, saved);
    return rc;
}

/* pm_select_group with its message captured in `captured`. */
static int group_err(struct pm_store *st, const char *sel, int64_t **ids)
{
    FILE *tmp;
    int saved;
    capture_begin(&tmp, &saved);
    int n = pm_select_group(st, sel, ids);
    capture_end(tmp, saved);
    return n;
}

static void test_exact_and_prefix(void **state)
{
    struct fx *f = *state;
    int64_t id;
    assert_int_equal(pm_select_run(f->st, "01JDXB0000000003", &id), 0);
    assert_int_equal(id, f->id[2]);
    assert_int_equal(pm_select_run(f->st, "01JDXB", &id), 0);
    assert_int_equal(id, f->id[2]);
    /* lowercase is accepted: ids are typed by people */
    assert_int_equal(pm_select_run(f->st, "01jdxd", &id), 0);
    assert_int_equal(id, f->id[5]);
}

static void test_ambiguous_lists_candidates(void **state)
{
    struct fx *f = *state;
    assert_int_equal(run_err(f->st, "01JDXC"), -1);
    assert_non_null(strstr(captured, "ambiguous"));
    assert_non_null(strstr(captured, "01JDXC0000000004"));
    assert_non_null(strstr(captured, "01JDXC0000000005"));
    assert_null(strstr(captured, "01JDXB"));
}

static void test_unknown(void **state)
{
    struct fx *f = *state;
    assert_int_equal(run_err(f->st, "01JZZZ"), -1);
    assert_non_null(strstr(captured, "no run '01JZZZ'"));
    /* Malformed: can name no run (rm exits 2 for these, 1 for the others). */
    assert_int_equal(run_err(f->st, "x'; DROP TABLE runs; --"), PM_SELECT_BAD);
    assert_non_null(strstr(captured, "not a run id"));
    assert_int_equal(run_err(f->st, "01JDXA00000000012"), PM_SELECT_BAD); /* too long */
    assert_int_equal(run_err(f->st, ""), PM_SELECT_BAD);
    assert_int_equal(run_err(f->st, "outcome:fail"), PM_SELECT_BAD);
    assert_non_null(strstr(captured, "group"));
}

static void test_last(void **state)
{
    struct fx *f = *state;
    int64_t id;
    assert_int_equal(pm_select_run(f->st, "last", &id), 0);
    assert_int_equal(id, f->id[5]);
    assert_int_equal(pm_select_run(f->st, "last~0", &id), 0);
    assert_int_equal(id, f->id[5]);
    assert_int_equal(pm_select_run(f->st, "last~1", &id), 0);
    assert_int_equal(id, f->id[4]);
    assert_int_equal(pm_select_run(f->st, "last~5", &id), 0);
    assert_int_equal(id, f->id[0]);
    assert_int_equal(run_err(f->st, "last~6"), -1);
    assert_non_null(strstr(captured, "fewer than 7 runs"));
    assert_int_equal(run_err(f->st, "last~x"), PM_SELECT_BAD);
    assert_int_equal(run_err(f->st, "last~-1"), PM_SELECT_BAD);
    assert_int_equal(run_err(f->st, "last~"), PM_SELECT_BAD);
}

static void test_label(void **state)
{
    struct fx *f = *state;
    int64_t id;
    assert_int_equal(pm_select_run(f->st, "label:before", &id), 0);
    assert_int_equal(id, f->id[1]); /* the newest with that label */
    assert_int_equal(run_err(f->st, "label:nope"), -1);
    assert_non_null(strstr(captured, "nope"));
    assert_int_equal(run_err(f->st, "label:"), PM_SELECT_BAD);
}

static int contains(const int64_t *ids, int n, int64_t id)
{
    for (int i = 0; i < n; i++)
        if (ids[i] == id)
            return 1;
    return 0;
}

static void test_groups(void **state)
{
    struct fx *f = *state;
    int64_t *ids;
    int n = pm_select_group(f->st, "outcome:fail", &ids);
    assert_int_equal(n, 2);
    assert_true(contains(ids, n, f->id[1]) && contains(ids, n, f->id[3]));
    free(ids);

    n = pm_select_group(f->st, "outcome:pass", &ids);
    assert_int_equal(n, 3);
    assert_true(contains(ids, n, f->id[0]) && contains(ids, n, f->id[2]) && contains(ids, n, f->id[4]));
    assert_false(contains(ids, n, f->id[5])); /* still recording: no outcome */
    free(ids);

    n = pm_select_group(f->st, "label:after", &ids);
    assert_int_equal(n, 2);
    free(ids);

    /* comma list, duplicates collapse, single selectors of every kind */
    n = pm_select_group(f->st, "01JDXB,last,label:before,01JDXB0000000003", &ids);
    assert_int_equal(n, 3);
    assert_int_equal(ids[0], f->id[2]);
    assert_int_equal(ids[1], f->id[5]);
    assert_int_equal(ids[2], f->id[1]);
    free(ids);

    /* empty group: 0, the caller says so */
    n = pm_select_group(f->st, "label:nobody", &ids);
    assert_int_equal(n, 0);
    free(ids);
}

static void test_group_errors(void **state)
{
    struct fx *f = *state;
    int64_t *ids = (int64_t *)1;
    int n = group_err(f->st, "outcome:maybe", &ids);
    assert_int_equal(n, PM_SELECT_BAD);
    assert_null(ids);
    assert_non_null(strstr(captured, "outcome:fail"));

    n = group_err(f->st, "01JDXA0000000001,01JDXC", &ids);
    assert_int_equal(n, -1);
    assert_non_null(strstr(captured, "ambiguous"));

    n = group_err(f->st, ",,", &ids);
    assert_int_equal(n, PM_SELECT_BAD);

    /* a malformed element of a list, or a group where a list wants one run */
    n = group_err(f->st, "last,last~x", &ids);
    assert_int_equal(n, PM_SELECT_BAD);
    assert_null(ids);
    n = group_err(f->st, "last,outcome:fail", &ids);
    assert_int_equal(n, PM_SELECT_BAD);
    n = group_err(f->st, "last,01JZZZ", &ids);
    assert_int_equal(n, -1);
    assert_null(ids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_and_prefix), cmocka_unit_test(test_ambiguous_lists_candidates),
        cmocka_unit_test(test_unknown),          cmocka_unit_test(test_last),
        cmocka_unit_test(test_label),            cmocka_unit_test(test_groups),
        cmocka_unit_test(test_group_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
