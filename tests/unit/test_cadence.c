/*
 * Counters read on a slower cadence than the tick (sampler/linux/
 * sys_linux.c reads /proc/vmstat every 10th tick at 10 ms): a counter is
 * the delta since the previous non-NULL value of its column, NULL where
 * its source was not read (catalog.h).  A run is planted through the store
 * API with known constant rates and jittered timestamps, and every
 * consumer that turns deltas into rates must give back the true rate: the
 * `sample_rates` view, `pressmon show --json` (cli/show.c) and diff
 * (analysis/diff.c).  Dividing by the time since the previous *row* would
 * read 10x (vmstat) and 100x (the loadavg gauge's time weight) off.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "analysis/diff.h"
#include "cli/cli.h"

#define NROWS 1001
#define IV_NS 10000000LL
#define PGFAULT_PER_S 10000.0 /* every delta is an exact integer: t moves in 100 us steps */
#define CPU_USER_PER_S 0.5    /* seconds per second */
#define LOAD1_MILLI 8000      /* above the diff threshold on a 2-CPU host */

static struct pm_host host = {.hostname = "cadence", .os = "linux", .cpu_count = 2,
                              .mem_total = 8LL << 30, .page_size = 4096};

/* Row k's time: the tick plus 0..1.2 ms of lateness, in 100 us steps, so
 * the rows are not evenly spaced and a column's interval is not 10 rows x
 * 10 ms. */
static int64_t t_of(int k)
{
    return (int64_t)k * IV_NS + (int64_t)((k * 7919) % 13) * 100000;
}

