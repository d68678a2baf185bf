/*
 * Linux system sampling: /proc/meminfo, vmstat, stat, loadavg, PSI, the
 * run's cgroup pressure, thermal zones, throttle counters and cooling
 * devices.
 *
 * Every file is opened once and re-read with pread at offset 0: procfs
 * regenerates the content on each read, and keeping the fd saves ~0.9 µs
 * per file per tick (DESIGN §5).  The read path allocates nothing: one
 * buffer and the previous counter values are allocated at open.
 * Optional sources (PSI before 4.20, thermal zones, cooling devices,
 * cgroup files) that are absent are simply not opened: their columns stay
 * NULL.  The /sys files are found under pm_sys_opts.sysfs_root ("/sys"
 * unless a test points it at a fixture tree, tests/fixtures/sysfs/).
 *
 * Three sources are read on their own, slower cadence (platform.h):
 * reading /proc/vmstat cold after the timer wakeup costs ~24 µs, a fifth of
 * a tick, and its counters (faults, swap, reclaim, refaults, stalls, OOM
 * kills, pgpgin/out) say all they have to say at 10 Hz; /proc/stat costs
 * ~26 µs (the kernel walks every IRQ for its `intr` line) and its CPU times
 * are in USER_HZ ticks of 10 ms: read every 10 ms, a CPU's delta is 0, 1 or
 * 2 ticks, quantization noise, while every 40 ms it resolves a CPU's busy
 * share in steps of 25% (PSI's cpu `some` counter, in µs and read every
 * tick, carries the fine-grained CPU contention); the kernel recomputes
 * /proc/loadavg only every 5 s.  On the ticks in between their columns are
 * NULL, and the next counter delta spans every tick since the last read
 * (catalog.h).
 *
 * The run's cgroup: its PSI files are read every tick, its memory usage
 * every tick while a limit (memory.max or memory.high) binds it and every
 * 100 ms while none does, its memory limits once a second (they change
 * only when someone writes them).  The memory files come from cgroup2 (memory.current, memory.max,
 * memory.high) or, on hybrid hosts where the memory controller is on v1,
 * from the v1 memory hierarchy (memory.usage_in_bytes,
 * memory.limit_in_bytes); the cgroup's directory in either is resolved by
 * pm_cgroup_dir (cgoom.c), like the oom_kill counter's.  A limit set on an
 * ancestor binds the run as much as its own: the limit stored is the
 * lowest of the cgroup's and its ancestors' up to the mount point (at most
 * MAX_CG_LEVELS of them).  cg_mem_headroom_pct is computed on every tick
 * from the usage and the limit last read.
 *
 * The cooling devices have their own cadence too, every 100 ms: the
 * thermal governor changes a device's state only when it updates its zone
 * (on a trip interrupt, or once per passive polling period, 100 ms to
 * seconds), and every device costs a pread, ~1 µs hot and ~4 µs after a
 * sleep for a sysfs attribute on this VM (measured on
 * cpu0/topology/core_id: the VM has no cooling devices).  cooling_max_pct
 * is NULL on the ticks in between.
 */
#include "../platform.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgoom.h"
#include "procfs.h"

#define MAX_CPUS 1024
#define MAX_THERMAL 32
/* ACPI has one Processor cooling device per CPU: 64 of them are 64 preads
 * (~0.26 ms) every 100 ms.  Beyond that they are not read; the CPUs of one
 * thermal zone are normally given the same state by its governor. */
#define MAX_COOLING 64
#define COOLING_PERIOD_NS (100LL * 1000 * 1000)
#define BUF_SIZE (256 * 1024) /* /proc/stat of 1024 CPUs fits */
#define VMSTAT_PERIOD_NS (100LL * 1000 * 1000)
#define STAT_PERIOD_NS (40LL * 1000 * 1000)
#define LOADAVG_PERIOD_NS (1000LL * 1000 * 1000)
#define CG_LIMIT_PERIOD_NS (1000LL * 1000 * 1000)
/* The cgroup's usage while it has no limit: context, not the edge an OOM
 * kill comes from, so read at vmstat's pace (a cold v1
 * memory.usage_in_bytes read cost 13-16 µs per 100 Hz tick here: 0.14
 * points of a core).  With a limit, every tick. */
