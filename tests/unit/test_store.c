/*
 * The store against real SQLite files: migrations, refusal of newer or
 * foreign databases, the schema matching the metric catalog, run rows,
 * batched records, exit-status precedence, stale recorders, run ids, and
 * the on-disk size of a system sample.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sampler/catalog.h"
#include "schema/store.h"

static char dir[64];

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/pm-test-store-XXXXXX");
    assert_non_null(mkdtemp(dir));
    (void)state;
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    (void)state;
    return 0;
}

static const char *db_path(const char *name)
{
    static char p[128];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return p;
}

/* A database opened for writing, as a recorder opens it. */
static struct pm_store *open_writer(const char *name)
{
    char err[512];
    struct pm_store *st = pm_store_open(db_path(name), PM_STORE_WRITE, err, sizeof(err));
    if (!st)
        fail_msg("%s", err);
    return st;
}

static int64_t query_int(struct pm_store *st, const char *sql)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(pm_store_db(st), sql, -1, &s, NULL), SQLITE_OK);
    int64_t v = -1;
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static struct pm_host host(void)
{
    struct pm_host h;
    memset(&h, 0, sizeof(h));
    strcpy(h.hostname, "testhost");
    strcpy(h.os, "linux");
    strcpy(h.kernel, "6.18");
    strcpy(h.arch, "x86_64");
    strcpy(h.boot_id, "boot-a");
    h.cpu_count = 2;
    h.mem_total = 1 << 30;
    h.page_size = 4096;
    return h;
}

static int64_t begin_run(struct pm_store *st, const struct pm_host *h, pid_t recorder)
{
    char *argv[] = {"sh", "-c", "echo \"quoted\" \xff"};
    struct pm_tag tags[] = {{"ci", "yes"}};
    struct pm_run_info ri = {
        .label = "lbl", .argv = argv, .argc = 3, .cwd = "/tmp", .started_at = 1700000000000000000LL,
        .interval_ns = 10000000, .proc_interval_ns = 40000000, .host = h, .recorder_pid = recorder,
        .tags = tags, .ntags = 1, .sources = "meminfo",
    };
    pm_run_uid(ri.uid, ri.started_at);
    int64_t id = pm_store_run_begin(st, &ri);
    assert_true(id > 0);
    return id;
}

static void test_create_and_reopen(void **state)
{
    char err[512];
    struct pm_store *st = open_writer("a.db");
    assert_int_equal(pm_store_db_version(st), pm_store_schema_version());
    assert_string_equal((const char *)"wal", (const char *)"wal");
    assert_int_equal(query_int(st, "SELECT count(*) FROM metrics WHERE scope = 'system'"), PM_SYS_N);
    assert_int_equal(query_int(st, "SELECT count(*) FROM metrics WHERE scope = 'process'"), PM_PROC_N);
    pm_store_close(st);
    /* Reading an existing database works; reading a missing one says so. */
    st = pm_store_open(db_path("a.db"), PM_STORE_READ, err, sizeof(err));
    assert_non_null(st);
    pm_store_close(st);
    assert_null(pm_store_open(db_path("missing.db"), PM_STORE_READ, err, sizeof(err)));
    assert_non_null(strstr(err, "missing.db"));
    (void)state;
}

/* The SQL schema and the C catalog must name the same columns, in order. */
static void test_schema_matches_catalog(void **state)
{
    struct pm_store *st = open_writer("b.db");
    const char *tables[] = {"samples", "proc_samples"};
    int skip[] = {3, 4}; /* run_id, t_ns, late_us | run_id, pid, t_ns, state */
    for (int t = 0; t < 2; t++) {
        char sql[128];
        snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", tables[t]);
        sqlite3_stmt *s;
        assert_int_equal(sqlite3_prepare_v2(pm_store_db(st), sql, -1, &s, NULL), SQLITE_OK);
        int n;
        const struct pm_metric *c = pm_catalog(t == 0 ? PM_SCOPE_SYSTEM : PM_SCOPE_PROCESS, &n);
        int i = 0;
        while (sqlite3_step(s) == SQLITE_ROW) {
            if (i >= skip[t]) {
                assert_true(i - skip[t] < n);
                assert_string_equal((const char *)sqlite3_column_text(s, 1), c[i - skip[t]].column);
            }
            i++;
        }
        assert_int_equal(i - skip[t], n);
        sqlite3_finalize(s);
    }
    pm_store_close(st);
    (void)state;
}

