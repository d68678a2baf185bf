/*
 * pressmon rm and pressmon prune: delete runs from the database.
 *
 *   rm RUN...                the runs named (cli/select.c selectors; a group
 *                            such as outcome:fail or label:NAME deletes every
 *                            run in it)
 *   prune --keep N           every run but the N newest
 *   prune --older-than DUR   the runs that started more than DUR ago
 *   prune --vacuum           (alone) only give free space back
 *
 * The rules, as --help, pressmon(1) and README.md state them:
 *   - Every selector is resolved before anything is deleted.  A malformed
 *     one is a usage error (2), one that matches no run fails the command
 *     (1); either way nothing is deleted.
 *   - A run being recorded (pm_store_run_live: the same test that has dead
 *     recorders' runs marked aborted) is never deleted.  rm says so, deletes
 *     the other runs, and exits 1: a run it was asked to delete is still
 *     there.  prune leaves it out, says so, and exits 0: a run being
 *     recorded is not old, whatever its start.
 *   - The deleting itself is the store's (pm_store_delete_run): chunks of
 *     PM_DELETE_CHUNK rows per write transaction, so that recorders writing
 *     into the same file keep committing.
 *   - --vacuum is refused (exit 1, after the deletion) while any run is being
 *     recorded into the file: VACUUM holds the write lock for as long as it
 *     rewrites the whole file, and a recorder gives up after 10 s.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "../sampler/platform.h"

static const char rm_usage[] =
    "usage: pressmon rm [options] RUN...\n"
    "\n"
    "Delete runs and everything recorded with them: samples, processes, process\n"
    "samples, events, tags.  Hosts and the metric catalog stay.  RUN is a run id or\n"
    "a unique prefix of it, last, last~N, or a group that deletes every run in it:\n"
    "label:NAME (every run with that label), outcome:fail, outcome:pass, A,B,C.\n"
    "Every RUN is resolved before anything is deleted: one that is malformed (exit 2)\n"
    "or matches no run (exit 1) leaves the database as it was.\n"
    "\n"
    "A run being recorded is never deleted: rm says so, deletes the others and\n"
    "exits 1.  Recorders writing into the same file keep working meanwhile: runs\n"
    "are deleted 1,000 rows per transaction.\n"
    "\n"
    "options:\n"
    "  -d, --db PATH      database (default $PRESSMON_DB, else ./pressmon.db)\n"
    "  -n, --dry-run      list what would be deleted; delete nothing\n"
    "      --vacuum       then VACUUM, giving the freed space back to the file system\n"
    "                     (refused while a run is being recorded into the file)\n"
    "  -q, --quiet        print nothing but errors\n"
    "      --json         one JSON object on stdout\n"
    "  -h, --help         this text\n"
    "\n"
    "exit status: 0 every selected run was deleted; 1 a run matched nothing, was\n"
    "being recorded, or the database failed; 2 usage error.\n"
    "See also 'pressmon prune'.\n";

static const char prune_usage[] =
    "usage: pressmon prune [options] (--keep N | --older-than DUR)\n"
    "\n"
    "Delete old runs and everything recorded with them.  Hosts and the metric\n"
    "catalog stay.\n"
    "\n"
    "  -k, --keep N           keep the N newest runs (by start), delete the rest\n"
    "      --older-than DUR   delete the runs that started more than DUR ago;\n"
    "                         DUR has a unit: 30m, 12h, 7d (also s, ms)\n"
    "\n"
    "A run being recorded is never deleted, nor counted as a failure: prune says\n"
    "it kept it.  Recorders writing into the same file keep working meanwhile: runs\n"
    "are deleted 1,000 rows per transaction, oldest run first.  prune also removes\n"
    "the rows of runs deleted by hand (`sqlite3 ... 'delete from runs ...'` leaves\n"
    "them: the sqlite3 shell does not enforce foreign keys).\n"
    "\n"
    "options:\n"
    "  -d, --db PATH      database (default $PRESSMON_DB, else ./pressmon.db)\n"
    "  -n, --dry-run      list what would be deleted; delete nothing\n"
    "      --vacuum       then VACUUM, giving the freed space back to the file system\n"
    "                     (refused while a run is being recorded into the file);\n"
    "                     without --keep or --older-than, only VACUUM\n"
    "  -q, --quiet        print nothing but errors\n"
    "      --json         one JSON object on stdout\n"
    "  -h, --help         this text\n"
    "\n"
    "exit status: 0 done (also when nothing was old enough); 1 the database failed\n"
    "or --vacuum was refused; 2 usage error.\n";

enum { OPT_VACUUM = 0x100, OPT_JSON, OPT_OLDER };

struct rm_opts {
    const char *db;
    int dry_run, vacuum, quiet, json;
    long keep;            /* prune --keep N; -1: not given */
    const char *older;    /* prune --older-than, as given; NULL: not given */
    int64_t older_ns;
};

