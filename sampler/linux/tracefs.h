/*
 * Kill attribution on Linux: who sent a fatal signal, and which process the
 * OOM killer chose, read from a private tracefs instance.
 *
 * pm_ksig_open creates /sys/kernel/tracing/instances/pressmon-<pid> (mounting
 * tracefs first if it is not mounted and we may) and enables two events:
 *   signal/signal_generate  filtered to signals whose default action kills
 *                           (see PM_KSIG_FILTER in tracefs.c), not ignored;
 *   oom/mark_victim         the OOM killer's choice (when the kernel has it).
 * The trace line header names the sender (comm-tid, and with record-tgid its
 * tgid); the payload names the target (comm=, pid=) and the si_code:
 * code=0 kill(2), code<0 other userspace sources (tgkill -6, sigqueue -1),
 * code=128 SI_KERNEL (the OOM killer and other kernel kills), code>0 a fault.
 *
 * Timestamps: the instance keeps the kernel's default trace clock (`local`,
 * sched_clock), because switching it to `mono` resets the buffers behind an
 * RCU grace period: 24-36 ms of start-up on the development VM.  Instead a
 * sync line "pressmon-sync <CLOCK_MONOTONIC ns>" is written to the
 * instance's trace_marker at open and then once a second (pm_ksig_tick); it
 * comes back through trace_pipe stamped by the trace clock, and the
 * difference converts every following event to CLOCK_MONOTONIC (the clocks
 * drift apart by NTP's slew, at most 0.5 ms per second, so a second-old
 * offset is off by well under the 10 ms sampling interval).
 *
 * The event thread polls pm_ksig_fd and calls pm_ksig_drain, which parses
 * lines without allocating and pushes PM_EV_SIGNAL / PM_EV_OOM_KILL records
 * for the whole system; the writer keeps only those about the recorded tree
 * (sampler/killbook.h).  The instance is removed by pm_ksig_close, and
 * instances left by a pressmon that died are removed by pm_ksig_reap_stale
 * (called by pm_ksig_open).
 */
#ifndef PM_TRACEFS_H
#define PM_TRACEFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../record.h"
#include "../ring.h"

/* ---- the pure line parser (tests/unit/test_tracefs.c) ----------------- */

enum pm_ksig_kind {
    PM_KSIG_NONE = 0,     /* a comment, blank or unrelated line */
    PM_KSIG_SIGNAL,       /* signal_generate */
    PM_KSIG_OOM_VICTIM,   /* mark_victim */
    PM_KSIG_LOST,         /* "CPU:1 [LOST 12 EVENTS]": the buffer overflowed */
    PM_KSIG_SYNC,         /* our trace_marker line: "pressmon-sync <mono ns>" */
};

struct pm_ksig_event {
    int kind;                 /* enum pm_ksig_kind */
    int64_t ts_ns;            /* trace clock timestamp (see "Timestamps") */
    pid_t sender_tid;         /* the task that generated the event (header) */
    pid_t sender_tgid;        /* its process; -1 if the line has no tgid column */
    char sender_comm[PM_COMM_MAX];
    pid_t pid;                /* target (signal) or victim (OOM) */
    char comm[PM_COMM_MAX];
    int sig, code, grp, res;  /* signal_generate fields */
    int64_t total_vm_kb, anon_rss_kb; /* mark_victim fields */
    int64_t lost;             /* PM_KSIG_LOST: events lost */
    int64_t sync_mono_ns;     /* PM_KSIG_SYNC: the CLOCK_MONOTONIC time written */
};

/* Parse one trace line (without or with its trailing newline).  Returns 1
 * and fills *ev for an event line, 0 for lines to skip (ev->kind NONE, or
 * LOST with ev->lost set), -1 for a garbled event line.  Never reads past
 * len, never allocates; comm fields are truncated to PM_COMM_MAX-1.
 * A sync line returns 0 with kind SYNC, ts_ns and sync_mono_ns set. */
int pm_ksig_parse_line(const char *line, size_t len, struct pm_ksig_event *ev);

/* Human name of a signal's si_code as the kernel reports it ("kill",
 * "tgkill", "sigqueue", "kernel", "fault", ...). */
const char *pm_ksig_code_name(int code);

/* Turn a parsed event into a PM_REC_EVENT record with t_ns relative to
 * run_start_mono_ns.  detail starts with "code=N " for signals (the
 * killbook reads it back).  Returns 0, or -1 for kinds that make no record. */
int pm_ksig_to_rec(const struct pm_ksig_event *ev, int64_t run_start_mono_ns, struct pm_rec *out);

/* ---- the live source ----------------------------------------------------- */

struct pm_ksig;

/* NULL with a one-line reason in `why` when attribution is unavailable
 * (not root, no tracefs, locked down ...).  The reason reads well after
 * "kill attribution off: ". */
struct pm_ksig *pm_ksig_open(char *why, size_t whylen);

/* The instance's trace_pipe, O_NONBLOCK: readable when lines are waiting. */
int pm_ksig_fd(const struct pm_ksig *k);

/* Read every line available now and push one record per event into out.
 * Returns the number of records pushed, or -1 on a read error. */
int pm_ksig_drain(struct pm_ksig *k, int64_t run_start_mono_ns, struct pm_ring *out);

/* Events the kernel reported lost (ring buffer overflow) and lines that
 * did not parse, since open. */
int64_t pm_ksig_lost(const struct pm_ksig *k);
int64_t pm_ksig_garbled(const struct pm_ksig *k);

/* Event thread, on every wake-up: write a clock sync line when the last is
 * a second old. */
void pm_ksig_tick(struct pm_ksig *k);

/* Disable the events and remove the instance.  NULL is allowed. */
void pm_ksig_close(struct pm_ksig *k);

/* Close and free everything, and copy the instance directory into dir:
 * disabling its events and removing it (pm_ksig_remove_dir) takes ~1 ms
 * and then waits for RCU grace periods (~40 ms),
 * which the caller may do elsewhere (pm_tree_close hands it to a detached
 * process).  dir is "" when there is nothing to remove.  NULL is allowed. */
void pm_ksig_release(struct pm_ksig *k, char *dir, size_t dirlen);

/* Disable the instance's events and rmdir it (its fds must be closed). */
int pm_ksig_remove_dir(const char *dir);

/* Remove instances/pressmon-<pid> of pids that are no longer running.
 * Returns how many were removed (0 when tracefs is not reachable). */
int pm_ksig_reap_stale(void);

/* Where tracefs is mounted ("/sys/kernel/tracing"), or NULL. */
const char *pm_ksig_tracefs_root(void);

#endif
