/*
 * The SQLite store (see store.h).
 *
 * Opening: WAL + synchronous=NORMAL (a 10-row commit measured 22 µs, DESIGN
 * §4), a busy timeout long enough for 8-10 recorders sharing one file, and
 * forward migrations from the SQL compiled in by tools/embed-sql.sh.  Every
 * statement the writer repeats is prepared once.  Values are bound, never
 * formatted into SQL.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../sampler/catalog.h"

struct pm_migration {
    int version;
    const char *name;
    const char *sql;
};
extern const struct pm_migration pm_migrations[];

enum {
    ST_SYS, ST_PSTART, ST_PEXEC, ST_PSAMPLE, ST_PEXIT, ST_PEXIT_UNK, ST_PMAXRSS, ST_PHAS, ST_EVENT, ST_N
};

struct pm_store {
    sqlite3 *db;
    char *path;
    char err[512];
    sqlite3_stmt *stmt[ST_N];
    int in_tx;
    int wal_pages;   /* frames in the WAL after the last commit (pm_store_delete_run) */
};

static void set_err(struct pm_store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(struct pm_store *st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->err, sizeof(st->err), fmt, ap);
    va_end(ap);
}

sqlite3 *pm_store_db(struct pm_store *st) { return st->db; }
const char *pm_store_path(struct pm_store *st) { return st->path; }
const char *pm_store_errmsg(struct pm_store *st) { return st->err; }

int pm_store_schema_version(void)
{
    int v = 0;
    for (const struct pm_migration *m = pm_migrations; m->sql; m++)
        if (m->version > v)
            v = m->version;
    return v;
}

int pm_store_db_version(struct pm_store *st)
{
    sqlite3_stmt *s;
    int v = -1;
    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW)
            v = sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
    }
    return v;
}