/* Options of both commands.  Returns 0, 1 after --help, or -1 after a
 * usage message. */
static int parse(int argc, char **argv, int prune, struct rm_opts *o)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},      {"dry-run", no_argument, NULL, 'n'},
        {"vacuum", no_argument, NULL, OPT_VACUUM}, {"quiet", no_argument, NULL, 'q'},
        {"json", no_argument, NULL, OPT_JSON},     {"help", no_argument, NULL, 'h'},
        {"keep", required_argument, NULL, 'k'},    {"older-than", required_argument, NULL, OPT_OLDER},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = prune ? "prune" : "rm";
    memset(o, 0, sizeof *o);
    o->keep = -1;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, prune ? "d:nqhk:" : "d:nqh", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o->db = optarg; break;
        case 'n': o->dry_run = 1; break;
        case 'q': o->quiet = 1; break;
        case OPT_VACUUM: o->vacuum = 1; break;
        case OPT_JSON: o->json = 1; break;
        case 'h': fputs(prune ? prune_usage : rm_usage, stdout); return 1;
        case 'k':
        case OPT_OLDER:
            if (!prune) {
                pm_err("rm: %s belongs to 'pressmon prune' (see 'pressmon prune --help')", argv[optind - 1]);
                return -1;
            }
            if (c == 'k') {
                char *end;
                o->keep = strtol(optarg, &end, 10);
                if (!*optarg || *end || o->keep < 0) {
                    pm_err("prune: bad --keep '%s': give the number of newest runs to keep (0 or more)", optarg);
                    return -1;
                }
            } else {
                o->older = optarg;
                if (pm_duration_arg("prune", "--older-than", optarg, "7d, 12h or 30m", &o->older_ns))
                    return -1;
            }
            break;
        default:
            pm_err("%s: unknown or incomplete option '%s' (see 'pressmon %s --help')", cmd, argv[optind - 1],
                   cmd);
            return -1;
        }
    }
    if (prune) {
        if (o->keep >= 0 && o->older) {
            pm_err("prune: give --keep or --older-than, not both (run prune twice for both rules)");
            return -1;
        }
        if (o->keep < 0 && !o->older && !o->vacuum) {
            pm_err("prune: say which runs go: --keep N or --older-than DUR (see 'pressmon prune --help')");
            return -1;
        }
        if (optind < argc) {
            pm_err("prune: unexpected argument '%s'; to delete given runs use 'pressmon rm'", argv[optind]);
            return -1;
        }
    } else if (optind >= argc) {
        pm_err("rm: give the runs to delete: an id, last, label:NAME, outcome:fail, ... "
               "(see 'pressmon rm --help')");
        return -1;
    }
    return 0;
}

/* What is printed about a run, read before it is deleted. */
struct run_row {
    int64_t id;
    char uid[32];
    char label[256]; /* record takes 1..200 bytes */
    int has_label;
    int64_t started_at, samples, recorder_pid;
};

static int read_run(struct pm_store *st, int64_t id, struct run_row *r)
{
    sqlite3_stmt *s;
    memset(r, 0, sizeof *r);
    r->id = id;
    if (sqlite3_prepare_v2(pm_store_db(st), "SELECT uid, label, started_at, samples, recorder_pid FROM runs WHERE id = ?",
                           -1, &s, NULL) != SQLITE_OK) {
        pm_err("%s: %s", pm_store_path(st), sqlite3_errmsg(pm_store_db(st)));
        return -1;
    }
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        snprintf(r->uid, sizeof r->uid, "%s", sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0) : "?");
        r->has_label = sqlite3_column_type(s, 1) != SQLITE_NULL;
        if (r->has_label)
            snprintf(r->label, sizeof r->label, "%s", (const char *)sqlite3_column_text(s, 1));
        r->started_at = sqlite3_column_int64(s, 2);
        r->samples = sqlite3_column_int64(s, 3);
        r->recorder_pid = sqlite3_column_int64(s, 4);
    } else {
        pm_err("%s: reading run %lld: %s", pm_store_path(st), (long long)id,
               rc == SQLITE_DONE ? "it is gone (deleted meanwhile?)" : sqlite3_errmsg(pm_store_db(st)));
    }
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 0 : -1;
}

