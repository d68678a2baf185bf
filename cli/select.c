/*
 * Run and group selectors (DESIGN.md §3), shared by every command that
 * takes a RUN: show, events, export, push, report, diff.
 *
 *   01JDXA3K9Q...   a run id, or any unique prefix of it (case-insensitive:
 *                   ids are Crockford base32, people type them in lowercase)
 *   last, last~N    the newest run, the N-th before it
 *   label:NAME      the newest run with that label
 *
 * Groups (diff only) add:
 *   outcome:fail, outcome:pass   every finished run with that outcome
 *   label:NAME                   every run with that label
 *   A,B,C                        a comma list of single selectors
 *
 * A selector that cannot name any run (bad syntax) gives PM_SELECT_BAD, one
 * that names no run of this database (or is ambiguous) -1: every command
 * exits 2 (usage error) for the first and 1 for the second
 * (pm_select_exit).
 *
 * "Newest" is by started_at, then by id, so that runs started in the same
 * nanosecond on different hosts (merged databases) still have one order.
 * Every failure prints what was asked, what exists, and what to do.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define PM_UID_LEN 16
/* How many candidates an "ambiguous prefix" message lists. */
#define PM_AMBIG_SHOW 8

static int prefix_match(sqlite3 *db, const char *sel, int64_t *run_id)
{
    char up[PM_UID_LEN + 1];
    size_t n = strlen(sel);
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)sel[i])) {
            pm_err("no run '%s': not a run id, 'last', 'last~N' or 'label:NAME' (see 'pressmon runs')",
                   sel);
            return PM_SELECT_BAD;
        }
    }
    if (n == 0 || n > PM_UID_LEN) {
        pm_err("no run '%s': a run id is %d characters (see 'pressmon runs')", sel, PM_UID_LEN);
        return PM_SELECT_BAD;
    }
    for (size_t i = 0; i < n; i++)
        up[i] = (char)toupper((unsigned char)sel[i]);
    up[n] = 0;

    /* substr() rather than LIKE: LIKE would treat '_' and '%' as wildcards
     * and uses no index anyway; the uid column is small. */
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, uid, label, state FROM runs WHERE substr(uid, 1, ?2) = ?1 "
                           "ORDER BY started_at DESC, id DESC LIMIT ?3",
                           -1, &q, NULL) != SQLITE_OK) {
        pm_err("cannot look up run '%s': %s", sel, sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_text(q, 1, up, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(q, 2, (int)n);
    sqlite3_bind_int(q, 3, PM_AMBIG_SHOW + 1);
    int found = 0, rc;
    int64_t first = 0;
    char cand[PM_AMBIG_SHOW + 1][160], lab[4 * 30 + 8];
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (found == 0)
            first = sqlite3_column_int64(q, 0);
        const char *uid = (const char *)sqlite3_column_text(q, 1);
        const char *label = (const char *)sqlite3_column_text(q, 2);
        if (label) {
            pm_fit_cols(label, 30, 1, lab, sizeof lab, NULL);
            snprintf(cand[found], sizeof cand[found], "%s (label %s)", uid ? uid : "?", lab);
        } else {
            snprintf(cand[found], sizeof cand[found], "%s", uid ? uid : "?");
        }
        found++;
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        pm_err("cannot look up run '%s': %s", sel, sqlite3_errmsg(db));
        return -1;
    }
    if (found == 0) {
        pm_err("no run '%s' in this database (see 'pressmon runs', or pass --db)", sel);
        return -1;
    }
    if (found > 1) {
        pm_err("run prefix '%s' is ambiguous; it matches:", sel);
        for (int i = 0; i < found && i < PM_AMBIG_SHOW; i++)
            fprintf(stderr, "  %s\n", cand[i]);
        if (found > PM_AMBIG_SHOW)
            fprintf(stderr, "  ... and more\n");
        fprintf(stderr, "type more characters of the run id\n");
        return -1;
    }
    *run_id = first;
    return 0;
}

/* last, last~N: the (N+1)-th newest run. */
static int select_last(sqlite3 *db, const char *sel, int64_t *run_id)
{
    long n = 0;
    if (sel[4] == '~') {
        char *end;
        n = strtol(sel + 5, &end, 10);
        if (sel[5] == 0 || *end || n < 0) {
            pm_err("bad run selector '%s': use 'last' or 'last~N' with N >= 0", sel);
            return PM_SELECT_BAD;
        }
    } else if (sel[4]) {
        pm_err("bad run selector '%s': use 'last' or 'last~N' with N >= 0", sel);
        return PM_SELECT_BAD;
    }
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, "SELECT id FROM runs ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET ?1",
                           -1, &q, NULL) != SQLITE_OK) {
        pm_err("cannot look up run '%s': %s", sel, sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_int64(q, 1, n);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *run_id = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc != SQLITE_DONE) {
        pm_err("cannot look up run '%s': %s", sel, sqlite3_errmsg(db));
        return -1;
    }
    if (n == 0)
        pm_err("no runs in this database yet (record one with 'pressmon record', or pass --db)");
    else
        pm_err("no run '%s': the database holds fewer than %ld runs (see 'pressmon runs')", sel, n + 1);
    return -1;
}

