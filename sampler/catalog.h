/*
 * The metric catalog: the one list of every metric pressmon records.
 *
 * Each system metric is one column of the `samples` table, each process
 * metric one column of `proc_samples`.  diff, export and push iterate this
 * table (and the `metrics` table the store fills from it); nothing else
 * lists the metrics again.  tests/unit/test_catalog.c checks that the SQL
 * schema has exactly these columns, in this order.
 *
 * Values are stored as integers: `scale` says how many stored units make one
 * `unit` (cpu_user_us is stored in microseconds, unit "seconds", scale 1e6).
 * Counters (kind PM_COUNTER) are stored as the delta since the previous
 * non-NULL value of the same column in the run, which keeps rows small;
 * NULL means "not read at this tick".  Most sources are read every tick,
 * but slow-moving, expensive ones are not (Linux /proc/vmstat at most every
 * 100 ms and /proc/stat every 40 ms, macOS HOST_VM_INFO64 once a second;
 * platform.h), so a counter's
 * delta may span several rows: a rate divides it by the time since the
 * previous non-NULL value of that column (or since the run's first row,
 * where every source is first read), never by the time since the previous
 * row.  The first sample of a run stores NULL for every counter.  Gauges
 * of a slow source (load1 on Linux, read once a second; procs_running,
 * procs_blocked and cpu_busiest_pm from /proc/stat; cooling_max_pct, read
 * every 100 ms; cg_mem_max_kb and cg_mem_high_kb, read once a second) are
 * NULL on the rows in between.  A metric this platform or
 * machine cannot read is NULL,
 * never 0.
 *
 * To add a metric: add a line here, a column in a new schema migration, and
 * the parser and fixture that produce it.
 */
#ifndef PM_CATALOG_H
#define PM_CATALOG_H

#include <stdint.h>

enum pm_kind { PM_GAUGE = 0, PM_COUNTER = 1 };

/* Which metrics are pressure-like: diff reports time spent above a
 * threshold for these (see cli/diff.c).  PM_LOWER_IS_WORSE marks gauges
 * where a low value is the bad one (memory available). */
enum pm_flags {
    PM_F_NONE = 0,
    PM_F_PRESSURE = 1,
    PM_F_LOWER_IS_WORSE = 2,
};

/*
 * X(ID, column, prometheus name, unit, scale, kind, flags, help)
 * Prometheus names follow its conventions: base units in the name,
 * `_total` on counters.
 */
