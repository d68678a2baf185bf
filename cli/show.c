/*
 * pressmon show RUN: one run — command, host, exit, sampling quality, peak
 * RSS, and a per-metric summary (min / mean / p95 / max) over the whole run.
 *
 * Counters are summarized as per-second rates over windows of >= 100 ms
 * (analysis/stats.h); time counters (CPU, PSI) as a percentage: cpu_user
 * 150% is one and a half cores busy, psi mem some 40% is 40% of the time
 * with some task stalled on memory.
 */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../analysis/stats.h"
#include "cli.h"

#define SPARK_POINTS 32
#define PM_STR_(x) #x
#define PM_STR(x) PM_STR_(x)

static const char usage_text[] =
    "usage: pressmon show [options] RUN\n"
    "\n"
    "Show one run: command, host, exit status, sampling quality (samples, missed ticks,\n"
    "lateness, pressmon's own CPU), and for every metric min / mean / p95 / max.\n"
    "RUN is a run id or unique prefix, last, last~N, or label:NAME.\n"
    "\n"
    "options:\n"
    "  -d, --db PATH   database (default $PRESSMON_DB, else ./pressmon.db)\n"
    "  -a, --all       also list metrics this platform did not record\n"
    "      --json      one JSON object on stdout\n"
    "  -h, --help      this text\n";

struct series {
    double *v;
    size_t n, cap;
};

/* How a metric reads in the summary: its values in display units. */
static double display_value(const struct pm_metric *m, double v)
{
    if (m->kind == PM_COUNTER && strcmp(m->unit, "seconds") == 0)
        return v * 100.0; /* seconds per second -> percent */
    if (strcmp(m->unit, "ratio") == 0)
        return v * 100.0;
    return v;
}

static const char *display_unit(const struct pm_metric *m, char *buf, size_t len)
{
    if (m->kind == PM_COUNTER && strcmp(m->unit, "seconds") == 0)
        snprintf(buf, len, "%%");
    else if (strcmp(m->unit, "ratio") == 0)
        snprintf(buf, len, "%%");
    else if (m->kind == PM_COUNTER)
        snprintf(buf, len, "%s/s", m->unit);
    else
        snprintf(buf, len, "%s", m->unit);
    return buf;
}

static const char *fmt_num(const struct pm_metric *m, double v, char *buf, size_t len)
{
    if (isnan(v))
        snprintf(buf, len, "-");
    else if (strcmp(m->unit, "bytes") == 0)
        pm_fmt_bytes(v, buf, len);
    else if (fabs(v) >= 100000)
        snprintf(buf, len, "%.3g", v);
    else if (fabs(v) >= 100 || v == floor(v))
        snprintf(buf, len, "%.0f", v);
    else
        snprintf(buf, len, "%.2f", v);
    return buf;
}

static void series_push(struct series *se, double v)
{
    if (se->n == se->cap) {
        size_t ncap = se->cap ? se->cap * 2 : 1024;
        double *nv = realloc(se->v, ncap * sizeof(double));
        if (!nv)
            return;
        se->v = nv;
        se->cap = ncap;
    }
    se->v[se->n++] = v;
}

