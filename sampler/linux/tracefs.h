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
 * (sampler/killbook.h).
 *
 * An instance is in use while its directory is flock()ed (the kernel drops
 * the lock when its holder dies).  pm_ksig_open first adopts a free one,
 * left by a run that just ended (pm_ksig_park) or by a pressmon that died,
 * and creates pressmon-<pid> only when there is none.  pm_ksig_close
 * removes the instance at once; pm_ksig_reap_stale removes every free one.
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

/* The instance directory in use. */
const char *pm_ksig_dir(const struct pm_ksig *k);

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

/* Release the instance for the next run to adopt: write a park line to
 * its trace_marker, close everything (its events stay on), unlock it and
 * free k.  dir receives the instance's path.  Returns -1 for NULL, 0 when
 * the park line was written, 1 when it was not (pm_ksig_park must then
 * remove the instance).  The caller then calls pm_ksig_park, usually in a
 * detached process (pm_tree_close), since it takes a second. */
int pm_ksig_release(struct pm_ksig *k, char *dir, size_t dirlen);

/* A released instance waits PM_KSIG_PARK_NS for the next run to adopt it
 * (a mkdir costs 2 ms, and ~40 ms when it queues behind the removal of the
 * previous run's instance), then is removed unless adopted meanwhile: it is
 * removed (~40 ms of RCU grace periods) when its lock can be taken and a
 * park line is still unread, or `remove` is set.  An adopter reads all park
 * lines; a run that adopted and released it in the meantime left one of
 * its own, for its own park to find. */
#define PM_KSIG_PARK_NS 1000000000LL
void pm_ksig_park(const char *dir, int64_t wait_ns, int remove);

/* Remove the pressmon instances nobody uses (creator gone, not locked).
 * Returns how many were removed (0 when tracefs is not reachable). */
int pm_ksig_reap_stale(void);

/* Where tracefs is mounted ("/sys/kernel/tracing"), or NULL. */
const char *pm_ksig_tracefs_root(void);

#endif
