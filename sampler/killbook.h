/*
 * The killbook: which fatal signals and OOM kills concern the recorded tree,
 * and who killed each process that died of a signal.
 *
 * The kill sources (tracefs on Linux, /dev/kmsg, ...) report every fatal
 * signal of the whole system, because the tree changes faster than a kernel
 * filter could follow.  The writer thread, which sees every PROC_START and
 * PROC_EXIT, hands the killbook:
 *   - each PROC_START (pm_killbook_note_start; the writer stores it itself),
 *   - each PROC_EXIT and each PM_EV_SIGNAL / PM_EV_OOM_KILL event
 *     (pm_killbook_put; the killbook holds them),
 *   - the system oom_kill counter deltas (pm_killbook_note_oom_count),
 * and stores whatever pm_killbook_take releases, in that order.
 *
 * Events about a pid that is not (yet) a member are held for `hold_ns` (the
 * fork may still be on its way through another ring), then dropped.  An exit
 * by a signal is held until the event that explains it arrives, or for
 * hold_ns; then its killer_pid / killer_comm / kill_cause are filled:
 *   "oom"                  the kernel OOM killer chose it (mark_victim, kmsg)
 *   "oom (vmstat)"         SIGKILL while /proc/vmstat oom_kill rose, no victim line
 *   "signal in-tree"       a userspace kill from a process of the tree
 *   "signal outside-tree"  a userspace kill from any other process
 *   "self"                 it signalled itself (abort, raise, kill $$)
 *   "terminal"             the terminal: Ctrl-C, Ctrl-\, its hangup (SI_KERNEL SIGINT,
 *                          SIGQUIT, SIGHUP: pm_sig_terminal)
 *   "kernel"               the kernel: a fault (SIGSEGV, SIGBUS...) or another SI_KERNEL
 *   "unknown"              no event explains it (e.g. attribution is off)
 * Stored signal events get "; sender in tree" or "; sender outside tree"
 * appended to their detail (a terminal's signal: "the terminal (Ctrl-C)"
 * instead).  When pressmon forwarded the signal (cli/record.c), it puts a
 * PM_EV_FORWARD note in first, naming who sent the signal to pressmon; the
 * kill events pressmon's forward made then name that first sender, with
 * forwarded_by set to pressmon's pid and ", forwarded by pressmon[PID]" in
 * their detail, and so do the exits they explain (killer_pid/killer_comm,
 * forwarded_by).  Notes are not stored.  One OOM kill reported by two sources (tracefs
 * mark_victim, /dev/kmsg) is stored once, as the first; a first event
 * without the victim's cgroup waits up to hold_ns for the second to supply
 * it (the exit it explains is not held back for that).
 *
 * Portable, single-threaded (the writer's), allocates.  Time arguments are
 * run-relative ns, like every t_ns.
 */
#ifndef PM_KILLBOOK_H
#define PM_KILLBOOK_H

#include <stdint.h>

#include "record.h"

struct pm_killbook;

#define PM_KILLBOOK_HOLD_NS (1000LL * 1000 * 1000)

struct pm_killbook *pm_killbook_new(int64_t hold_ns);
void pm_killbook_free(struct pm_killbook *kb);

/* Does the killbook want this record through pm_killbook_put? (PROC_EXIT,
 * and EVENT of kind SIGNAL or OOM_KILL.) */
int pm_killbook_wants(const struct pm_rec *r);

/* A process joined the tree or exec'd. */
void pm_killbook_note_start(struct pm_killbook *kb, const struct pm_proc_start_rec *s);

/* The system oom_kill counter rose by `delta` in the sample at t_ns. */
void pm_killbook_note_oom_count(struct pm_killbook *kb, int64_t t_ns, int64_t delta);

/* Hold a PROC_EXIT or a SIGNAL / OOM_KILL event (others are ignored).
 * now_ns: the writer's current run time. */
void pm_killbook_put(struct pm_killbook *kb, const struct pm_rec *r, int64_t now_ns);

/* Release the next record ready to store: returns 1 and fills *out, or 0.
 * With flush set (end of run) nothing is held any longer. */
int pm_killbook_take(struct pm_killbook *kb, int64_t now_ns, int flush, struct pm_rec *out);

/* Counters for the run's notes. */
struct pm_killbook_stats {
    int64_t events_in, events_stored, events_dropped;
    int64_t kills;              /* exits by a signal */
    int64_t attributed;         /* ... of which kill_cause is not "unknown" */
};
void pm_killbook_stats(const struct pm_killbook *kb, struct pm_killbook_stats *st);

#endif