static int64_t plant_run(struct pm_store *st, const char *label, char *uid_out)
{
    static int seq;
    char *argv[] = {"planted", NULL};
    struct pm_run_info ri = {.label = label, .argv = argv, .argc = 1, .cwd = "/",
                             .started_at = (2000 + seq) * 1000000000LL, .interval_ns = IV_NS,
                             .proc_interval_ns = 4 * IV_NS, .host = &host, .recorder_pid = getpid()};
    pm_run_uid(ri.uid, ri.started_at + seq++);
    strcpy(uid_out, ri.uid);
    int64_t id = pm_store_run_begin(st, &ri);
    assert_true(id > 0);
    assert_int_equal(pm_store_begin(st), 0);
    int64_t last_vm = t_of(0);
    for (int k = 0; k < NROWS; k++) {
        int64_t t = t_of(k);
        struct pm_sys_rec r = {.t_ns = t};
#define PUT(id_, v_)                                  \
    do {                                              \
        r.v[PM_M_##id_] = (v_);                       \
        r.present |= UINT64_C(1) << PM_M_##id_;       \
    } while (0)
        PUT(MEM_AVAILABLE, 4 << 20);
        if (k > 0) /* per tick, like /proc/stat */
            PUT(CPU_USER, (int64_t)llround(CPU_USER_PER_S * (double)(t - t_of(k - 1)) / 1000.0));
        if (k > 0 && k % 10 == 0) { /* every 10th tick, like /proc/vmstat */
            PUT(VM_PGFAULT, (int64_t)llround(PGFAULT_PER_S * (double)(t - last_vm) / 1e9));
            last_vm = t;
        }
        if (k % 100 == 0) /* every 100th tick, like /proc/loadavg */
            PUT(LOAD1, LOAD1_MILLI);
#undef PUT
        assert_int_equal(pm_store_put_sys(st, id, &r), 0);
    }
    assert_int_equal(pm_store_commit(st), 0);
    struct pm_run_end re = {.ended_at = ri.started_at + t_of(NROWS - 1), .duration_ns = t_of(NROWS - 1),
                            .has_status = 1, .exit_code = 0, .samples = NROWS};
    assert_int_equal(pm_store_run_end(st, id, &re), 0);
    return id;
}

struct fx {
    char dir[64], path[96];
    struct pm_store *st;
    int64_t id_a, id_b;
    char uid_a[32], uid_b[32];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/pm-cadence-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/t.db", f->dir);
    char err[256];
    f->st = pm_store_open(f->path, PM_STORE_WRITE, err, sizeof err);
    assert_non_null(f->st);
    f->id_a = plant_run(f->st, "a", f->uid_a);
    f->id_b = plant_run(f->st, "b", f->uid_b);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    pm_store_close(f->st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void assert_near(double got, double want, double rel, const char *what)
{
    if (!(fabs(got - want) <= rel * fabs(want)))
        fail_msg("%s: got %.9g, want %.9g", what, got, want);
}

static void test_view(void **state)
{
    struct fx *f = *state;
    sqlite3 *db = pm_store_db(f->st);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(vm_page_faults_total_per_s), min(vm_page_faults_total_per_s),"
                                        " max(vm_page_faults_total_per_s), count(cpu_user_seconds_total_per_s),"
                                        " min(cpu_user_seconds_total_per_s), max(cpu_user_seconds_total_per_s),"
                                        " count(load1) FROM sample_rates WHERE run_id = ?",
                                        -1, &q, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(q, 1, f->id_a);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), (NROWS - 1) / 10);
    assert_near(sqlite3_column_double(q, 1), PGFAULT_PER_S, 1e-9, "view: lowest pgfault rate");
    assert_near(sqlite3_column_double(q, 2), PGFAULT_PER_S, 1e-9, "view: highest pgfault rate");
    assert_int_equal(sqlite3_column_int(q, 3), NROWS - 1);
    assert_near(sqlite3_column_double(q, 4), CPU_USER_PER_S, 1e-9, "view: lowest cpu_user rate");
    assert_near(sqlite3_column_double(q, 5), CPU_USER_PER_S, 1e-9, "view: highest cpu_user rate");
    assert_int_equal(sqlite3_column_int(q, 6), (NROWS - 1) / 100 + 1);
    sqlite3_finalize(q);
}

/* `pressmon show --json RUN`, its stdout captured in a file. */
static json_t *show_json(struct fx *f, const char *uid)
{
    char out[128];
    snprintf(out, sizeof out, "%s/show.json", f->dir);
    fflush(stdout);
    int saved = dup(1);
    FILE *o = fopen(out, "w");
    assert_non_null(o);
    dup2(fileno(o), 1);
    char *argv[] = {"show", "--db", f->path, "--json", (char *)uid, NULL};
    int rc = cmd_show(5, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    fclose(o);
    assert_int_equal(rc, 0);
    json_error_t je;
    json_t *j = json_load_file(out, 0, &je);
    if (!j)
        fail_msg("show --json output is not JSON: %s", je.text);
    return j;
}

static json_t *metric_of(json_t *show, const char *name)
{
    json_t *ms = json_object_get(show, "metrics"), *m;
    size_t i;
    json_array_foreach(ms, i, m)
        if (!strcmp(json_string_value(json_object_get(m, "name")), name))
            return m;
    fail_msg("show --json has no metric %s", name);
    return NULL;
}

static void test_show(void **state)
{
    struct fx *f = *state;
    json_t *j = show_json(f, f->uid_a);
    json_t *m = metric_of(j, "vm_pgfault");
    /* show rates counters over windows of >= 100 ms (analysis/stats.h): a
     * vmstat interval the jitter made shorter merges with the next. */
    json_int_t n = json_integer_value(json_object_get(m, "n"));
    assert_true(n >= (NROWS - 1) / 20 && n <= (NROWS - 1) / 10);
    assert_near(json_real_value(json_object_get(m, "min")), PGFAULT_PER_S, 1e-9, "show: pgfault min");
    assert_near(json_real_value(json_object_get(m, "max")), PGFAULT_PER_S, 1e-9, "show: pgfault max");
    m = metric_of(j, "cpu_user_us"); /* shown in percent of one CPU */
    assert_near(json_real_value(json_object_get(m, "min")), CPU_USER_PER_S * 100, 1e-9, "show: cpu_user min");
    assert_near(json_real_value(json_object_get(m, "max")), CPU_USER_PER_S * 100, 1e-9, "show: cpu_user max");
    json_decref(j);
}

static const struct pm_diff_metric *diff_metric(const struct pm_diff *d, const char *key)
{
    for (int i = 0; i < d->nmetrics; i++)
        if (!strcmp(d->metrics[i].key, key))
            return &d->metrics[i];
    fail_msg("diff has no metric %s", key);
    return NULL;
}

static void test_diff(void **state)
{
    struct fx *f = *state;
    struct pm_diff d;
    char err[256];
    assert_int_equal(pm_diff_compute(pm_store_db(f->st), &f->id_a, 1, &f->id_b, 1, &d, err, sizeof err), 0);
    const struct pm_diff_metric *m = diff_metric(&d, "vm_pgfault");
    assert_near(m->a.s.min, PGFAULT_PER_S, 1e-6, "diff: pgfault min");
    assert_near(m->a.s.max, PGFAULT_PER_S, 1e-6, "diff: pgfault max");
    assert_near(m->b.s.mean, PGFAULT_PER_S, 1e-6, "diff: pgfault mean");
    m = diff_metric(&d, "cpu_user_us");
    assert_near(m->a.s.mean, CPU_USER_PER_S, 1e-6, "diff: cpu_user mean");
    /* load1 is read once a second and above its threshold the whole run:
     * each value stands for the second before it (the first row for one
     * interval), not for one 10 ms tick. */
    m = diff_metric(&d, "load1_milli");
    assert_true(m->a.has_threshold);
    assert_near(m->a.above_s, (double)(t_of(NROWS - 1) - t_of(0) + IV_NS) / 1e9, 1e-6, "diff: load1 time above");
    pm_diff_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view),
        cmocka_unit_test(test_show),
        cmocka_unit_test(test_diff),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
