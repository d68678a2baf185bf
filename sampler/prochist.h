/*
 * Per-process sample history: turns the raw cumulative values a platform
 * reads for one process into the record the store keeps.
 *
 * Counters become deltas since the previous sample of that process,
 * gauges stay as read, and a record is pushed only when something moved
 * or the process state changed (DESIGN §4: process rows only when
 * something changed).  Shared by sampler/linux/ and sampler/darwin/; runs
 * on the sampler thread: no allocation.
 */
#ifndef PM_PROCHIST_H
#define PM_PROCHIST_H

#include <stdint.h>
#include <sys/types.h>

#include "ring.h"

struct pm_proc_hist {
    int sampled;              /* prev holds a previous sample */
    char last_state;
    uint64_t present;         /* which prev[] are valid */
    int64_t prev[PM_PROC_N];  /* raw cumulative counters, last gauge values */
    int64_t run_ns;           /* CPU time when last read in full, 0 if not known */
    int64_t full_at;          /* t_ns of the last full reading */
};

/* A process that has not run since its last full reading is read again in
 * full at least this often: its run time can lag while it runs on a CPU
 * that gets no scheduler tick (nohz_full). */
#define PM_PROC_FULL_NS (1000LL * 1000 * 1000)

/* Reset for a new process. */
void pm_proc_hist_reset(struct pm_proc_hist *h);

/* Record one reading of a process: cur[i] valid where bit i of present is
 * set.  Pushes a PM_REC_PROC_SAMPLE into out if anything changed; returns
 * 1 if it did (or tried: a full ring counts the drop), 0 otherwise. */
int pm_proc_hist_push(struct pm_proc_hist *h, int64_t t_ns, pid_t pid, char state, const int64_t *cur,
                      uint64_t present, struct pm_ring *out);

/*
 * Skipping the readings of a process that has not run (Linux: a full
 * reading is /proc/PID/stat and io, ~6 us of kernel formatting; the run
 * time in /proc/PID/schedstat costs ~2 us).  Such a process's CPU times,
 * faults, io, thread count and state cannot have moved: each changes only
 * while one of its threads runs, except a wakeup to "runnable, waiting
 * for a CPU", which shows once it gets one.  Its resident size can move
 * (reclaim, swap-out), so the caller reads that alone.
 *
 * pm_proc_hist_idle: may the full reading be skipped at t_ns, given the
 * run time now?  Only for a process read in full before, single-threaded
 * then (run time counts the main thread only), with the same non-zero
 * run time, and read in full less than PM_PROC_FULL_NS ago.
 * pm_proc_hist_ran: after a full reading, the run time read before it.
 * pm_proc_hist_push_idle: record a skipped reading: only the resident size
 * (rss_kb < 0: unknown, kept) can differ from the last one.
 */
int pm_proc_hist_idle(const struct pm_proc_hist *h, int64_t t_ns, int64_t run_ns);
void pm_proc_hist_ran(struct pm_proc_hist *h, int64_t t_ns, int64_t run_ns);
int pm_proc_hist_push_idle(struct pm_proc_hist *h, int64_t t_ns, pid_t pid, int64_t rss_kb, struct pm_ring *out);

#endif
