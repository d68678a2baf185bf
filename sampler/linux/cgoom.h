/*
 * The oom_kill counter of the run's memory cgroup: OOM kills seen without
 * tracefs and without /dev/kmsg (both need root on Debian).
 *
 * cgroup v2: <cgroup>/memory.events "oom_kill N" (hierarchical: counts the
 * sub-cgroups too); cgroup v1: <memory cgroup>/memory.oom_control
 * "oom_kill N" (local to that cgroup).  Either is readable by anyone.  The
 * counter is charged to the victim's memory cgroup, and it names no pid:
 * a rise becomes a PM_EV_OOM_KILL event with pid 0, and the killbook ties
 * it to the tree member that died of SIGKILL at that moment
 * (sampler/killbook.c, kill_cause "oom (cgroup)").
 *
 * The run's cgroup is the root process's, read once at open (the child
 * has not exec'd yet: it is pressmon's own).  The event thread calls
 * pm_cgoom_check on every wake-up (<= 250 ms apart); a pread costs ~1 µs.
 */
#ifndef PM_CGOOM_H
#define PM_CGOOM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../record.h"
#include "../ring.h"

/* Pure: the file holding the oom_kill counter, from the bytes of
 * /proc/PID/cgroup and /proc/self/mountinfo.  The v1 memory controller's
 * memory.oom_control when the memory controller is mounted as v1 (hybrid
 * systems), else the cgroup2 memory.events; a cgroup path is made relative
 * to its mount's root (containers).  Returns 0, or -1 with nothing usable
 * (no memory cgroup, or the v2 root cgroup, which has no memory.events). */
int pm_cgoom_path(const char *cgroup, size_t clen, const char *mountinfo, size_t mlen, char *out, size_t cap);

/* Pure: the directory of a process's cgroup, from the bytes of
 * /proc/PID/cgroup and /proc/self/mountinfo: in the v1 memory hierarchy
 * (v1 = 1: its "N:memory:/path" line) or in cgroup2 (v1 = 0: its "0::/path"
 * line), the path made relative to its mount's root (containers).  The
 * first *mnt_len bytes of `out` are the mount point: out is the mount point
 * itself when the process is in the mount's root cgroup, which is the
 * system's root cgroup or, in a cgroup namespace, the container's own (the
 * caller tells them apart by the files there).  Returns 0, or -1 when the
 * hierarchy is not mounted, the process has no line for it, its path is
 * outside the mount's subtree, or `out` is too small. */
int pm_cgroup_dir(const char *cgroup, size_t clen, const char *mountinfo, size_t mlen, int v1, char *out,
                  size_t cap, size_t *mnt_len);

struct pm_cgoom;

/* NULL with a reason in `why` when the counter cannot be read.  Where
 * pm_cgoom_path finds nothing because the process is in cgroup2's root
 * ("0::/"), the mount root's memory.events is tried: in a container with
 * its own cgroup namespace that is the container's cgroup, while the
 * system's root cgroup has no memory.events. */
struct pm_cgoom *pm_cgoom_open(pid_t pid, char *why, size_t whylen);
/* The same with /proc/PID/cgroup, /proc/self/mountinfo and the mount
 * points it lists read under `root` ("": the real ones; tests). */
struct pm_cgoom *pm_cgoom_open_at(const char *root, pid_t pid, char *why, size_t whylen);

/* The file read ("/sys/fs/cgroup/memory/x/memory.oom_control"). */
const char *pm_cgoom_file(const struct pm_cgoom *c);

/* Read the counter; on a rise push one event (pid 0, signal SIGKILL,
 * detail "cgroup oom_kill +N (FILE)") at t = now.  Returns the rise. */
int64_t pm_cgoom_check(struct pm_cgoom *c, int64_t run_start_mono_ns, struct pm_ring *out);

void pm_cgoom_close(struct pm_cgoom *c);

#endif