#define CG_USAGE_UNLIMITED_PERIOD_NS VMSTAT_PERIOD_NS
/* The run's cgroup and its ancestors whose limits are read: a systemd
 * service is 3 levels below the root (system.slice/x.service), a
 * Kubernetes container 4-5 (kubepods.slice/...-pod.slice/cri-x.scope). */
#define MAX_CG_LEVELS 8

enum { PSI_CPU, PSI_MEM, PSI_IO, PSI_N };

struct pm_sys {
    int fd_meminfo, fd_vmstat, fd_stat, fd_loadavg;
    int fd_psi[PSI_N];
    int fd_cg_psi[PSI_N];
    int fd_cg_memcur;                  /* v2 memory.current or v1 memory.usage_in_bytes */
    int fd_cg_max[MAX_CG_LEVELS];      /* memory.max or v1 memory.limit_in_bytes, leaf first */
    int fd_cg_high[MAX_CG_LEVELS];     /* memory.high (v2 only) */
    int ncg_max, ncg_high;
    int64_t cg_limit_at;               /* tick_ns of their last read */
    int64_t cg_max;                    /* the limit last read, bytes; -1 none */
    int cg_limited;                    /* memory.max or memory.high set, at the last read */
    int64_t cg_memcur_at;              /* tick_ns of the last usage read */
    int fd_temp[MAX_THERMAL];
    int ntemp;
    int fd_throttle[MAX_THERMAL];
    int nthrottle;
    int fd_cooling[MAX_COOLING];       /* cur_state of the CPU cooling devices */
    int64_t cooling_max[MAX_COOLING];  /* their max_state (> 0), constant: read at open */
    int ncooling;
    int64_t cooling_at;                /* tick_ns of their last read */
    int64_t us_per_tick; /* /proc/stat is in USER_HZ ticks */
    int primed;          /* previous counters are valid */
    int64_t vmstat_at, stat_at, loadavg_at; /* tick_ns of their last read */

    struct pm_vmstat prev_vm;
    struct pm_stat prev_stat;
    struct pm_psi prev_psi[PSI_N], prev_cg_psi[PSI_N];
    int64_t prev_throttle;
    struct pm_cpu_times *cpus, *prev_cpus;
    int prev_ncpu;
    char *buf;
};

static int open_ro(const char *path)
{
    return open(path, O_RDONLY | O_CLOEXEC);
}

/* pread the whole file into s->buf; returns length or -1. */
static ssize_t slurp(struct pm_sys *s, int fd)
{
    if (fd < 0)
        return -1;
    ssize_t n = pread(fd, s->buf, BUF_SIZE, 0);
    return n > 0 ? n : -1;
}

static void append(char *out, size_t cap, const char *word)
{
    size_t l = strlen(out);
    snprintf(out + l, cap - l, "%s%s", l ? " " : "", word);
}

/* A whole small file (open time only) into buf, NUL-terminated: its length,
 * or -1. */
static ssize_t slurp_path(const char *path, char *buf, size_t cap)
{
    int fd = open_ro(path);
    if (fd < 0)
        return -1;
    size_t got = 0;
    ssize_t n;
    while (got < cap - 1 && (n = read(fd, buf + got, cap - 1 - got)) > 0)
        got += (size_t)n;
    close(fd);
    buf[got] = '\0';
    return (ssize_t)got;
}

static int exists(const char *dir, const char *file)
{
    char path[1100];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    return access(path, F_OK) == 0;
}

/* Open `file` in dir and in each ancestor of dir down to the mount point
 * (the first mnt_len bytes of dir), at most MAX_CG_LEVELS. */
static int open_levels(const char *dir, size_t mnt_len, const char *file, int *fds)
{
    char d[1024], path[1100];
    snprintf(d, sizeof(d), "%s", dir);
    int n = 0;
    while (n < MAX_CG_LEVELS) {
        snprintf(path, sizeof(path), "%s/%s", d, file);
        int fd = open_ro(path);
        if (fd >= 0)
            fds[n++] = fd;
        char *slash = strrchr(d, '/');
        if (strlen(d) <= mnt_len || !slash || (size_t)(slash - d) < mnt_len)
            break;
        *slash = '\0';
    }
    return n;
}

