/*
 * The recorder: the threads of one `pressmon record` (DESIGN §5).
 *
 *   sampler thread  absolute-deadline timer; system sample every tick,
 *                   process tree every --proc-interval; no malloc, no SQLite
 *   event thread    the platform's process event source (pm_tree_events)
 *   writer thread   drains the rings into SQLite, one transaction per
 *                   commit interval (250 ms by default)
 *   main thread     (cli/record.c) spawns and waits for the child, pushes
 *                   what waitpid tells into pm_recorder_main_ring
 *
 * The writer never blocks the sampler: if SQLite stalls, the rings fill
 * and records are dropped and counted, never waited for.  If the database
 * fails, the writer says so once and keeps draining; the child is never
 * affected.
 */
#ifndef PM_RECORDER_H
#define PM_RECORDER_H

#include <stdint.h>

#include "../schema/store.h"
#include "platform.h"
#include "ring.h"

struct pm_recorder_opts {
    struct pm_store *store;
    int64_t run_id;            /* 0: the run's row is not written yet (pm_recorder_set_run) */
    int64_t t0;                /* run start, pm_mono_ns clock: first sample at t=0 */
    int64_t interval_ns;       /* system sampling */
    int64_t proc_interval_ns;  /* process tree sampling */
    int64_t commit_ns;         /* writer transaction interval */
    int gap_ticks;             /* missing this many ticks in a row is a sampler_gap event */
    struct pm_sys *sys;
    struct pm_tree *tree;      /* NULL for a system-only recording */
    pid_t root_pid;            /* the command (its row is written by record), 0 if none */
    int quiet;                 /* no stderr messages from the writer */
    /* Optional hook called by the writer thread for every stored system
     * sample (live push).  Must not block. */
    void (*on_sample)(void *ctx, const struct pm_sys_rec *r);
    void *on_sample_ctx;
    /* Likewise for every stored kill event (signal, oom_kill, memory_kill,
     * codesign_kill) of the tree, with the comm of the process it killed
     * ("" if unknown): live push sends kills as they happen. */
    void (*on_kill)(void *ctx, const struct pm_event_rec *e, const char *target_comm);
    void *on_kill_ctx;
};

struct pm_recorder;

/* What the main thread may show while recording. */
struct pm_live_status {
    int64_t samples;
    int64_t t_ns;
    int64_t mem_available_kb;  /* -1 if unknown */
    int64_t mem_level_pct;     /* -1 if unknown */
    int64_t psi_mem_some_pm;   /* permille of the last interval, -1 if unknown */
    int64_t missed_ticks;
};

struct pm_recorder_result {
    int64_t samples;           /* system samples taken */
    int64_t samples_stored;    /* of them, committed to the database */
    int64_t proc_samples, missed_ticks, gaps;
    int64_t dropped;           /* records of every kind lost (queue full, not committed) */
    int64_t late_p50_ns, late_p99_ns, late_max_ns;
    int64_t last_t_ns;
    int db_failed;             /* the database could not be written at some point */
    char db_error[512];
    /* Extremes seen by the writer, for the end-of-run summary. */
    int64_t min_mem_available_kb, min_mem_level_pct, max_psi_mem_some_pm;
    /* The run's cgroup: its memory peak and its lowest memory limit (-1: none). */
    int64_t max_cg_mem_current_kb, min_cg_mem_max_kb;
};

struct pm_recorder *pm_recorder_start(const struct pm_recorder_opts *o, char *err, size_t errlen);

/* The run's row is written: run_id > 0, and the writer starts storing what
 * the threads queued since t0; or it could not be (run_id < 0, `why` says
 * why, and was said): everything is counted as lost.  Until then the
 * writer touches neither the store nor the rings, so the caller may use
 * the store (cli/record.c writes the row while the command starts). */
void pm_recorder_set_run(struct pm_recorder *r, int64_t run_id, const char *why);

/* The ring the main thread pushes into (process starts and reaped exits). */
struct pm_ring *pm_recorder_main_ring(struct pm_recorder *r);

void pm_recorder_status(struct pm_recorder *r, struct pm_live_status *s);

/* Take the last sample now, stop every thread, flush everything to the
 * store and fill res.  Frees the recorder. */
void pm_recorder_stop(struct pm_recorder *r, struct pm_recorder_result *res);

#endif
