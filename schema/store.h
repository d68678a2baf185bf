/*
 * The store: pressmon's SQLite database.
 *
 * Opening a store applies the schema migrations compiled in from
 * schema/NNN_*.sql (PRAGMA user_version is the version), refreshes the
 * metric catalog rows, and marks runs whose recorder died as 'aborted'.
 * A database written by a newer pressmon is refused, never touched.  An
 * older one that this user may only read is read as if migrated: the
 * sample columns it lacks read as NULL (TEMP views, nothing is written).
 *
 * Writers use WAL, a busy timeout and BEGIN IMMEDIATE batches: many
 * `pressmon record` processes can share one file.  Only the writer thread
 * (sampler/writer.c) and the commands call into the store; the sampling
 * threads never do.
 *
 * All functions returning int return 0 on success and -1 on error with a
 * message in the store's error buffer (pm_store_errmsg).
 */
#ifndef PM_STORE_H
#define PM_STORE_H

#include <stdint.h>
#include <sys/types.h>

#include <sqlite3.h>

#include "../sampler/platform.h"
#include "../sampler/record.h"

#define PM_SCHEMA_VERSION_MAX 64

enum pm_store_mode {
    PM_STORE_READ = 0,   /* commands that only read: database must exist */
    PM_STORE_WRITE = 1,  /* record: created if missing */
};

struct pm_store;

/* Open (and if needed create and migrate) the database at `path`.
 * On failure returns NULL and writes a message naming the path to err.
 * For reading, a database on a read-only file system that SQLite cannot
 * open the usual way (WAL needs its -shm file) is read as immutable; err
 * then holds a note ("note: ...") when a -wal file beside it is left
 * unread, else "".  For record (PM_STORE_WRITE), a read-only file system is
 * refused as such. */
struct pm_store *pm_store_open(const char *path, enum pm_store_mode mode, char *err, size_t errlen);
void pm_store_close(struct pm_store *st);

sqlite3 *pm_store_db(struct pm_store *st);
const char *pm_store_path(struct pm_store *st);
const char *pm_store_errmsg(struct pm_store *st);

/* The schema version of this binary and of the open database. */
int pm_store_schema_version(void);
int pm_store_db_version(struct pm_store *st);

/* Mark 'recording' runs whose recorder is gone (other boot, or pid dead on
 * this boot) as 'aborted'.  Returns how many were marked, or -1. */
int pm_store_reap_stale(struct pm_store *st, const char *boot_id);

/* Is the run being recorded now: state 'recording' and its recorder alive
 * by the test pm_store_reap_stale applies (same boot id, pid alive and not
 * a zombie)?  1 yes; 0 no (finished, aborted, recorder gone, or no such
 * run); -1 on a database error. */
int pm_store_run_live(struct pm_store *st, int64_t run_id, const char *boot_id);

/* Rows per write transaction when a run is deleted.  A chunk of 1,000
 * system samples holds the write lock 2.1-2.2 ms at most, and a writer
 * sharing the file waited at most 3.7-9.3 ms while a one-hour run at 100 Hz
 * was deleted in 1.8 s (docs/BENCHMARKS.md, "rm"); one DELETE of the same
 * run made it wait 230-356 ms, and a ten-hour run at 1 kHz would hold the
 * lock past the recorders' 10 s busy timeout.  4,000-row chunks deleted it
 * in 1.0 s holding the lock up to 5.8-7.9 ms. */
#define PM_DELETE_CHUNK 1000
/* After each chunk the deleter leaves the lock free for as long as it held
 * it plus this (store.c says why). */
#define PM_DELETE_PAUSE_NS 2000000

struct pm_delete_stats {
    int64_t rows;            /* rows deleted, the run's own row included */
    int64_t transactions;    /* write transactions committed */
    int64_t longest_tx_ns;   /* the longest: how long the write lock was held at once */
};

/* Delete a run: every row of every table with a run_id column (the
 * schema's convention for per-run tables, read from the file, so a table
 * added later is covered), in write transactions of at most `chunk_rows`
 * rows (0: PM_DELETE_CHUNK) so that recorders writing into the same file
 * wait for one chunk at most; then, in the last transaction, the run's row
 * in runs.  Hosts and the metric catalog stay.  A run being recorded
 * (pm_store_run_live) is refused before anything is deleted.  Interrupted,
 * it leaves the run's row and part of its rows: deleting it again finishes
 * the job.  Returns 0 when deleted, 1 when refused, -1 on error. */
int pm_store_delete_run(struct pm_store *st, int64_t run_id, const char *boot_id, int chunk_rows,
                        struct pm_delete_stats *ds);