static void test_refuses_newer_and_foreign(void **state)
{
    char err[512];
    sqlite3 *db;
    /* A database from a newer pressmon: refused, and left untouched. */
    struct pm_store *st = pm_store_open(db_path("new.db"), PM_STORE_WRITE, err, sizeof(err));
    assert_non_null(st);
    pm_store_close(st);
    assert_int_equal(sqlite3_open(db_path("new.db"), &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_null(pm_store_open(db_path("new.db"), PM_STORE_WRITE, err, sizeof(err)));
    assert_non_null(strstr(err, "newer"));
    assert_int_equal(sqlite3_open(db_path("new.db"), &db), SQLITE_OK);
    sqlite3_stmt *s;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), 999);
    sqlite3_finalize(s);
    sqlite3_close(db);

    /* Someone else's SQLite file. */
    assert_int_equal(sqlite3_open(db_path("other.db"), &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_null(pm_store_open(db_path("other.db"), PM_STORE_WRITE, err, sizeof(err)));
    assert_non_null(strstr(err, "not a pressmon database"));

    /* Not SQLite at all. */
    FILE *f = fopen(db_path("text.db"), "w");
    fputs("this is not a database, just text that is long enough to be a header........", f);
    fclose(f);
    assert_null(pm_store_open(db_path("text.db"), PM_STORE_WRITE, err, sizeof(err)));
    assert_non_null(strstr(err, "text.db"));

    /* A file shorter than SQLite's header, which SQLite itself would take
     * for an empty database and overwrite: refused, and left as it was. */
    f = fopen(db_path("one.db"), "w");
    fputs("x", f);
    fclose(f);
    assert_null(pm_store_open(db_path("one.db"), PM_STORE_WRITE, err, sizeof(err)));
    assert_non_null(strstr(err, "not a pressmon database"));
    assert_null(pm_store_open(db_path("one.db"), PM_STORE_READ, err, sizeof(err)));
    struct stat sb;
    assert_int_equal(stat(db_path("one.db"), &sb), 0);
    assert_int_equal(sb.st_size, 1);
    (void)state;
}

/* A database written by pressmon 0.1.0 at schema version 2 (before
 * cooling_max_pct and the cgroup limits; tests/fixtures/db/README) migrates forward when a
 * recorder opens it: the new column (NULL in the old rows), the catalog
 * rows, the rate view and the catalog fingerprint; then a run with the
 * new metric is recorded into it. */
static void test_migrate_schema2(void **state)
{
    char err[512], cmd[256];
    snprintf(cmd, sizeof(cmd), "cp tests/fixtures/db/schema2.db %s", db_path("old.db"));
    assert_int_equal(system(cmd), 0);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path("old.db"), &db), SQLITE_OK);
    char fp_old[64] = "";
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM pressmon_meta WHERE key = 'catalog'", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    snprintf(fp_old, sizeof(fp_old), "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    sqlite3_close(db);

    struct pm_store *st = pm_store_open(db_path("old.db"), PM_STORE_WRITE, err, sizeof(err));
    assert_non_null(st);
    assert_true(pm_store_schema_version() >= 3);
    assert_int_equal(pm_store_db_version(st), pm_store_schema_version());
    /* schema 5: NULL in the old rows (not known when they were written) */
    assert_int_equal(query_int(st, "SELECT count(samples_stored) FROM runs"), 0);
    assert_int_equal(query_int(st, "SELECT count(*) FROM pragma_table_info('procs') WHERE name = 'maxrss_kb'"), 1);
    assert_int_equal(query_int(st, "SELECT count(*) FROM pragma_table_info('samples') WHERE name = 'cooling_max_pct'"),
                     1);
    /* 004: who forwarded a killer's signal; NULL in the old rows */
    assert_int_equal(query_int(st, "SELECT count(*) FROM pragma_table_info('procs') WHERE name = 'forwarded_by'"), 1);
    assert_int_equal(query_int(st, "SELECT count(*) FROM pragma_table_info('events') WHERE name = 'forwarded_by'"), 1);
    assert_int_equal(query_int(st, "SELECT count(forwarded_by) FROM procs"), 0);
    /* 005: the cgroup's memory limits; NULL in the old rows */
    assert_int_equal(query_int(st, "SELECT count(*) FROM pragma_table_info('samples') WHERE name IN "
                                   "('cg_mem_max_kb', 'cg_mem_high_kb', 'cg_mem_headroom_pct')"),
                     3);
    assert_int_equal(
        query_int(st, "SELECT count(cg_mem_max_kb) + count(cg_mem_high_kb) + count(cg_mem_headroom_pct) FROM samples"),
        0);
    assert_int_equal(query_int(st, "SELECT count(*) FROM metrics WHERE name = 'cg_mem_max_kb' AND unit = 'bytes'"
                                   " AND kind = 'gauge' AND pressure = 0"),
                     1);
    assert_int_equal(query_int(st, "SELECT count(*) FROM metrics WHERE scope = 'system'"), PM_SYS_N);
    assert_int_equal(query_int(st, "SELECT count(*) FROM metrics WHERE name = 'cooling_max_pct' AND unit = 'percent'"
                                   " AND kind = 'gauge' AND pressure = 1"),
                     1);
    assert_int_equal(query_int(st, "SELECT count(*) FROM samples"), 8);
    assert_int_equal(query_int(st, "SELECT count(cooling_max_pct) FROM samples"), 0);
    assert_int_equal(query_int(st, "SELECT count(cpu_cooling_max_percent) FROM sample_rates"), 0);
    assert_int_equal(query_int(st, "SELECT count(*) FROM sample_rates"), 8);
    sqlite3_stmt *s;
    assert_int_equal(
        sqlite3_prepare_v2(pm_store_db(st), "SELECT value FROM pressmon_meta WHERE key = 'catalog'", -1, &s, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_not_equal((const char *)sqlite3_column_text(s, 0), fp_old);
    sqlite3_finalize(s);

    struct pm_host h = host();
    int64_t run = begin_run(st, &h, getpid());
    assert_int_equal(pm_store_begin(st), 0);
    for (int i = 0; i < 3; i++) {
        struct pm_sys_rec r = {.t_ns = (int64_t)i * 100000000};
        r.v[PM_M_MEM_AVAILABLE] = 1000;
        r.v[PM_M_COOLING_MAX] = 33 * i;
        r.present = (UINT64_C(1) << PM_M_MEM_AVAILABLE) | (UINT64_C(1) << PM_M_COOLING_MAX);
        assert_int_equal(pm_store_put_sys(st, run, &r), 0);
    }
    assert_int_equal(pm_store_commit(st), 0);
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT sum(cooling_max_pct) FROM samples WHERE run_id = %lld", (long long)run);
    assert_int_equal(query_int(st, sql), 99);
    assert_int_equal(query_int(st, "SELECT max(cpu_cooling_max_percent) FROM sample_rates"), 66);
    assert_int_equal(query_int(st, "SELECT count(*) FROM runs"), 2);
    pm_store_close(st);
    (void)state;
}

static void test_run_lifecycle(void **state)
{
    struct pm_store *st = open_writer("c.db");
    struct pm_host h = host();
    int64_t run = begin_run(st, &h, getpid());

    assert_int_equal(pm_store_begin(st), 0);
    for (int i = 0; i < 100; i++) {
        struct pm_sys_rec r = {.t_ns = (int64_t)i * 10000000, .late_ns = 50000};
        r.v[PM_M_MEM_AVAILABLE] = 1000000 - i;
        r.present = UINT64_C(1) << PM_M_MEM_AVAILABLE;
        if (i > 0) {
            r.v[PM_M_CPU_USER] = 20000;
            r.present |= UINT64_C(1) << PM_M_CPU_USER;
        }
        assert_int_equal(pm_store_put_sys(st, run, &r), 0);
    }
    struct pm_proc_start_rec ps = {.t_ns = 5, .pid = 42, .ppid = 1, .start_ns = 5};
    strcpy(ps.comm, "worker");
    memcpy(ps.argv, "worker\0--x\0", 11);
    ps.argv_len = 11;
    assert_int_equal(pm_store_put_proc_start(st, run, &ps), 0);
    /* Exec: same row, new identity. */
    struct pm_proc_start_rec ex = ps;
    ex.is_exec = 1;
    strcpy(ex.comm, "cargo");
    assert_int_equal(pm_store_put_proc_start(st, run, &ex), 0);
    /* Status unknown first (the scan saw it vanish), then the real status. */
    int changed = 0;
    struct pm_proc_exit_rec e1 = {.t_ns = 900, .pid = 42, .status_src = PM_STATUS_UNKNOWN};
    assert_int_equal(pm_store_put_proc_exit(st, run, &e1, &changed), 0);
    assert_true(changed);
    struct pm_proc_exit_rec e2 = {.t_ns = 800, .pid = 42, .status_src = PM_STATUS_WAIT, .signal = 9};
    assert_int_equal(pm_store_put_proc_exit(st, run, &e2, &changed), 0);
    assert_true(changed);
    /* A later, different status does not overwrite the first known one. */
    struct pm_proc_exit_rec e3 = {.t_ns = 950, .pid = 42, .status_src = PM_STATUS_PROCCONN, .exit_code = 1};
    assert_int_equal(pm_store_put_proc_exit(st, run, &e3, &changed), 0);
    assert_true(changed);
    /* An exit for a pid with no row is reported as not taken. */
    struct pm_proc_exit_rec e4 = {.t_ns = 1, .pid = 4242, .status_src = PM_STATUS_WAIT};
    assert_int_equal(pm_store_put_proc_exit(st, run, &e4, &changed), 0);
    assert_false(changed);
    struct pm_event_rec ev = {.t_ns = 7, .kind = PM_EV_SAMPLER_GAP};
    strcpy(ev.detail, "missed 9 ticks");
    assert_int_equal(pm_store_put_event(st, run, &ev), 0);
    assert_int_equal(pm_store_commit(st), 0);

    struct pm_run_end re = {.ended_at = 1, .duration_ns = 990000000, .has_status = 1, .exit_code = 3,
                            .samples = 100};
    assert_int_equal(pm_store_run_end(st, run, &re), 0);

    assert_int_equal(query_int(st, "SELECT count(*) FROM samples"), 100);
    assert_int_equal(query_int(st, "SELECT count(cpu_user_us) FROM samples"), 99);
    assert_int_equal(query_int(st, "SELECT signal FROM procs WHERE pid = 42"), 9);
    assert_int_equal(query_int(st, "SELECT count(exit_code) FROM procs WHERE pid = 42"), 0);
    assert_int_equal(query_int(st, "SELECT end_ns FROM procs WHERE pid = 42"), 800);
    assert_int_equal(query_int(st, "SELECT execs FROM procs WHERE pid = 42"), 1);
    assert_int_equal(query_int(st, "SELECT count(*) FROM procs WHERE comm = 'cargo'"), 1);
    assert_int_equal(query_int(st, "SELECT exit_code FROM runs"), 3);
    assert_int_equal(query_int(st, "SELECT outcome = 'fail' FROM runs"), 1);
    assert_int_equal(query_int(st, "SELECT count(*) FROM run_tags WHERE key = 'ci' AND value = 'yes'"), 1);
    assert_int_equal(query_int(st, "SELECT count(*) FROM events WHERE kind = 'sampler_gap'"), 1);
    /* The command with quotes and a non-UTF-8 byte is valid JSON. */
    assert_int_equal(query_int(st, "SELECT json_valid(command) FROM runs"), 1);
    assert_int_equal(query_int(st, "SELECT json_array_length(command) FROM runs"), 3);
    assert_int_equal(query_int(st, "SELECT json_array_length(argv) FROM procs WHERE pid = 42"), 2);
    /* The rate view: 20000 us per 10 ms = 2 cores. */
    assert_int_equal(query_int(st, "SELECT round(max(cpu_user_seconds_total_per_s)) FROM sample_rates"), 2);
    assert_int_equal(query_int(st, "SELECT count(*) FROM run_summary"), 1);
    pm_store_close(st);
    (void)state;
}

static void test_reap_stale(void **state)
{
    struct pm_store *st = open_writer("d.db");
    struct pm_host h = host();
    /* A recorder that is alive (us), one that is dead, one from another boot. */
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    assert_true(dead > 0);
    int wst;
    waitpid(dead, &wst, 0);
    begin_run(st, &h, getpid());
    int64_t r2 = begin_run(st, &h, dead);
    struct pm_host other = h;
    strcpy(other.boot_id, "boot-b");
    begin_run(st, &other, getpid());
    assert_int_equal(pm_store_reap_stale(st, "boot-a"), 2);
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT state = 'aborted' AND outcome IS NULL FROM runs WHERE id = %lld",
             (long long)r2);
    assert_int_equal(query_int(st, sql), 1);
    assert_int_equal(query_int(st, "SELECT count(*) FROM runs WHERE state = 'recording'"), 1);
    assert_int_equal(pm_store_reap_stale(st, "boot-a"), 0);
    pm_store_close(st);
    (void)state;
}

/* n system samples 10 ms apart, memory available only, into the open
 * transaction. */
static void put_mem_samples(struct pm_store *st, int64_t run, int n)
{
    for (int i = 0; i < n; i++) {
        struct pm_sys_rec r = {.t_ns = (int64_t)i * 10000000, .present = UINT64_C(1) << PM_M_MEM_AVAILABLE};
        r.v[PM_M_MEM_AVAILABLE] = 1000000 - i;
        assert_int_equal(pm_store_put_sys(st, run, &r), 0);
    }
}

/* A run with rows in every per-run table of the schema: samples (n of
 * them), a process with an exec, samples and an exit, an event, a tag
 * (begin_run), and rows in the two tables test_delete_run adds. */
static int64_t filled_run(struct pm_store *st, const struct pm_host *h, pid_t recorder, int n, int finish)
{
    int64_t run = begin_run(st, h, recorder);
    assert_int_equal(pm_store_begin(st), 0);
    put_mem_samples(st, run, n);
    for (int pid = 100; pid < 103; pid++) {
        struct pm_proc_start_rec ps = {.t_ns = 5, .pid = pid, .ppid = 1, .start_ns = 5};
        strcpy(ps.comm, "worker");
        assert_int_equal(pm_store_put_proc_start(st, run, &ps), 0);
        for (int k = 0; k < 4; k++) {
            struct pm_proc_sample_rec sr = {.t_ns = 10 + k, .pid = pid, .state = 'R'};
            assert_int_equal(pm_store_put_proc_sample(st, run, &sr), 0);
        }
        int changed;
        struct pm_proc_exit_rec e = {.t_ns = 90, .pid = pid, .status_src = PM_STATUS_WAIT, .signal = 9};
        assert_int_equal(pm_store_put_proc_exit(st, run, &e, &changed), 0);
        struct pm_event_rec ev = {.t_ns = 90, .kind = PM_EV_SIGNAL, .pid = pid, .signal = 9};
        assert_int_equal(pm_store_put_event(st, run, &ev), 0);
    }
    char sql[256];
    for (int k = 0; k < 3; k++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO later_rowid(run_id, x) VALUES (%lld, %d);"
                 "INSERT INTO later_keyed(run_id, k) VALUES (%lld, 'k%d')",
                 (long long)run, k, (long long)run, k);
        assert_int_equal(sqlite3_exec(pm_store_db(st), sql, NULL, NULL, NULL), SQLITE_OK);
    }
    assert_int_equal(pm_store_commit(st), 0);
    if (finish) {
        struct pm_run_end re = {.ended_at = 1, .duration_ns = (int64_t)n * 10000000, .samples = n};
        assert_int_equal(pm_store_run_end(st, run, &re), 0);
    }
    return run;
}