/* Load every system metric of a run as display values (counters as rates). */
static int load_series(sqlite3 *db, int64_t run_id, struct series *out)
{
    char sql[4096];
    size_t off = (size_t)snprintf(sql, sizeof(sql), "SELECT t_ns");
    for (int i = 0; i < PM_SYS_N; i++)
        off += (size_t)snprintf(sql + off, sizeof(sql) - off, ", %s", pm_sys_metrics[i].column);
    snprintf(sql + off, sizeof(sql) - off, " FROM samples WHERE run_id = ? ORDER BY t_ns");
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    /* A counter is the delta since the previous non-NULL value of its own
     * column (slow sources are not read every tick, catalog.h): its rate
     * divides by the time since then, or since the run's first row (where
     * the counters were first read) for its first value.  Consecutive
     * deltas are merged into windows of at least PM_RATE_WINDOW_NS
     * (analysis/stats.h says why: a 10 ms delta of /proc/stat or of a PSI
     * total is not a rate the kernel resolves, and read as one it gave
     * cpu_user 250% on 2 CPUs and psi_cpu_some 146%). */
    int64_t first_t = -1, last_t = -1, prev_t[PM_SYS_N];
    struct pm_rate_win win[PM_SYS_N];
    while (sqlite3_step(s) == SQLITE_ROW) {
        int64_t t = sqlite3_column_int64(s, 0);
        last_t = t;
        if (first_t < 0) {
            first_t = t;
            for (int i = 0; i < PM_SYS_N; i++) {
                prev_t[i] = t;
                pm_rate_win_init(&win[i], PM_RATE_WINDOW_NS);
            }
        }
        for (int i = 0; i < PM_SYS_N; i++) {
            const struct pm_metric *m = &pm_sys_metrics[i];
            if (sqlite3_column_type(s, i + 1) == SQLITE_NULL)
                continue;
            double v = pm_metric_value(m, sqlite3_column_int64(s, i + 1));
            if (m->kind == PM_COUNTER) {
                int64_t since = prev_t[i];
                prev_t[i] = t;
                if (!pm_rate_win_add(&win[i], since, t, v, &v))
                    continue;
            }
            series_push(&out[i], display_value(m, v));
        }
    }
    for (int i = 0; first_t >= 0 && i < PM_SYS_N; i++) {
        double v;
        if (pm_sys_metrics[i].kind == PM_COUNTER && pm_rate_win_finish(&win[i], last_t, &v))
            series_push(&out[i], display_value(&pm_sys_metrics[i], v));
    }
    sqlite3_finalize(s);
    return 0;
}

/* Downsample to SPARK_POINTS means. */
static void spark(const struct series *se, const struct pm_summary *sm, char *buf, size_t len)
{
    double pts[SPARK_POINTS];
    int n = se->n < SPARK_POINTS ? (int)se->n : SPARK_POINTS;
    for (int i = 0; i < n; i++) {
        size_t a = se->n * (size_t)i / (size_t)n, b = se->n * (size_t)(i + 1) / (size_t)n;
        double sum = 0;
        for (size_t j = a; j < b; j++)
            sum += se->v[j];
        pts[i] = b > a ? sum / (double)(b - a) : NAN;
    }
    pm_sparkline(pts, n, sm->min, sm->max, buf, len);
}

/* The heaviest processes of the run: peak RSS and CPU time.  The peak is
 * the kernel's high-water mark (procs.maxrss_kb, from wait4) where
 * pressmon reaped the process, else the largest 40 ms sample of
 * proc_samples, which misses a spike between two samples (a 200 MiB
 * bytearray read 173-182 MiB sampled, 213 MiB by wait4) and is labelled
 * "max sampled rss".  wait4's figure covers the descendants the process
 * waited for: for one that had children it is the largest process of its
 * subtree, and says so.  Samples are keyed by pid; a pid the kernel handed
 * out twice within the run (pid_max is 32768 on many systems) is told
 * apart by time: a sample belongs to the process of its pid that started
 * last before it.  A process that lived between two samples has none, and
 * is listed by its kernel figure alone. */