static json_t *run_json(const struct run_row *r)
{
    json_t *o = json_pack("{s:s,s:I,s:I}", "run", r->uid, "started_at_ns", (json_int_t)r->started_at, "samples",
                          (json_int_t)r->samples);
    json_object_set_new(o, "label", r->has_label ? json_string(r->label) : json_null());
    return o;
}

/* The label column's width for the runs `ids` (pm_label_width). */
static int label_width(struct pm_store *st, const int64_t *ids, int n)
{
    sqlite3_stmt *s;
    int widest = 0;
    if (sqlite3_prepare_v2(pm_store_db(st), "SELECT label FROM runs WHERE id = ?", -1, &s, NULL) != SQLITE_OK)
        return pm_label_width(0);
    for (int i = 0; i < n; i++) {
        sqlite3_bind_int64(s, 1, ids[i]);
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
            int w = pm_text_cols((const char *)sqlite3_column_text(s, 0));
            widest = w > widest ? w : widest;
        }
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    return pm_label_width(widest);
}

static void print_run(const char *verb, const struct run_row *r, int lw, int64_t rows)
{
    time_t t = (time_t)(r->started_at / 1000000000);
    struct tm tm;
    char when[32], cell[4 * PM_LABEL_COLS_MAX + 8];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
    printf("%-12s %-16s  %s  %-19s  %8lld samples", verb, r->uid,
           pm_cell(r->has_label ? r->label : "-", lw, cell, sizeof cell), when, (long long)r->samples);
    if (rows >= 0)
        printf("  %lld rows", (long long)rows);
    putchar('\n');
    fflush(stdout);
}

/* The uid of a run being recorded into the file, if any (for --vacuum). */
static int any_live(struct pm_store *st, const char *boot_id, struct run_row *live)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(pm_store_db(st), "SELECT id FROM runs WHERE state = 'recording'", -1, &s, NULL) !=
        SQLITE_OK) {
        pm_err("%s: %s", pm_store_path(st), sqlite3_errmsg(pm_store_db(st)));
        return -1;
    }
    int found = 0;
    while (!found && sqlite3_step(s) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(s, 0);
        if (pm_store_run_live(st, id, boot_id) == 1 && read_run(st, id, live) == 0)
            found = 1;
    }
    sqlite3_finalize(s);
    return found;
}

/* Delete (or, with --dry-run, list) the runs `ids` in that order; then
 * --vacuum.  Prints and returns the exit status. */