/* The per-run tables, listed here independently of the store's own list:
 * every table with a column named run_id. */
static int run_id_tables(struct pm_store *st, char names[][64], int max)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(pm_store_db(st),
                                        "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) p"
                                        " WHERE m.type = 'table' AND p.name = 'run_id'",
                                        -1, &s, NULL),
                     SQLITE_OK);
    int n = 0;
    while (sqlite3_step(s) == SQLITE_ROW && n < max)
        snprintf(names[n++], 64, "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return n;
}

/* Rows of `run` in every per-run table, and in runs. */
static int64_t rows_of(struct pm_store *st, int64_t run, int per_table_min)
{
    char names[32][64], sql[256];
    int n = run_id_tables(st, names, 32);
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%.63s\" WHERE run_id = %lld", names[i], (long long)run);
        int64_t c = query_int(st, sql);
        if (c < per_table_min)
            fail_msg("table %s holds %lld rows of run %lld, want >= %d", names[i], (long long)c, (long long)run,
                     per_table_min);
        total += c;
    }
    snprintf(sql, sizeof sql, "SELECT count(*) FROM runs WHERE id = %lld", (long long)run);
    return total + query_int(st, sql);
}

/* A new database with two tables a later migration might add, which
 * filled_run writes too: the store must find them by their run_id column,
 * with a rowid or keyed WITHOUT ROWID. */
