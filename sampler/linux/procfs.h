/*
 * Parsers for the Linux /proc and /sys files pressmon samples.
 *
 * Each parser takes the bytes of one file (as read with one pread into a
 * caller buffer) and fills a struct: no allocation, no I/O, so that the
 * sampler thread can call them and tests can feed captured fixture files
 * (tests/fixtures/proc/...).  Fields the input does not contain (older
 * kernels, truncated reads) are left 0 and their bit in `present` is
 * clear; the parsers never read past `len` and accept input without a
 * trailing NUL or newline.  Numbers that overflow saturate at INT64_MAX.
 *
 * Return value: 0 when the essential field(s) were found, -1 otherwise
 * (garbage, empty, wrong file).
 */
#ifndef PM_PROCFS_H
#define PM_PROCFS_H

#include <stddef.h>
#include <stdint.h>

/* /proc/meminfo, values in kB as the kernel prints them. Essential: MemTotal. */
enum {
    PM_MI_TOTAL, PM_MI_FREE, PM_MI_AVAILABLE, PM_MI_BUFFERS, PM_MI_CACHED, PM_MI_ANON,
    PM_MI_DIRTY, PM_MI_UNEVICTABLE, PM_MI_MLOCKED, PM_MI_SWAP_TOTAL, PM_MI_SWAP_FREE,
    PM_MI_ZSWAP, PM_MI_SHMEM, PM_MI_N
};
struct pm_meminfo {
    int64_t kb[PM_MI_N];
    uint32_t present;               /* bit PM_MI_x */
};
int pm_parse_meminfo(const char *buf, size_t len, struct pm_meminfo *out);

/* /proc/vmstat. Sums: pgscan = pgscan_kswapd + pgscan_direct (+ _khugepaged);
 * pgsteal likewise; allocstall = all allocstall_* (or the old single
 * `allocstall`); refault = workingset_refault_anon + _file (or the old single
 * workingset_refault).  Essential: at least one known key. */
enum {
    PM_VM_PGFAULT, PM_VM_PGMAJFAULT, PM_VM_PSWPIN, PM_VM_PSWPOUT, PM_VM_PGSCAN, PM_VM_PGSTEAL,
    PM_VM_REFAULT, PM_VM_ALLOCSTALL, PM_VM_OOM_KILL, PM_VM_PGPGIN, PM_VM_PGPGOUT, PM_VM_N
};
struct pm_vmstat {
    int64_t v[PM_VM_N];
    uint32_t present;
};
int pm_parse_vmstat(const char *buf, size_t len, struct pm_vmstat *out);

/* One cpu line of /proc/stat, in USER_HZ ticks.  Older kernels have fewer
 * columns: missing ones are 0. */
struct pm_cpu_times {
    int64_t user, nice, system, idle, iowait, irq, softirq, steal, guest, guest_nice;
};
/* /proc/stat.  `cpus` is a caller array of `cpus_cap` entries filled with the
 * per-CPU lines in order of appearance (ncpu = how many; extra CPUs beyond
 * cpus_cap are counted in ncpu_seen but not stored).  Essential: the "cpu "
 * line. */
enum { PM_ST_CTXT = 1, PM_ST_PROCESSES = 2, PM_ST_RUNNING = 4, PM_ST_BLOCKED = 8 };
struct pm_stat {
    struct pm_cpu_times total;
    int ncpu;                       /* entries stored in cpus[] */
    int ncpu_seen;
    int64_t ctxt, processes, procs_running, procs_blocked;
    uint32_t present;               /* PM_ST_* */
};
int pm_parse_stat(const char *buf, size_t len, struct pm_stat *out, struct pm_cpu_times *cpus,
                  int cpus_cap);

/* /proc/loadavg: "0.52 0.58 0.59 2/301 12345". */
struct pm_loadavg {
    int64_t load1_milli, load5_milli, load15_milli;
    int64_t runnable, threads, last_pid;
};
int pm_parse_loadavg(const char *buf, size_t len, struct pm_loadavg *out);

/* /proc/pressure/{cpu,memory,io} and cgroup *.pressure:
 *   some avg10=0.00 avg60=0.00 avg300=0.00 total=0
 *   full avg10=0.00 avg60=0.00 avg300=0.00 total=0
 * avg values are stored x100 (0.42% -> 42).  cpu has "full" only on
 * kernels >= 5.13.  Essential: the some line. */
struct pm_psi_line {
    int present;
    int64_t avg10_c, avg60_c, avg300_c; /* percent x 100 */
    int64_t total_us;
};
struct pm_psi {
    struct pm_psi_line some, full;
};
int pm_parse_psi(const char *buf, size_t len, struct pm_psi *out);