/* The run's cgroup (that of `pid`, pressmon itself before the command is
 * exec'd): PSI and memory from cgroup2, memory from the v1 memory
 * controller where cgroup2 has none.  Everything is found under `root`
 * ("" normally; a fixture tree in tests): ROOT/proc/PID/cgroup,
 * ROOT/proc/self/mountinfo and the mount points it lists. */
static void open_cgroup(struct pm_sys *s, pid_t pid, const char *root, char *sources, size_t slen)
{
    char path[1100], dir[1024];
    size_t mnt_len;
    /* s->buf (256 KiB) holds both files: /proc/PID/cgroup in its first
     * 16 KiB, mountinfo in the rest. */
    char *cg = s->buf, *mi = s->buf + 16384;
    snprintf(path, sizeof(path), "%s/proc/%d/cgroup", root, (int)pid);
    ssize_t cn = slurp_path(path, cg, 16384);
    snprintf(path, sizeof(path), "%s/proc/self/mountinfo", root);
    ssize_t mn = slurp_path(path, mi, BUF_SIZE - 16384);
    if (cn <= 0 || mn <= 0)
        return;
    int mem = 0, any = 0;
    if (pm_cgroup_dir(cg, (size_t)cn, mi, (size_t)mn, 0, path, sizeof(path), &mnt_len) == 0 &&
        snprintf(dir, sizeof(dir), "%s%s", root, path) < (int)sizeof(dir)) {
        mnt_len += strlen(root);
        /* The root cgroup's pressure is the system's: only a sub-cgroup
         * says something the system columns do not.  But in a cgroup
         * namespace (a container) the process sees its own cgroup as "/"
         * ("0::/") at the mount's root, just like a process of the true
         * root cgroup.  The kernel gives the true root no memory.current
         * and no memory.max (they are the whole machine's), while every
         * other cgroup with the memory controller has them: their presence
         * at the mount root says it is a container's cgroup.  A container
         * whose cgroup has no memory controller enabled is taken for the
         * root, and its PSI is not read either. */
        if (strlen(dir) > mnt_len || exists(dir, "memory.current")) {
            static const char *const files[PSI_N] = {"cpu.pressure", "memory.pressure", "io.pressure"};
            for (int i = 0; i < PSI_N; i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
                s->fd_cg_psi[i] = open_ro(path);
                any |= s->fd_cg_psi[i] >= 0;
            }
            snprintf(path, sizeof(path), "%s/memory.current", dir);
            s->fd_cg_memcur = open_ro(path);
            if (s->fd_cg_memcur >= 0) {
                mem = 1;
                s->ncg_max = open_levels(dir, mnt_len, "memory.max", s->fd_cg_max);
                s->ncg_high = open_levels(dir, mnt_len, "memory.high", s->fd_cg_high);
            }
        }
    }
    /* Hybrid hosts: the memory controller is on v1, cgroup2 has none.  The
     * v1 root memory cgroup does have memory.usage_in_bytes (the whole
     * machine's) and an unlimited memory.limit_in_bytes; it is skipped
     * unless it is a v1 cgroup namespace's root, which has no
     * cgroup.sane_behavior (a file only the hierarchy's true root has). */
    if (!mem && pm_cgroup_dir(cg, (size_t)cn, mi, (size_t)mn, 1, path, sizeof(path), &mnt_len) == 0 &&
        snprintf(dir, sizeof(dir), "%s%s", root, path) < (int)sizeof(dir)) {
        mnt_len += strlen(root);
        if (strlen(dir) > mnt_len || !exists(dir, "cgroup.sane_behavior")) {
            snprintf(path, sizeof(path), "%s/memory.usage_in_bytes", dir);
            s->fd_cg_memcur = open_ro(path);
            if (s->fd_cg_memcur >= 0) {
                s->ncg_max = open_levels(dir, mnt_len, "memory.limit_in_bytes", s->fd_cg_max);
                append(sources, slen, any ? "cgroup cgroup-v1-memory" : "cgroup-v1-memory");
                return;
            }
        }
    }
    if (any || mem)
        append(sources, slen, "cgroup");
}

