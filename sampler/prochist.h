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
};

/* Reset for a new process. */
void pm_proc_hist_reset(struct pm_proc_hist *h);

/* Record one reading of a process: cur[i] valid where bit i of present is
 * set.  Pushes a PM_REC_PROC_SAMPLE into out if anything changed; returns
 * 1 if it did (or tried: a full ring counts the drop), 0 otherwise. */
int pm_proc_hist_push(struct pm_proc_hist *h, int64_t t_ns, pid_t pid, char state, const int64_t *cur,
                      uint64_t present, struct pm_ring *out);

#endif