#define TOP_PROCS 5
static json_t *top_processes(sqlite3 *db, int64_t run_id, int print)
{
    sqlite3_stmt *s;
    json_t *arr = json_array();
    const char *sql =
        "WITH ps AS (SELECT ps.pid AS pid,"
        "  (SELECT q.id FROM procs q WHERE q.run_id = ps.run_id AND q.pid = ps.pid"
        "   AND coalesce(q.start_ns, 0) <= ps.t_ns ORDER BY coalesce(q.start_ns, 0) DESC, q.id DESC LIMIT 1)"
        "  AS proc_id, ps.rss_kb, ps.cpu_user_us, ps.cpu_system_us, ps.threads"
        "  FROM proc_samples ps WHERE ps.run_id = ?1),"
        " agg AS (SELECT proc_id, min(pid) AS pid, max(rss_kb) AS rss,"
        "  sum(coalesce(cpu_user_us, 0) + coalesce(cpu_system_us, 0)) AS cpu, max(threads) AS thr"
        "  FROM ps GROUP BY coalesce(proc_id, -pid)),"
        " rows AS (SELECT agg.pid, p.comm, agg.rss, agg.cpu, agg.thr, p.maxrss_kb, p.id AS proc_id"
        "  FROM agg LEFT JOIN procs p ON p.id = agg.proc_id"
        "  UNION ALL SELECT p.pid, p.comm, NULL, NULL, NULL, p.maxrss_kb, p.id FROM procs p"
        "  WHERE p.run_id = ?1 AND p.maxrss_kb IS NOT NULL"
        "  AND p.id NOT IN (SELECT proc_id FROM agg WHERE proc_id IS NOT NULL))"
        " SELECT pid, comm, rss, cpu, thr, maxrss_kb,"
        "  EXISTS (SELECT 1 FROM procs c WHERE c.run_id = ?1 AND c.ppid = rows.pid AND c.id <> rows.proc_id)"
        " FROM rows ORDER BY max(coalesce(maxrss_kb, 0), coalesce(rss, 0)) DESC, cpu DESC LIMIT " PM_STR(TOP_PROCS);
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        return arr;
    sqlite3_bind_int64(s, 1, run_id);
    int n = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *comm = (const char *)sqlite3_column_text(s, 1);
        int sampled = sqlite3_column_type(s, 2) != SQLITE_NULL;
        int kernel = sqlite3_column_type(s, 5) != SQLITE_NULL;
        int subtree = kernel && sqlite3_column_int(s, 6);
        double rss = (double)sqlite3_column_int64(s, 2) * 1024.0, cpu = (double)sqlite3_column_int64(s, 3) / 1e6;
        double peak = (double)sqlite3_column_int64(s, 5) * 1024.0;
        json_t *o = json_pack("{s:I}", "pid", (json_int_t)sqlite3_column_int64(s, 0));
        if (kernel) {
            /* "process": its own peak; "subtree": the largest of it and
             * the descendants it waited for (wait4 does not tell which). */
            json_object_set_new(o, "peak_rss_bytes", json_real(peak));
            json_object_set_new(o, "peak_rss_covers", json_string(subtree ? "subtree" : "process"));
        }
        if (sampled) {
            json_object_set_new(o, "max_sampled_rss_bytes", json_real(rss));
            json_object_set_new(o, "cpu_seconds", json_real(cpu));
            json_object_set_new(o, "max_threads", json_integer(sqlite3_column_int64(s, 4)));
        }
        json_t *c = comm ? json_string(comm) : NULL;
        if (c)
            json_object_set_new(o, "comm", c);
        json_array_append_new(arr, o);
        if (print) {
            char b[32], m[48] = "";
            if (kernel && sampled)
                snprintf(m, sizeof(m), "  (max sampled %s)", pm_fmt_bytes(rss, b, sizeof(b)));
            printf("%s %-16.16s pid %-7lld %-15s %10s", n ? "          " : "top procs ", comm ? comm : "?",
                   (long long)sqlite3_column_int64(s, 0),
                   kernel ? (subtree ? "peak rss (tree)" : "peak rss") : "max sampled rss",
                   pm_fmt_bytes(kernel ? peak : rss, b, sizeof(b)));
            if (sampled)
                printf("  cpu %7.2f s  threads %lld", cpu, (long long)sqlite3_column_int64(s, 4));
            printf("%s\n", m);
        }
        n++;
    }
    sqlite3_finalize(s);
    return arr;
}

/* KiB as bytes in JSON: an integer, unless a value edited by hand would
 * overflow one. */
static json_t *kib_bytes_json(int64_t kb)
{
    return kb <= INT64_MAX / 1024 ? json_integer(kb * 1024) : json_real((double)kb * 1024.0);
}

/* The run's peak RSS: the largest wait4 high-water mark (the largest
 * single process of the tree that was waited for), and the largest 40 ms
 * sample.  -1 where there is none. */
static void run_peaks(sqlite3 *db, int64_t run_id, int64_t *kernel_kb, int64_t *sampled_kb)
{
    sqlite3_stmt *s;
    *kernel_kb = *sampled_kb = -1;
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT max(maxrss_kb) FROM procs WHERE run_id = ?1),"
                           " (SELECT max(rss_kb) FROM proc_samples WHERE run_id = ?1)",
                           -1, &s, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(s, 1, run_id);
    if (sqlite3_step(s) == SQLITE_ROW) {
        if (sqlite3_column_type(s, 0) != SQLITE_NULL)
            *kernel_kb = sqlite3_column_int64(s, 0);
        if (sqlite3_column_type(s, 1) != SQLITE_NULL)
            *sampled_kb = sqlite3_column_int64(s, 1);
    }
    sqlite3_finalize(s);
}

