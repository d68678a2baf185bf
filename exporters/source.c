/*
 * Reading a recorded run out of the database for export and push.
 *
 * The sample query is built from the metric catalog (sampler/catalog.h),
 * so a metric added there is exported everywhere with no second list.
 * Wall-clock timestamps are runs.started_at + samples.t_ns: the original
 * times, whenever the push happens.
 */
#include "export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pm_src {
    sqlite3_stmt *st;
    int64_t started_at;
    struct pm_cumul cumul;
    int first;
    int done;
};

#define KILL_KINDS "('signal','oom_kill','memory_kill','codesign_kill')"

static void colcpy(char *dst, size_t n, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    pm_strlcpy(dst, t ? (const char *)t : "", n);
}

/* 2200-01-01 in Unix ns: later than any run, far from INT64_MAX (2262). */
#define PM_SRC_MAX_NS 7258118400000000000LL

int pm_src_run(sqlite3 *db, int64_t run_id, struct pm_xrun *r, char *err, size_t n)
{
    static const char *q =
        "SELECT r.uid, r.label, h.hostname, r.state, r.outcome, r.started_at, r.ended_at,"
        " r.duration_ns, r.exit_code, r.signal, r.samples, r.missed_ticks, r.dropped,"
        " (SELECT count(*) FROM events e WHERE e.run_id = r.id AND e.kind IN " KILL_KINDS "),"
        " (SELECT max(t_ns) FROM samples s WHERE s.run_id = r.id)"
        " FROM runs r JOIN hosts h ON h.id = r.host_id WHERE r.id = ?";
    sqlite3_stmt *st;
    memset(r, 0, sizeof *r);
    if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, n, "cannot read run %lld: %s", (long long)run_id, sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_int64(st, 1, run_id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        snprintf(err, n, "run %lld not found: %s", (long long)run_id,
                 rc == SQLITE_DONE ? "no such run" : sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -1;
    }
    r->id = run_id;
    colcpy(r->uid, sizeof r->uid, st, 0);
    colcpy(r->label, sizeof r->label, st, 1);
    colcpy(r->hostname, sizeof r->hostname, st, 2);
    colcpy(r->state, sizeof r->state, st, 3);
    colcpy(r->outcome, sizeof r->outcome, st, 4);
    r->started_at = sqlite3_column_int64(st, 5);
    r->ended_at = sqlite3_column_int64(st, 6);
    r->duration_ns = sqlite3_column_int64(st, 7);
    if (sqlite3_column_type(st, 9) != SQLITE_NULL && sqlite3_column_int(st, 9) != 0) {
        r->has_exit = 1;
        r->signal = sqlite3_column_int(st, 9);
    } else if (sqlite3_column_type(st, 8) != SQLITE_NULL) {
        r->has_exit = 1;
        r->exit_code = sqlite3_column_int(st, 8);
    }
    r->samples = sqlite3_column_int64(st, 10);
    r->missed_ticks = sqlite3_column_int64(st, 11);
    r->dropped = sqlite3_column_int64(st, 12);
    r->kills = sqlite3_column_int64(st, 13);
    /* An aborted or still-recording run has no duration: use its samples. */
    if (r->duration_ns <= 0)
        r->duration_ns = sqlite3_column_int64(st, 14);
    sqlite3_finalize(st);
    /* Times are Unix ns, and every point's is started_at + an offset: a run
     * outside 1970..2200, or longer than a century, was not written by
     * pressmon (a hand edit, a damaged file), and would overflow. */
    if (r->started_at < 0 || r->started_at > PM_SRC_MAX_NS || r->duration_ns < 0 ||
        r->duration_ns > PM_SRC_MAX_NS / 2) {
        snprintf(err, n, "run %s has an impossible start time or duration (started_at %lld ns, %lld ns long):"
                 " the database was edited or damaged", r->uid, (long long)r->started_at,
                 (long long)r->duration_ns);
        return -1;
    }
    if (r->ended_at <= 0)
        r->ended_at = r->started_at + r->duration_ns;
    return 0;
}

/* started_at + a row's offset, or -1 for an offset no run can have (see
 * pm_src_run). */
static int64_t point_ns(int64_t started_at, int64_t offset)
{
    if (offset < -PM_SRC_MAX_NS / 2 || offset > PM_SRC_MAX_NS / 2)
        return -1;
    return started_at + offset;
}

struct pm_src *pm_src_open(sqlite3 *db, const struct pm_xrun *r, char *err, size_t n)
{
    struct pm_buf q = {0};
    pm_buf_puts(&q, "SELECT t_ns");
    for (int i = 0; i < PM_SYS_N; i++)
        pm_buf_printf(&q, ", \"%s\"", pm_sys_metrics[i].column);
    pm_buf_puts(&q, " FROM samples WHERE run_id = ? ORDER BY t_ns");
    struct pm_src *s = calloc(1, sizeof *s);
    if (!s || q.oom) {
        snprintf(err, n, "out of memory");
        free(s);
        pm_buf_free(&q);
        return NULL;
    }
    if (sqlite3_prepare_v2(db, q.p, -1, &s->st, NULL) != SQLITE_OK) {
        snprintf(err, n, "cannot read the samples of run %s: %s", r->uid, sqlite3_errmsg(db));
        pm_buf_free(&q);
        free(s);
        return NULL;
    }
    pm_buf_free(&q);
    sqlite3_bind_int64(s->st, 1, r->id);
    s->started_at = r->started_at;
    s->first = 1;
    return s;
}

long pm_src_next(struct pm_src *s, struct pm_batch *b, size_t max_rows, char *err, size_t n)
{
    long added = 0;
    while (!s->done && (size_t)added < max_rows) {
        int rc = sqlite3_step(s->st);
        if (rc == SQLITE_DONE) {
            s->done = 1;
            break;
        }
        if (rc != SQLITE_ROW) {
            snprintf(err, n, "reading samples: %s", sqlite3_errmsg(sqlite3_db_handle(s->st)));
            return -1;
        }
        int64_t stored[PM_SYS_N];
        uint64_t present = 0;
        for (int i = 0; i < PM_SYS_N; i++) {
            if (sqlite3_column_type(s->st, i + 1) == SQLITE_NULL) {
                stored[i] = 0;
                continue;
            }
            stored[i] = sqlite3_column_int64(s->st, i + 1);
            present |= 1ull << i;
        }
        int64_t ts = point_ns(s->started_at, sqlite3_column_int64(s->st, 0));
        if (ts < 0)
            continue; /* a damaged row: the others still go out */
        long row = pm_batch_add_row(b, ts);
        if (row < 0) {
            snprintf(err, n, "out of memory");
            return -1;
        }
        pm_cumul_row(&s->cumul, present, stored, &b->val[(size_t)row * PM_SYS_N],
                     &b->present[row], s->first);
        int keep = pm_cumul_keep(&s->cumul, ts, s->first);
        s->first = 0;
        if (!keep) {
            b->nrows--; /* same millisecond as the previous row */
            continue;
        }
        added++;
    }
    return added;
}

void pm_src_close(struct pm_src *s)
{
    if (!s)
        return;
    sqlite3_finalize(s->st);
    free(s);
}

int pm_src_kill_points(sqlite3 *db, const struct pm_xrun *r, struct pm_batch *b, char *err,
                       size_t n)
{
    static const char *q =
        "SELECT e.t_ns, e.kind, e.signal, e.sender_comm,"
        " (SELECT p.comm FROM procs p WHERE p.run_id = e.run_id AND p.pid = e.pid"
        "  ORDER BY p.id DESC LIMIT 1)"
        " FROM events e WHERE e.run_id = ? AND e.kind IN " KILL_KINDS " ORDER BY e.t_ns, e.id";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, n, "cannot read the events of run %s: %s", r->uid, sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_int64(st, 1, r->id);
    int count = 0;
    int64_t last_ts = -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t ts = point_ns(r->started_at, sqlite3_column_int64(st, 0));
        if (ts < 0)
            continue;
        /* Two points of one series in the same millisecond would collide
         * in Prometheus: nudge the later one. */
        if (ts / 1000000 <= last_ts / 1000000)
            ts = (last_ts / 1000000 + 1) * 1000000;
        last_ts = ts;
        struct pm_xpoint *p = pm_batch_add_point(
            b, "kill_event_timestamp_seconds", "gauge",
            "Unix time of a kill seen during the run (for Grafana annotations)", ts,
            (double)(ts / 1000000) / 1000.0);
        if (!p) {
            sqlite3_finalize(st);
            snprintf(err, n, "out of memory");
            return -1;
        }
        char sig[16] = "";
        if (sqlite3_column_type(st, 2) != SQLITE_NULL && sqlite3_column_int(st, 2) > 0)
            pm_x_signame(sqlite3_column_int(st, 2), sig, sizeof sig);
        pm_xpoint_label(p, "kind", (const char *)sqlite3_column_text(st, 1));
        pm_xpoint_label(p, "signal", sig);
        pm_xpoint_label(p, "sender", (const char *)sqlite3_column_text(st, 3));
        pm_xpoint_label(p, "target", (const char *)sqlite3_column_text(st, 4));
        count++;
    }
    sqlite3_finalize(st);
    return count;
}

