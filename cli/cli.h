/*
 * Shared pieces of the command line: the command table's signature, option
 * parsing helpers, run selection, output helpers.  Each command lives in its
 * own file (cli/record.c, cli/runs.c, ...) and owns its options and help.
 *
 * Exit codes (documented in README.md and pressmon(1)):
 *   0 success, 1 failure of the operation (e.g. unknown run, push failed),
 *   2 usage error.  `record` instead returns the child's status, and
 *   125 (pressmon failed) / 126 (not executable) / 127 (not found).
 */
#ifndef PM_CLI_H
#define PM_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "../schema/store.h"

#define PM_EXIT_OK 0
#define PM_EXIT_FAIL 1
#define PM_EXIT_USAGE 2
#define PM_EXIT_RECORD_FAIL 125
#define PM_EXIT_NOEXEC 126
#define PM_EXIT_NOTFOUND 127

typedef int (*pm_cmd_fn)(int argc, char **argv);

int cmd_record(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_events(int argc, char **argv);

/* The kill summary of a run (cli/events.c), one line on f after `prefix`:
 * "3 processes killed: cargo[4121] SIGKILL by timeout[4001] at +9.8 s; ...".
 * Prints nothing when nothing was killed.  Returns the number of killed
 * processes, or -1 on a database error. */
int pm_print_kill_summary(struct pm_store *st, int64_t run_id, FILE *f, const char *prefix);
int cmd_diff(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_push(int argc, char **argv);
int cmd_rm(int argc, char **argv);     /* cli/rm.c */
int cmd_prune(int argc, char **argv);  /* cli/rm.c */

/* "pressmon: " + message on stderr. */
void pm_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The database path: --db value, else $PRESSMON_DB, else ./pressmon.db. */
const char *pm_db_path(const char *opt);

/* Open the database for a reading command; prints the error and returns NULL. */
struct pm_store *pm_open_for_read(const char *db_opt);

/* Parse "10ms", "1.5s", "2m", "500us", "250000ns", "1h", "7d" into ns.  The
 * unit is required.  Returns 0; PM_DURATION_NO_UNIT for a bare number
 * ("10"); -1 for other bad input. */
#define PM_DURATION_NO_UNIT (-2)
int pm_parse_duration(const char *s, int64_t *ns);
/* pm_parse_duration for option `opt` of command `cmd`.  Returns 0, or -1
 * after printing "CMD: bad OPT 'VALUE': give a unit, as in EXAMPLES" (a
 * bare number) or "... give a duration, as in EXAMPLES".  The caller checks
 * the range. */
int pm_duration_arg(const char *cmd, const char *opt, const char *value, const char *examples, int64_t *ns);

/* Text in table columns (labels): terminal columns, not bytes.  UTF-8 is
 * decoded (an invalid byte counts as one column); East Asian wide
 * characters take 2 columns, combining marks 0.  Locale-independent. */
int pm_text_cols(const char *s);
/* Copy s into buf (len bytes), at most max_cols columns, cut on a character
 * boundary; with `ellipsis`, a cut one ends in "…" (within max_cols).
 * Returns the bytes written (buf is NUL-terminated); *cols_out (may be
 * NULL) gets the columns. */
size_t pm_fit_cols(const char *s, int max_cols, int ellipsis, char *buf, size_t len, int *cols_out);
/* s fitted into exactly `width` columns: cut with "…", or padded with
 * spaces.  Returns buf. */
const char *pm_cell(const char *s, int width, char *buf, size_t len);
/* The label column of a table: as wide as its widest label (columns),
 * at least the heading's 5, at most PM_LABEL_COLS_MAX. */
#define PM_LABEL_COLS_MAX 40
int pm_label_width(int widest);

/* Format ns as "12.4 s", "850 ms", "3m05s" into buf. */
const char *pm_fmt_duration(int64_t ns, char *buf, size_t len);
/* Format bytes as "3.1 GiB". */
const char *pm_fmt_bytes(double bytes, char *buf, size_t len);
/* pressmon's own CPU over a run: "1.23%" of one core, or the time ("3.1 ms")
 * for a run shorter than a second, where the share says little. */
const char *pm_fmt_own_cpu(int64_t cpu_ns, int64_t dur_ns, char *buf, size_t len);
/* Signal number to "SIGKILL" (or "SIG37"). */
const char *pm_signame(int sig);

/* Output conventions: color only on a TTY and without NO_COLOR. */
int pm_use_color(FILE *f);

/* Run selection (DESIGN §3): a uid or unique prefix, `last`, `last~N`,
 * `label:NAME` (newest run with that label).  On success returns 0 and the
 * run's integer id; on failure prints a clear message and returns -1 when
 * no run matches (unknown run, ambiguous prefix with candidates, database
 * error) or PM_SELECT_BAD when the selector is malformed (it can match no
 * run: 'last~x', 'label:', characters no run id has, a group). */
#define PM_SELECT_BAD (-2)
int pm_select_run(struct pm_store *st, const char *sel, int64_t *run_id);

/* Group selection for diff and rm: `outcome:fail`, `outcome:pass`,
 * `label:NAME` (every run with that label), a comma list of single
 * selectors, or one single selector.  *ids is malloc'd; returns the count
 * (0 = empty group, reported by the caller), or -1 / PM_SELECT_BAD (as
 * pm_select_run) after printing an error. */
int pm_select_group(struct pm_store *st, const char *sel, int64_t **ids);
/* Append id to the growing array *ids (*n used, *cap allocated) unless it is
 * already there: a comma list, or several selectors, may name a run twice.
 * Returns 0, or -1 (with a message) when out of memory. */
int pm_push_unique_id(int64_t **ids, int *n, int *cap, int64_t id);
/* The exit status for a failed selection: a malformed selector is a usage
 * error (2), one that names no run, or several, a failure (1). */
int pm_select_exit(int select_rc);

/* Minimal getopt_long-style wrapper shared by the commands is not needed:
 * commands use getopt_long directly with "+" to stop at the first
 * non-option (record's COMMAND). */

#endif