static int exec(struct pm_store *st, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        set_err(st, "%s: %s", st->path, msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* The catalog rows and the rate view are derived from sampler/catalog.h:
 * rewritten whenever a writer opens the database, so they always match
 * the binary that writes the samples. */
/* How sample_rates is written: bump it when its SQL changes, so that
 * existing databases get the new view (it is part of the fingerprint).
 * 2: counters divided by the time since the previous non-NULL value of the
 * same column, not the previous row. */
#define RATES_VIEW_VERSION "sample_rates 2"

/* FNV-1a over every catalog string and number and the view's version:
 * changes when any metric or the view does. */
static void catalog_fingerprint(char *out, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
#define MIX(str)                                                     \
    for (const char *c_ = (str); *c_; c_++)                          \
        h = (h ^ (unsigned char)*c_) * 1099511628211ULL;            \
    h = (h ^ 0xff) * 1099511628211ULL
    MIX(RATES_VIEW_VERSION);
    for (int scope = PM_SCOPE_SYSTEM; scope <= PM_SCOPE_PROCESS; scope++) {
        int n;
        const struct pm_metric *c = pm_catalog((enum pm_scope)scope, &n);
        for (int i = 0; i < n; i++) {
            char num[64];
            snprintf(num, sizeof(num), "%lld/%d/%u", (long long)c[i].scale, (int)c[i].kind, c[i].flags);
            MIX(c[i].column);
            MIX(c[i].prom);
            MIX(c[i].unit);
            MIX(c[i].help);
            MIX(num);
        }
    }
#undef MIX
    snprintf(out, len, "%016llx", (unsigned long long)h);
}

static int refresh_catalog(struct pm_store *st)
{
    sqlite3_stmt *s;
    char fp[32];
    catalog_fingerprint(fp, sizeof(fp));
    if (sqlite3_prepare_v2(st->db, "SELECT value = ?1 FROM pressmon_meta WHERE key = 'catalog'", -1, &s, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(s, 1, fp, -1, SQLITE_STATIC);
        int same = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
        if (same)
            return 0;
    }
    if (sqlite3_prepare_v2(st->db,
                           "INSERT OR REPLACE INTO metrics(name, scope, position, unit, scale, kind,"
                           " prom_name, pressure, lower_is_worse, help) VALUES (?,?,?,?,?,?,?,?,?,?)",
                           -1, &s, NULL) != SQLITE_OK) {
        set_err(st, "%s: %s", st->path, sqlite3_errmsg(st->db));
        return -1;
    }
    for (int scope = PM_SCOPE_SYSTEM; scope <= PM_SCOPE_PROCESS; scope++) {
        int n;
        const struct pm_metric *c = pm_catalog((enum pm_scope)scope, &n);
        for (int i = 0; i < n; i++) {
            sqlite3_bind_text(s, 1, c[i].column, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 2, scope == PM_SCOPE_SYSTEM ? "system" : "process", -1, SQLITE_STATIC);
            sqlite3_bind_int(s, 3, i);
            sqlite3_bind_text(s, 4, c[i].unit, -1, SQLITE_STATIC);
            sqlite3_bind_int64(s, 5, c[i].scale);
            sqlite3_bind_text(s, 6, c[i].kind == PM_COUNTER ? "counter" : "gauge", -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 7, c[i].prom, -1, SQLITE_STATIC);
            sqlite3_bind_int(s, 8, (c[i].flags & PM_F_PRESSURE) != 0);
            sqlite3_bind_int(s, 9, (c[i].flags & PM_F_LOWER_IS_WORSE) != 0);
            sqlite3_bind_text(s, 10, c[i].help, -1, SQLITE_STATIC);
            if (sqlite3_step(s) != SQLITE_DONE) {
                set_err(st, "%s: writing the metric catalog: %s", st->path, sqlite3_errmsg(st->db));
                sqlite3_finalize(s);
                return -1;
            }
            sqlite3_reset(s);
        }
    }
    sqlite3_finalize(s);

    /* sample_rates: counters as per-second rates, gauges in their units.
     * A counter is the delta since the previous non-NULL value of its
     * column (slow sources are not read every tick, catalog.h), so it is
     * divided by the time since then: the latest earlier row where the
     * column is not NULL, or the run's first row (where the counters were
     * first read) if there is none.  Every column uses the same window
     * `w`, so SQLite sorts once; max() over a frame that only grows is a
     * running maximum, one step per row.  One rate per row: a single 10 ms
     * rate of CPU or PSI time can exceed its bound (100% of one CPU per
     * CPU, a PSI share 100%), because /proc/stat counts 10 ms ticks and the
     * kernel folds PSI totals in lazily, so a delta carries time of its
     * neighbours' intervals: 223 of 2,931 psi_cpu_some rates of a busy run
     * were above 1.0, up to 2.07.  `show` and `diff` rate over windows of
     * >= 100 ms (analysis/stats.h); the view stays one row per sample. */
    char sql[32768];
    size_t off = (size_t)snprintf(sql, sizeof(sql),
                                  "DROP VIEW IF EXISTS sample_rates;"
                                  "CREATE VIEW sample_rates AS SELECT run_id, t_ns, "
                                  "round(t_ns / 1e9, 3) AS t_s");
    for (int i = 0; i < PM_SYS_N; i++) {
        const struct pm_metric *m = &pm_sys_metrics[i];
        const char *kib = strstr(m->column, "_kb") ? " * 1024.0" : "";
        if (m->kind == PM_COUNTER)
            off += (size_t)snprintf(sql + off, sizeof(sql) - off,
                                    ", %s%s / %lld.0 * 1e9 / (t_ns - coalesce("
                                    "max(CASE WHEN %s IS NOT NULL THEN t_ns END) OVER w, "
                                    "min(t_ns) OVER w)) AS %s_per_s",
                                    m->column, kib, (long long)m->scale, m->column, m->prom);
        else
            off += (size_t)snprintf(sql + off, sizeof(sql) - off, ", %s%s / %lld.0 AS %s", m->column,
                                    kib, (long long)m->scale, m->prom);
    }
    if (off >= sizeof(sql)) {
        set_err(st, "%s: the sample_rates view does not fit its buffer (a bug: enlarge it)", st->path);
        return -1;
    }
    snprintf(sql + off, sizeof(sql) - off,
             " FROM samples WINDOW w AS (PARTITION BY run_id ORDER BY t_ns"
             " ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING);");
    if (exec(st, sql) < 0)
        return -1;
    if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO pressmon_meta(key, value) VALUES ('catalog', ?)", -1, &s,
                           NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(s, 1, fp, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(s);
    return rc;
}

/* WAL mode, once per database file.  Switching a new file to WAL needs an
 * exclusive lock and SQLite does not call the busy handler for it, so
 * when several recorders create one database at once the losers see
 * SQLITE_BUSY at once: retry for up to 10 s like every other wait. */
static int set_wal(struct pm_store *st)
{
    for (int tries = 0;; tries++) {
        sqlite3_stmt *s;
        int rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(s);
            int wal = rc == SQLITE_ROW && sqlite3_stricmp((const char *)sqlite3_column_text(s, 0), "wal") == 0;
            sqlite3_finalize(s);
            if (wal)
                return 0;
            if (rc == SQLITE_ROW) {
                set_err(st, "%s: cannot use WAL mode (a network file system?)", st->path);
                return -1;
            }
        }
        int code = sqlite3_errcode(st->db) & 0xff;
        if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || tries >= 1000) {
            set_err(st, "%s: %s", st->path, sqlite3_errmsg(st->db));
            return -1;
        }
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
}

/* Apply the migrations newer than `from`; the caller holds the write
 * transaction. */
static int migrate(struct pm_store *st, int from)
{
    for (const struct pm_migration *m = pm_migrations; m->sql; m++) {
        if (m->version <= from)
            continue;
        if (exec(st, m->sql) < 0) {
            char why[512];
            snprintf(why, sizeof(why), "%s", st->err);
            set_err(st, "schema migration %s failed: %s", m->name, why);
            return -1;
        }
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", m->version);
        if (exec(st, pragma) < 0)
            return -1;
    }
    return 0;
}

/* A database older than this binary that cannot be migrated here (the
 * file is read-only to this user) lacks the catalog columns added since
 * it was written, and every reader selects them by name.  A TEMP view
 * named like the table adds them as NULL, which is what the migration
 * would give the old rows: unqualified names find the temp schema first,
 * and it lives outside the file, so the file stays untouched.  The same
 * for the columns migrations added outside the catalog (004, 006). */
static const struct pm_metric added_procs[] = {{.column = "forwarded_by"}, {.column = "maxrss_kb"}};
static const struct pm_metric added_runs[] = {{.column = "samples_stored"}};
static const struct pm_metric added_events[] = {{.column = "forwarded_by"}};

static int shim_missing_columns(struct pm_store *st)
{
    static const struct {
        const char *table;
        enum pm_scope scope;
        const struct pm_metric *cols; /* NULL: the catalog's */
        int ncols;
    } t[] = {{"samples", PM_SCOPE_SYSTEM, NULL, 0},
             {"proc_samples", PM_SCOPE_PROCESS, NULL, 0},
             {"procs", PM_SCOPE_SYSTEM, added_procs, 2},
             {"events", PM_SCOPE_SYSTEM, added_events, 1},
             {"runs", PM_SCOPE_SYSTEM, added_runs, 1}};
    for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
        int n = t[k].ncols;
        const struct pm_metric *c = t[k].cols ? t[k].cols : pm_catalog(t[k].scope, &n);
        char sql[4096];
        size_t off = (size_t)snprintf(sql, sizeof sql, "CREATE TEMP VIEW %s AS SELECT *", t[k].table);
        char probe[128];
        snprintf(probe, sizeof probe, "SELECT 1 FROM pragma_table_info('%s', 'main') WHERE name = ?", t[k].table);
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(st->db, probe, -1, &q, NULL) != SQLITE_OK) {
            set_err(st, "%s: %s", st->path, sqlite3_errmsg(st->db));
            return -1;
        }
        int missing = 0;
        for (int i = 0; i < n; i++) {
            const char *col = c[i].column;
            sqlite3_bind_text(q, 1, col, -1, SQLITE_STATIC);
            if (sqlite3_step(q) != SQLITE_ROW) {
                off += (size_t)snprintf(sql + off, sizeof sql - off, ", NULL AS %s", col);
                missing++;
            }
            sqlite3_reset(q);
        }
        sqlite3_finalize(q);
        if (!missing)
            continue;
        if (off >= sizeof sql - 32) {
            set_err(st, "%s: the column shim does not fit its buffer (a bug: enlarge it)", st->path);
            return -1;
        }
        snprintf(sql + off, sizeof sql - off, " FROM main.%s", t[k].table);
        if (exec(st, sql) < 0)
            return -1;
    }
    return 0;
}

/* Is this a database we may use?  New (empty) files are; SQLite files with
 * other tables, and databases of a newer schema, are not. */
static int validate(struct pm_store *st, enum pm_store_mode mode, char *err, size_t errlen)
{
    int ver = pm_store_db_version(st);
    if (ver < 0) {
        int ec = sqlite3_errcode(st->db) & 0xff; /* the primary code */
        if (ec == SQLITE_NOTADB)
            snprintf(err, errlen, "%s is not a pressmon database (%s)", st->path, sqlite3_errmsg(st->db));
        else
            /* A WAL database is opened through its -shm (and -wal) file
             * beside it: a full disk or a read-only directory fails here,
             * as an I/O error, before the file is read at all. */
            snprintf(err, errlen, "cannot read %s: %s%s", st->path, sqlite3_errmsg(st->db),
                     ec == SQLITE_IOERR || ec == SQLITE_FULL || ec == SQLITE_CANTOPEN
                         ? " (SQLite needs room beside it for its -wal and -shm files: is the disk full,"
                           " or the directory read-only?)"
                         : "");
        return -1;
    }
    if (ver > pm_store_schema_version()) {
        snprintf(err, errlen,
                 "%s has schema version %d, newer than this pressmon (%s) understands (%d): "
                 "upgrade pressmon; the database was not changed",
                 st->path, ver, PM_VERSION, pm_store_schema_version());
        return -1;
    }
    sqlite3_stmt *s;
    int tables = 0, ours = 0;
    if (sqlite3_prepare_v2(st->db, "SELECT count(*), count(*) FILTER (WHERE name = 'runs') FROM sqlite_master",
                           -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW) {
            tables = sqlite3_column_int(s, 0);
            ours = sqlite3_column_int(s, 1);
        }
        sqlite3_finalize(s);
    }
    if ((ver > 0 && !ours) || (ver == 0 && tables > 0)) {
        snprintf(err, errlen, "%s is an SQLite file but not a pressmon database", st->path);
        return -1;
    }
    if (ver == 0 && mode == PM_STORE_READ) {
        snprintf(err, errlen, "%s holds no pressmon runs yet (record one first)", st->path);
        return -1;
    }
    return 0;
}

static const char *const stmt_sql[ST_N] = {
    [ST_SYS] = NULL, /* built from the catalog */
    [ST_PSTART] = "INSERT INTO procs(run_id, pid, ppid, start_ns, comm, argv) VALUES (?,?,?,?,?,?)",
    /* An exec seen after the process was gone comes without comm or argv
     * (/proc/PID is empty by then): the row keeps what it has, e.g. the
     * root's, which pressmon wrote from the command it ran.  `record --
     * /bin/true` lost its argv in 8 of 30 runs and its comm in 1. */
    [ST_PEXEC] = "UPDATE procs SET comm = coalesce(?3, comm), argv = coalesce(nullif(?4, '[]'), argv),"
                 " execs = execs + 1"
                 " WHERE id = (SELECT max(id) FROM procs WHERE run_id = ?1 AND pid = ?2)",
    [ST_PSAMPLE] = NULL, /* built from the catalog */
    /* A known status: fills a row not yet ended, or one ended with status
     * unknown (the /proc scan saw it vanish before waitpid told why). */
    [ST_PEXIT] = "UPDATE procs SET end_ns = min(coalesce(end_ns, ?3), ?3), exit_code = ?4, signal = ?5,"
                 " core_dumped = ?6, status_src = ?7,"
                 " killer_pid = coalesce(?8, killer_pid), killer_comm = coalesce(?9, killer_comm),"
                 " kill_cause = coalesce(?10, kill_cause), forwarded_by = coalesce(?11, forwarded_by)"
                 " WHERE id = (SELECT max(id) FROM procs WHERE run_id = ?1 AND pid = ?2"
                 " AND (end_ns IS NULL OR status_src = 'unknown'))",
    [ST_PEXIT_UNK] = "UPDATE procs SET end_ns = ?3, status_src = 'unknown'"
                     " WHERE id = (SELECT max(id) FROM procs WHERE run_id = ?1 AND pid = ?2"
                     " AND end_ns IS NULL)",
    /* wait4's high-water mark, whichever exit of the pid brought it (the
     * proc connector's often comes first and takes the status). */
    [ST_PMAXRSS] = "UPDATE procs SET maxrss_kb = max(coalesce(maxrss_kb, 0), ?3)"
                   " WHERE id = (SELECT max(id) FROM procs WHERE run_id = ?1 AND pid = ?2)",
    [ST_PHAS] = "SELECT 1 FROM procs WHERE run_id = ?1 AND pid = ?2 LIMIT 1",
    [ST_EVENT] = "INSERT INTO events(run_id, t_ns, kind, pid, signal, sender_pid, sender_comm, detail,"
                 " forwarded_by) VALUES (?,?,?,?,?,?,?,?,?)",
};

/* "INSERT OR REPLACE INTO table(fixed..., <every catalog column>) VALUES (?...)". */
static int prepare_catalog_insert(struct pm_store *st, const char *table, const char *fixed, int nfixed,
                                  enum pm_scope scope, sqlite3_stmt **out)
{
    char sql[4096];
    int n;
    const struct pm_metric *c = pm_catalog(scope, &n);
    size_t off = (size_t)snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO %s(%s", table, fixed);
    for (int i = 0; i < n; i++)
        off += (size_t)snprintf(sql + off, sizeof(sql) - off, ", %s", c[i].column);
    off += (size_t)snprintf(sql + off, sizeof(sql) - off, ") VALUES (?");
    for (int i = 1; i < nfixed + n; i++)
        off += (size_t)snprintf(sql + off, sizeof(sql) - off, ",?");
    snprintf(sql + off, sizeof(sql) - off, ")");
    return sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) == SQLITE_OK ? 0 : -1;
}

static int prepare_writer(struct pm_store *st)
{
    if (prepare_catalog_insert(st, "samples", "run_id, t_ns, late_us", 3, PM_SCOPE_SYSTEM, &st->stmt[ST_SYS]) < 0 ||
        prepare_catalog_insert(st, "proc_samples", "run_id, pid, t_ns, state", 4, PM_SCOPE_PROCESS,
                               &st->stmt[ST_PSAMPLE]) < 0)
        goto fail;

    for (int i = 0; i < ST_N; i++) {
        if (!stmt_sql[i])
            continue;
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) !=
            SQLITE_OK)
            goto fail;
    }
    return 0;