/* Delete the rows whose run is gone: rows of a per-run table whose
 * run_id has no row in runs (a run deleted by hand: the sqlite3 shell
 * does not enforce foreign keys, so nothing cascades).  A recorder writes
 * its run's row before any other, so no live run has such rows.  Chunked
 * like pm_store_delete_run; each chunk checks again that the run is
 * absent.  With dry_run, only counts.  *nruns: how many such run ids;
 * ds->rows: their rows.  0, or -1 with the store's error. */
int pm_store_delete_orphans(struct pm_store *st, int chunk_rows, int dry_run, int64_t *nruns,
                            struct pm_delete_stats *ds);

struct pm_vacuum_stats {
    int64_t file_before, file_after;  /* the database file, bytes */
    int64_t wal_before, wal_after;    /* its -wal file, bytes (0: none) */
    int64_t vacuum_ns;                /* how long VACUUM held the write lock */
    int checkpointed;                 /* the WAL was copied back and truncated */
};

/* Checkpoint the WAL into the file, VACUUM (the pages freed by deletions
 * go back to the file system), then checkpoint again, truncating the file
 * and the WAL to what they hold.  VACUUM holds the
 * write lock while it rewrites the whole file: the caller makes sure no
 * recorder is writing. */
int pm_store_vacuum(struct pm_store *st, struct pm_vacuum_stats *vs);

/* A new public run id: 10 base32 chars of milliseconds since the epoch
 * then 6 random ones (Crockford alphabet): sortable by time, unique across
 * hosts.  buf must hold 17 bytes. */
void pm_run_uid(char *buf, int64_t wall_ns);

struct pm_tag {
    const char *key, *value;
};

struct pm_run_info {
    char uid[17];
    const char *label;        /* may be NULL */
    char *const *argv;        /* command; NULL or empty for system-only */
    int argc;
    const char *cwd;
    int64_t started_at;       /* unix ns */
    int64_t interval_ns, proc_interval_ns;
    const struct pm_host *host;
    pid_t recorder_pid;
    const struct pm_tag *tags;
    int ntags;
    const char *sources, *tree_mechanism, *attribution;
};

/* Insert the run row in state 'recording' (committed at once, so that a
 * crash leaves a visible aborted run).  Returns the run's integer id, or -1. */
int64_t pm_store_run_begin(struct pm_store *st, const struct pm_run_info *ri);

struct pm_run_end {
    int64_t ended_at, duration_ns;
    int has_status;           /* 0: system-only run, or child status unknown */
    int exit_code, signal, core_dumped;
    int64_t samples;          /* system samples taken */
    int64_t samples_stored;   /* of them, committed to `samples` (the rest were lost) */
    int64_t proc_samples, missed_ticks;
    int64_t dropped;          /* records of every kind lost: queue full, or not committed */
    int64_t late_p50_ns, late_p99_ns, late_max_ns;
    int64_t self_cpu_ns;
    const char *notes;        /* may be NULL */
    int aborted;              /* 1: recording did not finish normally */
};

int pm_store_run_end(struct pm_store *st, int64_t run_id, const struct pm_run_end *re);

/* Update run columns while recording (counts so far, attribution state). */
int pm_store_run_progress(struct pm_store *st, int64_t run_id, int64_t samples, int64_t samples_stored,
                          int64_t proc_samples, int64_t missed_ticks, int64_t dropped);
int pm_store_run_set_text(struct pm_store *st, int64_t run_id, const char *column, const char *value);

/* Batched writes: begin (BEGIN IMMEDIATE), any number of put_*, commit. */
int pm_store_begin(struct pm_store *st);
int pm_store_commit(struct pm_store *st);
int pm_store_rollback(struct pm_store *st);

int pm_store_put_sys(struct pm_store *st, int64_t run_id, const struct pm_sys_rec *r);
int pm_store_put_proc_start(struct pm_store *st, int64_t run_id, const struct pm_proc_start_rec *r);
int pm_store_put_proc_sample(struct pm_store *st, int64_t run_id, const struct pm_proc_sample_rec *r);
/* An exit with a known status replaces one recorded with status unknown;
 * the first known status wins.  *changed is set to 1 if a process row for
 * the pid exists (it took the exit, or already had a status); 0 means no
 * row yet: the caller may retry once the start is stored. */
int pm_store_put_proc_exit(struct pm_store *st, int64_t run_id, const struct pm_proc_exit_rec *r, int *changed);
int pm_store_put_event(struct pm_store *st, int64_t run_id, const struct pm_event_rec *r);

/* The comm of the run's latest process with this pid into out ("" if
 * none).  Returns 0 if found. */
int pm_store_proc_comm(struct pm_store *st, int64_t run_id, pid_t pid, char *out, size_t cap);

/* Find or insert the host row.  Returns its id, or -1. */
int64_t pm_store_host_id(struct pm_store *st, const struct pm_host *h);

#endif
