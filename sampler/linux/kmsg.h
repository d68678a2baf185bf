/*
 * OOM kills from the kernel log (/dev/kmsg), for when tracefs is not
 * available (not root, tracefs locked down) or as a second witness.
 *
 * The OOM killer prints, for every victim, two records that matter here:
 *   oom-kill:constraint=CONSTRAINT_MEMCG,...,task_memcg=/x,task=python3,pid=9174,uid=0
 *   Memory cgroup out of memory: Killed process 9174 (python3) total-vm:18620kB,
 *     anon-rss:7936kB, file-rss:6720kB, shmem-rss:0kB, UID:0 pgtables:80kB oom_score_adj:0
 * ("Out of memory: Killed process ..." for a system-wide OOM; kernels before
 * 5.x print "Killed process N (comm) total-vm:..." alone).  /dev/kmsg gives
 * one record per read(2): "prio,seq,ts_us,flags[,...];message\n" followed
 * by optional " KEY=value\n" dictionary lines.  ts_us is the printk clock,
 * which is CLOCK_MONOTONIC in µs on the kernels measured (6.18: a record
 * written and read back was 0.5 ms from clock_gettime, the python overhead).
 *
 * Reading needs CAP_SYSLOG unless kernel.dmesg_restrict is 0 (Debian sets
 * it to 1), so this source is mostly a root's fallback; pm_kmsg_open says
 * why it is unavailable.  It seeks to the end at open so that the kills of
 * earlier runs are never replayed.
 */
#ifndef PM_KMSG_H
#define PM_KMSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../record.h"
#include "../ring.h"

/* ---- the pure record parser (tests/unit/test_kmsg.c) ------------------- */

enum pm_kmsg_kind {
    PM_KMSG_NONE = 0,        /* any other record */
    PM_KMSG_OOM_CONSTRAINT,  /* "oom-kill:constraint=...": the victim's memcg */
    PM_KMSG_OOM_KILLED,      /* "... Killed process N (comm) ...": the kill */
};

struct pm_kmsg_rec {
    int kind;                 /* enum pm_kmsg_kind */
    uint64_t seq;
    int64_t ts_us;            /* printk clock (CLOCK_MONOTONIC), µs */
    pid_t pid;
    char comm[PM_COMM_MAX];
    char memcg[96];           /* CONSTRAINT: task_memcg ("" if absent) */
    char constraint[24];      /* CONSTRAINT: "CONSTRAINT_MEMCG", ... */
    int memcg_oom;            /* KILLED: "Memory cgroup out of memory" */
    int64_t total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb; /* KILLED; -1 if absent */
};

/* Parse one record as read(2) returns it (len bytes, not NUL-terminated;
 * continuation lines allowed).  Returns 1 for an OOM record (kind set), 0
 * for any other well-formed record, -1 for a malformed header.  Never
 * reads past len, never allocates.  kmsg escapes unprintable bytes as
 * \xNN; comm is kept as printed. */
int pm_kmsg_parse(const char *rec, size_t len, struct pm_kmsg_rec *out);

/* Turn a KILLED record into a PM_EV_OOM_KILL event.  `memcg` is the
 * task_memcg of the CONSTRAINT record for the same pid, or NULL.  The
 * timestamp is the record's unless it is more than 5 s from now_mono_ns
 * (a printk clock that is not CLOCK_MONOTONIC), then now.  detail starts
 * with "kernel OOM killer" like the tracefs event's. */
void pm_kmsg_to_rec(const struct pm_kmsg_rec *killed, const char *memcg, int64_t run_start_mono_ns,
                    int64_t now_mono_ns, struct pm_rec *out);

/* ---- the live source ------------------------------------------------------ */

struct pm_kmsg;

/* NULL with a one-line reason in `why` (e.g. "/dev/kmsg: permission
 * denied (kernel.dmesg_restrict=1)"). */
struct pm_kmsg *pm_kmsg_open(char *why, size_t whylen);

/* O_NONBLOCK; readable (POLLIN) when records are waiting. */
int pm_kmsg_fd(const struct pm_kmsg *k);

/* Read every record available now; push one event per OOM kill.  Returns
 * the number pushed, or -1 on a read error other than EAGAIN/EPIPE. */
int pm_kmsg_drain(struct pm_kmsg *k, int64_t run_start_mono_ns, struct pm_ring *out);

/* Records the kernel overwrote before we read them (EPIPE), since open. */
int64_t pm_kmsg_lost(const struct pm_kmsg *k);

void pm_kmsg_close(struct pm_kmsg *k);

#endif