fail:
    set_err(st, "%s: preparing statements: %s", st->path, sqlite3_errmsg(st->db));
    return -1;
}

/* A non-empty file that does not start with SQLite's header.  SQLite
 * refuses most such files itself, but takes one shorter than its header
 * (a 1-byte file, say) for an empty database and writes over it. */
static int foreign_file(const char *path)
{
    static const char magic[16] = "SQLite format 3";
    char head[sizeof magic];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block */
    if (fd < 0)
        return 0; /* absent, or unreadable: SQLite says which */
    ssize_t n = read(fd, head, sizeof head);
    close(fd);
    return n > 0 && (n < (ssize_t)sizeof head || memcmp(head, magic, sizeof magic) != 0);
}

/* Whether the file system holding `path` (or, when there is no such file,
 * the directory it would be created in) is mounted read-only. */
static int on_readonly_fs(const char *path)
{
    struct statvfs sv;
    if (access(path, W_OK) != 0 && errno == EROFS)
        return 1;
    if (statvfs(path, &sv) == 0)
        return (sv.f_flag & ST_RDONLY) != 0;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        slash[slash == dir] = '\0'; /* "/x.db" -> "/" */
    if (access(dir, W_OK) != 0 && errno == EROFS)
        return 1;
    return statvfs(dir, &sv) == 0 && (sv.f_flag & ST_RDONLY) != 0;
}

/* "file:PATH?immutable=1", PATH %-escaped where a URI needs it. */
static int immutable_uri(const char *path, char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p && n + 4 < len; p++)
        n += (size_t)(*p == '%' || *p == '?' || *p == '#' || *p <= ' ' || *p >= 0x7f
                          ? snprintf(buf + n, len - n, "%%%02X", *p)
                          : snprintf(buf + n, len - n, "%c", *p));
    int k = snprintf(buf + n, len - n, "?immutable=1");
    return k > 0 && (size_t)k < len - n ? 0 : -1;
}

static struct pm_store *open_store(const char *path, enum pm_store_mode mode, int immutable, char *err,
                                   size_t errlen);

/* A reader that may write marks the runs of dead recorders aborted, as a
 * recorder does when it opens the file: `runs` and `show` then say so
 * instead of "recording" with partial figures until the next recording
 * (and `rm` and these agree).  Best effort: a reader that cannot write now
 * (the lock is busy) shows the runs as they are. */
static void reap_for_reader(struct pm_store *st)
{
    sqlite3_stmt *s;
    int any = 0;
    if (sqlite3_prepare_v2(st->db, "SELECT EXISTS (SELECT 1 FROM runs WHERE state = 'recording')", -1, &s,
                           NULL) == SQLITE_OK) {
        any = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
    }
    if (!any)
        return;
    struct pm_host h;
    pm_host_info(&h);
    char saved[sizeof st->err];
    memcpy(saved, st->err, sizeof saved);
    pm_store_reap_stale(st, h.boot_id);
    memcpy(st->err, saved, sizeof saved);
}

struct pm_store *pm_store_open(const char *path, enum pm_store_mode mode, char *err, size_t errlen)
{
    if (mode == PM_STORE_WRITE && on_readonly_fs(path)) {
        snprintf(err, errlen, "cannot record into %s: the file system is read-only (%s)", path, strerror(EROFS));
        return NULL;
    }
    struct pm_store *st = open_store(path, mode, 0, err, errlen);
    /* A database on a read-only mount (a CI artifact, a snapshot) is not
     * readable the usual way when it is in WAL mode: SQLite must create or
     * map its -shm file beside it, which the mount refuses.  SQLite's
     * immutable=1 reads the file without -shm, -wal or locks, trusting that
     * nothing changes it while it is open.  On a read-only file system
     * that holds: no process can write the file there (a writer would have
     * to reach the same file through another, writable mount of it, which a
     * copy of a database never has).  It is never used where the file
     * system is writable and only this user may not write (a live
     * recorder may be writing the file: without locks, a read could mix two
     * states of it). */
    if (!st && mode == PM_STORE_READ && access(path, R_OK) == 0 && on_readonly_fs(path)) {
        char err2[1024];
        st = open_store(path, mode, 1, err2, sizeof err2);
        struct stat wal;
        char walpath[4200];
        snprintf(walpath, sizeof walpath, "%s-wal", path);
        if (!st)
            snprintf(err, errlen, "%s (read as immutable: its file system is read-only)", err2);
        else if (errlen)
            err[0] = '\0';
        if (st && stat(walpath, &wal) == 0 && wal.st_size > 0)
            /* immutable reads the main file alone: committed transactions
             * still in the -wal file (a copy taken while a recorder had it
             * open) are not seen. */
            snprintf(err, errlen,
                     "note: %s is on a read-only file system and is read without its %s (%lld bytes): "
                     "what was committed there but not yet copied into the database is missing; copy both "
                     "files to a writable directory to read it",
                     path, walpath, (long long)wal.st_size);
    }
    return st;
}

static struct pm_store *open_store(const char *path, enum pm_store_mode mode, int immutable, char *err,
                                   size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    struct pm_store *st = calloc(1, sizeof(*st));
    if (!st || !(st->path = strdup(path))) {
        snprintf(err, errlen, "out of memory");
        free(st);
        return NULL;
    }
    int flags = mode == PM_STORE_WRITE ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READWRITE;
    if (mode == PM_STORE_READ && access(path, F_OK) != 0) {
        snprintf(err, errlen, "no database at %s (record a run first, or use --db / PRESSMON_DB)", path);
        pm_store_close(st);
        return NULL;
    }
    if (mode == PM_STORE_READ && access(path, W_OK) != 0)
        flags = SQLITE_OPEN_READONLY;
    if (foreign_file(path)) {
        snprintf(err, errlen, "%s is not a pressmon database (it is not an SQLite file; it was not changed)", path);
        pm_store_close(st);
        return NULL;
    }
    char uri[8192];
    if (immutable) {
        if (immutable_uri(path, uri, sizeof uri) < 0) {
            snprintf(err, errlen, "%s: path too long", path);
            pm_store_close(st);
            return NULL;
        }
        flags = SQLITE_OPEN_READONLY;
    }
    int rc = sqlite3_open_v2(immutable ? uri : path, &st->db,
                             flags | SQLITE_OPEN_NOMUTEX | (immutable ? SQLITE_OPEN_URI : 0), NULL);
    if (rc != SQLITE_OK) {
        int e = errno;
        snprintf(err, errlen, "cannot open database %s: %s%s%s", path,
                 st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc), e ? " (" : "",
                 e ? strerror(e) : "");
        if (e)
            strncat(err, ")", errlen - strlen(err) - 1);
        pm_store_close(st);
        return NULL;
    }
    sqlite3_extended_result_codes(st->db, 1);
#ifdef SQLITE_DBCONFIG_DQS_DML
    /* A double-quoted name that is no column is an error, not the string
     * literal of SQLite's legacy quirk: the exporters quote the catalog
     * columns, and one that a database lacks would read as 'name', i.e. 0. */
    sqlite3_db_config(st->db, SQLITE_DBCONFIG_DQS_DML, 0, (int *)0);
