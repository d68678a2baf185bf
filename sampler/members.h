/*
 * The member table of a process tree: which processes belong to the
 * recorded command, shared without locks by two threads of each platform's
 * tree (sampler/linux/ptree_linux.c, sampler/darwin/ptree_darwin.c).
 *
 *   adder    the thread that learns of forks and exits (the event thread;
 *            Linux's /proc scan fallback runs it on the sampler thread):
 *            claims a FREE slot, fills it, publishes it NEW; retires a
 *            NEW or LIVE slot to DEAD when its process ends.
 *   sampler  sweeps slots [0, used): promotes NEW to LIVE once it has set
 *            up its own per-slot state (Linux: the /proc/PID fds), samples
 *            LIVE ones, and releases DEAD ones to FREE after dropping that
 *            state.
 *
 * Every change of state is an atomic store or compare-and-swap with
 * release/acquire order, so what one thread wrote into a slot before a
 * change is visible to the other after it sees the change.  A slot's pid,
 * ppid and start are written only while it is FREE and read only while it
 * is not.  Platforms keep their own per-slot data in a parallel array
 * indexed by slot.  Free slots are handed out lowest first, so the sweep
 * stops at the highest slot ever used, not at the table's size (a sweep of
 * all 8192 Linux slots read ~1 MB, cold, 25 times a second).  Nothing
 * allocates after pm_members_init.
 */
#ifndef PM_MEMBERS_H
#define PM_MEMBERS_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "pidmap.h"

enum { PM_SLOT_FREE = 0, PM_SLOT_NEW, PM_SLOT_LIVE, PM_SLOT_DEAD };

struct pm_member_slot {
    _Atomic int state;
    pid_t pid;
    pid_t ppid;
    int64_t start_ns;   /* since the run's start, as the adder saw it */
};

struct pm_members {
    struct pm_member_slot *slot;
    int cap;
    _Atomic int used;          /* slots [0, used) have ever held a member */
    struct pm_pidmap map;      /* adder-private: pid -> slot of a member not yet retired */
};

/* Returns 0, or -1 when out of memory. */
int pm_members_init(struct pm_members *t, int cap);
void pm_members_free(struct pm_members *t);

/* ---- adder ---- */

/* The slot of a member not yet retired, or -1. */
int pm_members_find(const struct pm_members *t, pid_t pid);
/* Claim the lowest FREE slot for pid and fill it; the sampler does not see
 * it until pm_members_publish, so the caller can first set up its own data
 * for the slot (*fresh: the slot was never used before, that data is
 * uninitialised).  Returns the slot, -1 if pid is a member already, -2 if
 * the table is full. */
int pm_members_claim(struct pm_members *t, pid_t pid, pid_t ppid, int64_t start_ns, int *fresh);
void pm_members_publish(struct pm_members *t, int slot);
/* The member's process ended: NEW or LIVE -> DEAD, and its pid may be
 * claimed again.  Returns 1 if it was NEW or LIVE, 0 otherwise. */
int pm_members_retire(struct pm_members *t, int slot);

/* ---- sampler ---- */

/* The sweep's bound. */
int pm_members_used(const struct pm_members *t);
int pm_members_state(const struct pm_members *t, int slot);
/* NEW -> LIVE.  Returns the state after: LIVE, or DEAD when the adder
 * retired the member first. */
int pm_members_promote(struct pm_members *t, int slot);
/* DEAD -> FREE, once the sampler has dropped its data for the slot. */
void pm_members_release(struct pm_members *t, int slot);

#endif