static int select_label(sqlite3 *db, const char *sel, int64_t *run_id)
{
    const char *name = sel + 6;
    if (!*name) {
        pm_err("bad run selector '%s': give a label, as in label:nightly", sel);
        return PM_SELECT_BAD;
    }
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT id FROM runs WHERE label = ?1 ORDER BY started_at DESC, id DESC LIMIT 1",
                           -1, &q, NULL) != SQLITE_OK) {
        pm_err("cannot look up run '%s': %s", sel, sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_text(q, 1, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *run_id = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc != SQLITE_DONE)
        pm_err("cannot look up run '%s': %s", sel, sqlite3_errmsg(db));
    else
        pm_err("no run has the label '%s' (labels are set with 'pressmon record --label')", name);
    return -1;
}

int pm_select_run(struct pm_store *st, const char *sel, int64_t *run_id)
{
    sqlite3 *db = pm_store_db(st);
    if (!sel || !*sel) {
        pm_err("empty run selector: give a run id, 'last', 'last~N' or 'label:NAME'");
        return PM_SELECT_BAD;
    }
    if (!strncmp(sel, "last", 4) && (sel[4] == 0 || sel[4] == '~'))
        return select_last(db, sel, run_id);
    if (!strncmp(sel, "label:", 6))
        return select_label(db, sel, run_id);
    if (!strncmp(sel, "outcome:", 8)) {
        pm_err("'%s' names a group of runs; this command takes one run (use last, an id or label:NAME)",
               sel);
        return PM_SELECT_BAD;
    }
    return prefix_match(db, sel, run_id);
}

int pm_select_exit(int select_rc)
{
    return select_rc == PM_SELECT_BAD ? PM_EXIT_USAGE : PM_EXIT_FAIL;
}

int pm_push_unique_id(int64_t **ids, int *n, int *cap, int64_t id)
{
    for (int i = 0; i < *n; i++)
        if ((*ids)[i] == id)
            return 0;
    if (*n == *cap) {
        int ncap = *cap ? *cap * 2 : 16;
        int64_t *p = realloc(*ids, (size_t)ncap * sizeof **ids);
        if (!p) {
            pm_err("out of memory while selecting runs");
            return -1;
        }
        *ids = p;
        *cap = ncap;
    }
    (*ids)[(*n)++] = id;
    return 0;
}

/* Every run matching one text column (outcome or label), oldest first. */
static int select_all_where(sqlite3 *db, const char *sel, const char *column, const char *value,
                            int64_t **ids, int *n, int *cap)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT id FROM runs WHERE %s = ?1 ORDER BY started_at, id", column);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
        pm_err("cannot look up runs '%s': %s", sel, sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_text(q, 1, value, -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        if (pm_push_unique_id(ids, n, cap, sqlite3_column_int64(q, 0)) < 0) {
            sqlite3_finalize(q);
            return -1;
        }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) {
        pm_err("cannot look up runs '%s': %s", sel, sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

static int select_one_group(struct pm_store *st, const char *sel, int64_t **ids, int *n, int *cap)
{
    sqlite3 *db = pm_store_db(st);
    if (!strncmp(sel, "outcome:", 8)) {
        const char *o = sel + 8;
        if (strcmp(o, "fail") && strcmp(o, "pass")) {
            pm_err("bad group '%s': the outcomes are outcome:fail and outcome:pass", sel);
            return PM_SELECT_BAD;
        }
        return select_all_where(db, sel, "outcome", o, ids, n, cap);
    }
    if (!strncmp(sel, "label:", 6)) {
        if (!sel[6]) {
            pm_err("bad group '%s': give a label, as in label:nightly", sel);
            return PM_SELECT_BAD;
        }
        return select_all_where(db, sel, "label", sel + 6, ids, n, cap);
    }
    int64_t id;
    int rc = pm_select_run(st, sel, &id);
    if (rc < 0)
        return rc;
    return pm_push_unique_id(ids, n, cap, id);
}

int pm_select_group(struct pm_store *st, const char *sel, int64_t **ids)
{
    *ids = NULL;
    if (!sel || !*sel) {
        pm_err("empty group selector: give runs, outcome:fail, outcome:pass, label:NAME or A,B,...");
        return PM_SELECT_BAD;
    }
    int n = 0, cap = 0;
    char *copy = strdup(sel);
    if (!copy) {
        pm_err("out of memory while selecting runs");
        return -1;
    }
    char *save = NULL;
    int rc = 0, parts = 0;
    /* In a comma list every element is a single run (cli.h): label:NAME
     * there means the newest run with that label, as everywhere else. */
    int list = strchr(sel, ',') != NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        if (!*tok)
            continue;
        parts++;
        int64_t id;
        rc = list ? pm_select_run(st, tok, &id) : select_one_group(st, tok, ids, &n, &cap);
        if (rc == 0 && list)
            rc = pm_push_unique_id(ids, &n, &cap, id);
        if (rc < 0)
            break;
    }
    free(copy);
    if (rc == 0 && parts == 0) {
        pm_err("empty group selector '%s': give runs, outcome:fail, outcome:pass, label:NAME or A,B,...",
               sel);
        rc = PM_SELECT_BAD;
    }
    if (rc < 0) {
        free(*ids);
        *ids = NULL;
        return rc;
    }
    return n;
}