#endif
    /* 8-10 recorders commit every 250 ms at a few ms each: 10 s is ample. */
    sqlite3_busy_timeout(st->db, 10000);

    /* A file that is not SQLite, not ours, or from a newer pressmon is
     * refused here, before anything is written to it. */
    /* One read transaction: version and tables from the same snapshot. */
    int bad = exec(st, "BEGIN") < 0 || validate(st, mode, err, errlen) < 0;
    exec(st, "COMMIT");
    if (bad) {
        if (!*err)
            snprintf(err, errlen, "%s", st->err);
        pm_store_close(st);
        return NULL;
    }
    if (flags != SQLITE_OPEN_READONLY) {
        if (set_wal(st) < 0 || exec(st, "PRAGMA synchronous = NORMAL") < 0 ||
            exec(st, "PRAGMA foreign_keys = ON") < 0)
            goto fail;
        /* Several recorders may open a new file at the same moment: check
         * again, migrate and refresh the catalog under one write lock. */
        if (exec(st, "BEGIN IMMEDIATE") < 0)
            goto fail;
        if (validate(st, mode, err, errlen) < 0) {
            exec(st, "ROLLBACK");
            pm_store_close(st);
            return NULL;
        }
        /* A reader that migrates also rewrites the catalog rows and the
         * rate view, so that they name the new columns at once. */
        int from = pm_store_db_version(st);
        if (migrate(st, from) < 0 ||
            ((mode == PM_STORE_WRITE || from < pm_store_schema_version()) && refresh_catalog(st) < 0)) {
            char why[512];
            snprintf(why, sizeof(why), "%s", st->err);
            exec(st, "ROLLBACK");
            snprintf(st->err, sizeof(st->err), "%s", why);
            goto fail;
        }
        if (exec(st, "COMMIT") < 0)
            goto fail;
        if (mode == PM_STORE_WRITE && prepare_writer(st) < 0)
            goto fail;
    } else if (pm_store_db_version(st) < pm_store_schema_version() && shim_missing_columns(st) < 0) {
        goto fail;
    }
    if (mode == PM_STORE_READ && flags != SQLITE_OPEN_READONLY)
        reap_for_reader(st);
    return st;
fail:
    snprintf(err, errlen, "%s", st->err);
    pm_store_close(st);
    return NULL;
}

void pm_store_close(struct pm_store *st)
{
    if (!st)
        return;
    for (int i = 0; i < ST_N; i++)
        sqlite3_finalize(st->stmt[i]);
    if (st->db)
        sqlite3_close_v2(st->db);
    free(st->path);
    free(st);
}

/* Whether the recorder of a 'recording' run is gone: it ran on another
 * boot (or either boot id is unknown), or its pid is dead or a zombie on
 * this one.  The one test of a live recorder: pm_store_reap_stale marks
 * such runs aborted, pm_store_run_live and pm_store_delete_run refuse to
 * delete the others. */
static int recorder_gone(const char *run_boot, pid_t pid, const char *boot_id)
{
    return !run_boot || !boot_id || strcmp(run_boot, boot_id) != 0 || pid <= 0 || !pm_pid_alive(pid);
}

int pm_store_reap_stale(struct pm_store *st, const char *boot_id)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT id, recorder_pid, boot_id FROM runs WHERE state = 'recording'",
                           -1, &s, NULL) != SQLITE_OK) {
        set_err(st, "%s: %s", st->path, sqlite3_errmsg(st->db));
        return -1;
    }
    int64_t ids[256];
    int n = 0;
    while (sqlite3_step(s) == SQLITE_ROW && n < 256) {
        pid_t pid = (pid_t)sqlite3_column_int64(s, 1);
        const char *boot = (const char *)sqlite3_column_text(s, 2);
        if (recorder_gone(boot, pid, boot_id))
            ids[n++] = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    if (n == 0)
        return 0;
    if (sqlite3_prepare_v2(st->db,
                           "UPDATE runs SET state = 'aborted',"
                           " samples_stored = (SELECT count(*) FROM samples WHERE run_id = runs.id),"
                           " samples = max(samples, (SELECT count(*) FROM samples WHERE run_id = runs.id)),"
                           " duration_ns = (SELECT max(t_ns) FROM samples WHERE run_id = runs.id),"
                           " notes = coalesce(notes || '; ', '') || 'recorder died before the run ended'"
                           " WHERE id = ? AND state = 'recording'",
                           -1, &s, NULL) != SQLITE_OK) {
        set_err(st, "%s: %s", st->path, sqlite3_errmsg(st->db));
        return -1;
    }
    int marked = 0;
    for (int i = 0; i < n; i++) {
        sqlite3_bind_int64(s, 1, ids[i]);
        if (sqlite3_step(s) == SQLITE_DONE)
            marked += sqlite3_changes(st->db);
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    return marked;
}

void pm_run_uid(char *buf, int64_t wall_ns)
{
    static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; /* Crockford */
    uint64_t ms = (uint64_t)(wall_ns / 1000000);
    for (int i = 9; i >= 0; i--) {
        buf[i] = b32[ms & 31];
        ms >>= 5;
    }
    unsigned char rnd[6] = {0};
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd)) {
        /* No urandom: mix pid and time, still unique per recorder. */
        uint64_t x = (uint64_t)wall_ns ^ ((uint64_t)getpid() << 32);
        for (int i = 0; i < 6; i++, x >>= 7)
            rnd[i] = (unsigned char)x;
    }
    if (fd >= 0)
        close(fd);
    for (int i = 0; i < 6; i++)
        buf[10 + i] = b32[rnd[i] & 31];
    buf[16] = '\0';
}

int pm_store_proc_comm(struct pm_store *st, int64_t run_id, pid_t pid, char *out, size_t cap)
{
    sqlite3_stmt *s;
    int found = -1;
    if (cap)
        out[0] = '\0';
    /* The same choice as the exporters' kill points (exporters/source.c). */
    if (sqlite3_prepare_v2(st->db, "SELECT comm FROM procs WHERE run_id = ? AND pid = ? ORDER BY id DESC LIMIT 1",
                           -1, &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, pid);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(s, 0));
        found = 0;
    }
    sqlite3_finalize(s);
    return found;
}

static void bind_host(sqlite3_stmt *s, const struct pm_host *h)
{
    sqlite3_bind_text(s, 1, h->hostname, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, h->os, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, h->os_version, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, h->kernel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, h->arch, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 6, h->cpu_count);
    sqlite3_bind_int64(s, 7, h->mem_total);
    sqlite3_bind_int64(s, 8, h->page_size);
}

/* Looked up first: the upsert wrote (and committed) on every run, ~1 ms
 * of pressmon's start-up.  `IS` also matches a NULL field, which the
 * UNIQUE constraint does not. */
int64_t pm_store_host_id(struct pm_store *st, const struct pm_host *h)
{
    sqlite3_stmt *s;
    int64_t id = -1;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT id FROM hosts WHERE hostname IS ?1 AND os IS ?2 AND os_version IS ?3"
                           " AND kernel IS ?4 AND arch IS ?5 AND cpu_count IS ?6 AND mem_total IS ?7"
                           " AND page_size IS ?8 LIMIT 1",
                           -1, &s, NULL) == SQLITE_OK) {
        bind_host(s, h);
        if (sqlite3_step(s) == SQLITE_ROW)
            id = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
        if (id >= 0)
            return id;
    }
    const char *sql = "INSERT INTO hosts(hostname, os, os_version, kernel, arch, cpu_count, mem_total, page_size)"
                      " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET hostname = excluded.hostname"
                      " RETURNING id";
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        set_err(st, "%s: %s", st->path, sqlite3_errmsg(st->db));
        return -1;
    }
    bind_host(s, h);
    if (sqlite3_step(s) == SQLITE_ROW)
        id = sqlite3_column_int64(s, 0);
    else
        set_err(st, "%s: recording the host: %s", st->path, sqlite3_errmsg(st->db));
    sqlite3_finalize(s);
    return id;
}

/* A JSON string from bytes that may not be UTF-8 (argv, comm): valid
 * UTF-8 is kept, each invalid byte becomes the text \\xHH, so nothing the
 * user ran is lost and the JSON stays valid. */
static json_t *json_bytes(const char *p, size_t n)
{
    json_t *v = json_stringn(p, n);
    if (v)
        return v;
    char *buf = malloc(n * 4 + 1);
    if (!buf)
        return json_string("");
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)p[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        json_t *probe = len > 1 && i + len <= n ? json_stringn(p + i, len) : NULL;
        if (len == 1 && c != 0) {
            buf[o++] = (char)c;
            i++;
        } else if (probe) {
            memcpy(buf + o, p + i, len);
            o += len;
            i += len;
        } else {
            o += (size_t)sprintf(buf + o, "\\x%02X", c);
            i++;
        }
        json_decref(probe);
    }
    v = json_stringn(buf, o);
    free(buf);
    return v ? v : json_string("");
}