static int delete_runs(struct pm_store *st, const struct rm_opts *o, int prune, const int64_t *ids, int n,
                       const char *nothing)
{
    const char *cmd = prune ? "prune" : "rm";
    struct pm_host host;
    pm_host_info(&host);
    int human = !o->quiet && !o->json;
    json_t *js = json_object(), *done = json_array(), *recording = json_array();
    json_object_set_new(js, "db", json_string(pm_store_path(st)));
    json_object_set_new(js, "dry_run", json_boolean(o->dry_run));
    int ndone = 0, nlive = 0, failed = 0;
    int64_t rows = 0, longest = 0, t0 = pm_mono_ns();
    int lw = human ? label_width(st, ids, n) : 0;
    for (int i = 0; i < n && !failed; i++) {
        struct run_row r;
        if (read_run(st, ids[i], &r) < 0) {
            failed = 1;
            break;
        }
        int rc;
        struct pm_delete_stats ds = {0};
        if (o->dry_run) {
            rc = pm_store_run_live(st, r.id, host.boot_id);
        } else {
            rc = pm_store_delete_run(st, r.id, host.boot_id, PM_DELETE_CHUNK, &ds);
            if (ds.longest_tx_ns > longest)
                longest = ds.longest_tx_ns;
            rows += ds.rows;
        }
        if (rc < 0) {
            pm_err("%s: deleting run %s: %s", cmd, r.uid, pm_store_errmsg(st));
            failed = 1;
        } else if (rc == 1) {
            nlive++;
            pm_err("%s: run %s%s%s is being recorded (pressmon pid %lld): %s", cmd, r.uid,
                   r.has_label ? " label " : "", r.has_label ? r.label : "", (long long)r.recorder_pid,
                   prune ? "kept" : "not deleted");
            json_t *jr = run_json(&r);
            json_object_set_new(jr, "recorder_pid", json_integer(r.recorder_pid));
            json_array_append_new(recording, jr);
        } else {
            ndone++;
            if (human)
                print_run(o->dry_run ? "would delete" : "deleted", &r, lw, o->dry_run ? -1 : ds.rows);
            json_t *jr = run_json(&r);
            if (!o->dry_run)
                json_object_set_new(jr, "rows", json_integer(ds.rows));
            json_array_append_new(done, jr);
        }
    }
    double secs = (double)(pm_mono_ns() - t0) / 1e9;
    json_object_set_new(js, o->dry_run ? "would_delete" : "deleted", done);
    json_object_set_new(js, "recording", recording);
    if (!o->dry_run) {
        json_object_set_new(js, "rows", json_integer(rows));
        json_object_set_new(js, "seconds", json_real(secs));
        json_object_set_new(js, "longest_transaction_ms", json_real((double)longest / 1e6));
    }
    if (human) {
        if (n == 0 && nothing) {
            if (*nothing)
                printf("%s\n", nothing);
        } else if (o->dry_run)
            printf("would delete %d run%s; --dry-run: nothing was deleted\n", ndone, ndone == 1 ? "" : "s");
        else if (ndone || !nlive)
            printf("deleted %d run%s (%lld rows) in %.2f s; the write lock was held at most %.1f ms at a time\n",
                   ndone, ndone == 1 ? "" : "s", (long long)rows, secs, (double)longest / 1e6);
    }

    /* prune also takes away the rows of runs deleted by hand (their row in
     * runs gone, the rest left: the sqlite3 shell does not cascade).  No
     * command can reach them; they only take space. */
    if (prune && !failed) {
        int64_t nruns;
        struct pm_delete_stats ds;
        if (pm_store_delete_orphans(st, PM_DELETE_CHUNK, o->dry_run, &nruns, &ds) < 0) {
            pm_err("%s: removing the rows of runs deleted by hand: %s", cmd, pm_store_errmsg(st));
            failed = 1;
        } else if (nruns > 0) {
            if (human)
                printf("%s %lld row%s left by %lld run%s deleted by hand (no row in runs)%s\n",
                       o->dry_run ? "would remove" : "removed", (long long)ds.rows, ds.rows == 1 ? "" : "s",
                       (long long)nruns, nruns == 1 ? "" : "s", o->dry_run ? "; --dry-run: nothing was removed" : "");
            json_object_set_new(js, "orphans", json_pack("{s:I,s:I}", "runs", (json_int_t)nruns, "rows",
                                                         (json_int_t)ds.rows));
        }
    }

    int status = failed || (!prune && nlive) ? PM_EXIT_FAIL : PM_EXIT_OK;
    if (o->vacuum && !failed) {
        struct run_row live;
        int busy = o->dry_run ? 0 : any_live(st, host.boot_id, &live);
        struct pm_vacuum_stats vs;
        if (o->dry_run) {
            if (human)
                printf("--dry-run: not vacuumed\n");
        } else if (busy < 0) {
            status = PM_EXIT_FAIL;
        } else if (busy) {
            pm_err("%s: not vacuumed: run %s is being recorded into %s, and VACUUM holds the write lock while it "
                   "rewrites the whole file (a recorder gives up after 10 s); vacuum when it has finished "
                   "('pressmon prune --vacuum')",
                   cmd, live.uid, pm_store_path(st));
            json_object_set_new(js, "vacuum", json_string("refused: a run is being recorded"));
            status = PM_EXIT_FAIL;
        } else if (pm_store_vacuum(st, &vs) < 0) {
            pm_err("%s: VACUUM failed: %s", cmd, pm_store_errmsg(st));
            status = PM_EXIT_FAIL;
        } else {
            int64_t shrank = vs.file_before + vs.wal_before - vs.file_after - vs.wal_after;
            if (human) {
                char a[32], b[32];
                printf("vacuumed %s in %.2f s: %s -> %s, %lld bytes given back", pm_store_path(st),
                       (double)vs.vacuum_ns / 1e9, pm_fmt_bytes((double)vs.file_before, a, sizeof a),
                       pm_fmt_bytes((double)vs.file_after, b, sizeof b), (long long)shrank);
                if (vs.wal_before != vs.wal_after)
                    printf(" (its WAL: %lld -> %lld bytes)", (long long)vs.wal_before, (long long)vs.wal_after);
                putchar('\n');
            }
            if (!vs.checkpointed)
                pm_err("%s: note: a reader kept the WAL from being copied back whole; the file shrinks at the "
                       "next checkpoint", cmd);
            json_object_set_new(js, "vacuum",
                                json_pack("{s:I,s:I,s:I,s:I,s:I,s:f}", "file_bytes_before",
                                          (json_int_t)vs.file_before, "file_bytes_after", (json_int_t)vs.file_after,
                                          "shrank_bytes", (json_int_t)shrank, "wal_bytes_before",
                                          (json_int_t)vs.wal_before, "wal_bytes_after", (json_int_t)vs.wal_after,
                                          "seconds", (double)vs.vacuum_ns / 1e9));
        }
    }
    if (o->json) {
        char *s = json_dumps(js, JSON_INDENT(2));
        if (s)
            puts(s);
        free(s);
    }
    json_decref(js);
    return status;
}