#define PM_SYS_METRICS(X)                                                                                  \
    X(MEM_AVAILABLE, "mem_available_kb", "memory_available_bytes", "bytes", 1, PM_GAUGE,                  \
      PM_F_LOWER_IS_WORSE, "Memory available for new work without swapping (Linux MemAvailable; "         \
      "macOS free+speculative+file-backed+purgeable), stored in KiB")                                     \
    X(MEM_FREE, "mem_free_kb", "memory_free_bytes", "bytes", 1, PM_GAUGE, PM_F_NONE,                      \
      "Completely unused memory, stored in KiB")                                                           \
    X(MEM_CACHED, "mem_cached_kb", "memory_cached_bytes", "bytes", 1, PM_GAUGE, PM_F_NONE,                \
      "File-backed page cache (Linux Cached; macOS file-backed pages), stored in KiB")                    \
    X(MEM_ANON, "mem_anon_kb", "memory_anon_bytes", "bytes", 1, PM_GAUGE, PM_F_NONE,                      \
      "Anonymous memory (Linux AnonPages; macOS app memory), stored in KiB")                              \
    X(MEM_DIRTY, "mem_dirty_kb", "memory_dirty_bytes", "bytes", 1, PM_GAUGE, PM_F_NONE,                   \
      "Dirty page cache waiting for writeback, stored in KiB")                                             \
    X(MEM_WIRED, "mem_wired_kb", "memory_wired_bytes", "bytes", 1, PM_GAUGE, PM_F_NONE,                   \
      "Memory that cannot be paged out (Linux Unevictable+Mlocked; macOS wired), stored in KiB")          \
    X(MEM_COMPRESSED, "mem_compressed_kb", "memory_compressed_bytes", "bytes", 1, PM_GAUGE, PM_F_NONE,    \
      "Memory held by the compressor (macOS compressor; Linux zswap), stored in KiB")                     \
    X(SWAP_USED, "swap_used_kb", "swap_used_bytes", "bytes", 1, PM_GAUGE, PM_F_NONE,                      \
      "Swap space in use, stored in KiB")                                                                  \
    X(MEM_LEVEL, "mem_level_pct", "memory_level_percent", "percent", 1, PM_GAUGE,                         \
      PM_F_LOWER_IS_WORSE | PM_F_PRESSURE,                                                                 \
      "Percent of RAM usable without pressure (macOS kern.memorystatus_level; Linux "                      \
      "MemAvailable/MemTotal)")                                                                            \
    X(MEM_PRESSURE_LEVEL, "mem_pressure_level", "memory_pressure_level", "level", 1, PM_GAUGE,            \
      PM_F_PRESSURE, "macOS kern.memorystatus_vm_pressure_level: 1 normal, 2 warning, 4 critical")        \
    X(VM_PGFAULT, "vm_pgfault", "vm_page_faults_total", "faults", 1, PM_COUNTER, PM_F_NONE,               \
      "Page faults (minor and major)")                                                                     \
    X(VM_PGMAJFAULT, "vm_pgmajfault", "vm_major_page_faults_total", "faults", 1, PM_COUNTER,              \
      PM_F_PRESSURE, "Major page faults (needed IO; macOS pageins)")                                      \
    X(VM_SWAPIN, "vm_swapin", "vm_swapin_pages_total", "pages", 1, PM_COUNTER, PM_F_PRESSURE,             \
      "Pages swapped in")                                                                                  \
    X(VM_SWAPOUT, "vm_swapout", "vm_swapout_pages_total", "pages", 1, PM_COUNTER, PM_F_PRESSURE,          \
      "Pages swapped out")                                                                                 \
    X(VM_PGSCAN, "vm_pgscan", "vm_pages_scanned_total", "pages", 1, PM_COUNTER, PM_F_PRESSURE,            \
      "Pages scanned by reclaim (kswapd and direct)")                                                      \
    X(VM_REFAULT, "vm_refault", "vm_workingset_refaults_total", "pages", 1, PM_COUNTER, PM_F_PRESSURE,    \
      "Evicted pages faulted back in soon after (thrashing)")                                              \
    X(VM_ALLOCSTALL, "vm_allocstall", "vm_allocation_stalls_total", "stalls", 1, PM_COUNTER,              \
      PM_F_PRESSURE, "Allocations that had to reclaim directly")                                           \
    X(VM_OOM_KILL, "vm_oom_kill", "vm_oom_kills_total", "kills", 1, PM_COUNTER, PM_F_PRESSURE,            \
      "Processes killed by the kernel OOM killer")                                                         \
    X(IO_READ, "io_read_kb", "io_read_bytes_total", "bytes", 1, PM_COUNTER, PM_F_NONE,                    \
      "Bytes read from block devices (pgpgin), stored in KiB")                                             \
    X(IO_WRITE, "io_write_kb", "io_write_bytes_total", "bytes", 1, PM_COUNTER, PM_F_NONE,                 \
      "Bytes written to block devices (pgpgout), stored in KiB")                                           \
    X(CPU_USER, "cpu_user_us", "cpu_user_seconds_total", "seconds", 1000000, PM_COUNTER, PM_F_NONE,       \
      "CPU time in user mode, all CPUs (incl. nice)")                                                      \
    X(CPU_SYSTEM, "cpu_system_us", "cpu_system_seconds_total", "seconds", 1000000, PM_COUNTER,            \
      PM_F_NONE, "CPU time in kernel mode, all CPUs (incl. irq and softirq)")                              \
    X(CPU_IDLE, "cpu_idle_us", "cpu_idle_seconds_total", "seconds", 1000000, PM_COUNTER,                  \
      PM_F_LOWER_IS_WORSE, "CPU idle time, all CPUs")                                                      \
    X(CPU_IOWAIT, "cpu_iowait_us", "cpu_iowait_seconds_total", "seconds", 1000000, PM_COUNTER,            \
      PM_F_PRESSURE, "CPU idle time while IO was outstanding")                                             \
    X(CPU_STEAL, "cpu_steal_us", "cpu_steal_seconds_total", "seconds", 1000000, PM_COUNTER,               \
      PM_F_PRESSURE, "Time the hypervisor ran something else")                                             \
    X(CPU_BUSIEST, "cpu_busiest_pm", "cpu_busiest_ratio", "ratio", 1000, PM_GAUGE, PM_F_PRESSURE,         \
      "Busy fraction of the busiest CPU during the interval, in permille")                                 \
    X(CTXT, "ctxt", "context_switches_total", "switches", 1, PM_COUNTER, PM_F_NONE,                       \
      "Context switches")                                                                                  \
    X(FORKS, "forks", "forks_total", "forks", 1, PM_COUNTER, PM_F_NONE, "Processes and threads created")  \
    X(PROCS_RUNNING, "procs_running", "procs_running", "tasks", 1, PM_GAUGE, PM_F_PRESSURE,               \
      "Runnable tasks")                                                                                    \
    X(PROCS_BLOCKED, "procs_blocked", "procs_blocked", "tasks", 1, PM_GAUGE, PM_F_PRESSURE,               \
      "Tasks blocked on IO")                                                                               \
    X(LOAD1, "load1_milli", "load1", "load", 1000, PM_GAUGE, PM_F_PRESSURE, "1-minute load average")      \
    X(PSI_CPU_SOME, "psi_cpu_some_us", "pressure_cpu_waiting_seconds_total", "seconds", 1000000,          \
      PM_COUNTER, PM_F_PRESSURE, "PSI: time some tasks waited for a CPU")                                  \
    X(PSI_CPU_FULL, "psi_cpu_full_us", "pressure_cpu_stalled_seconds_total", "seconds", 1000000,          \
      PM_COUNTER, PM_F_PRESSURE, "PSI: time all non-idle tasks waited for a CPU")                          \
    X(PSI_MEM_SOME, "psi_mem_some_us", "pressure_memory_waiting_seconds_total", "seconds", 1000000,       \
      PM_COUNTER, PM_F_PRESSURE, "PSI: time some tasks stalled on memory")                                 \
    X(PSI_MEM_FULL, "psi_mem_full_us", "pressure_memory_stalled_seconds_total", "seconds", 1000000,       \
      PM_COUNTER, PM_F_PRESSURE, "PSI: time all non-idle tasks stalled on memory")                         \
    X(PSI_IO_SOME, "psi_io_some_us", "pressure_io_waiting_seconds_total", "seconds", 1000000, PM_COUNTER, \
      PM_F_PRESSURE, "PSI: time some tasks stalled on IO")                                                 \
    X(PSI_IO_FULL, "psi_io_full_us", "pressure_io_stalled_seconds_total", "seconds", 1000000, PM_COUNTER, \
      PM_F_PRESSURE, "PSI: time all non-idle tasks stalled on IO")                                         \
    X(CG_MEM_SOME, "cg_mem_some_us", "cgroup_pressure_memory_waiting_seconds_total", "seconds", 1000000,  \
      PM_COUNTER, PM_F_PRESSURE, "PSI of the run's cgroup: time some tasks stalled on memory")             \
    X(CG_MEM_FULL, "cg_mem_full_us", "cgroup_pressure_memory_stalled_seconds_total", "seconds", 1000000,  \
      PM_COUNTER, PM_F_PRESSURE, "PSI of the run's cgroup: time all tasks stalled on memory")              \
    X(CG_CPU_SOME, "cg_cpu_some_us", "cgroup_pressure_cpu_waiting_seconds_total", "seconds", 1000000,     \
      PM_COUNTER, PM_F_PRESSURE, "PSI of the run's cgroup: time some tasks waited for a CPU")              \
    X(CG_IO_SOME, "cg_io_some_us", "cgroup_pressure_io_waiting_seconds_total", "seconds", 1000000,        \
      PM_COUNTER, PM_F_PRESSURE, "PSI of the run's cgroup: time some tasks stalled on IO")                 \
    X(CG_MEM_CURRENT, "cg_mem_current_kb", "cgroup_memory_current_bytes", "bytes", 1, PM_GAUGE,           \
      PM_F_NONE, "Memory charged to the run's cgroup, stored in KiB")                                      \
    X(THERMAL_LEVEL, "thermal_level", "thermal_pressure_level", "level", 1, PM_GAUGE, PM_F_PRESSURE,      \
      "macOS thermal pressure: 0 nominal, 1 moderate, 2 heavy, 3 trapping, 4 sleeping")                    \
    X(TEMP_MAX, "temp_max_mc", "temperature_max_celsius", "celsius", 1000, PM_GAUGE, PM_F_PRESSURE,       \
      "Hottest thermal zone, in millidegrees Celsius")                                                     \
    X(THROTTLE, "throttle", "cpu_throttle_events_total", "events", 1, PM_COUNTER, PM_F_PRESSURE,          \
      "CPU thermal throttle events (Linux thermal_throttle counters)")                                     \
    X(COOLING_MAX, "cooling_max_pct", "cpu_cooling_max_percent", "percent", 1, PM_GAUGE, PM_F_PRESSURE,    \
      "Highest state of the CPU cooling devices the kernel throttles with, in percent of its range "       \
      "(Linux /sys/class/thermal: ACPI Processor, intel_powerclamp, cpufreq, idle injection; "             \
      "not fans; read every 100 ms)")                                                                      \
    X(CG_MEM_MAX, "cg_mem_max_kb", "cgroup_memory_max_bytes", "bytes", 1, PM_GAUGE, PM_F_NONE,            \
      "Memory limit of the run's cgroup: the lowest memory.max (v1 memory.limit_in_bytes) of its cgroup "  \
      "and the ancestors visible to it; NULL without one; read once a second, stored in KiB")               \
    X(CG_MEM_HIGH, "cg_mem_high_kb", "cgroup_memory_high_bytes", "bytes", 1, PM_GAUGE, PM_F_NONE,         \
      "Throttling threshold of the run's cgroup: the lowest memory.high of its cgroup and the ancestors "  \
      "visible to it (cgroup v2 only); NULL without one; read once a second, stored in KiB")               \
    X(CG_MEM_HEADROOM, "cg_mem_headroom_pct", "cgroup_memory_headroom_percent", "percent", 1, PM_GAUGE,   \
      PM_F_LOWER_IS_WORSE | PM_F_PRESSURE,                                                                 \
      "Percent of the run's cgroup memory limit not charged to it, (limit - usage) / limit, every tick "   \
      "against the last limit read; usage counts page cache the kernel reclaims before an OOM kill; "      \
      "NULL without a limit")