static char *argv_json(char *const *argv, int argc)
{
    json_t *a = json_array();
    for (int i = 0; i < argc; i++) {
        json_array_append_new(a, json_bytes(argv[i], strlen(argv[i])));
    }
    char *s = json_dumps(a, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(a);
    return s;
}

/* Every table of the main schema with a column named run_id: the schema's
 * convention for per-run tables (schema/001_init.sql), read from the file
 * itself so that a table a later migration adds is covered too. */
#define PER_RUN_TABLES_SQL                                                                   \
    "SELECT m.name FROM main.sqlite_master m WHERE m.type = 'table' AND EXISTS"              \
    " (SELECT 1 FROM pragma_table_info(m.name, 'main') WHERE name = 'run_id')"

/* The id for a new run: one past the highest run id in runs or in any
 * per-run table (PER_RUN_TABLES_SQL).  runs.id is a plain INTEGER PRIMARY
 * KEY, which SQLite would give out again as max(id) + 1: after the newest
 * run's row was deleted by hand (the sqlite3 shell does not enforce
 * foreign keys, so nothing cascades), the next run took its id and its samples, processes and
 * events as its own.  Each max is one index probe from the top (every
 * per-run table is keyed or indexed by run_id first); `run_id < 2^62`
 * leaves out the text and blob values a hand edit may have put there,
 * which sort above numbers.  0 when the tables cannot be listed: SQLite
 * then picks the id, as before. */
static int64_t next_run_id(struct pm_store *st)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db,
                           PER_RUN_TABLES_SQL,
                           -1, &s, NULL) != SQLITE_OK)
        return 0;
    char *sql = sqlite3_mprintf("SELECT max(x) FROM (SELECT max(id) AS x FROM main.runs");
    while (sql && sqlite3_step(s) == SQLITE_ROW)
        sql = sqlite3_mprintf("%z UNION ALL SELECT (SELECT CAST(run_id AS INTEGER) FROM main.\"%w\""
                              " WHERE run_id < 4611686018427387904 ORDER BY run_id DESC LIMIT 1)",
                              sql, (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sql = sqlite3_mprintf("%z)", sql);
    int64_t next = 0;
    if (sql && sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW) {
            int64_t top = sqlite3_column_int64(s, 0);
            next = top < 1 ? 1 : top < INT64_MAX ? top + 1 : 0;
        }
        sqlite3_finalize(s);
    }
    sqlite3_free(sql);
    return next;
}

int64_t pm_store_run_begin(struct pm_store *st, const struct pm_run_info *ri)
{
    char *cmd = argv_json(ri->argv, ri->argv ? ri->argc : 0);
    sqlite3_stmt *s;
    const char *sql =
        "INSERT INTO runs(uid, host_id, label, command, cwd, started_at, state, interval_ns,"
        " proc_interval_ns, recorder_pid, boot_id, version, sources, tree_mechanism, attribution, id)"
        " VALUES (?,?,?,?,?,?,'recording',?,?,?,?,?,?,?,?,?)";
    int64_t id = -1;
    if (exec(st, "BEGIN IMMEDIATE") < 0)
        goto out;
    /* The host, in the same transaction: one commit for both. */
    int64_t host = pm_store_host_id(st, ri->host);
    if (host < 0) {
        exec(st, "ROLLBACK");
        goto out;
    }
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        goto sqlfail;
    sqlite3_bind_text(s, 1, ri->uid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, host);
    if (ri->label)
        sqlite3_bind_text(s, 3, ri->label, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, cmd ? cmd : "[]", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, ri->cwd, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, ri->started_at);
    sqlite3_bind_int64(s, 7, ri->interval_ns);
    sqlite3_bind_int64(s, 8, ri->proc_interval_ns);
    sqlite3_bind_int64(s, 9, ri->recorder_pid);
    sqlite3_bind_text(s, 10, ri->host->boot_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 11, PM_VERSION, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 12, ri->sources, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 13, ri->tree_mechanism, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 14, ri->attribution, -1, SQLITE_STATIC);
    int64_t next = next_run_id(st); /* inside the write transaction: no other run can take it */
    if (next > 0)
        sqlite3_bind_int64(s, 15, next);
    if (sqlite3_step(s) != SQLITE_DONE) {
        sqlite3_finalize(s);
        goto sqlfail;
    }
    sqlite3_finalize(s);
    id = sqlite3_last_insert_rowid(st->db);
    if (ri->ntags > 0) {
        if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO run_tags(run_id, key, value) VALUES (?,?,?)", -1,
                               &s, NULL) != SQLITE_OK)
            goto sqlfail;
        for (int i = 0; i < ri->ntags; i++) {
            sqlite3_bind_int64(s, 1, id);
            sqlite3_bind_text(s, 2, ri->tags[i].key, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 3, ri->tags[i].value, -1, SQLITE_STATIC);
            if (sqlite3_step(s) != SQLITE_DONE) {
                sqlite3_finalize(s);
                goto sqlfail;
            }
            sqlite3_reset(s);
        }
        sqlite3_finalize(s);
    }
    if (exec(st, "COMMIT") < 0) {
        id = -1;
        goto out;
    }
    goto out;
sqlfail:
    set_err(st, "%s: creating the run: %s", st->path, sqlite3_errmsg(st->db));
    exec(st, "ROLLBACK");
    id = -1;
out:
    free(cmd);
    return id;
}

/* Run a one-shot statement to completion and free it.  Returns 0, or -1
 * with "path: what: sqlite's message" as the store's error. */
static int step_done(struct pm_store *st, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE)
        set_err(st, "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

int pm_store_run_end(struct pm_store *st, int64_t run_id, const struct pm_run_end *re)
{
    sqlite3_stmt *s;
    const char *sql =
        "UPDATE runs SET ended_at = ?2, duration_ns = ?3, state = ?4, exit_code = ?5, signal = ?6,"
        " core_dumped = ?7, outcome = ?8, samples = ?9, proc_samples = ?10, missed_ticks = ?11,"
        " dropped = ?12, late_p50_ns = ?13, late_p99_ns = ?14, late_max_ns = ?15, self_cpu_ns = ?16,"
        " notes = ?17, samples_stored = ?18 WHERE id = ?1";
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        set_err(st, "%s: %s", st->path, sqlite3_errmsg(st->db));
        return -1;
    }
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, re->ended_at);
    sqlite3_bind_int64(s, 3, re->duration_ns);
    sqlite3_bind_text(s, 4, re->aborted ? "aborted" : "done", -1, SQLITE_STATIC);
    const char *outcome = NULL;
    if (re->aborted) {
        outcome = NULL; /* as pm_store_reap_stale: the command's fate is unknown */
    } else if (re->has_status) {
        if (re->signal) {
            sqlite3_bind_int(s, 6, re->signal);
            outcome = "fail";
        } else {
            sqlite3_bind_int(s, 5, re->exit_code);
            outcome = re->exit_code == 0 ? "pass" : "fail";
        }
        sqlite3_bind_int(s, 7, re->core_dumped);
    } else {
        outcome = "pass"; /* a system-only recording that ended as asked */
    }
    sqlite3_bind_text(s, 8, outcome, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 9, re->samples);
    sqlite3_bind_int64(s, 10, re->proc_samples);
    sqlite3_bind_int64(s, 11, re->missed_ticks);
    sqlite3_bind_int64(s, 12, re->dropped);
    sqlite3_bind_int64(s, 13, re->late_p50_ns);
    sqlite3_bind_int64(s, 14, re->late_p99_ns);
    sqlite3_bind_int64(s, 15, re->late_max_ns);
    sqlite3_bind_int64(s, 16, re->self_cpu_ns);
    if (re->notes && *re->notes)
        sqlite3_bind_text(s, 17, re->notes, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 18, re->samples_stored);
    return step_done(st, s, "finishing the run");
}

int pm_store_run_progress(struct pm_store *st, int64_t run_id, int64_t samples, int64_t samples_stored,
                          int64_t proc_samples, int64_t missed_ticks, int64_t dropped)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db,
                           "UPDATE runs SET samples = ?2, proc_samples = ?3, missed_ticks = ?4, dropped = ?5,"
                           " samples_stored = ?6 WHERE id = ?1",
                           -1, &s, NULL) != SQLITE_OK) {
        set_err(st, "%s: %s", st->path, sqlite3_errmsg(st->db));
        return -1;
    }
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, samples);
    sqlite3_bind_int64(s, 3, proc_samples);
    sqlite3_bind_int64(s, 4, missed_ticks);
    sqlite3_bind_int64(s, 5, dropped);
    sqlite3_bind_int64(s, 6, samples_stored);
    return step_done(st, s, "updating the run's progress");
}