/* Open for deleting: an existing pressmon database this user may write. */
static struct pm_store *open_rw(const struct rm_opts *o, const char *cmd)
{
    struct pm_store *st = pm_open_for_read(o->db);
    if (st && !o->dry_run && sqlite3_db_readonly(pm_store_db(st), "main") == 1) {
        int rofs = access(pm_store_path(st), W_OK) != 0 && errno == EROFS;
        pm_err("%s: cannot delete from %s: %s", cmd, pm_store_path(st),
               rofs ? "its file system is read-only" : "it is read-only to you");
        pm_store_close(st);
        return NULL;
    }
    return st;
}

int cmd_rm(int argc, char **argv)
{
    struct rm_opts o;
    int p = parse(argc, argv, 0, &o);
    if (p)
        return p > 0 ? PM_EXIT_OK : PM_EXIT_USAGE;
    struct pm_store *st = open_rw(&o, "rm");
    if (!st)
        return PM_EXIT_FAIL;
    int64_t *ids = NULL;
    int n = 0, cap = 0, status = PM_EXIT_OK;
    for (int i = optind; i < argc && status == PM_EXIT_OK; i++) {
        int64_t *g = NULL;
        int k = pm_select_group(st, argv[i], &g);
        if (k < 0)
            status = pm_select_exit(k);
        else if (k == 0) {
            pm_err("rm: '%s' matches no run in %s (see 'pressmon runs')", argv[i], pm_store_path(st));
            status = PM_EXIT_FAIL;
        }
        for (int j = 0; j < k && status == PM_EXIT_OK; j++)
            if (pm_push_unique_id(&ids, &n, &cap, g[j]) < 0)
                status = PM_EXIT_FAIL;
        free(g);
    }
    if (status == PM_EXIT_OK)
        status = delete_runs(st, &o, 0, ids, n, NULL);
    else
        pm_err("rm: nothing was deleted");
    free(ids);
    pm_store_close(st);
    return status;
}

int cmd_prune(int argc, char **argv)
{
    struct rm_opts o;
    int p = parse(argc, argv, 1, &o);
    if (p)
        return p > 0 ? PM_EXIT_OK : PM_EXIT_USAGE;
    struct pm_store *st = open_rw(&o, "prune");
    if (!st)
        return PM_EXIT_FAIL;
    sqlite3 *db = pm_store_db(st);
    sqlite3_stmt *s = NULL;
    char nothing[160] = "";
    /* Oldest first: an interrupted prune leaves the newer runs. */
    const char *sql = o.keep >= 0 ? "SELECT id FROM (SELECT id, started_at FROM runs"
                                    " ORDER BY started_at DESC, id DESC LIMIT -1 OFFSET ?1)"
                                    " ORDER BY started_at, id"
                    : o.older ? "SELECT id FROM runs WHERE started_at < ?1 ORDER BY started_at, id"
                              : "SELECT id FROM runs WHERE 0";
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        pm_err("prune: %s: %s", pm_store_path(st), sqlite3_errmsg(db));
        pm_store_close(st);
        return PM_EXIT_FAIL;
    }
    if (o.keep >= 0) {
        sqlite3_bind_int64(s, 1, o.keep);
        snprintf(nothing, sizeof nothing, "nothing to prune: %s holds %ld run%s or fewer", pm_store_path(st),
                 o.keep, o.keep == 1 ? "" : "s");
    } else if (o.older) {
        sqlite3_bind_int64(s, 1, pm_wall_ns() - o.older_ns);
        snprintf(nothing, sizeof nothing, "nothing to prune: no run in %s started more than %s ago",
                 pm_store_path(st), o.older);
    }
    int64_t *ids = NULL;
    int n = 0, cap = 0, rc, status = PM_EXIT_OK;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (pm_push_unique_id(&ids, &n, &cap, sqlite3_column_int64(s, 0)) < 0) {
            status = PM_EXIT_FAIL;
            break;
        }
    if (status == PM_EXIT_OK && rc != SQLITE_DONE) {
        pm_err("prune: %s: %s", pm_store_path(st), sqlite3_errmsg(db));
        status = PM_EXIT_FAIL;
    }
    sqlite3_finalize(s);
    if (status == PM_EXIT_OK)
        status = delete_runs(st, &o, 1, ids, n, o.keep >= 0 || o.older ? nothing : "");
    free(ids);
    pm_store_close(st);
    return status;
}