static void open_thermal(struct pm_sys *s, const char *sysfs, char *sources, size_t slen)
{
    char dir[512], path[1024];
    snprintf(dir, sizeof(dir), "%s/class/thermal", sysfs);
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) && s->ntemp < MAX_THERMAL) {
            if (strncmp(e->d_name, "thermal_zone", 12) != 0)
                continue;
            snprintf(path, sizeof(path), "%s/%s/temp", dir, e->d_name);
            int fd = open_ro(path);
            if (fd >= 0)
                s->fd_temp[s->ntemp++] = fd;
        }
        closedir(d);
    }
    snprintf(dir, sizeof(dir), "%s/devices/system/cpu", sysfs);
    d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) && s->nthrottle < MAX_THERMAL) {
            if (strncmp(e->d_name, "cpu", 3) != 0 || e->d_name[3] < '0' || e->d_name[3] > '9')
                continue;
            snprintf(path, sizeof(path), "%s/%s/thermal_throttle/core_throttle_count", dir, e->d_name);
            int fd = open_ro(path);
            if (fd >= 0)
                s->fd_throttle[s->nthrottle++] = fd;
        }
        closedir(d);
    }
    if (s->ntemp)
        append(sources, slen, "thermal");
    if (s->nthrottle)
        append(sources, slen, "throttle");
}

/* One small sysfs file into s->buf (open time only): its length, or -1. */
static ssize_t read_small(struct pm_sys *s, const char *path)
{
    int fd = open_ro(path);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, s->buf, 4096);
    close(fd);
    return n > 0 ? n : -1;
}

/* The cooling devices that slow the CPU down (pm_cooling_type_is_cpu):
 * type and max_state are read once here (max_state is fixed when the
 * driver registers the device), cur_state is kept open and re-read.  A
 * device whose max_state is missing, not a number or 0 has no range to
 * take a percent of and is left out. */