int pm_store_run_set_text(struct pm_store *st, int64_t run_id, const char *column, const char *value)
{
    static const char *const allowed[] = {"attribution", "tree_mechanism", "sources", "notes", "label"};
    int ok = 0;
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        ok |= strcmp(column, allowed[i]) == 0;
    if (!ok) {
        set_err(st, "internal: column %s cannot be set", column);
        return -1;
    }
    char sql[128];
    snprintf(sql, sizeof(sql), "UPDATE runs SET %s = ? WHERE id = ?", column);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        set_err(st, "%s: %s", st->path, sqlite3_errmsg(st->db));
        return -1;
    }
    sqlite3_bind_text(s, 1, value, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, run_id);
    return step_done(st, s, column);
}

int pm_store_begin(struct pm_store *st)
{
    if (exec(st, "BEGIN IMMEDIATE") < 0)
        return -1;
    st->in_tx = 1;
    return 0;
}

int pm_store_commit(struct pm_store *st)
{
    st->in_tx = 0;
    if (exec(st, "COMMIT") < 0) {
        /* keep the COMMIT's error (e.g. "database or disk is full") */
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

/* Never replaces the error that made the caller roll back; a failed
 * COMMIT may already have ended the transaction. */
int pm_store_rollback(struct pm_store *st)
{
    st->in_tx = 0;
    if (sqlite3_get_autocommit(st->db))
        return 0;
    return sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int step_reset(struct pm_store *st, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE) {
        set_err(st, "%s: writing %s: %s", st->path, what, sqlite3_errmsg(st->db));
        return -1;
    }
    return 0;
}

int pm_store_put_sys(struct pm_store *st, int64_t run_id, const struct pm_sys_rec *r)
{
    sqlite3_stmt *s = st->stmt[ST_SYS];
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, r->t_ns);
    sqlite3_bind_int64(s, 3, r->late_ns / 1000);
    for (int i = 0; i < PM_SYS_N; i++)
        if (r->present & (UINT64_C(1) << i))
            sqlite3_bind_int64(s, 4 + i, r->v[i]);
    return step_reset(st, s, "a sample");
}

static void bind_text_opt(sqlite3_stmt *s, int i, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

/* argv as stored by the sampler: NUL-separated, argv_len bytes. */
static char *proc_argv_json(const struct pm_proc_start_rec *r)
{
    json_t *a = json_array();
    size_t i = 0, n = r->argv_len > PM_ARGV_MAX ? PM_ARGV_MAX : r->argv_len;
    while (i < n) {
        size_t l = strnlen(r->argv + i, n - i);
        json_array_append_new(a, json_bytes(r->argv + i, l));
        i += l + 1;
    }
    char *s = json_dumps(a, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(a);
    return s;
}

int pm_store_put_proc_start(struct pm_store *st, int64_t run_id, const struct pm_proc_start_rec *r)
{
    char *argv = proc_argv_json(r);
    sqlite3_stmt *s;
    int rc;
    if (r->is_exec) {
        s = st->stmt[ST_PEXEC];
        sqlite3_bind_int64(s, 1, run_id);
        sqlite3_bind_int64(s, 2, r->pid);
        bind_text_opt(s, 3, r->comm);
        bind_text_opt(s, 4, argv);
        rc = step_reset(st, s, "a process exec");
        /* An exec of a pid we never saw start: record it as a start. */
        if (rc == 0 && sqlite3_changes(st->db) > 0) {
            free(argv);
            return 0;
        }
    }
    s = st->stmt[ST_PSTART];
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, r->pid);
    if (r->ppid > 0)
        sqlite3_bind_int64(s, 3, r->ppid);
    if (r->start_ns != INT64_MIN)
        sqlite3_bind_int64(s, 4, r->start_ns);
    bind_text_opt(s, 5, r->comm);
    bind_text_opt(s, 6, argv);
    rc = step_reset(st, s, "a process");
    free(argv);
    return rc;
}

int pm_store_put_proc_sample(struct pm_store *st, int64_t run_id, const struct pm_proc_sample_rec *r)
{
    sqlite3_stmt *s = st->stmt[ST_PSAMPLE];
    char state[2] = {r->state, 0};
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, r->pid);
    sqlite3_bind_int64(s, 3, r->t_ns);
    if (r->state)
        sqlite3_bind_text(s, 4, state, 1, SQLITE_TRANSIENT);
    for (int i = 0; i < PM_PROC_N; i++)
        if (r->present & (UINT64_C(1) << i))
            sqlite3_bind_int64(s, 5 + i, r->v[i]);
    return step_reset(st, s, "a process sample");
}

static const char *status_src_name(int src)
{
    switch (src) {
    case PM_STATUS_WAIT: return "wait";
    case PM_STATUS_PROCCONN: return "proc_connector";
    case PM_STATUS_PIDFD: return "pidfd";
    case PM_STATUS_KQUEUE: return "kqueue";
    default: return "unknown";
    }
}

int pm_store_put_proc_exit(struct pm_store *st, int64_t run_id, const struct pm_proc_exit_rec *r, int *changed)
{
    int known = r->status_src != PM_STATUS_UNKNOWN;
    sqlite3_stmt *s = st->stmt[known ? ST_PEXIT : ST_PEXIT_UNK];
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, r->pid);
    sqlite3_bind_int64(s, 3, r->t_ns);
    if (known) {
        if (r->signal)
            sqlite3_bind_int(s, 5, r->signal);
        else
            sqlite3_bind_int(s, 4, r->exit_code);
        sqlite3_bind_int(s, 6, r->core);
        sqlite3_bind_text(s, 7, status_src_name(r->status_src), -1, SQLITE_STATIC);
        if (r->killer_pid > 0)
            sqlite3_bind_int64(s, 8, r->killer_pid);
        bind_text_opt(s, 9, r->killer_comm);
        bind_text_opt(s, 10, r->kill_cause);
        if (r->forwarded_by > 0)
            sqlite3_bind_int64(s, 11, r->forwarded_by);
    }
    int rc = step_reset(st, s, "a process exit");
    *changed = rc == 0 && sqlite3_changes(st->db) > 0;
    if (rc == 0 && r->maxrss_kb > 0) {
        int took = *changed;
        sqlite3_stmt *m = st->stmt[ST_PMAXRSS];
        sqlite3_bind_int64(m, 1, run_id);
        sqlite3_bind_int64(m, 2, r->pid);
        sqlite3_bind_int64(m, 3, r->maxrss_kb);
        rc = step_reset(st, m, "a process's peak RSS");
        *changed = took;
    }
    if (rc == 0 && !*changed) {
        /* Not taken: either no row for the pid yet, or it already holds a
         * status (which wins).  Only the first case is worth a retry. */
        s = st->stmt[ST_PHAS];
        sqlite3_bind_int64(s, 1, run_id);
        sqlite3_bind_int64(s, 2, r->pid);
        *changed = sqlite3_step(s) == SQLITE_ROW;
        sqlite3_reset(s);
    }
    return rc;
}

int pm_store_put_event(struct pm_store *st, int64_t run_id, const struct pm_event_rec *r)
{
    sqlite3_stmt *s = st->stmt[ST_EVENT];
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, r->t_ns);
    sqlite3_bind_text(s, 3, pm_event_kind_name((enum pm_event_kind)r->kind), -1, SQLITE_STATIC);
    if (r->pid > 0)
        sqlite3_bind_int64(s, 4, r->pid);
    if (r->signal)
        sqlite3_bind_int(s, 5, r->signal);
    if (r->sender_pid > 0)
        sqlite3_bind_int64(s, 6, r->sender_pid);
    bind_text_opt(s, 7, r->sender_comm);
    bind_text_opt(s, 8, r->detail);
    if (r->forwarded_by > 0)
        sqlite3_bind_int64(s, 9, r->forwarded_by);
    return step_reset(st, s, "an event");
}

/* ---- deleting runs ------------------------------------------------------ */

int pm_store_run_live(struct pm_store *st, int64_t run_id, const char *boot_id)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT state = 'recording', recorder_pid, boot_id FROM runs WHERE id = ?", -1,
                           &s, NULL) != SQLITE_OK) {
        set_err(st, "%s: %s", st->path, sqlite3_errmsg(st->db));
        return -1;
    }
    sqlite3_bind_int64(s, 1, run_id);
    int rc = sqlite3_step(s), live = 0;
    if (rc == SQLITE_ROW)
        live = sqlite3_column_int(s, 0) &&
               !recorder_gone((const char *)sqlite3_column_text(s, 2), (pid_t)sqlite3_column_int64(s, 1), boot_id);
    else if (rc != SQLITE_DONE)
        set_err(st, "%s: reading run %lld: %s", st->path, (long long)run_id, sqlite3_errmsg(st->db));
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? live : -1;
}