/* Process metrics: one column each in `proc_samples`. */
#define PM_PROC_METRICS(X)                                                                                 \
    X(P_RSS, "rss_kb", "process_resident_memory_bytes", "bytes", 1, PM_GAUGE, PM_F_NONE,                  \
      "Resident set size (macOS: physical footprint), stored in KiB")                                      \
    X(P_CPU_USER, "cpu_user_us", "process_cpu_user_seconds_total", "seconds", 1000000, PM_COUNTER,        \
      PM_F_NONE, "CPU time in user mode")                                                                  \
    X(P_CPU_SYSTEM, "cpu_system_us", "process_cpu_system_seconds_total", "seconds", 1000000, PM_COUNTER,  \
      PM_F_NONE, "CPU time in kernel mode")                                                                \
    X(P_THREADS, "threads", "process_threads", "threads", 1, PM_GAUGE, PM_F_NONE, "Threads")              \
    X(P_MINFLT, "minflt", "process_minor_faults_total", "faults", 1, PM_COUNTER, PM_F_NONE,               \
      "Minor page faults")                                                                                 \
    X(P_MAJFLT, "majflt", "process_major_faults_total", "faults", 1, PM_COUNTER, PM_F_NONE,               \
      "Major page faults")                                                                                 \
    X(P_READ, "read_kb", "process_read_bytes_total", "bytes", 1, PM_COUNTER, PM_F_NONE,                   \
      "Bytes read from storage, stored in KiB")                                                            \
    X(P_WRITE, "write_kb", "process_write_bytes_total", "bytes", 1, PM_COUNTER, PM_F_NONE,                \
      "Bytes written to storage, stored in KiB")