/* /proc/PID/stat.  comm may contain spaces and ')' : it is everything between
 * the first '(' and the last ')'.  Times in USER_HZ ticks, rss in pages. */
struct pm_pid_stat {
    int64_t pid;
    char comm[32];
    char state;
    int64_t ppid, pgrp, session;
    int64_t minflt, majflt, utime, stime;
    int64_t num_threads, starttime, vsize, rss;
};
int pm_parse_pid_stat(const char *buf, size_t len, struct pm_pid_stat *out);

/* /proc/PID/statm: size resident shared text lib data dt, in pages. */
struct pm_pid_statm {
    int64_t size, resident, shared;
};
int pm_parse_pid_statm(const char *buf, size_t len, struct pm_pid_statm *out);

/* /proc/PID/schedstat: "run_ns wait_ns timeslices".  Only the first field
 * is kept: the main thread's time on a CPU in ns (se.sum_exec_runtime,
 * maintained with or without CONFIG_SCHEDSTATS; a kernel without
 * CONFIG_SCHED_INFO prints "0 0 0").  Needs all three fields and the
 * newline (a last number without one may be cut); the fields after the
 * first are only checked to be numbers. */
int pm_parse_pid_schedstat(const char *buf, size_t len, int64_t *run_ns);

/* /proc/PID/io (readable for own-user processes; root for others). */
enum { PM_IO_RCHAR = 1, PM_IO_WCHAR = 2, PM_IO_READ = 4, PM_IO_WRITE = 8, PM_IO_CANCELLED = 16 };
struct pm_pid_io {
    int64_t rchar, wchar, read_bytes, write_bytes, cancelled_write_bytes;
    uint32_t present;
};
int pm_parse_pid_io(const char *buf, size_t len, struct pm_pid_io *out);

/* /proc/PID/cmdline (NUL-separated) -> out, NUL-separated, at most cap bytes,
 * always ending in NUL; an argument cut by the cap is cut, not dropped.
 * Returns the number of bytes written (including the last NUL), 0 if empty
 * (kernel threads, zombies). */
size_t pm_parse_cmdline(const char *buf, size_t len, char *out, size_t cap);

/* /proc/PID/cgroup: the cgroup v2 path ("0::/user.slice/x") into out.
 * Returns 0, or -1 if there is no v2 line. */
int pm_parse_cgroup_v2(const char *buf, size_t len, char *out, size_t cap);

/* A file holding one integer (thermal_zone temp, memory.current,
 * cpufreq/throttle counts).  Returns 0 and *v, or -1. */
int pm_parse_int(const char *buf, size_t len, int64_t *v);

/* A cgroup memory limit in bytes: v2 memory.max / memory.high ("max" when
 * none is set) or v1 memory.limit_in_bytes, which says "none" with
 * PAGE_COUNTER_MAX pages in bytes (9223372036854771712 with 4 KiB pages:
 * LONG_MAX rounded down to a page; 9223372036854710272 with 64 KiB pages).
 * Returns 0 and *bytes for a limit, 1 for none ("max", or 2^62 bytes and
 * more: 4 EiB, no machine's memory), -1 if the file holds neither. */
int pm_parse_cg_limit(const char *buf, size_t len, int64_t *bytes);

/* /sys/class/thermal/cooling_deviceN/type: 1 if the kernel slows the CPU
 * down with this device, 0 if not.  CPU devices: ACPI "Processor" (P-state
 * limits, then T-state clock modulation), "intel_powerclamp" (forced idle),
 * cpufreq cooling ("cpufreq-cpuN"; "thermal-cpufreq-N" on older kernels)
 * and cpuidle cooling ("idle-cpuN"; "thermal-idle-N").  Everything else is
 * not: fans (a fan at full speed cools, it slows nothing down), "TCC
 * Offset" (a standing setting of the temperature at which the CPU
 * throttles itself; the throttling it causes is in the thermal_throttle
 * counters), "LCD" (backlight), devfreq (GPU, memory bus), radios. */
int pm_cooling_type_is_cpu(const char *buf, size_t len);

/* cooling_deviceN/cur_state, as a percent (0..100, rounded) of the
 * device's max_state, which must be > 0.  A negative state is 0: the
 * older intel_powerclamp reads -1 while it injects no idle.  A state
 * above max_state is 100.  Returns 0 and *pct, or -1 (not one integer,
 * max_state <= 0). */
int pm_parse_cooling_pct(const char *buf, size_t len, int64_t max_state, int64_t *pct);

/* Flat "key value" files (cgroup memory.events, memory.stat): the value of
 * `key`, or -1 if absent. */
int pm_parse_keyed(const char *buf, size_t len, const char *key, int64_t *v);

#endif
