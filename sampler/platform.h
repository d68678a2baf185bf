/*
 * The platform interface: what the portable sampler needs from an OS.
 *
 * sampler/linux/ and sampler/darwin/ each implement every function here;
 * the Makefile compiles exactly one of them.  Portable code includes this
 * header and never asks which OS it runs on (the htop model, STYLE.md).
 *
 * Threading contract:
 *   pm_sys_read and pm_tree_sample run on the sampler thread: no malloc,
 *   no stdio, no locks; they may only read kept-open descriptors and fill
 *   caller-provided records.  pm_tree_events runs on the event thread and
 *   may block (up to its timeout) on the platform's event sources.
 */
#ifndef PM_PLATFORM_H
#define PM_PLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "record.h"
#include "ring.h"

/* ---- clocks ---------------------------------------------------------- */

/* Monotonic clock in ns (CLOCK_MONOTONIC / mach_absolute_time-based),
 * the same clock the kernel's event sources stamp with where possible. */
int64_t pm_mono_ns(void);

/* Wall clock in ns since the epoch. */
int64_t pm_wall_ns(void);

/* CPU time used by this process (all threads), ns. */
int64_t pm_self_cpu_ns(void);

/* ---- host ------------------------------------------------------------ */

struct pm_host {
    char hostname[256];
    char os[32];          /* "linux", "darwin" */
    char os_version[128]; /* distribution / macOS product version */
    char kernel[128];     /* uname -r */
    char arch[32];
    int cpu_count;
    int64_t mem_total;    /* bytes */
    int64_t page_size;    /* bytes (macOS: vm_kernel_page_size) */
    char boot_id[64];     /* changes every boot: tells stale recorders apart */
};

int pm_host_info(struct pm_host *h);

/* Is the process `pid` alive?  Used to find runs whose recorder died. */
int pm_pid_alive(pid_t pid);

/* The command name of process `pid` into out ("" if it is gone or hidden):
 * who sent pressmon a signal it forwards (cli/record.c).  Safe to call from
 * a signal handler: the sender of a signal (kill(1)) may be gone by the time
 * the main loop wakes, so pressmon reads the name in the handler. */
void pm_proc_name(pid_t pid, char *out, size_t len);

/* wait4(2)'s ru_maxrss in KiB: Linux gives KiB, macOS bytes. */
struct rusage;
int64_t pm_maxrss_kb(const struct rusage *ru);

/* Whether a signal's si_code says a process sent it to this process by
 * its pid (kill(2), sigqueue(3), and tgkill(2) on Linux), not the kernel
 * (a terminal, a fault) nor a whole process group in a way the code shows.
 * cli/record.c forwards such signals to the command. */
int pm_si_sent_to_pid(int code);

/* ---- periodic timer at absolute deadlines ---------------------------- */

struct pm_timer;

/* First expiry at `first_deadline_ns` (pm_mono_ns clock), then every
 * interval_ns.  Returns NULL and sets errno on failure. */
struct pm_timer *pm_timer_open(int64_t first_deadline_ns, int64_t interval_ns);
/* Block until the next expiry.  Returns the number of expirations since the
 * last call (>1 means ticks were missed), 0 if woken by pm_timer_wake,
 * -1 on error. */
int64_t pm_timer_wait(struct pm_timer *t);
/* Make a blocked pm_timer_wait return 0 soon (from another thread). */
void pm_timer_wake(struct pm_timer *t);
void pm_timer_close(struct pm_timer *t);

/* ---- system sampling --------------------------------------------------- */

struct pm_sys;

struct pm_sys_opts {
    pid_t cgroup_pid;     /* read the cgroup pressure of this pid's cgroup (0: none) */
    const char *sysfs_root; /* Linux: where sysfs is (NULL or "": "/sys"); thermal zones,
                               throttle counters and cooling devices are found under
                               it, so tests can point it at a fixture tree */
    const char *root_dir; /* Linux: the run's cgroup is found under this directory
                             (NULL or "": the real one): ROOT/proc/PID/cgroup,
                             ROOT/proc/self/mountinfo and the cgroup mount points it
                             lists, below ROOT; tests point it at a fixture tree */
};

/* Opens every source once (kept-open fds, resolved sysctl MIBs).  Optional
 * sources that are absent are skipped; `sources` receives a short
 * human-readable list of what is read ("meminfo vmstat stat psi ..."). */
struct pm_sys *pm_sys_open(const struct pm_sys_opts *o, char *sources, size_t sources_len,
                           char *err, size_t errlen);
