/*
 * pressmon runs: list recorded runs, newest first.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"

static const char usage_text[] =
    "usage: pressmon runs [options]\n"
    "\n"
    "List recorded runs, newest first: id, label, start, duration, exit or signal,\n"
    "samples taken (\"602 (276 lost)\" when the database did not get them all: the\n"
    "samples table holds the difference), processes killed.\n"
    "\n"
    "options:\n"
    "  -d, --db PATH      database (default $PRESSMON_DB, else ./pressmon.db)\n"
    "  -n, --limit N      at most N runs (default 50; 0 = all)\n"
    "  -l, --label TEXT   only runs with this label\n"
    "      --json         one JSON array on stdout\n"
    "  -h, --help         this text\n";

/* "0", "137 SIGKILL", "aborted", "recording" */
static void fmt_exit(sqlite3_stmt *s, int col_state, int col_exit, int col_sig, char *buf, size_t len)
{
    const char *state = (const char *)sqlite3_column_text(s, col_state);
    if (state && strcmp(state, "done") != 0)
        snprintf(buf, len, "%s", state);
    else if (sqlite3_column_type(s, col_sig) != SQLITE_NULL)
        snprintf(buf, len, "%d %s", 128 + sqlite3_column_int(s, col_sig), pm_signame(sqlite3_column_int(s, col_sig)));
    else if (sqlite3_column_type(s, col_exit) != SQLITE_NULL)
        snprintf(buf, len, "%d", sqlite3_column_int(s, col_exit));
    else
        snprintf(buf, len, "-");
}

