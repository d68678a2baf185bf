/*
 * `pressmon events RUN`: the process lifecycle and the kills of one run, in
 * time order, as text or --json; and the kill summary that `record` and
 * `show` print (pm_print_kill_summary).
 *
 * Process starts and exits come from the procs table (one row per process,
 * with its exit status and kill attribution); signals, OOM kills, pressure
 * and sampler events come from the events table.  Each kill line carries
 * the memory available and the memory pressure (PSI "some", as a share of
 * the last second) of the samples around it, so that "was the machine
 * short of memory when this died?" is answered on the same line.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

/* One merged row; text columns point into the statement (valid until the
 * next step). */
struct ev_row {
    int64_t t_ns;
    const char *kind;
    int64_t pid, ppid;
    int signal;
    int64_t sender_pid;
    const char *sender_comm, *detail, *comm, *argv;
    int has_exit_code;
    int exit_code, core;
    int64_t killer_pid;
    const char *killer_comm, *kill_cause;
    int64_t forwarded_by; /* the pressmon that passed the killer's signal on, 0 if none */
};

/* Starts: 'exec' for processes whose parent is not in the tree (the
 * command itself), 'fork' for the others.  NULL start_ns (predates the
 * run) sorts first. */
static const char EVENTS_SQL[] =
    "SELECT t_ns, kind, pid, ppid, signal, sender_pid, sender_comm, detail, comm, argv,"
    "       exit_code, core_dumped, killer_pid, killer_comm, kill_cause, forwarded_by FROM ("
    " SELECT coalesce(p.start_ns, 0) AS t_ns,"
    "        CASE WHEN p.ppid IN (SELECT q.pid FROM procs q WHERE q.run_id = ?1 AND q.id <> p.id)"
    "             THEN 'fork' ELSE 'exec' END AS kind,"
    "        p.pid, p.ppid, NULL AS signal, NULL AS sender_pid, NULL AS sender_comm, NULL AS detail,"
    "        p.comm, p.argv, NULL AS exit_code, NULL AS core_dumped, NULL AS killer_pid,"
    "        NULL AS killer_comm, NULL AS kill_cause, NULL AS forwarded_by, 0 AS ord, p.id AS sub"
    " FROM procs p WHERE p.run_id = ?1"
    " UNION ALL"
    " SELECT p.end_ns, 'exit', p.pid, p.ppid, p.signal, NULL, NULL, p.status_src, p.comm, NULL,"
    "        p.exit_code, p.core_dumped, p.killer_pid, p.killer_comm, p.kill_cause, p.forwarded_by, 2, p.id"
    " FROM procs p WHERE p.run_id = ?1 AND p.end_ns IS NOT NULL"
    " UNION ALL"
    " SELECT e.t_ns, e.kind, e.pid, NULL, e.signal, e.sender_pid, e.sender_comm, e.detail,"
    "        coalesce((SELECT q.comm FROM procs q WHERE q.run_id = ?1 AND q.pid = e.pid"
    "                   AND coalesce(q.start_ns, 0) <= e.t_ns ORDER BY q.start_ns DESC LIMIT 1),"
    "                 (SELECT q.comm FROM procs q WHERE q.run_id = ?1 AND q.pid = e.pid LIMIT 1)),"
    "        NULL, NULL, NULL, NULL, NULL, NULL, e.forwarded_by, 1, e.id"
    " FROM events e WHERE e.run_id = ?1"
    ") WHERE (?2 IS NULL OR instr(?2, ',' || kind || ',') > 0) ORDER BY t_ns, ord, sub";