/* Fill one sample (out->t_ns/late_ns are set by the caller).
 *
 * tick_ns is the tick's scheduled time (any origin, never decreasing):
 * expensive sources that change slowly are read only when their own
 * period has passed since their last read (Linux: /proc/vmstat and the
 * cooling devices every >= 100 ms, /proc/stat every >= 40 ms,
 * /proc/loadavg and the cgroup's memory limits every >= 1 s); on the other
 * ticks their columns are absent.  The scheduled time, not the wakeup time, keeps that cadence
 * exact (every 10th tick at 10 ms) despite wakeup jitter.
 * read_all != 0 reads every source whatever its period: the first call
 * does anyway, and the recorder asks for it on the last sample so the
 * run's counter totals reach its end.
 *
 * A counter is the delta since the last time its source was read, i.e.
 * since the previous non-absent value of that metric (catalog.h); the
 * first call reports counters absent. */
void pm_sys_read(struct pm_sys *s, int64_t tick_ns, int read_all, struct pm_sys_rec *out);
void pm_sys_close(struct pm_sys *s);

/* ---- the recorded process tree ---------------------------------------- */

struct pm_tree;

struct pm_tree_opts {
    int64_t run_start_mono_ns; /* t=0 of the run, pm_mono_ns clock */
    int64_t proc_interval_ns;
};

/* Start, in the background, the slow part of pm_tree_open that does not
 * need the root's pid (Linux: creating the tracefs instance for kill
 * attribution, ~2-4 ms, overlapped with opening the database).  Optional;
 * pm_tree_open picks the result up.  pm_tree_unprepare discards it when
 * pm_tree_open will not be called. */
void pm_tree_prepare(void);
void pm_tree_unprepare(void);

/* The helper process pm_tree_close starts to let go of slow kernel objects
 * after pressmon exits (Linux: `pressmon __teardown ...`, see
 * ptree_linux.c).  Returns its exit status; 2 for bad arguments. */
int pm_tree_teardown_main(int argc, char **argv);

/* Track `root` and all its descendants.  Must be called before the root
 * can fork (pressmon starts the child stopped on a pipe, see
 * cli/record.c), and after it has forked: pressmon may raise its own
 * limits here (Linux: open fds), which the command must not inherit.
 * `mechanism` receives which membership source is used. */
struct pm_tree *pm_tree_open(pid_t root, const struct pm_tree_opts *o, char *mechanism,
                             size_t mechanism_len, char *err, size_t errlen);

/* Event thread: wait up to timeout_ms for process events (fork, exec, exit,
 * kill notifications) and push records for them into `out`.  Returns 0, or
 * -1 when the event source is gone (the thread then only sleeps). */
int pm_tree_events(struct pm_tree *t, struct pm_ring *out, int timeout_ms);

/* Any thread: make a pm_tree_events wait return now (used to stop). */
void pm_tree_wake(struct pm_tree *t);

/* Sampler thread: refresh membership if the platform needs polling, and
 * push one PROC_SAMPLE per member whose values changed, PROC_START for new
 * members and PROC_EXIT for vanished ones. */
void pm_tree_sample(struct pm_tree *t, int64_t t_ns, struct pm_ring *out);

/* Main thread: pressmon reaped `pid` with wait status `status` at t_ns
 * (it is the direct child or an orphan re-parented to pressmon); pushes a
 * PROC_EXIT into the main thread's ring `out`.  `maxrss_kb` is wait4's
 * ru_maxrss in KiB (the caller converts macOS's bytes), 0 if unknown. */
void pm_tree_reaped(struct pm_tree *t, pid_t pid, int status, int64_t maxrss_kb, struct pm_ring *out,
                    int64_t t_ns);

/* How membership is followed, final answer (the event thread may fall back
 * from an event source that turns out silent), e.g. "proc_connector". */
const char *pm_tree_mechanism(struct pm_tree *t);

/* Move t=0 of the run (before the event and sampler threads start). */
void pm_tree_set_run_start(struct pm_tree *t, int64_t run_start_mono_ns);

/* Kill attribution (who sent a fatal signal, OOM victims): "on", or one
 * line saying why it is off ("... needs root ..."), for runs.attribution
 * and a single stderr notice. */
const char *pm_tree_attribution(struct pm_tree *t);

/* Processes that could not be followed (event overruns, table full). */
uint64_t pm_tree_lost(struct pm_tree *t);

/* Descendants of the root still running (not the root itself).  Call it
 * after the sampler and event threads have stopped. */
int pm_tree_alive(struct pm_tree *t);

void pm_tree_close(struct pm_tree *t);

/* Make pressmon the reaper of orphaned descendants (Linux
 * PR_SET_CHILD_SUBREAPER); a no-op where the system has no such thing. */
int pm_become_subreaper(void);

#endif