int cmd_runs(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},     {"limit", required_argument, NULL, 'n'},
        {"label", required_argument, NULL, 'l'},  {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *db = NULL, *label = NULL;
    long limit = 50;
    int json = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "d:n:l:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'l': label = optarg; break;
        case 'j': json = 1; break;
        case 'n': {
            char *end;
            limit = strtol(optarg, &end, 10);
            if (*end || limit < 0) {
                pm_err("runs: bad --limit '%s': give a number (0 = all)", optarg);
                return PM_EXIT_USAGE;
            }
            break;
        }
        case 'h': fputs(usage_text, stdout); return PM_EXIT_OK;
        default:
            pm_err("runs: unknown or incomplete option '%s' (see 'pressmon runs --help')", argv[optind - 1]);
            return PM_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        pm_err("runs: unexpected argument '%s' (see 'pressmon runs --help')", argv[optind]);
        return PM_EXIT_USAGE;
    }
    struct pm_store *st = pm_open_for_read(db);
    if (!st)
        return PM_EXIT_FAIL;
    sqlite3_stmt *s;
    const char *sql =
        "SELECT r.uid, r.label, r.started_at, r.duration_ns, r.state, r.exit_code, r.signal, r.samples,"
        " (SELECT count(*) FROM procs p WHERE p.run_id = r.id AND p.signal IS NOT NULL),"
        " r.outcome, r.command, h.hostname, r.samples_stored"
        " FROM runs r JOIN hosts h ON h.id = r.host_id"
        " WHERE (?1 IS NULL OR r.label = ?1)"
        " ORDER BY r.started_at DESC, r.id DESC LIMIT ?2";
    if (sqlite3_prepare_v2(pm_store_db(st), sql, -1, &s, NULL) != SQLITE_OK) {
        pm_err("runs: %s: %s", pm_store_path(st), sqlite3_errmsg(pm_store_db(st)));
        pm_store_close(st);
        return PM_EXIT_FAIL;
    }
    if (label)
        sqlite3_bind_text(s, 1, label, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, limit ? limit : -1);
    json_t *arr = json ? json_array() : NULL;
    int n = 0, lw = 0;
    char cell[4 * PM_LABEL_COLS_MAX + 8];
    if (!json) {
        /* The label column is as wide as the widest label listed: a first
         * pass over the same rows measures them. */
        while (sqlite3_step(s) == SQLITE_ROW) {
            const char *lab = (const char *)sqlite3_column_text(s, 1);
            int w = lab ? pm_text_cols(lab) : 1;
            lw = w > lw ? w : lw;
        }
        sqlite3_reset(s);
        lw = pm_label_width(lw);
        printf("%-16s  %s  %-19s  %9s  %-12s  %8s  %5s\n", "RUN", pm_cell("LABEL", lw, cell, sizeof cell), "STARTED",
               "DURATION", "EXIT", "SAMPLES", "KILLS");
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *uid = (const char *)sqlite3_column_text(s, 0);
        const char *lab = (const char *)sqlite3_column_text(s, 1);
        time_t started = (time_t)(sqlite3_column_int64(s, 2) / 1000000000);
        char when[32], dur[32], ex[48];
        struct tm tm;
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&started, &tm));
        if (sqlite3_column_type(s, 3) == SQLITE_NULL)
            snprintf(dur, sizeof(dur), "-");
        else
            pm_fmt_duration(sqlite3_column_int64(s, 3), dur, sizeof(dur));
        fmt_exit(s, 4, 5, 6, ex, sizeof(ex));
        /* samples: taken; samples_stored: committed (NULL before schema 6) */
        int has_stored = sqlite3_column_type(s, 12) != SQLITE_NULL;
        int64_t taken = sqlite3_column_int64(s, 7), stored = sqlite3_column_int64(s, 12);
        /* only for counts that make sense: a value edited by hand says nothing */
        int64_t lost = has_stored && stored >= 0 && taken >= stored ? taken - stored : 0;
        char smp[48];
        if (lost)
            snprintf(smp, sizeof(smp), "%lld (%lld lost)", (long long)sqlite3_column_int64(s, 7), (long long)lost);
        else
            snprintf(smp, sizeof(smp), "%lld", (long long)sqlite3_column_int64(s, 7));
        n++;
        if (json) {
            json_t *o = json_pack("{s:s,s:s?,s:I,s:s,s:I,s:I}", "run", uid, "label", lab, "started_at_ns",
                                  (json_int_t)sqlite3_column_int64(s, 2), "state",
                                  (const char *)sqlite3_column_text(s, 4), "samples",
                                  (json_int_t)sqlite3_column_int64(s, 7), "killed",
                                  (json_int_t)sqlite3_column_int64(s, 8));
            if (sqlite3_column_type(s, 3) != SQLITE_NULL)
                json_object_set_new(o, "duration_s", json_real((double)sqlite3_column_int64(s, 3) / 1e9));
            if (sqlite3_column_type(s, 5) != SQLITE_NULL)
                json_object_set_new(o, "exit_code", json_integer(sqlite3_column_int(s, 5)));
            if (sqlite3_column_type(s, 6) != SQLITE_NULL)
                json_object_set_new(o, "signal", json_string(pm_signame(sqlite3_column_int(s, 6))));
            if (sqlite3_column_type(s, 9) != SQLITE_NULL)
                json_object_set_new(o, "outcome", json_string((const char *)sqlite3_column_text(s, 9)));
            json_t *cmd = json_loads((const char *)sqlite3_column_text(s, 10), 0, NULL);
            json_object_set_new(o, "command", cmd ? cmd : json_array());
            json_object_set_new(o, "host", json_string((const char *)sqlite3_column_text(s, 11)));
            if (has_stored) {
                json_object_set_new(o, "samples_stored", json_integer(sqlite3_column_int64(s, 12)));
                json_object_set_new(o, "samples_lost", json_integer(lost));
            }
            json_array_append_new(arr, o);
        } else {
            printf("%-16s  %s  %-19s  %9s  %-12s  %8s  %5lld\n", uid,
                   pm_cell(lab ? lab : "-", lw, cell, sizeof cell), when, dur, ex, smp,
                   (long long)sqlite3_column_int64(s, 8));
        }
    }
    sqlite3_finalize(s);
    if (json) {
        char *out = json_dumps(arr, JSON_INDENT(2));
        puts(out);
        free(out);
        json_decref(arr);
    } else if (n == 0) {
        fprintf(stderr, "pressmon: no runs in %s%s%s\n", pm_store_path(st), label ? " with label " : "",
                label ? label : "");
    }
    pm_store_close(st);
    return PM_EXIT_OK;
}