static const char *col_text(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

static void read_row(sqlite3_stmt *s, struct ev_row *r)
{
    memset(r, 0, sizeof(*r));
    r->t_ns = sqlite3_column_int64(s, 0);
    r->kind = col_text(s, 1);
    r->pid = sqlite3_column_int64(s, 2);
    r->ppid = sqlite3_column_int64(s, 3);
    r->signal = sqlite3_column_int(s, 4);
    r->sender_pid = sqlite3_column_int64(s, 5);
    r->sender_comm = col_text(s, 6);
    r->detail = col_text(s, 7);
    r->comm = col_text(s, 8);
    r->argv = col_text(s, 9);
    r->has_exit_code = sqlite3_column_type(s, 10) != SQLITE_NULL;
    r->exit_code = sqlite3_column_int(s, 10);
    r->core = sqlite3_column_int(s, 11);
    r->killer_pid = sqlite3_column_int64(s, 12);
    r->killer_comm = col_text(s, 13);
    r->kill_cause = col_text(s, 14);
    r->forwarded_by = sqlite3_column_int64(s, 15);
}

/* Memory available (% of RAM) and PSI memory "some" (% of the last second)
 * at run time t, from the samples; -1 when the run has no such values. */
struct near_sample {
    double avail_pct, psi_some_pct;
};

static void nearest_sample(sqlite3 *db, int64_t run_id, int64_t t, struct near_sample *ns)
{
    ns->avail_pct = ns->psi_some_pct = -1;
    static const char sql[] =
        "SELECT (SELECT s.mem_available_kb * 1024.0 * 100 / h.mem_total FROM samples s"
        "         WHERE s.run_id = ?1 AND s.mem_available_kb IS NOT NULL"
        "         ORDER BY abs(s.t_ns - ?2) LIMIT 1),"
        "       (SELECT sum(s.psi_mem_some_us) * 1000.0 * 100 / (max(s.t_ns) - min(s.t_ns) + ?3)"
        "         FROM samples s WHERE s.run_id = ?1 AND s.t_ns > ?2 - 1000000000 AND s.t_ns <= ?2"
        "         AND s.psi_mem_some_us IS NOT NULL)"
        " FROM runs r JOIN hosts h ON h.id = r.host_id WHERE r.id = ?1";
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_int64(s, 2, t);
    /* the first sample of the window covers one interval before it */
    sqlite3_stmt *iv;
    int64_t interval = 10000000;
    if (sqlite3_prepare_v2(db, "SELECT interval_ns FROM runs WHERE id = ?1", -1, &iv, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(iv, 1, run_id);
        if (sqlite3_step(iv) == SQLITE_ROW && sqlite3_column_int64(iv, 0) > 0)
            interval = sqlite3_column_int64(iv, 0);
        sqlite3_finalize(iv);
    }
    sqlite3_bind_int64(s, 3, interval);
    if (sqlite3_step(s) == SQLITE_ROW) {
        if (sqlite3_column_type(s, 0) != SQLITE_NULL)
            ns->avail_pct = sqlite3_column_double(s, 0);
        if (sqlite3_column_type(s, 1) != SQLITE_NULL)
            ns->psi_some_pct = sqlite3_column_double(s, 1);
    }
    sqlite3_finalize(s);
}

static int is_kill(const struct ev_row *r)
{
    return (!strcmp(r->kind, "exit") && r->signal) || !strcmp(r->kind, "signal") || !strcmp(r->kind, "oom_kill") ||
           !strcmp(r->kind, "memory_kill") || !strcmp(r->kind, "codesign_kill");
}

/* "code=0 userspace kill; sender in tree" -> "userspace kill; sender in tree" */
static const char *detail_text(const char *d)
{
    if (!d)
        return "";
    if (!strncmp(d, "code=", 5)) {
        const char *sp = strchr(d, ' ');
        return sp ? sp + 1 : "";
    }
    return d;
}

/* argv JSON array -> "a b c" (for display only). */
static void argv_text(const char *json, char *out, size_t len)
{
    out[0] = '\0';
    if (!json)
        return;
    json_t *a = json_loads(json, 0, NULL);
    if (!json_is_array(a)) {
        json_decref(a);
        return;
    }
    size_t used = 0, i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        const char *sv = json_string_value(v);
        if (!sv)
            continue;
        int n = snprintf(out + used, len - used, "%s%s", used ? " " : "", sv);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
    json_decref(a);
}

static void fmt_t(int64_t t_ns, char *buf, size_t len)
{
    snprintf(buf, len, "+%.3f", (double)t_ns / 1e9);
}

/* "timeout[4001]", or "pid 4001" without a comm, or "an unknown sender"
 * without either (si_pid 0: the kernel, or a process in another pid
 * namespace). */
static void who(const char *comm, int64_t pid, char *buf, size_t len)
{
    if (comm && *comm)
        snprintf(buf, len, "%s[%" PRId64 "]", comm, pid);
    else if (pid > 0)
        snprintf(buf, len, "pid %" PRId64, pid);
    else
        snprintf(buf, len, "an unknown sender");
}

/* How a kill by a terminal reads after the signal's name: "from the
 * terminal (Ctrl-C)", ": the terminal hung up". */
static void terminal_text(int sig, char *buf, size_t len)
{
    const char *t = pm_sig_terminal(sig, PM_SI_KERNEL);
    if (!t)
        snprintf(buf, len, " from the terminal");
    else if (!strncmp(t, "the terminal (", 14))
        snprintf(buf, len, " from %s", t);
    else
        snprintf(buf, len, ": %s", t);
}

static void print_text(FILE *f, const struct ev_row *r, const struct near_sample *ns)
{
    char t[32], a[64], b[64], args[200];
    fmt_t(r->t_ns, t, sizeof(t));
    if (!strcmp(r->kind, "exec")) {
        argv_text(r->argv, args, sizeof(args));
        fprintf(f, "%-8s exec   %" PRId64 "  %s\n", t, r->pid, *args ? args : (r->comm ? r->comm : ""));
    } else if (!strcmp(r->kind, "fork")) {
        argv_text(r->argv, args, sizeof(args));
        fprintf(f, "%-8s fork   %" PRId64 " -> %" PRId64 "  %s\n", t, r->ppid, r->pid,
                *args ? args : (r->comm ? r->comm : ""));
    } else if (!strcmp(r->kind, "exit")) {
        fprintf(f, "%-8s exit   %" PRId64 " %s  ", t, r->pid, r->comm ? r->comm : "?");
        if (r->signal) {
            fprintf(f, "killed by %s%s", pm_signame(r->signal), r->core ? " (core dumped)" : "");
            const char *c = r->kill_cause;
            char fwd[64] = "";
            if (r->forwarded_by)
                snprintf(fwd, sizeof(fwd), "; forwarded by pressmon[%" PRId64 "]", r->forwarded_by);
            if (c && !strcmp(c, "oom"))
                fprintf(f, " (kernel OOM killer)");
            else if (c && !strcmp(c, "terminal")) {
                terminal_text(r->signal, a, sizeof(a));
                fprintf(f, "%s%s%s%s", a, *fwd ? " (" : "", *fwd ? fwd + 2 : "", *fwd ? ")" : "");
            } else if (c && !strncmp(c, "signal", 6)) {
                who(r->killer_comm, r->killer_pid, a, sizeof(a));
                fprintf(f, " from %s (%s%s)", a, strstr(c, "in-tree") ? "in tree" : "outside tree", fwd);
            } else if (c && *c)
                fprintf(f, " (%s%s)", c, fwd);
        } else if (r->has_exit_code) {
            fprintf(f, "exit %d", r->exit_code);
        } else {
            fprintf(f, "status unknown");
        }
        if (r->signal && ns->avail_pct >= 0)
            fprintf(f, "   mem available %.1f%%", ns->avail_pct);
        if (r->signal && ns->psi_some_pct >= 0)
            fprintf(f, "  psi mem some %.0f%%", ns->psi_some_pct);
        fputc('\n', f);
    } else if (!strcmp(r->kind, "signal")) {
        who(r->sender_comm, r->sender_pid, a, sizeof(a));
        who(r->comm, r->pid, b, sizeof(b));
        const char *d = detail_text(r->detail);
        if (!strncmp(d, "the terminal", 12)) { /* its kworker is not a sender worth naming */
            const char *fw = strstr(d, ", forwarded by ");
            int dl = fw ? (int)(fw - d) : (int)strlen(d);
            fprintf(f, "%-8s signal %-8s %.*s -> %s", t, pm_signame(r->signal), dl, d, b);
            if (fw)
                fprintf(f, "  (%s)", fw + 2);
        } else {
            fprintf(f, "%-8s signal %-8s %s -> %s  (%s)", t, pm_signame(r->signal), a, b, d);
        }
        if (ns->avail_pct >= 0)
            fprintf(f, "   mem available %.1f%%", ns->avail_pct);
        fputc('\n', f);
    } else if (!strcmp(r->kind, "oom_kill") || !strcmp(r->kind, "memory_kill") ||
               !strcmp(r->kind, "codesign_kill")) {
        who(r->comm, r->pid, b, sizeof(b));
        fprintf(f, "%-8s %-6s %s  (%s)", t, r->kind, b, detail_text(r->detail));
        if (ns->avail_pct >= 0)
            fprintf(f, "   mem available %.1f%%", ns->avail_pct);
        if (ns->psi_some_pct >= 0)
            fprintf(f, "  psi mem some %.0f%%", ns->psi_some_pct);
        fputc('\n', f);
    } else {
        fprintf(f, "%-8s %-6s", t, r->kind);
        if (r->pid)
            fprintf(f, " %" PRId64, r->pid);
        fprintf(f, "  %s\n", r->detail ? r->detail : "");
    }
}

static json_t *row_json(const struct ev_row *r, const struct near_sample *ns)
{
    json_t *o = json_object();
    json_object_set_new(o, "t_ns", json_integer(r->t_ns));
    json_object_set_new(o, "t_s", json_real((double)r->t_ns / 1e9));
    json_object_set_new(o, "kind", json_string(r->kind));
    if (r->pid)
        json_object_set_new(o, "pid", json_integer(r->pid));
    if (r->comm)
        json_object_set_new(o, "comm", json_string(r->comm));
    if ((!strcmp(r->kind, "fork") || !strcmp(r->kind, "exec")) && r->ppid)
        json_object_set_new(o, "ppid", json_integer(r->ppid));
    if (r->argv) {
        json_t *a = json_loads(r->argv, 0, NULL);
        if (a)
            json_object_set_new(o, "argv", a);
    }
    if (r->signal) {
        json_object_set_new(o, "signal", json_integer(r->signal));
        json_object_set_new(o, "signame", json_string(pm_signame(r->signal)));
    }
    if (!strcmp(r->kind, "exit")) {
        if (r->has_exit_code)
            json_object_set_new(o, "exit_code", json_integer(r->exit_code));
        if (r->core)
            json_object_set_new(o, "core_dumped", json_true());
        if (r->detail)
            json_object_set_new(o, "status_src", json_string(r->detail));
        if (r->kill_cause)
            json_object_set_new(o, "kill_cause", json_string(r->kill_cause));
        if (r->killer_pid)
            json_object_set_new(o, "killer_pid", json_integer(r->killer_pid));
        if (r->killer_comm && *r->killer_comm)
            json_object_set_new(o, "killer_comm", json_string(r->killer_comm));
        if (r->forwarded_by)
            json_object_set_new(o, "forwarded_by_pid", json_integer(r->forwarded_by));
    } else {
        if (r->sender_pid)
            json_object_set_new(o, "sender_pid", json_integer(r->sender_pid));
        if (r->sender_comm)
            json_object_set_new(o, "sender_comm", json_string(r->sender_comm));
        if (r->detail) {
            json_object_set_new(o, "detail", json_string(r->detail));
            int code;
            if (sscanf(r->detail, "code=%d", &code) == 1)
                json_object_set_new(o, "code", json_integer(code));
            if (strstr(r->detail, "sender in tree"))
                json_object_set_new(o, "sender_in_tree", json_true());
            else if (strstr(r->detail, "sender outside tree"))
                json_object_set_new(o, "sender_in_tree", json_false());
            if (!strncmp(detail_text(r->detail), "the terminal", 12))
                json_object_set_new(o, "from_terminal", json_true());
        }
        if (r->forwarded_by)
            json_object_set_new(o, "forwarded_by_pid", json_integer(r->forwarded_by));
    }
    if (ns && ns->avail_pct >= 0)
        json_object_set_new(o, "mem_available_pct", json_real(ns->avail_pct));
    if (ns && ns->psi_some_pct >= 0)
        json_object_set_new(o, "psi_mem_some_pct", json_real(ns->psi_some_pct));
    return o;
}

/* Every kind an event row can have: the process starts and exits of the
 * procs table, and the kinds of the events table (sampler/record.h).
 * Written into buf as "exec, fork, ...". */
static const char *kind_list(char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 1; k < PM_EV_KIND_MAX; k++) {
        if (k == PM_EV_FORWARD) /* a note to the killbook, never stored */
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
                         pm_event_kind_name((enum pm_event_kind)k));
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
    return buf;
}

static int known_kind(const char *s, size_t n)
{
    for (int k = 1; k < PM_EV_KIND_MAX; k++) {
        const char *name = pm_event_kind_name((enum pm_event_kind)k);
        if (k != PM_EV_FORWARD && strlen(name) == n && !strncmp(name, s, n))
            return 1;
    }
    return 0;
}

/* Add the comma list `arg` to the filter ",exec,exit," in buf.  Returns 0,
 * or -1 after a usage message naming the unknown kind and the valid ones. */
static int add_kinds(const char *arg, char *buf, size_t len)
{
    char all[256];
    for (const char *p = arg;; p++) {
        size_t n = strcspn(p, ",");
        if (!known_kind(p, n)) {
            pm_err("events: unknown --kind '%.*s': give one or more of %s, separated by commas", (int)n, p,
                   kind_list(all, sizeof all));
            return -1;
        }
        size_t used = strlen(buf);
        if (used == 0 && len > 1)
            buf[used++] = ',', buf[used] = '\0';
        if (used + n + 2 > len) {
            pm_err("events: too many --kind values");
            return -1;
        }
        snprintf(buf + used, len - used, "%.*s,", (int)n, p);
        p += n;
        if (!*p)
            return 0;
    }
}

static void events_usage(FILE *f)
{
    fprintf(f,
            "usage: pressmon events [options] RUN\n"
            "\n"
            "The processes and kills of one run in time order: exec, fork, exit (with who\n"
            "killed it), signal (fatal signals sent to the tree, with the sender), oom_kill,\n"
            "pressure, sampler_gap, notice.  Kill lines show memory available and PSI memory\n"
            "pressure at that moment.\n"
            "RUN is a run id or unique prefix, last, last~N, or label:NAME.\n"
            "\n"
            "options:\n"
            "  -d, --db PATH      database (default $PRESSMON_DB, else ./pressmon.db)\n"
            "  -k, --kind K,...   only events of these kinds (a comma list; repeatable):\n");
    /* the kinds, wrapped under the option's text at 80 columns */
    int col = 0;
    for (int k = 1; k < PM_EV_KIND_MAX; k++) {
        const char *name = pm_event_kind_name((enum pm_event_kind)k);
        int w = (int)strlen(name) + (k + 1 < PM_EV_KIND_MAX ? 1 : 0);
        if (col == 0 || col + 1 + w > 80)
            col = fprintf(f, "%s                     %s", col ? "\n" : "", name) - (col ? 1 : 0);
        else
            col += fprintf(f, " %s", name);
        if (k + 1 < PM_EV_KIND_MAX)
            col += fprintf(f, ",");
    }
    fprintf(f, "\n"
               "      --json         one JSON array on stdout\n"
               "  -h, --help         this text\n");
}

int cmd_events(int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"kind", required_argument, NULL, 'k'},
                                         {"db", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *db = NULL;
    char kinds[512] = ""; /* ",exec,exit,": instr() in EVENTS_SQL */
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "jk:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'k':
            if (add_kinds(optarg, kinds, sizeof kinds) < 0)
                return PM_EXIT_USAGE;
            break;
        case 'd': db = optarg; break;
        case 'h': events_usage(stdout); return PM_EXIT_OK;
        default: events_usage(stderr); return PM_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        pm_err("events takes one RUN (see 'pressmon events --help')");
        return PM_EXIT_USAGE;
    }
    struct pm_store *st = pm_open_for_read(db);
    if (!st)
        return PM_EXIT_FAIL;
    int64_t run_id;
    int sel = pm_select_run(st, argv[optind], &run_id);
    if (sel < 0) {
        pm_store_close(st);
        return pm_select_exit(sel);
    }
    sqlite3 *sdb = pm_store_db(st);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(sdb, EVENTS_SQL, -1, &s, NULL) != SQLITE_OK) {
        pm_err("cannot read the events of run %s from %s: %s", argv[optind], pm_store_path(st), sqlite3_errmsg(sdb));
        pm_store_close(st);
        return PM_EXIT_FAIL;
    }
    sqlite3_bind_int64(s, 1, run_id);
    if (*kinds)
        sqlite3_bind_text(s, 2, kinds, -1, SQLITE_STATIC);
    json_t *arr = json ? json_array() : NULL;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct ev_row r;
        read_row(s, &r);
        struct near_sample ns = {-1, -1};
        if (is_kill(&r))
            nearest_sample(sdb, run_id, r.t_ns, &ns);
        if (json)
            json_array_append_new(arr, row_json(&r, &ns));
        else
            print_text(stdout, &r, &ns);
    }
    int ret = PM_EXIT_OK;
    if (rc != SQLITE_DONE) {
        pm_err("reading the events of run %s failed: %s", argv[optind], sqlite3_errmsg(sdb));
        ret = PM_EXIT_FAIL;
    }
    sqlite3_finalize(s);
    if (json) {
        json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
        fputc('\n', stdout);
        json_decref(arr);
    }
    pm_store_close(st);
    return ret;
}