#define PM_X_ENUM(ID, ...) PM_M_##ID,
enum pm_sys_metric { PM_SYS_METRICS(PM_X_ENUM) PM_SYS_N };
enum pm_proc_metric { PM_PROC_METRICS(PM_X_ENUM) PM_PROC_N };
#undef PM_X_ENUM

enum pm_scope { PM_SCOPE_SYSTEM = 0, PM_SCOPE_PROCESS = 1 };

struct pm_metric {
    const char *column;   /* column in samples / proc_samples */
    const char *prom;     /* Prometheus name without the "pressmon_" prefix */
    const char *unit;     /* base unit after dividing by scale */
    int64_t scale;        /* stored value / scale = value in unit; columns ending in _kb
                             are KiB of a "bytes" metric: pm_metric_value() does it */
    enum pm_kind kind;
    unsigned flags;
    const char *help;
};

extern const struct pm_metric pm_sys_metrics[PM_SYS_N];
extern const struct pm_metric pm_proc_metrics[PM_PROC_N];

/* The catalog of one scope. */
const struct pm_metric *pm_catalog(enum pm_scope scope, int *count);

/* Stored integer -> value in the metric's unit (bytes, seconds, ...). */
double pm_metric_value(const struct pm_metric *m, int64_t stored);

/* Index of a column name in a scope, or -1. */
int pm_metric_find(enum pm_scope scope, const char *column);

#endif