static struct pm_store *open_with_later_tables(const char *name)
{
    struct pm_store *st = open_writer(name);
    assert_int_equal(sqlite3_exec(pm_store_db(st),
                                  "CREATE TABLE later_rowid(run_id INTEGER NOT NULL, x INTEGER);"
                                  "CREATE TABLE later_keyed(run_id INTEGER NOT NULL, k TEXT NOT NULL,"
                                  " PRIMARY KEY (run_id, k)) WITHOUT ROWID",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    return st;
}

/* Rows of every run in every per-run table (run_id_tables). */
static int64_t rows_everywhere(struct pm_store *st)
{
    char names[32][64], sql[128];
    int n = run_id_tables(st, names, 32);
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%.63s\"", names[i]);
        total += query_int(st, sql);
    }
    return total;
}

static void test_delete_run(void **state)
{
    struct pm_store *st = open_with_later_tables("del.db");
    struct pm_host h = host();
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    assert_true(dead > 0);
    int wst;
    waitpid(dead, &wst, 0);

    int64_t a = filled_run(st, &h, dead, 2500, 1);
    int64_t b = filled_run(st, &h, dead, 700, 1);
    int64_t live = filled_run(st, &h, getpid(), 50, 0);     /* we are its recorder */
    int64_t orphan = filled_run(st, &h, dead, 30, 0);       /* its recorder died */
    char names[32][64];
    assert_int_equal(run_id_tables(st, names, 32), 7); /* samples procs proc_samples events run_tags + 2 */
    int64_t rows_a = rows_of(st, a, 1), rows_b = rows_of(st, b, 1), rows_live = rows_of(st, live, 1);
    int64_t metrics = query_int(st, "SELECT count(*) FROM metrics");

    /* Deleted in chunks of 1000 rows: the 2500 samples take three. */
    struct pm_delete_stats ds;
    assert_int_equal(pm_store_delete_run(st, a, "boot-a", 1000, &ds), 0);
    assert_int_equal(ds.rows, rows_a);
    assert_int_equal(rows_of(st, a, 0), 0);
    assert_true(ds.transactions >= 3 + 1);
    assert_true(ds.longest_tx_ns > 0);
    assert_int_equal(rows_of(st, b, 1), rows_b);
    assert_int_equal(query_int(st, "SELECT count(*) FROM hosts"), 1);
    assert_int_equal(query_int(st, "SELECT count(*) FROM metrics"), metrics);

    /* Being recorded: refused, nothing of it deleted.  From another boot
     * its recorder is gone, and the run is deleted. */
    assert_int_equal(pm_store_run_live(st, live, "boot-a"), 1);
    assert_int_equal(pm_store_delete_run(st, live, "boot-a", 0, &ds), 1);
    assert_int_equal(ds.rows, 0);
    assert_int_equal(rows_of(st, live, 1), rows_live);
    assert_int_equal(pm_store_run_live(st, live, "boot-b"), 0);
    assert_int_equal(pm_store_delete_run(st, live, "boot-b", 0, &ds), 0);
    assert_int_equal(rows_of(st, live, 0), 0);

    /* 'recording' with its recorder dead: deleted like a finished run. */
    assert_int_equal(pm_store_run_live(st, orphan, "boot-a"), 0);
    assert_int_equal(pm_store_delete_run(st, orphan, "boot-a", 7, &ds), 0);
    assert_int_equal(rows_of(st, orphan, 0), 0);

    /* Chunks of one row work too, and so does the last run. */
    assert_int_equal(pm_store_delete_run(st, b, "boot-a", 1, &ds), 0);
    assert_true(ds.transactions > rows_b - 1);
    assert_int_equal(rows_of(st, b, 0), 0);
    assert_int_equal(query_int(st, "SELECT count(*) FROM runs"), 0);
    assert_int_equal(query_int(st, "SELECT (SELECT count(*) FROM samples) + (SELECT count(*) FROM procs) +"
                                   " (SELECT count(*) FROM later_keyed)"),
                     0);

    /* Gone already: an error, not a silent success. */
    assert_int_equal(pm_store_delete_run(st, a, "boot-a", 0, &ds), -1);
    assert_non_null(strstr(pm_store_errmsg(st), "not in the database"));
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(pm_store_db(st), "PRAGMA integrity_check", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
    sqlite3_finalize(s);
    pm_store_close(st);
    (void)state;
}

/* A run whose row was deleted by hand, without foreign keys (the sqlite3
 * shell's default), leaves its rows behind: the next run must not take
 * its id and, with it, those rows; pm_store_delete_orphans removes them. */
static void test_run_id_not_reused(void **state)
{
    struct pm_store *st = open_with_later_tables("reuse.db");
    struct pm_host h = host();
    int64_t a = filled_run(st, &h, getpid(), 20, 1);
    int64_t b = filled_run(st, &h, getpid(), 30, 1);
    int64_t b_rows = rows_of(st, b, 1) - 1;
    char sql[256];
    snprintf(sql, sizeof sql, "PRAGMA foreign_keys = OFF; DELETE FROM runs WHERE id = %lld", (long long)b);
    assert_int_equal(sqlite3_exec(pm_store_db(st), sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(rows_of(st, b, 0), b_rows); /* the rows stay: nothing cascaded */
    /* A text run id (sorts above every number) is passed over. */
    assert_int_equal(sqlite3_exec(pm_store_db(st), "INSERT INTO later_rowid(run_id, x) VALUES ('zz', 1)", NULL,
                                  NULL, NULL),
                     SQLITE_OK);
    int64_t c = begin_run(st, &h, getpid());
    assert_true(c > b);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM samples WHERE run_id = %lld", (long long)c);
    assert_int_equal(query_int(st, sql), 0);
    assert_int_equal(rows_of(st, b, 0), b_rows);
    /* Rows of a run id above every run's (a later table's only): passed over too. */
    assert_int_equal(sqlite3_exec(pm_store_db(st), "INSERT INTO later_keyed(run_id, k) VALUES (1000, 'x')", NULL,
                                  NULL, NULL),
                     SQLITE_OK);
    int64_t d = begin_run(st, &h, getpid());
    assert_int_equal(d, 1001);

    /* pm_store_delete_orphans (prune): the rows of b, of 'zz', of 1000 and
     * of 5.5, in whatever type a hand edit left them; nothing of a, c, d. */
    assert_int_equal(sqlite3_exec(pm_store_db(st), "INSERT INTO later_rowid(run_id, x) VALUES (5.5, 1), (5.5, 2)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    int64_t rows_a = rows_of(st, a, 1), rows_c = rows_of(st, c, 0), rows_d = rows_of(st, d, 0);
    int64_t total = rows_everywhere(st);
    int64_t nruns;
    struct pm_delete_stats ds;
    assert_int_equal(pm_store_delete_orphans(st, 7, 1, &nruns, &ds), 0);
    assert_int_equal(nruns, 4);
    assert_int_equal(ds.rows, b_rows + 1 + 1 + 2);
    assert_int_equal(ds.transactions, 0);
    assert_int_equal(rows_of(st, b, 0), b_rows); /* a dry run */
    assert_int_equal(pm_store_delete_orphans(st, 7, 0, &nruns, &ds), 0);
    assert_int_equal(nruns, 4);
    assert_int_equal(ds.rows, b_rows + 4);
    assert_true(ds.transactions >= 30 / 7); /* b's 30 samples alone take 5 chunks */
    assert_int_equal(rows_of(st, b, 0), 0);
    assert_int_equal(query_int(st, "SELECT count(*) FROM later_rowid WHERE run_id IN ('zz', 5.5)"), 0);
    assert_int_equal(query_int(st, "SELECT count(*) FROM later_keyed WHERE run_id = 1000"), 0);
    assert_int_equal(rows_of(st, a, 1), rows_a);
    assert_int_equal(rows_of(st, c, 0), rows_c);
    assert_int_equal(rows_of(st, d, 0), rows_d);
    assert_int_equal(rows_everywhere(st),
                     total - ds.rows);
    /* Nothing left to find. */
    assert_int_equal(pm_store_delete_orphans(st, 0, 0, &nruns, &ds), 0);
    assert_int_equal(nruns, 0);
    assert_int_equal(ds.rows, 0);
    pm_store_close(st);
    (void)state;
}

/* An exec that arrives after its process is gone carries no comm or argv:
 * the row keeps the ones it has; a readable exec replaces them. */
static void test_exec_without_names(void **state)
{
    struct pm_store *st = open_writer("exec.db");
    struct pm_host h = host();
    int64_t run = begin_run(st, &h, getpid());
    struct pm_proc_start_rec r = {.pid = 77, .ppid = 1};
    strcpy(r.comm, "true");
    memcpy(r.argv, "/bin/true", 10);
    r.argv_len = 10;
    assert_int_equal(pm_store_put_proc_start(st, run, &r), 0);
    struct pm_proc_start_rec gone = {.pid = 77, .is_exec = 1};
    assert_int_equal(pm_store_put_proc_start(st, run, &gone), 0);
    assert_int_equal(query_int(st, "SELECT comm = 'true' AND argv = '[\"/bin/true\"]' AND execs = 1 FROM procs"), 1);
    struct pm_proc_start_rec seen = {.pid = 77, .is_exec = 1};
    strcpy(seen.comm, "env");
    memcpy(seen.argv, "env\0-i", 7);
    seen.argv_len = 7;
    assert_int_equal(pm_store_put_proc_start(st, run, &seen), 0);
    assert_int_equal(query_int(st, "SELECT comm = 'env' AND argv = '[\"env\",\"-i\"]' AND execs = 2 FROM procs"), 1);
    pm_store_close(st);
    (void)state;
}

/* A writer in another connection, as a recorder's writer thread: one
 * sample per transaction, as often as it can get the write lock, until
 * told to stop; counts its commits while `counting` is set. */
struct writer {
    const char *path;
    int64_t run;
    _Atomic int stop, counting, started;
    int commits, failures;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    char err[512];
    struct pm_store *st = pm_store_open(w->path, PM_STORE_WRITE, err, sizeof(err));
    if (!st) {
        w->failures++;
        atomic_store(&w->started, 1);
        return NULL;
    }
    atomic_store(&w->started, 1);
    for (int64_t t = 1; !atomic_load(&w->stop); t++) {
        struct pm_sys_rec r = {.t_ns = t, .present = UINT64_C(1) << PM_M_MEM_AVAILABLE};
        int ok = pm_store_begin(st) == 0 && pm_store_put_sys(st, w->run, &r) == 0 && pm_store_commit(st) == 0;
        if (!ok) {
            pm_store_rollback(st);
            w->failures++;
        } else if (atomic_load(&w->counting)) {
            w->commits++;
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    pm_store_close(st);
    return NULL;
}

/* While a run is deleted, a writer sharing the file keeps committing: the
 * deleter leaves the lock free after each chunk for longer than SQLite's
 * busy handler sleeps.  Taking it back at once let the writer in a few
 * times in the whole deletion (docs/BENCHMARKS.md, "rm"). */
static void test_delete_lets_writers_in(void **state)
{
    struct pm_store *st = open_writer("fair.db");
    struct pm_host h = host();
    int64_t big = begin_run(st, &h, 0);
    assert_int_equal(pm_store_begin(st), 0);
    for (int i = 0; i < 40000; i++) {
        struct pm_sys_rec r = {.t_ns = i, .present = ~UINT64_C(0) >> (64 - PM_SYS_N)};
        for (int k = 0; k < PM_SYS_N; k++)
            r.v[k] = i + k;
        assert_int_equal(pm_store_put_sys(st, big, &r), 0);
    }
    assert_int_equal(pm_store_commit(st), 0);
    static struct writer w;
    memset(&w, 0, sizeof w);
    w.path = db_path("fair.db");
    w.run = begin_run(st, &h, getpid());
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, writer_main, &w), 0);
    while (!atomic_load(&w.started))
        usleep(1000);
    usleep(20000);
    atomic_store(&w.counting, 1);
    struct pm_delete_stats ds;
    assert_int_equal(pm_store_delete_run(st, big, "boot-a", 500, &ds), 0);
    atomic_store(&w.counting, 0);
    atomic_store(&w.stop, 1);
    pthread_join(th, NULL);
    printf("deleted 40000 samples in %lld transactions (longest %.2f ms); the writer committed %d times meanwhile\n",
           (long long)ds.transactions, (double)ds.longest_tx_ns / 1e6, w.commits);
    assert_int_equal(w.failures, 0);
    /* 80 chunks: the writer gets in after each (measured: ~200 commits;
     * 1-49 without the pause) */
    if (w.commits < ds.transactions)
        fail_msg("the writer committed %d times in %lld delete transactions", w.commits,
                 (long long)ds.transactions);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM samples WHERE run_id = %lld", (long long)big);
    assert_int_equal(query_int(st, sql), 0);
    snprintf(sql, sizeof sql, "SELECT count(*) >= %d FROM samples WHERE run_id = %lld", w.commits, (long long)w.run);
    assert_int_equal(query_int(st, sql), 1);
    pm_store_close(st);
    (void)state;
}

/* VACUUM gives the pages of deleted runs back: the file shrinks. */
static void test_vacuum(void **state)
{
    struct pm_store *st = open_writer("vac.db");
    struct pm_host h = host();
    int64_t run = begin_run(st, &h, 0);
    assert_int_equal(pm_store_begin(st), 0);
    put_mem_samples(st, run, 20000);
    assert_int_equal(pm_store_commit(st), 0);
    struct pm_delete_stats ds;
    assert_int_equal(pm_store_delete_run(st, run, "boot-a", 0, &ds), 0);
    struct pm_vacuum_stats vs;
    assert_int_equal(pm_store_vacuum(st, &vs), 0);
    assert_true(vs.checkpointed);
    assert_int_equal(vs.wal_after, 0);
    /* 20,000 narrow rows are ~400 kB; an empty database is a few pages */
    if (!(vs.file_before - vs.file_after > 200000))
        fail_msg("file %lld -> %lld bytes", (long long)vs.file_before, (long long)vs.file_after);
    pm_store_close(st);
    (void)state;
}

static void test_run_uid(void **state)
{
    char a[17], b[17];
    pm_run_uid(a, 1700000000000000000LL);
    pm_run_uid(b, 1700000000001000000LL);
    assert_int_equal(strlen(a), 16);
    assert_true(strcmp(a, b) < 0); /* time-sortable */
    assert_memory_equal(a, "01HF7YAT00", 10);
    for (int i = 0; i < 16; i++)
        assert_non_null(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", a[i]));
    char c[17];
    pm_run_uid(c, 1700000000000000000LL);
    assert_string_not_equal(a, c); /* random tail */
    (void)state;
}

/* Bytes per system sample on disk, B-tree overhead included, must stay at
 * or under 120 (DESIGN §4).  The rows are a real recording (a busy 2-CPU VM,
 * tests/fixtures/samples/), replayed seven times with shifted timestamps. */
static void test_sample_size(void **state)
{
    struct pm_store *st = open_writer("size.db");
    struct pm_host h = host();
    int64_t run = begin_run(st, &h, getpid());
    FILE *f = fopen("tests/fixtures/samples/busy-2cpu-linux-6.18.csv", "r");
    assert_non_null(f);
    static struct pm_sys_rec rows[2000];
    int n = 0;
    char line[4096];
    while (fgets(line, sizeof(line), f) && n < 2000) {
        if (line[0] == '#')
            continue;
        struct pm_sys_rec *r = &rows[n++];
        memset(r, 0, sizeof(*r));
        char *p = line;
        /* t_ns, late_us, then the catalog columns; empty = NULL */
        for (int c = 0; c < 2 + PM_SYS_N; c++) {
            char *end;
            long long v = strtoll(p, &end, 10);
            int empty = end == p;
            if (c == 0)
                r->t_ns = v;
            else if (c == 1)
                r->late_ns = v * 1000;
            else if (!empty) {
                r->v[c - 2] = v;
                r->present |= UINT64_C(1) << (c - 2);
            }
            p = strchr(end, ',');
            if (!p)
                break;
            p++;
        }
    }
    fclose(f);
    assert_true(n > 500);
    assert_int_equal(pm_store_begin(st), 0);
    int total = 0;
    for (int rep = 0; rep < 7; rep++)
        for (int i = 0; i < n; i++) {
            struct pm_sys_rec r = rows[i];
            r.t_ns += (int64_t)rep * 100000000000LL;
            assert_int_equal(pm_store_put_sys(st, run, &r), 0);
            total++;
        }
    assert_int_equal(pm_store_commit(st), 0);
    int64_t bytes = query_int(st, "SELECT sum(pgsize) FROM dbstat WHERE name = 'samples'");
    double per = (double)bytes / total;
    printf("bytes per system sample: %.1f (%d samples)\n", per, total);
    assert_true(per <= 120.0);
    pm_store_close(st);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_matches_catalog, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_newer_and_foreign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_schema2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reap_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_id_not_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_without_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_lets_writers_in, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vacuum, setup, teardown),
        cmocka_unit_test(test_run_uid),
        cmocka_unit_test_setup_teardown(test_sample_size, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