/* A per-run table and the statements that empty it of one run. */
struct run_table {
    char *chunk_sql;   /* at most ?2 rows of run ?1 */
    char *all_sql;     /* every row of run ?1 */
    char *orphan_sql;  /* at most ?2 rows of run ?1, if runs has no row ?1 */
    char *next_sql;    /* the lowest run id above ?1 (any type: a hand edit may leave text) */
    char *count_sql;   /* the rows of run ?1 */
};

static void free_run_tables(struct run_table *t, int n)
{
    for (int i = 0; i < n; i++) {
        sqlite3_free(t[i].chunk_sql);
        sqlite3_free(t[i].all_sql);
        sqlite3_free(t[i].orphan_sql);
        sqlite3_free(t[i].next_sql);
        sqlite3_free(t[i].count_sql);
    }
    free(t);
}

/* The per-run tables (PER_RUN_TABLES_SQL) and how to empty each.  A chunk
 * is picked by the table's primary key (its rowid when it declares none):
 * samples, proc_samples and run_tags are keyed (run_id, ...) and procs and
 * events have a (run_id, ...) index, so each chunk is one index range and
 * each of its rows one key lookup. */
static int run_tables(struct pm_store *st, struct run_table **out)
{
    *out = NULL;
    sqlite3_stmt *s = NULL, *k = NULL;
    struct run_table *t = NULL;
    int n = 0, cap = 0;
    if (sqlite3_prepare_v2(st->db,
                           PER_RUN_TABLES_SQL " ORDER BY m.name",
                           -1, &s, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, "SELECT name FROM pragma_table_info(?1, 'main') WHERE pk > 0 ORDER BY pk", -1,
                           &k, NULL) != SQLITE_OK)
        goto sqlfail;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        if (n == cap) {
            int ncap = cap ? cap * 2 : 8;
            struct run_table *p = realloc(t, (size_t)ncap * sizeof *t);
            if (!p)
                goto oom;
            t = p;
            cap = ncap;
        }
        char *key = NULL;
        sqlite3_bind_text(k, 1, name, -1, SQLITE_TRANSIENT);
        while ((rc = sqlite3_step(k)) == SQLITE_ROW) {
            char *nk = key ? sqlite3_mprintf("%z, \"%w\"", key, (const char *)sqlite3_column_text(k, 0))
                           : sqlite3_mprintf("\"%w\"", (const char *)sqlite3_column_text(k, 0));
            if (!nk)
                goto oom;
            key = nk;
        }
        sqlite3_reset(k);
        if (rc != SQLITE_DONE) {
            sqlite3_free(key);
            goto sqlfail;
        }
        t[n].chunk_sql = sqlite3_mprintf("DELETE FROM main.\"%w\" WHERE (%s) IN"
                                         " (SELECT %s FROM main.\"%w\" WHERE run_id = ?1 LIMIT ?2)",
                                         name, key ? key : "rowid", key ? key : "rowid", name);
        t[n].all_sql = sqlite3_mprintf("DELETE FROM main.\"%w\" WHERE run_id = ?1", name);
        t[n].orphan_sql = sqlite3_mprintf("DELETE FROM main.\"%w\" WHERE (%s) IN"
                                          " (SELECT %s FROM main.\"%w\" WHERE run_id = ?1 LIMIT ?2)"
                                          " AND NOT EXISTS (SELECT 1 FROM main.runs WHERE id = ?1)",
                                          name, key ? key : "rowid", key ? key : "rowid", name);
        t[n].next_sql = sqlite3_mprintf("SELECT run_id FROM main.\"%w\" WHERE run_id > ?1 OR (?1 IS NULL AND"
                                        " run_id IS NOT NULL) ORDER BY run_id LIMIT 1",
                                        name);
        t[n].count_sql = sqlite3_mprintf("SELECT count(*) FROM main.\"%w\" WHERE run_id = ?1", name);
        sqlite3_free(key);
        n++;
        if (!t[n - 1].chunk_sql || !t[n - 1].all_sql || !t[n - 1].orphan_sql || !t[n - 1].next_sql ||
            !t[n - 1].count_sql)
            goto oom;
    }
    if (rc != SQLITE_DONE)
        goto sqlfail;
    sqlite3_finalize(s);
    sqlite3_finalize(k);
    *out = t;
    return n;
oom:
    set_err(st, "out of memory");
    goto fail;
sqlfail:
    set_err(st, "%s: listing the per-run tables: %s", st->path, sqlite3_errmsg(st->db));
fail:
    sqlite3_finalize(s);
    sqlite3_finalize(k);
    free_run_tables(t, n);
    return -1;
}

/* One write transaction around `sql` bound to (run_id, limit): the rows it
 * deleted, or -1.  *held_ns: from holding the write lock to releasing it
 * (also into the stats). */
static int64_t delete_tx(struct pm_store *st, const char *const *sql, int nsql, int64_t run_id,
                         const sqlite3_value *run_value, int64_t limit, struct pm_delete_stats *ds,
                         int64_t *held_ns)
{
    if (exec(st, "BEGIN IMMEDIATE") < 0)
        return -1;
    int64_t t0 = pm_mono_ns(), rows = 0;
    for (int i = 0; i < nsql; i++) {
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(st->db, sql[i], -1, &s, NULL) != SQLITE_OK) {
            set_err(st, "%s: %s", st->path, sqlite3_errmsg(st->db));
            exec(st, "ROLLBACK");
            return -1;
        }
        if (run_value)
            sqlite3_bind_value(s, 1, run_value);
        else
            sqlite3_bind_int64(s, 1, run_id);
        if (limit > 0)
            sqlite3_bind_int64(s, 2, limit);
        if (step_done(st, s, "deleting a run") < 0) {
            exec(st, "ROLLBACK");
            return -1;
        }
        rows += sqlite3_changes(st->db);
    }
    if (exec(st, "COMMIT") < 0) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    int64_t dt = pm_mono_ns() - t0;
    *held_ns = dt;
    ds->transactions++;
    if (dt > ds->longest_tx_ns)
        ds->longest_tx_ns = dt;
    ds->rows += rows;
    return rows;
}

/* The WAL's size after each commit, in place of SQLite's automatic
 * checkpoint (which is itself this hook). */
static int note_wal(void *arg, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    ((struct pm_store *)arg)->wal_pages = pages;
    return SQLITE_OK;
}

/* SQLite's automatic checkpoint threshold (SQLITE_DEFAULT_WAL_AUTOCHECKPOINT). */
#define WAL_CHECKPOINT_PAGES 1000

/* Between two chunks: checkpoint when the WAL has grown past SQLite's
 * threshold, then leave the write lock free for `held` + the pause.  The
 * deleter checkpoints itself, outside its transactions: left automatic,
 * the checkpoint runs in whichever connection commits past the threshold,
 * a recorder's as well, and the time its commit took counted the
 * checkpoint that follows it (measured 7-15 ms: not lock time). */
