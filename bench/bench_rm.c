/*
 * rm benchmark (figures for docs/BENCHMARKS.md, "## rm"): how long
 * `pressmon rm` takes to delete a one-hour run at 100 Hz, and how long a
 * writer sharing the database waited for its commits meanwhile.
 *
 *   bench_rm PRESSMON [-n SAMPLES] [-r ROUNDS] [DIR]
 *
 * Each round:
 *   1. a real recording (`PRESSMON record -l big -- sleep 1`) into a fresh
 *      DIR/bench_rm.db, whose samples are then copied by SQL, shifted in
 *      time, until the run holds SAMPLES (default 360,000: one hour at
 *      100 Hz) rows;
 *   2. a probe thread writes into the same file through the store API as a
 *      recorder's writer does (BEGIN IMMEDIATE, 25 system samples, COMMIT),
 *      every 10 ms rather than every 250 ms so that it meets every write
 *      lock the deleter takes, and times each commit cycle; and a real
 *      `PRESSMON record -- sleep` records alongside;
 *   3. two seconds of the probe alone (the baseline: its own checkpoints),
 *      then `PRESSMON rm label:big`, timed; then, on a second copy of the
 *      database, the same run deleted the way hand-written SQL does it, one
 *      DELETE per table in one transaction, with the same probe.
 * Printed: rm's time, the probe's longest and p99 commit cycle in each
 * phase, and what the real recorder stored.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_rm: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

static void sql(sqlite3 *db, const char *q)
{
    char *msg = NULL;
    if (sqlite3_exec(db, q, NULL, NULL, &msg) != SQLITE_OK)
        die(q, msg);
}

static int64_t sql_int(sqlite3 *db, const char *q)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, q, -1, &s, NULL) != SQLITE_OK)
        die(q, sqlite3_errmsg(db));
    int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return v;
}

/* Run argv (in the background if bg), its stdout into `out` if given. */
static int run_cmd(char *const argv[], pid_t *bg, const char *out)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        die("fork", strerror(errno));
    if (pid == 0) {
        if (out && !freopen(out, "w", stdout))
            _exit(126);
        execv(argv[0], argv);
        _exit(127);
    }
    if (bg) {
        *bg = pid;
        return 0;
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The text of a number field `"key": 123.4` in a JSON file, the first
 * after `after` if given, or "?". */
static const char *json_field(const char *file, const char *after, const char *key, char *buf, size_t len)
{
    snprintf(buf, len, "?");
    FILE *f = fopen(file, "r");
    if (!f)
        return buf;
    char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = after ? strstr(text, after) : text;
    p = p ? strstr(p, pat) : NULL;
    if (p)
        snprintf(buf, len, "%.*s", (int)strcspn(p + strlen(pat), ",\n}"), p + strlen(pat));
    return buf;
}

/* ---- the probe: a recorder's writer, every 10 ms -------------------------- */

#define PROBE_MAX 100000

struct probe {
    const char *path;
    pthread_t th;
    _Atomic int stop;
    _Atomic int phase;        /* which phase the cycles count for */
    double cyc[3][PROBE_MAX]; /* commit cycle seconds, per phase */
    int n[3];
    int failures;
};

static void *probe_main(void *arg)
{
    struct probe *p = arg;
    char err[512];
    struct pm_store *st = pm_store_open(p->path, PM_STORE_WRITE, err, sizeof err);
    if (!st)
        die("probe: open", err);
    struct pm_host h;
    pm_host_info(&h);
    char *argv[] = {"probe", NULL};
    struct pm_run_info ri = {.argv = argv, .argc = 1, .cwd = "/", .started_at = 1,
                             .interval_ns = 10000000, .proc_interval_ns = 40000000, .host = &h,
                             .recorder_pid = getpid(), .label = "probe"};
    pm_run_uid(ri.uid, (int64_t)(now_s() * 1e9));
    int64_t run = pm_store_run_begin(st, &ri);
    if (run < 0)
        die("probe: run", pm_store_errmsg(st));
    int64_t t = 0;
    while (!atomic_load(&p->stop)) {
        double t0 = now_s();
        int ph0 = atomic_load(&p->phase);
        int ok = pm_store_begin(st) == 0;
        for (int i = 0; ok && i < 25; i++, t += 10000000) {
            struct pm_sys_rec r = {.t_ns = t, .present = ~UINT64_C(0) >> (64 - PM_SYS_N)};
            for (int k = 0; k < PM_SYS_N; k++)
                r.v[k] = 1000 + k + (t / 10000000) % 97;
            ok = pm_store_put_sys(st, run, &r) == 0;
        }
        ok = ok && pm_store_commit(st) == 0;
        if (!ok) {
            pm_store_rollback(st);
            p->failures++;
        }
        double dt = now_s() - t0;
        /* A cycle that overlapped the deletion counts for it. */
        int ph = atomic_load(&p->phase);
        if (ph != ph0)
            ph = 1;
        if (p->n[ph] < PROBE_MAX)
            p->cyc[ph][p->n[ph]++] = dt;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    pm_store_close(st);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void probe_report(struct probe *p, int ph, const char *what)
{
    int n = p->n[ph];
    if (n == 0) {
        printf("  %-34s no commits\n", what);
        return;
    }
    qsort(p->cyc[ph], (size_t)n, sizeof(double), cmp_double);
    /* nearest rank, rounded up: with few commits p99 is the longest */
    int r50 = (n - 1) / 2 + ((n - 1) % 2), r99 = (int)(0.99 * (n - 1) + 0.999);
    printf("  %-34s %5d commits, p50 %6.2f ms, p99 %6.2f ms, max %7.2f ms\n", what, n, p->cyc[ph][r50] * 1e3,
           p->cyc[ph][r99] * 1e3, p->cyc[ph][n - 1] * 1e3);
}

/* ---- one database with a big run ------------------------------------------- */

static void make_db(const char *pressmon, const char *path, int64_t samples)
{
    char wal[1100], shm[1100];
    snprintf(wal, sizeof wal, "%s-wal", path);
    snprintf(shm, sizeof shm, "%s-shm", path);
    unlink(path);
    unlink(wal);
    unlink(shm);
    char *rec[] = {(char *)pressmon, "record", "-q", "--db", (char *)path, "-l", "big", "--", "/bin/sleep", "1", NULL};
    if (run_cmd(rec, NULL, NULL) != 0)
        die("the recording failed", pressmon);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die("open", path);
    sqlite3_busy_timeout(db, 10000);
    int64_t run = sql_int(db, "SELECT id FROM runs WHERE label = 'big'");
    int64_t have = sql_int(db, "SELECT count(*) FROM samples WHERE run_id = (SELECT id FROM runs WHERE label = 'big')");
    int64_t span = sql_int(db, "SELECT max(t_ns) + 10000000 FROM samples WHERE run_id = (SELECT id FROM runs WHERE label = 'big')");
    char cols[4096] = "";
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info('samples') WHERE name NOT IN ('run_id', 't_ns')",
                           -1, &s, NULL) != SQLITE_OK)
        die("columns", sqlite3_errmsg(db));
    while (sqlite3_step(s) == SQLITE_ROW) {
        strcat(cols, ", ");
        strcat(cols, (const char *)sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    char q[16384];
    snprintf(q, sizeof q,
             "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < %lld)"
             " INSERT INTO samples(run_id, t_ns%s) SELECT s.run_id, s.t_ns + k.i * %lld%s"
             " FROM k, samples s WHERE s.run_id = %lld LIMIT %lld",
             (long long)(samples / (have ? have : 1) + 1), cols, (long long)span, cols, (long long)run,
             (long long)(samples - have));
    sql(db, q);
    snprintf(q, sizeof q, "UPDATE runs SET samples = %lld, duration_ns = %lld WHERE id = %lld", (long long)samples,
             (long long)samples * 10000000, (long long)run);
    sql(db, q);
    sql(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    sqlite3_close(db);
}

/* The way a person deletes a run by hand: one transaction, one DELETE per
 * table. */
static double delete_by_hand(const char *path)
{
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die("open", path);
    sqlite3_busy_timeout(db, 10000);
    double t0 = now_s();
    sql(db, "BEGIN IMMEDIATE;"
            "CREATE TEMP TABLE gone AS SELECT id FROM runs WHERE label = 'big';"
            "DELETE FROM samples WHERE run_id IN (SELECT id FROM gone);"
            "DELETE FROM proc_samples WHERE run_id IN (SELECT id FROM gone);"
            "DELETE FROM procs WHERE run_id IN (SELECT id FROM gone);"
            "DELETE FROM events WHERE run_id IN (SELECT id FROM gone);"
            "DELETE FROM run_tags WHERE run_id IN (SELECT id FROM gone);"
            "DELETE FROM runs WHERE id IN (SELECT id FROM gone);"
            "COMMIT");
    double dt = now_s() - t0;
    sqlite3_close(db);
    return dt;
}

int main(int argc, char **argv)
{
    int64_t samples = 360000;
    int rounds = 1, c;
    while ((c = getopt(argc, argv, "n:r:")) != -1) {
        if (c == 'n')
            samples = atoll(optarg);
        else if (c == 'r')
            rounds = atoi(optarg);
        else
            die("usage: bench_rm PRESSMON [-n SAMPLES] [-r ROUNDS] [DIR]", NULL);
    }
    if (optind >= argc)
        die("usage: bench_rm PRESSMON [-n SAMPLES] [-r ROUNDS] [DIR]", NULL);
    const char *pressmon = argv[optind];
    const char *dir = optind + 1 < argc ? argv[optind + 1] : "/tmp";
    char path[1024], json[1100];
    snprintf(path, sizeof path, "%s/bench_rm.db", dir);
    snprintf(json, sizeof json, "%s/bench_rm.json", dir);

    for (int round = 1; round <= rounds; round++) {
        for (int how = 0; how < 2; how++) {
            make_db(pressmon, path, samples);
            struct stat sb;
            printf("round %d, %s: a run of %lld samples, database %.1f MB\n", round,
                   how ? "one DELETE transaction (by hand)" : "pressmon rm", (long long)samples,
                   stat(path, &sb) == 0 ? (double)sb.st_size / 1e6 : -1.0);
            static struct probe p;
            memset(&p, 0, sizeof p);
            p.path = path;
            pid_t rec;
            char *recargv[] = {(char *)pressmon, "record", "-q", "--db", path, "-l", "alongside", "--", "/bin/sleep",
                               "6", NULL};
            run_cmd(recargv, &rec, NULL);
            if (pthread_create(&p.th, NULL, probe_main, &p) != 0)
                die("pthread_create", NULL);
            sleep(2);
            atomic_store(&p.phase, 1);
            double t0 = now_s(), dt;
            int rc = 0;
            if (how == 0) {
                char *rm[] = {(char *)pressmon, "rm", "--json", "--db", path, "label:big", NULL};
                rc = run_cmd(rm, NULL, json);
                dt = now_s() - t0;
            } else {
                dt = delete_by_hand(path);
            }
            atomic_store(&p.phase, 2);
            int st;
            waitpid(rec, &st, 0);
            atomic_store(&p.stop, 1);
            pthread_join(p.th, NULL);
            sqlite3 *db;
            sqlite3_open(path, &db);
            printf("  deleted in %.3f s (exit %d); runs named big left: %lld\n", dt, rc,
                   (long long)sql_int(db, "SELECT count(*) FROM runs WHERE label = 'big'"));
            if (how == 0) {
                char rows[64], longest[64];
                printf("  rm --json: rows %s, longest write transaction %.2f ms\n",
                       json_field(json, NULL, "rows", rows, sizeof rows),
                       atof(json_field(json, NULL, "longest_transaction_ms", longest, sizeof longest)));
            }
            probe_report(&p, 0, "probe alone (2 s)");
            probe_report(&p, 1, "probe while deleting");
            printf("  probe commits that failed: %d\n", p.failures);
            printf("  recorder alongside: exit %d, state %s, samples %lld stored / %lld counted, dropped %lld\n",
                   WIFEXITED(st) ? WEXITSTATUS(st) : -1,
                   sql_int(db, "SELECT state = 'done' FROM runs WHERE label = 'alongside'") == 1 ? "done" : "NOT done",
                   (long long)sql_int(db, "SELECT count(*) FROM samples WHERE run_id = (SELECT id FROM runs WHERE label = 'alongside')"),
                   (long long)sql_int(db, "SELECT samples FROM runs WHERE label = 'alongside'"),
                   (long long)sql_int(db, "SELECT dropped FROM runs WHERE label = 'alongside'"));
            sqlite3_close(db);
        }
        /* VACUUM rewrites what the file holds, the large run here. */
        make_db(pressmon, path, samples);
        struct stat sb;
        double mb = stat(path, &sb) == 0 ? (double)sb.st_size / 1e6 : -1;
        char *vac[] = {(char *)pressmon, "prune", "--vacuum", "--json", "--db", path, NULL};
        double t0 = now_s();
        int rc = run_cmd(vac, NULL, json);
        char secs[64];
        printf("round %d, prune --vacuum of a %.1f MB database: %.3f s (exit %d), VACUUM itself %.3f s\n", round, mb,
               now_s() - t0, rc, atof(json_field(json, "\"vacuum\"", "seconds", secs, sizeof secs)));
    }
    unlink(json);
    return 0;
}