int pm_print_kill_summary(struct pm_store *st, int64_t run_id, FILE *f, const char *prefix)
{
    static const char sql[] = "SELECT pid, comm, signal, end_ns, killer_pid, killer_comm, kill_cause, forwarded_by"
                              " FROM procs"
                              " WHERE run_id = ?1 AND signal IS NOT NULL AND signal > 0 ORDER BY end_ns";
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(pm_store_db(st), sql, -1, &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(s, 1, run_id);
    int n = 0;
    char line[1024];
    size_t used = 0;
    line[0] = '\0';
    while (sqlite3_step(s) == SQLITE_ROW) {
        n++;
        if (n > 5)
            continue;
        char victim[64], killer[128], t[32];
        who(col_text(s, 1), sqlite3_column_int64(s, 0), victim, sizeof(victim));
        snprintf(t, sizeof(t), "+%.1f s", (double)sqlite3_column_int64(s, 3) / 1e9);
        const char *cause = col_text(s, 6);
        int sig = sqlite3_column_int(s, 2);
        int fwd = sqlite3_column_int64(s, 7) > 0;
        if (!cause || !strcmp(cause, "unknown"))
            snprintf(killer, sizeof(killer), " (sender unknown)");
        else if (!strncmp(cause, "oom", 3))
            snprintf(killer, sizeof(killer), " by the OOM killer");
        else if (!strcmp(cause, "terminal"))
            terminal_text(sig, killer, sizeof(killer));
        else if (!strcmp(cause, "kernel"))
            snprintf(killer, sizeof(killer), " by the kernel");
        else if (!strcmp(cause, "self"))
            snprintf(killer, sizeof(killer), " by itself");
        else {
            char w[48];
            who(col_text(s, 5), sqlite3_column_int64(s, 4), w, sizeof(w));
            snprintf(killer, sizeof(killer), " by %s%s", w,
                     fwd ? "" : strstr(cause, "outside") ? " (outside the tree)" : "");
        }
        if (fwd) {
            size_t l = strlen(killer);
            snprintf(killer + l, sizeof(killer) - l, " (forwarded by pressmon)");
        }
        int k = snprintf(line + used, sizeof(line) - used, "%s%s %s%s at %s", n > 1 ? "; " : "", victim,
                         pm_signame(sig), killer, t);
        if (k > 0 && (size_t)k < sizeof(line) - used)
            used += (size_t)k;
    }
    sqlite3_finalize(s);
    if (n == 0)
        return 0;
    fprintf(f, "%s%d process%s killed: %s%s\n", prefix ? prefix : "", n, n == 1 ? "" : "es", line,
            n > 5 ? "; ..." : "");
    return n;
}