static void between_chunks(struct pm_store *st, int64_t held)
{
    int64_t t0 = pm_mono_ns();
    if (st->wal_pages >= WAL_CHECKPOINT_PAGES)
        sqlite3_wal_checkpoint_v2(st->db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    /* A writer that found the lock taken is in SQLite's busy handler,
     * which tries again after 1, 2, 5, 10, 15, 20, 25 ms...
     * (sqliteDefaultBusyCallback).  Taking the lock back at once, the
     * deleter starved a writer committing every 10 ms for up to 230 ms per
     * commit (docs/BENCHMARKS.md, "rm").  A pause of the time held plus
     * 2 ms is longer than the handler's sleep that can step over it, so a
     * writer waiting since this chunk began gets the lock in the pause
     * after it.  A passive checkpoint does not hold the write lock: its
     * time is part of the pause. */
    int64_t pause = held + PM_DELETE_PAUSE_NS - (pm_mono_ns() - t0);
    if (pause > 0) {
        struct timespec ts = {(time_t)(pause / 1000000000), (long)(pause % 1000000000)};
        nanosleep(&ts, NULL);
    }
}

int pm_store_delete_run(struct pm_store *st, int64_t run_id, const char *boot_id, int chunk_rows,
                        struct pm_delete_stats *ds)
{
    memset(ds, 0, sizeof *ds);
    if (chunk_rows <= 0)
        chunk_rows = PM_DELETE_CHUNK;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM runs WHERE id = ?", -1, &s, NULL) != SQLITE_OK) {
        set_err(st, "%s: %s", st->path, sqlite3_errmsg(st->db));
        return -1;
    }
    sqlite3_bind_int64(s, 1, run_id);
    int exists = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    if (!exists) {
        set_err(st, "%s: run %lld is not in the database (deleted meanwhile?)", st->path, (long long)run_id);
        return -1;
    }
    /* A finished or dead run gets no more rows, and its id cannot be given
     * to a new run while its row in runs exists: that row goes last. */
    int live = pm_store_run_live(st, run_id, boot_id);
    if (live != 0)
        return live;
    struct run_table *t;
    int n = run_tables(st, &t);
    if (n < 0)
        return -1;
    int rc = 0;
    st->wal_pages = 0;
    sqlite3_wal_hook(st->db, note_wal, st);
    for (int i = 0; i < n && rc == 0; i++) {
        const char *sql = t[i].chunk_sql;
        int64_t got, held = 0;
        while ((got = delete_tx(st, &sql, 1, run_id, NULL, chunk_rows, ds, &held)) == chunk_rows)
            between_chunks(st, held);
        if (got < 0)
            rc = -1;
    }
    /* The last transaction: whatever is left (nothing, unless a table has
     * no key to chunk by) and the run's row, at once. */
    if (rc == 0) {
        const char **all = malloc(((size_t)n + 1) * sizeof *all);
        if (!all) {
            set_err(st, "out of memory");
            rc = -1;
        } else {
            for (int i = 0; i < n; i++)
                all[i] = t[i].all_sql;
            all[n] = "DELETE FROM runs WHERE id = ?1";
            int64_t held;
            if (delete_tx(st, all, n + 1, run_id, NULL, 0, ds, &held) < 0)
                rc = -1;
            free(all);
        }
    }
    if (st->wal_pages >= WAL_CHECKPOINT_PAGES)
        sqlite3_wal_checkpoint_v2(st->db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    sqlite3_wal_autocheckpoint(st->db, WAL_CHECKPOINT_PAGES);
    free_run_tables(t, n);
    return rc;
}

/* Whether runs has a row with this id (1), not (0), or -1. */
static int run_row_exists(struct pm_store *st, const sqlite3_value *id)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM main.runs WHERE id = ?1", -1, &s, NULL) != SQLITE_OK) {
        set_err(st, "%s: %s", st->path, sqlite3_errmsg(st->db));
        return -1;
    }
    sqlite3_bind_value(s, 1, id);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        set_err(st, "%s: %s", st->path, sqlite3_errmsg(st->db));
        return -1;
    }
    return rc == SQLITE_ROW;
}

/* The rows of run `id` in table `t`: counted (dry run) or deleted in
 * chunks, each chunk only while runs still has no such row.  The rows
 * deleted or counted, or -1. */
static int64_t orphan_rows(struct pm_store *st, const struct run_table *t, const sqlite3_value *id, int chunk_rows,
                           int dry_run, struct pm_delete_stats *ds)
{
    if (dry_run) {
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(st->db, t->count_sql, -1, &s, NULL) != SQLITE_OK) {
            set_err(st, "%s: %s", st->path, sqlite3_errmsg(st->db));
            return -1;
        }
        sqlite3_bind_value(s, 1, id);
        int64_t c = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
        if (c < 0)
            set_err(st, "%s: %s", st->path, sqlite3_errmsg(st->db));
        sqlite3_finalize(s);
        if (c > 0)
            ds->rows += c;
        return c;
    }
    const char *sql = t->orphan_sql;
    int64_t got, held = 0, before = ds->rows;
    while ((got = delete_tx(st, &sql, 1, 0, id, chunk_rows, ds, &held)) == chunk_rows)
        between_chunks(st, held);
    return got < 0 ? -1 : ds->rows - before;
}

int pm_store_delete_orphans(struct pm_store *st, int chunk_rows, int dry_run, int64_t *nruns,
                            struct pm_delete_stats *ds)
{
    memset(ds, 0, sizeof *ds);
    *nruns = 0;
    if (chunk_rows <= 0)
        chunk_rows = PM_DELETE_CHUNK;
    struct run_table *t;
    int n = run_tables(st, &t);
    if (n < 0)
        return -1;
    /* Distinct orphan ids over all tables, to count runs, not tables. */
    sqlite3_value **seen = NULL;
    int nseen = 0, cap = 0, rc = 0;
    st->wal_pages = 0;
    sqlite3_wal_hook(st->db, note_wal, st);
    for (int i = 0; i < n && rc == 0; i++) {
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(st->db, t[i].next_sql, -1, &s, NULL) != SQLITE_OK) {
            set_err(st, "%s: %s", st->path, sqlite3_errmsg(st->db));
            rc = -1;
            break;
        }
        sqlite3_value *id = NULL; /* NULL: from the lowest */
        for (;;) {
            if (id)
                sqlite3_bind_value(s, 1, id);
            else
                sqlite3_bind_null(s, 1);
            int step = sqlite3_step(s);
            sqlite3_value *next = step == SQLITE_ROW ? sqlite3_value_dup(sqlite3_column_value(s, 0)) : NULL;
            sqlite3_reset(s);
            if (step == SQLITE_DONE)
                break;
            if (!next) {
                if (step == SQLITE_ROW)
                    set_err(st, "out of memory");
                else
                    set_err(st, "%s: %s", st->path, sqlite3_errmsg(st->db));
                rc = -1;
                break;
            }
            sqlite3_value_free(id);
            id = next;
            int exists = run_row_exists(st, id);
            if (exists != 0) {
                rc = exists < 0 ? -1 : 0;
                if (rc)
                    break;
                continue;
            }
            if (orphan_rows(st, &t[i], id, chunk_rows, dry_run, ds) < 0) {
                rc = -1;
                break;
            }
            int known = 0;
            for (int k = 0; k < nseen && !known; k++)
                known = sqlite3_value_type(seen[k]) == sqlite3_value_type(id) &&
                        sqlite3_value_bytes(seen[k]) == sqlite3_value_bytes(id) &&
                        (sqlite3_value_type(id) == SQLITE_INTEGER
                             ? sqlite3_value_int64(seen[k]) == sqlite3_value_int64(id)
                         : sqlite3_value_type(id) == SQLITE_FLOAT
                             ? sqlite3_value_double(seen[k]) == sqlite3_value_double(id)
                             : memcmp(sqlite3_value_blob(seen[k]), sqlite3_value_blob(id),
                                      (size_t)sqlite3_value_bytes(id)) == 0);
            if (!known) {
                if (nseen == cap) {
                    int ncap = cap ? cap * 2 : 8;
                    sqlite3_value **p = realloc(seen, (size_t)ncap * sizeof *p);
                    if (!p) {
                        set_err(st, "out of memory");
                        rc = -1;
                        break;
                    }
                    seen = p;
                    cap = ncap;
                }
                seen[nseen] = sqlite3_value_dup(id);
                if (!seen[nseen]) {
                    set_err(st, "out of memory");
                    rc = -1;
                    break;
                }
                nseen++;
            }
        }
        sqlite3_value_free(id);
        sqlite3_finalize(s);
    }
    if (st->wal_pages >= WAL_CHECKPOINT_PAGES)
        sqlite3_wal_checkpoint_v2(st->db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    sqlite3_wal_autocheckpoint(st->db, WAL_CHECKPOINT_PAGES);
    for (int k = 0; k < nseen; k++)
        sqlite3_value_free(seen[k]);
    free(seen);
    free_run_tables(t, n);
    *nruns = nseen;
    return rc;
}

static int64_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

/* Copy the WAL into the database file and truncate the WAL: 1 when done
 * whole, 0 when a reader still needed part of it. */
static int checkpoint_truncate(struct pm_store *st)
{
    sqlite3_stmt *s;
    int done = 0;
    if (sqlite3_prepare_v2(st->db, "PRAGMA main.wal_checkpoint(TRUNCATE)", -1, &s, NULL) == SQLITE_OK) {
        done = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == 0;
        sqlite3_finalize(s);
    }
    return done;
}

int pm_store_vacuum(struct pm_store *st, struct pm_vacuum_stats *vs)
{
    char wal[4096];
    snprintf(wal, sizeof wal, "%s-wal", st->path);
    /* The pages a run had may still be in the WAL, not yet in the file:
     * copy them back first, so that "before" is the file holding them. */
    checkpoint_truncate(st);
    vs->file_before = file_size(st->path);
    vs->wal_before = file_size(wal);
    int64_t t0 = pm_mono_ns();
    if (exec(st, "VACUUM") < 0)
        return -1;
    vs->vacuum_ns = pm_mono_ns() - t0;
    /* VACUUM in WAL mode writes the new file into the WAL; the checkpoint
     * copies it back and truncates the file (and the WAL) to their size. */
    vs->checkpointed = checkpoint_truncate(st);
    vs->file_after = file_size(st->path);
    vs->wal_after = file_size(wal);
    return 0;
}