static void open_cooling(struct pm_sys *s, const char *sysfs, char *sources, size_t slen)
{
    char dir[512], path[1024];
    snprintf(dir, sizeof(dir), "%s/class/thermal", sysfs);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) && s->ncooling < MAX_COOLING) {
        if (strncmp(e->d_name, "cooling_device", 14) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s/type", dir, e->d_name);
        ssize_t n = read_small(s, path);
        if (n < 0 || !pm_cooling_type_is_cpu(s->buf, (size_t)n))
            continue;
        int64_t max;
        snprintf(path, sizeof(path), "%s/%s/max_state", dir, e->d_name);
        n = read_small(s, path);
        if (n < 0 || pm_parse_int(s->buf, (size_t)n, &max) != 0 || max <= 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s/cur_state", dir, e->d_name);
        int fd = open_ro(path);
        if (fd < 0)
            continue;
        s->fd_cooling[s->ncooling] = fd;
        s->cooling_max[s->ncooling++] = max;
    }
    closedir(d);
    if (s->ncooling)
        append(sources, slen, "cooling");
}

/* cooling_max_pct: the highest state, in percent of its device's range,
 * of the cooling devices that could be read; absent if none could. */
static void read_cooling(struct pm_sys *s, struct pm_sys_rec *r)
{
    int64_t best = -1, pct;
    for (int i = 0; i < s->ncooling; i++) {
        ssize_t n = slurp(s, s->fd_cooling[i]);
        if (n > 0 && pm_parse_cooling_pct(s->buf, (size_t)n, s->cooling_max[i], &pct) == 0 && pct > best)
            best = pct;
    }
    if (best >= 0) {
        r->v[PM_M_COOLING_MAX] = best;
        r->present |= UINT64_C(1) << PM_M_COOLING_MAX;
    }
}

struct pm_sys *pm_sys_open(const struct pm_sys_opts *o, char *sources, size_t slen, char *err, size_t errlen)
{
    struct pm_sys *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->buf = malloc(BUF_SIZE);
    s->cpus = calloc(MAX_CPUS, sizeof(*s->cpus));
    s->prev_cpus = calloc(MAX_CPUS, sizeof(*s->prev_cpus));
    if (!s->buf || !s->cpus || !s->prev_cpus) {
        snprintf(err, errlen, "out of memory");
        pm_sys_close(s);
        return NULL;
    }
    for (int i = 0; i < PSI_N; i++)
        s->fd_psi[i] = s->fd_cg_psi[i] = -1;
    s->fd_cg_memcur = -1;
    s->cg_max = -1;
    for (int i = 0; i < MAX_CG_LEVELS; i++)
        s->fd_cg_max[i] = s->fd_cg_high[i] = -1;
    long hz = sysconf(_SC_CLK_TCK);
    s->us_per_tick = hz > 0 ? 1000000 / hz : 10000;
    sources[0] = '\0';

    s->fd_meminfo = open_ro("/proc/meminfo");
    s->fd_vmstat = open_ro("/proc/vmstat");
    s->fd_stat = open_ro("/proc/stat");
    s->fd_loadavg = open_ro("/proc/loadavg");
    if (s->fd_meminfo < 0 || s->fd_stat < 0) {
        snprintf(err, errlen, "cannot read /proc/meminfo or /proc/stat: %s (is /proc mounted?)",
                 strerror(errno));
        pm_sys_close(s);
        return NULL;
    }
    append(sources, slen, "meminfo");
    if (s->fd_vmstat >= 0)
        append(sources, slen, "vmstat");
    append(sources, slen, "stat");
    if (s->fd_loadavg >= 0)
        append(sources, slen, "loadavg");
    static const char *const psi[PSI_N] = {"/proc/pressure/cpu", "/proc/pressure/memory", "/proc/pressure/io"};
    int any_psi = 0;
    for (int i = 0; i < PSI_N; i++) {
        s->fd_psi[i] = open_ro(psi[i]);
        /* With CONFIG_PSI but psi=0 on the command line the file opens
         * and reads fail with EOPNOTSUPP: treat as absent. */
        if (s->fd_psi[i] >= 0 && pread(s->fd_psi[i], s->buf, 256, 0) <= 0) {
            close(s->fd_psi[i]);
            s->fd_psi[i] = -1;
        }
        any_psi |= s->fd_psi[i] >= 0;
    }
    if (any_psi)
        append(sources, slen, "psi");
    if (o && o->cgroup_pid > 0)
        open_cgroup(s, o->cgroup_pid, o->root_dir ? o->root_dir : "", sources, slen);
    const char *sysfs = o && o->sysfs_root && *o->sysfs_root ? o->sysfs_root : "/sys";
    open_thermal(s, sysfs, sources, slen);
    open_cooling(s, sysfs, sources, slen);
    return s;
}

void pm_sys_close(struct pm_sys *s)
{
    if (!s)
        return;
    int fds[] = {s->fd_meminfo, s->fd_vmstat, s->fd_stat, s->fd_loadavg, s->fd_cg_memcur};
    for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
        if (fds[i] > 0)
            close(fds[i]);
    for (int i = 0; i < PSI_N; i++) {
        if (s->fd_psi[i] >= 0)
            close(s->fd_psi[i]);
        if (s->fd_cg_psi[i] >= 0)
            close(s->fd_cg_psi[i]);
    }
    for (int i = 0; i < s->ntemp; i++)
        close(s->fd_temp[i]);
    for (int i = 0; i < s->nthrottle; i++)
        close(s->fd_throttle[i]);
    for (int i = 0; i < s->ncooling; i++)
        close(s->fd_cooling[i]);
    for (int i = 0; i < s->ncg_max; i++)
        close(s->fd_cg_max[i]);
    for (int i = 0; i < s->ncg_high; i++)
        close(s->fd_cg_high[i]);
    free(s->buf);
    free(s->cpus);
    free(s->prev_cpus);
    free(s);
}

#define SET(rec, id, val)                                  \
    do {                                                   \
        (rec)->v[PM_M_##id] = (val);                       \
        (rec)->present |= UINT64_C(1) << PM_M_##id;        \
    } while (0)

/* Counter delta, or nothing on the first sample / after a reset. */
#define DELTA(rec, id, cur, prev, primed)                  \
    do {                                                   \
        if ((primed) && (cur) >= (prev))                   \
            SET(rec, id, (cur) - (prev));                  \
    } while (0)

static void read_meminfo(struct pm_sys *s, struct pm_sys_rec *r)
{
    struct pm_meminfo mi;
    ssize_t n = slurp(s, s->fd_meminfo);
    if (n < 0 || pm_parse_meminfo(s->buf, (size_t)n, &mi) != 0)
        return;
#define HAS(f) (mi.present & (1u << PM_MI_##f))
    int64_t avail = -1;
    if (HAS(AVAILABLE))
        avail = mi.kb[PM_MI_AVAILABLE];
    else if (HAS(FREE) && HAS(CACHED)) /* kernels before 3.14 */
        avail = mi.kb[PM_MI_FREE] + mi.kb[PM_MI_CACHED] + mi.kb[PM_MI_BUFFERS];
    if (avail >= 0) {
        SET(r, MEM_AVAILABLE, avail);
        if (HAS(TOTAL) && mi.kb[PM_MI_TOTAL] > 0)
            SET(r, MEM_LEVEL, avail * 100 / mi.kb[PM_MI_TOTAL]);
    }
    if (HAS(FREE))
        SET(r, MEM_FREE, mi.kb[PM_MI_FREE]);
    if (HAS(CACHED))
        SET(r, MEM_CACHED, mi.kb[PM_MI_CACHED]);
    if (HAS(ANON))
        SET(r, MEM_ANON, mi.kb[PM_MI_ANON]);
    if (HAS(DIRTY))
        SET(r, MEM_DIRTY, mi.kb[PM_MI_DIRTY]);
    if (HAS(UNEVICTABLE)) /* Mlocked pages are a subset of Unevictable */
        SET(r, MEM_WIRED, mi.kb[PM_MI_UNEVICTABLE]);
    if (HAS(ZSWAP))
        SET(r, MEM_COMPRESSED, mi.kb[PM_MI_ZSWAP]);
    if (HAS(SWAP_TOTAL) && HAS(SWAP_FREE))
        SET(r, SWAP_USED, mi.kb[PM_MI_SWAP_TOTAL] - mi.kb[PM_MI_SWAP_FREE]);
#undef HAS
}

static void read_vmstat(struct pm_sys *s, struct pm_sys_rec *r, int primed)
{
    struct pm_vmstat vm;
    ssize_t n = slurp(s, s->fd_vmstat);
    if (n < 0 || pm_parse_vmstat(s->buf, (size_t)n, &vm) != 0)
        return;
    static const struct {
        int field, metric;
    } map[] = {
        {PM_VM_PGFAULT, PM_M_VM_PGFAULT},   {PM_VM_PGMAJFAULT, PM_M_VM_PGMAJFAULT},
        {PM_VM_PSWPIN, PM_M_VM_SWAPIN},     {PM_VM_PSWPOUT, PM_M_VM_SWAPOUT},
        {PM_VM_PGSCAN, PM_M_VM_PGSCAN},     {PM_VM_REFAULT, PM_M_VM_REFAULT},
        {PM_VM_ALLOCSTALL, PM_M_VM_ALLOCSTALL}, {PM_VM_OOM_KILL, PM_M_VM_OOM_KILL},
        {PM_VM_PGPGIN, PM_M_IO_READ},       {PM_VM_PGPGOUT, PM_M_IO_WRITE},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        uint32_t bit = 1u << map[i].field;
        if (!(vm.present & bit) || !(s->prev_vm.present & bit) || !primed)
            continue;
        int64_t d = vm.v[map[i].field] - s->prev_vm.v[map[i].field];
        if (d >= 0) {
            r->v[map[i].metric] = d;
            r->present |= UINT64_C(1) << map[i].metric;
        }
    }
    s->prev_vm = vm;
}

static int64_t cpu_total(const struct pm_cpu_times *c)
{
    /* guest time is already included in user/nice */
    return c->user + c->nice + c->system + c->idle + c->iowait + c->irq + c->softirq + c->steal;
}

static void read_stat(struct pm_sys *s, struct pm_sys_rec *r, int primed)
{
    struct pm_stat st;
    ssize_t n = slurp(s, s->fd_stat);
    if (n < 0 || pm_parse_stat(s->buf, (size_t)n, &st, s->cpus, MAX_CPUS) != 0)
        return;
    const struct pm_cpu_times *c = &st.total, *p = &s->prev_stat.total;
    int64_t t = s->us_per_tick;
    if (primed) {
        DELTA(r, CPU_USER, (c->user + c->nice) * t, (p->user + p->nice) * t, 1);
        DELTA(r, CPU_SYSTEM, (c->system + c->irq + c->softirq) * t, (p->system + p->irq + p->softirq) * t, 1);
        DELTA(r, CPU_IDLE, c->idle * t, p->idle * t, 1);
        DELTA(r, CPU_IOWAIT, c->iowait * t, p->iowait * t, 1);
        DELTA(r, CPU_STEAL, c->steal * t, p->steal * t, 1);
        if (st.present & PM_ST_CTXT)
            DELTA(r, CTXT, st.ctxt, s->prev_stat.ctxt, 1);
        if (st.present & PM_ST_PROCESSES)
            DELTA(r, FORKS, st.processes, s->prev_stat.processes, 1);
        /* The busiest CPU over the interval: a single saturated core is
         * invisible in the all-CPU average. */
        if (st.ncpu == s->prev_ncpu && st.ncpu > 0) {
            int64_t best = -1;
            for (int i = 0; i < st.ncpu; i++) {
                int64_t dt = cpu_total(&s->cpus[i]) - cpu_total(&s->prev_cpus[i]);
                int64_t di = (s->cpus[i].idle + s->cpus[i].iowait) -
                             (s->prev_cpus[i].idle + s->prev_cpus[i].iowait);
                if (dt <= 0)
                    continue;
                int64_t busy = (dt - di) * 1000 / dt;
                if (busy > best)
                    best = busy;
            }
            if (best >= 0)
                SET(r, CPU_BUSIEST, best < 0 ? 0 : best > 1000 ? 1000 : best);
        }
    }
    if (st.present & PM_ST_RUNNING)
        SET(r, PROCS_RUNNING, st.procs_running);
    if (st.present & PM_ST_BLOCKED)
        SET(r, PROCS_BLOCKED, st.procs_blocked);
    s->prev_stat = st;
    memcpy(s->prev_cpus, s->cpus, sizeof(*s->cpus) * (size_t)(st.ncpu < MAX_CPUS ? st.ncpu : MAX_CPUS));
    s->prev_ncpu = st.ncpu;
}

static void read_psi(struct pm_sys *s, int fd, struct pm_psi *prev, int some_id, int full_id,
                     struct pm_sys_rec *r, int primed)
{
    struct pm_psi p;
    ssize_t n = slurp(s, fd);
    if (n < 0 || pm_parse_psi(s->buf, (size_t)n, &p) != 0)
        return;
    if (primed && p.some.present && prev->some.present && p.some.total_us >= prev->some.total_us) {
        r->v[some_id] = p.some.total_us - prev->some.total_us;
        r->present |= UINT64_C(1) << some_id;
    }
    if (full_id >= 0 && primed && p.full.present && prev->full.present &&
        p.full.total_us >= prev->full.total_us) {
        r->v[full_id] = p.full.total_us - prev->full.total_us;
        r->present |= UINT64_C(1) << full_id;
    }
    *prev = p;
}

static int read_int_fd(struct pm_sys *s, int fd, int64_t *v)
{
    ssize_t n = slurp(s, fd);
    return n < 0 ? -1 : pm_parse_int(s->buf, (size_t)n, v);
}

/* The lowest limit among the files fds[0..n): 1 and *v in bytes, or 0 when
 * none sets one ("max", unlimited) or none could be read. */
static int cg_limit(struct pm_sys *s, const int *fds, int n, int64_t *v)
{
    int found = 0;
    for (int i = 0; i < n; i++) {
        int64_t b;
        ssize_t len = slurp(s, fds[i]);
        if (len > 0 && pm_parse_cg_limit(s->buf, (size_t)len, &b) == 0 && (!found || b < *v)) {
            *v = b;
            found = 1;
        }
    }
    return found;
}

/* Is a source of period `period` due at tick_ns?  Marks it read if so. */
static int due(int primed, int read_all, int64_t tick_ns, int64_t period, int64_t *last)
{
    if (primed && !read_all && tick_ns - *last < period)
        return 0;
    *last = tick_ns;
    return 1;
}

void pm_sys_read(struct pm_sys *s, int64_t tick_ns, int read_all, struct pm_sys_rec *r)
{
    int primed = s->primed;
    r->present = 0;
    read_meminfo(s, r);
    if (s->fd_vmstat >= 0 && due(primed, read_all, tick_ns, VMSTAT_PERIOD_NS, &s->vmstat_at))
        read_vmstat(s, r, primed);
    if (due(primed, read_all, tick_ns, STAT_PERIOD_NS, &s->stat_at))
        read_stat(s, r, primed);
    if (s->fd_loadavg >= 0 && due(primed, read_all, tick_ns, LOADAVG_PERIOD_NS, &s->loadavg_at)) {
        struct pm_loadavg la;
        ssize_t n = slurp(s, s->fd_loadavg);
        if (n > 0 && pm_parse_loadavg(s->buf, (size_t)n, &la) == 0)
            SET(r, LOAD1, la.load1_milli);
    }
    read_psi(s, s->fd_psi[PSI_CPU], &s->prev_psi[PSI_CPU], PM_M_PSI_CPU_SOME, PM_M_PSI_CPU_FULL, r, primed);
    read_psi(s, s->fd_psi[PSI_MEM], &s->prev_psi[PSI_MEM], PM_M_PSI_MEM_SOME, PM_M_PSI_MEM_FULL, r, primed);
    read_psi(s, s->fd_psi[PSI_IO], &s->prev_psi[PSI_IO], PM_M_PSI_IO_SOME, PM_M_PSI_IO_FULL, r, primed);
    if (s->fd_cg_psi[PSI_MEM] >= 0)
        read_psi(s, s->fd_cg_psi[PSI_MEM], &s->prev_cg_psi[PSI_MEM], PM_M_CG_MEM_SOME, PM_M_CG_MEM_FULL, r,
                 primed);
    if (s->fd_cg_psi[PSI_CPU] >= 0)
        read_psi(s, s->fd_cg_psi[PSI_CPU], &s->prev_cg_psi[PSI_CPU], PM_M_CG_CPU_SOME, -1, r, primed);
    if (s->fd_cg_psi[PSI_IO] >= 0)
        read_psi(s, s->fd_cg_psi[PSI_IO], &s->prev_cg_psi[PSI_IO], PM_M_CG_IO_SOME, -1, r, primed);
    int64_t v;
    if ((s->ncg_max || s->ncg_high) && due(primed, read_all, tick_ns, CG_LIMIT_PERIOD_NS, &s->cg_limit_at)) {
        s->cg_max = -1;
        s->cg_limited = 0;
        if (cg_limit(s, s->fd_cg_max, s->ncg_max, &v)) {
            SET(r, CG_MEM_MAX, v / 1024);
            s->cg_max = v;
            s->cg_limited = 1;
        }
        if (cg_limit(s, s->fd_cg_high, s->ncg_high, &v)) {
            SET(r, CG_MEM_HIGH, v / 1024);
            s->cg_limited = 1;
        }
    }
    if (s->fd_cg_memcur >= 0 &&
        (s->cg_limited || due(primed, read_all, tick_ns, CG_USAGE_UNLIMITED_PERIOD_NS, &s->cg_memcur_at)) &&
        read_int_fd(s, s->fd_cg_memcur, &v) == 0) {
        SET(r, CG_MEM_CURRENT, v / 1024);
        /* v1 usage can pass its limit a little (per-CPU charge batches):
         * no headroom is 0, not below. */
        if (s->cg_max > 0)
            SET(r, CG_MEM_HEADROOM, v >= s->cg_max ? 0 : (int64_t)((double)(s->cg_max - v) * 100 / (double)s->cg_max));
    }
    if (s->ntemp) {
        int64_t best = INT64_MIN;
        for (int i = 0; i < s->ntemp; i++)
            if (read_int_fd(s, s->fd_temp[i], &v) == 0 && v > best)
                best = v;
        if (best != INT64_MIN)
            SET(r, TEMP_MAX, best);
    }
    if (s->nthrottle) {
        int64_t sum = 0;
        for (int i = 0; i < s->nthrottle; i++)
            if (read_int_fd(s, s->fd_throttle[i], &v) == 0)
                sum += v;
        DELTA(r, THROTTLE, sum, s->prev_throttle, primed);
        s->prev_throttle = sum;
    }
    if (s->ncooling && due(primed, read_all, tick_ns, COOLING_PERIOD_NS, &s->cooling_at))
        read_cooling(s, r);
    s->primed = 1;
}