static const char *col_text(sqlite3_stmt *s, int i)
{
    const char *t = (const char *)sqlite3_column_text(s, i);
    return t ? t : "";
}

int cmd_show(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'}, {"all", no_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},     {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL;
    int json = 0, all = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "d:ah", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'a': all = 1; break;
        case 'j': json = 1; break;
        case 'h': fputs(usage_text, stdout); return PM_EXIT_OK;
        default:
            pm_err("show: unknown or incomplete option '%s' (see 'pressmon show --help')", argv[optind - 1]);
            return PM_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        pm_err("show: give exactly one RUN (see 'pressmon show --help')");
        return PM_EXIT_USAGE;
    }
    struct pm_store *st = pm_open_for_read(db);
    if (!st)
        return PM_EXIT_FAIL;
    int64_t run_id;
    int sel = pm_select_run(st, argv[optind], &run_id);
    if (sel != 0) {
        pm_store_close(st);
        return pm_select_exit(sel);
    }
    sqlite3 *sdb = pm_store_db(st);
    sqlite3_stmt *s;
    const char *sql =
        "SELECT r.uid, r.label, r.command, r.cwd, r.started_at,"
        " coalesce(r.duration_ns, (SELECT max(t_ns) FROM samples WHERE run_id = r.id)), r.state, r.exit_code, r.signal,"
        " r.core_dumped, r.outcome, r.interval_ns, r.proc_interval_ns, r.samples, r.missed_ticks,"
        " r.late_p50_ns, r.late_p99_ns, r.late_max_ns, r.dropped, r.self_cpu_ns, r.sources, r.tree_mechanism,"
        " r.attribution, r.notes, r.version, h.hostname, h.os, h.os_version, h.kernel, h.arch, h.cpu_count,"
        " h.mem_total, r.proc_samples,"
        " (SELECT count(*) FROM procs p WHERE p.run_id = r.id),"
        " (SELECT count(*) FROM procs p WHERE p.run_id = r.id AND p.signal IS NOT NULL),"
        " (SELECT group_concat(key || '=' || value, ' ') FROM run_tags t WHERE t.run_id = r.id),"
        " r.samples_stored"
        " FROM runs r JOIN hosts h ON h.id = r.host_id WHERE r.id = ?";
    if (sqlite3_prepare_v2(sdb, sql, -1, &s, NULL) != SQLITE_OK || (sqlite3_bind_int64(s, 1, run_id),
                                                                       sqlite3_step(s) != SQLITE_ROW)) {
        pm_err("show: %s: %s", pm_store_path(st), sqlite3_errmsg(sdb));
        sqlite3_finalize(s);
        pm_store_close(st);
        return PM_EXIT_FAIL;
    }
    int64_t dur_ns = sqlite3_column_int64(s, 5);
    double self_pct = dur_ns > 0 ? (double)sqlite3_column_int64(s, 19) * 100.0 / (double)dur_ns : 0;
    char exit_txt[64];
    if (sqlite3_column_type(s, 8) != SQLITE_NULL)
        snprintf(exit_txt, sizeof(exit_txt), "exit %d (%s%s)", 128 + sqlite3_column_int(s, 8),
                 pm_signame(sqlite3_column_int(s, 8)), sqlite3_column_int(s, 9) ? ", core dumped" : "");
    else if (sqlite3_column_type(s, 7) != SQLITE_NULL)
        snprintf(exit_txt, sizeof(exit_txt), "exit %d", sqlite3_column_int(s, 7));
    else
        snprintf(exit_txt, sizeof(exit_txt), "%s", strcmp(col_text(s, 2), "[]") ? "exit unknown" : "system only");

    struct series ser[PM_SYS_N];
    memset(ser, 0, sizeof(ser));
    if (load_series(sdb, run_id, ser) < 0) { /* e.g. a catalog column the database lacks */
        pm_err("show: reading the samples from %s: %s", pm_store_path(st), sqlite3_errmsg(sdb));
        sqlite3_finalize(s);
        pm_store_close(st);
        return PM_EXIT_FAIL;
    }
    struct pm_summary sum[PM_SYS_N];
    for (int i = 0; i < PM_SYS_N; i++) {
        memset(&sum[i], 0, sizeof(sum[i]));
        if (ser[i].n) {
            double *copy = malloc(ser[i].n * sizeof(double));
            if (copy) {
                memcpy(copy, ser[i].v, ser[i].n * sizeof(double));
                pm_summarize_d(copy, ser[i].n, &sum[i]);
                free(copy);
            }
        }
    }

    int64_t peak_kb, sampled_kb;
    run_peaks(sdb, run_id, &peak_kb, &sampled_kb);
    /* samples: taken; samples_stored: committed (NULL before schema 6). */
    int64_t taken = sqlite3_column_int64(s, 13), stored = sqlite3_column_int64(s, 36);
    /* only counts that make sense: a value edited by hand says nothing */
    int has_stored = sqlite3_column_type(s, 36) != SQLITE_NULL && stored >= 0 && taken >= stored;

    int rc = PM_EXIT_OK;
    if (json) {
        json_t *o = json_pack("{s:s,s:s?,s:s,s:I,s:s,s:s?}", "run", col_text(s, 0),
                              "label", (const char *)sqlite3_column_text(s, 1), "cwd", col_text(s, 3),
                              "started_at_ns", (json_int_t)sqlite3_column_int64(s, 4), "state", col_text(s, 6),
                              "outcome", (const char *)sqlite3_column_text(s, 10));
        json_t *cmd = json_loads(col_text(s, 2), 0, NULL);
        json_object_set_new(o, "command", cmd ? cmd : json_array());
        json_object_set_new(o, "duration_s", json_real((double)dur_ns / 1e9));
        if (sqlite3_column_type(s, 7) != SQLITE_NULL)
            json_object_set_new(o, "exit_code", json_integer(sqlite3_column_int(s, 7)));
        if (sqlite3_column_type(s, 8) != SQLITE_NULL) {
            json_object_set_new(o, "signal", json_string(pm_signame(sqlite3_column_int(s, 8))));
            json_object_set_new(o, "core_dumped", json_boolean(sqlite3_column_int(s, 9)));
        }
        json_object_set_new(o, "host", json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:I}", "hostname", col_text(s, 25),
                                                 "os", col_text(s, 26), "os_version", col_text(s, 27), "kernel",
                                                 col_text(s, 28), "arch", col_text(s, 29), "cpu_count",
                                                 sqlite3_column_int(s, 30), "mem_total_bytes",
                                                 (json_int_t)sqlite3_column_int64(s, 31)));
        json_object_set_new(
            o, "sampling",
            json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f}", "interval_ns",
                      (json_int_t)sqlite3_column_int64(s, 11), "proc_interval_ns",
                      (json_int_t)sqlite3_column_int64(s, 12), "samples", (json_int_t)sqlite3_column_int64(s, 13),
                      "proc_samples", (json_int_t)sqlite3_column_int64(s, 32), "missed_ticks",
                      (json_int_t)sqlite3_column_int64(s, 14), "late_p50_ns", (json_int_t)sqlite3_column_int64(s, 15),
                      "late_p99_ns", (json_int_t)sqlite3_column_int64(s, 16), "late_max_ns",
                      (json_int_t)sqlite3_column_int64(s, 17), "dropped", (json_int_t)sqlite3_column_int64(s, 18),
                      "self_cpu_pct", self_pct));
        if (has_stored) {
            json_t *smp = json_object_get(o, "sampling");
            json_object_set_new(smp, "samples_stored", json_integer(stored));
            json_object_set_new(smp, "samples_lost", json_integer(taken - stored));
        }
        if (peak_kb >= 0)
            json_object_set_new(o, "peak_rss_bytes", kib_bytes_json(peak_kb));
        if (sampled_kb >= 0)
            json_object_set_new(o, "max_sampled_rss_bytes", kib_bytes_json(sampled_kb));
        json_object_set_new(o, "sources", json_string(col_text(s, 20)));
        json_object_set_new(o, "tree_mechanism", json_string(col_text(s, 21)));
        json_object_set_new(o, "attribution", json_string(col_text(s, 22)));
        json_object_set_new(o, "notes", json_string(col_text(s, 23)));
        json_object_set_new(o, "processes", json_integer(sqlite3_column_int64(s, 33)));
        json_object_set_new(o, "killed", json_integer(sqlite3_column_int64(s, 34)));
        json_t *ms = json_array();
        for (int i = 0; i < PM_SYS_N; i++) {
            const struct pm_metric *m = &pm_sys_metrics[i];
            if (!ser[i].n)
                continue;
            char unit[32];
            json_array_append_new(ms, json_pack("{s:s,s:s,s:s,s:I,s:f,s:f,s:f,s:f,s:f}", "name", m->column,
                                                "unit", display_unit(m, unit, sizeof(unit)), "kind",
                                                m->kind == PM_COUNTER ? "counter" : "gauge", "n",
                                                (json_int_t)ser[i].n, "min", sum[i].min, "mean", sum[i].mean,
                                                "p50", sum[i].p50, "p95", sum[i].p95, "max", sum[i].max));
        }
        json_object_set_new(o, "metrics", ms);
        if (ser[PM_M_CG_MEM_MAX].n && ser[PM_M_CG_MEM_CURRENT].n)
            json_object_set_new(o, "cgroup_memory",
                                json_pack("{s:f,s:f}", "peak_bytes", sum[PM_M_CG_MEM_CURRENT].max, "max_bytes",
                                          sum[PM_M_CG_MEM_MAX].min));
        json_object_set_new(o, "top_processes", top_processes(sdb, run_id, 0));
        char *out = json_dumps(o, JSON_INDENT(2));
        puts(out);
        free(out);
        json_decref(o);
    } else {
        char when[32], dur[32], b[32], own[32];
        time_t started = (time_t)(sqlite3_column_int64(s, 4) / 1000000000);
        struct tm tm;
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", localtime_r(&started, &tm));
        json_t *cmd = json_loads(col_text(s, 2), 0, NULL);
        printf("run        %s%s%s\n", col_text(s, 0), sqlite3_column_text(s, 1) ? "  label " : "",
               sqlite3_column_text(s, 1) ? col_text(s, 1) : "");
        printf("command    ");
        size_t k;
        json_t *arg;
        if (cmd && json_array_size(cmd)) {
            json_array_foreach(cmd, k, arg) printf("%s%s", k ? " " : "", json_string_value(arg));
        } else {
            printf("(system only)");
        }
        printf("\n");
        json_decref(cmd);
        printf("cwd        %s\n", col_text(s, 3));
        printf("host       %s (%s %s, %s, %d CPUs, %s)\n", col_text(s, 25), col_text(s, 26), col_text(s, 28),
               col_text(s, 29), sqlite3_column_int(s, 30),
               pm_fmt_bytes((double)sqlite3_column_int64(s, 31), b, sizeof(b)));
        int live = strcmp(col_text(s, 6), "recording") == 0;
        printf("started    %s   duration %s%s\n", when, pm_fmt_duration(dur_ns, dur, sizeof(dur)),
               live ? " so far (to the last stored sample)" : "");
        printf("result     %s   state %s   outcome %s\n", exit_txt, col_text(s, 6),
               sqlite3_column_text(s, 10) ? col_text(s, 10) : "-");
        char lost[64] = "";
        if (has_stored && stored != taken)
            snprintf(lost, sizeof(lost), " (%lld stored, %lld lost)", (long long)stored, (long long)(taken - stored));
        if (live) /* lateness and own CPU are written when the run ends */
            printf("sampling   every %s (processes every %s) · %lld samples%s · %lld missed ticks so far · "
                   "lateness and own CPU when the run ends\n",
                   pm_fmt_duration(sqlite3_column_int64(s, 11), dur, sizeof(dur)),
                   pm_fmt_duration(sqlite3_column_int64(s, 12), b, sizeof(b)), (long long)taken, lost,
                   (long long)sqlite3_column_int64(s, 14));
        else
            printf("sampling   every %s (processes every %s) · %lld samples%s · %lld missed ticks · "
                   "lateness p50 %.3f ms p99 %.3f ms max %.3f ms · %lld records dropped · own CPU %s\n",
                   pm_fmt_duration(sqlite3_column_int64(s, 11), dur, sizeof(dur)),
                   pm_fmt_duration(sqlite3_column_int64(s, 12), b, sizeof(b)), (long long)taken, lost,
                   (long long)sqlite3_column_int64(s, 14), (double)sqlite3_column_int64(s, 15) / 1e6,
                   (double)sqlite3_column_int64(s, 16) / 1e6, (double)sqlite3_column_int64(s, 17) / 1e6,
                   (long long)sqlite3_column_int64(s, 18),
                   pm_fmt_own_cpu(sqlite3_column_int64(s, 19), dur_ns, own, sizeof(own)));
        printf("sources    %s\n", col_text(s, 20));
        if (*col_text(s, 21))
            printf("processes  %lld (%lld samples) followed by %s · %lld killed by a signal\n",
                   (long long)sqlite3_column_int64(s, 33), (long long)sqlite3_column_int64(s, 32), col_text(s, 21),
                   (long long)sqlite3_column_int64(s, 34));
        if (*col_text(s, 22))
            printf("attribution %s\n", col_text(s, 22));
        if (ser[PM_M_CG_MEM_MAX].n && ser[PM_M_CG_MEM_CURRENT].n) { /* its lowest limit in the run */
            char cgl[128];
            printf("memory     %s\n", pm_fmt_cg_peak(sum[PM_M_CG_MEM_CURRENT].max, sum[PM_M_CG_MEM_MAX].min, cgl,
                                                       sizeof(cgl)));
        }
        if (peak_kb >= 0 || sampled_kb >= 0) {
            char pk[32], sk[32];
            if (peak_kb >= 0)
                printf("memory     peak rss %s (the largest single process that was waited for: the kernel's "
                       "high-water mark)%s%s\n",
                       pm_fmt_bytes((double)peak_kb * 1024, pk, sizeof(pk)), sampled_kb >= 0 ? " · max sampled " : "",
                       sampled_kb >= 0 ? pm_fmt_bytes((double)sampled_kb * 1024, sk, sizeof(sk)) : "");
            else
                printf("memory     max sampled rss %s (every %s; a shorter spike is missed)\n",
                       pm_fmt_bytes((double)sampled_kb * 1024, sk, sizeof(sk)),
                       pm_fmt_duration(sqlite3_column_int64(s, 12), pk, sizeof(pk)));
        }
        pm_print_kill_summary(st, run_id, stdout, "kills      ");
        json_decref(top_processes(sdb, run_id, 1));
        if (*col_text(s, 35))
            printf("tags       %s\n", col_text(s, 35));
        if (*col_text(s, 23))
            printf("notes      %s\n", col_text(s, 23));
        if (live)
            printf("note       this run is being recorded: figures are partial\n");

        int tty = pm_use_color(stdout);
        printf("\n%-18s %10s %10s %10s %10s  %-8s%s\n", "metric", "min", "mean", "p95", "max", "unit",
               tty ? "  over time" : "");
        for (int i = 0; i < PM_SYS_N; i++) {
            const struct pm_metric *m = &pm_sys_metrics[i];
            if (!ser[i].n && !all)
                continue;
            char v[4][32], unit[32], sp[PM_SPARK_BYTES(SPARK_POINTS)] = "";
            char name[64];
            snprintf(name, sizeof(name), "%s", m->column);
            /* drop the storage suffix: the unit column says it */
            char *suf = strrchr(name, '_');
            if (suf && (!strcmp(suf, "_kb") || !strcmp(suf, "_us") || !strcmp(suf, "_pm") || !strcmp(suf, "_mc") ||
                        !strcmp(suf, "_milli") || !strcmp(suf, "_pct")))
                *suf = '\0';
            if (!ser[i].n) {
                printf("%-18s %10s %10s %10s %10s  %-8s\n", name, "-", "-", "-", "-",
                       display_unit(m, unit, sizeof(unit)));
                continue;
            }
            if (tty)
                spark(&ser[i], &sum[i], sp, sizeof(sp));
            printf("%-18s %10s %10s %10s %10s  %-8s%s%s\n", name, fmt_num(m, sum[i].min, v[0], 32),
                   fmt_num(m, sum[i].mean, v[1], 32), fmt_num(m, sum[i].p95, v[2], 32),
                   fmt_num(m, sum[i].max, v[3], 32), display_unit(m, unit, sizeof(unit)), tty ? "  " : "", sp);
        }
    }
    for (int i = 0; i < PM_SYS_N; i++)
        free(ser[i].v);
    sqlite3_finalize(s);
    pm_store_close(st);
    return rc;
}