static struct pm_xpoint *summary(struct pm_batch *b, const struct pm_xrun *r, const char *name,
                                 const char *help, double v)
{
    struct pm_xpoint *p = pm_batch_add_point(b, name, "gauge", help, r->ended_at, v);
    if (p)
        pm_xpoint_label(p, "outcome", r->outcome);
    return p;
}

int pm_src_summary_points(sqlite3 *db, const struct pm_xrun *r, struct pm_batch *b, char *err,
                          size_t n)
{
    int ok = 1;
    ok &= summary(b, r, "run_info", "One per run; labels carry the outcome", 1) != NULL;
    ok &= summary(b, r, "run_start_timestamp_seconds", "When the run started, unix seconds",
                  (double)r->started_at / 1e9) != NULL;
    ok &= summary(b, r, "run_duration_seconds", "How long the run took",
                  (double)r->duration_ns / 1e9) != NULL;
    if (r->has_exit && r->signal == 0)
        ok &= summary(b, r, "run_exit_code", "Exit code of the recorded command", r->exit_code) != NULL;
    if (r->has_exit && r->signal != 0)
        ok &= summary(b, r, "run_signal", "Signal that ended the recorded command", r->signal) != NULL;
    ok &= summary(b, r, "run_samples", "System samples recorded", (double)r->samples) != NULL;
    ok &= summary(b, r, "run_missed_ticks", "Sampling ticks missed", (double)r->missed_ticks) != NULL;
    ok &= summary(b, r, "run_kills", "Kill events seen during the run", (double)r->kills) != NULL;
    if (!ok) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    if (!db)
        return 0;

    /* Per-metric extremes: the "worst pressure per run" of the CI overview. */
    struct pm_buf q = {0};
    pm_buf_puts(&q, "SELECT ");
    for (int i = 0; i < PM_SYS_N; i++)
        pm_buf_printf(&q, "%smin(\"%s\"), max(\"%s\"), sum(\"%s\")", i ? ", " : "",
                      pm_sys_metrics[i].column, pm_sys_metrics[i].column, pm_sys_metrics[i].column);
    pm_buf_puts(&q, " FROM samples WHERE run_id = ?");
    sqlite3_stmt *st;
    if (q.oom || sqlite3_prepare_v2(db, q.p, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, n, "cannot summarize run %s: %s", r->uid, sqlite3_errmsg(db));
        pm_buf_free(&q);
        return -1;
    }
    pm_buf_free(&q);
    sqlite3_bind_int64(st, 1, r->id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < PM_SYS_N && ok; i++) {
            const struct pm_metric *m = &pm_sys_metrics[i];
            if (sqlite3_column_type(st, 3 * i) == SQLITE_NULL)
                continue;
            struct pm_xpoint *p;
            if (m->kind == PM_GAUGE) {
                p = summary(b, r, "run_metric_min", "Lowest value of a gauge during the run",
                            pm_metric_value(m, sqlite3_column_int64(st, 3 * i)));
                if (p)
                    pm_xpoint_label(p, "metric", m->prom);
                ok &= p != NULL;
                p = summary(b, r, "run_metric_max", "Highest value of a gauge during the run",
                            pm_metric_value(m, sqlite3_column_int64(st, 3 * i + 1)));
            } else {
                p = summary(b, r, "run_metric_increase", "Increase of a counter during the run",
                            pm_metric_value(m, sqlite3_column_int64(st, 3 * i + 2)));
            }
            if (p)
                pm_xpoint_label(p, "metric", m->prom);
            ok &= p != NULL;
        }
    }
    sqlite3_finalize(st);
    if (!ok) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    return 0;
}

int pm_src_event_points(sqlite3 *db, const struct pm_xrun *r, struct pm_batch *b, char *err, size_t n)
{
    if (pm_src_kill_points(db, r, b, err, n) < 0 || pm_src_summary_points(db, r, b, err, n) < 0)
        return -1;
    return 0;
}
