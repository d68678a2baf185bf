/*
 * Kill attribution from a private tracefs instance (see tracefs.h).
 *
 * Measured on kernel 6.18 (tests/fixtures/tracefs/): an OOM kill shows as a
 * signal_generate with sig=9 code=128 whose header task is the allocating
 * process, followed ~2 us later by mark_victim for the same pid.  A segfault
 * is signal_generate with code>0 (SEGV_MAPERR=1) sent by the victim itself;
 * abort() and `kill $$` are code<=0 from the victim itself.
 */
#include "tracefs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Signals whose default action ends the process.  SIGPROF and SIGVTALRM are
 * left out: profilers send them hundreds of times a second system-wide, and
 * a process killed by one is rare enough to be reported as "unknown".
 * Real-time signals are left out for the same reason (glibc uses 32/33).
 * result!=1 drops signals the target ignores (TRACE_SIGNAL_IGNORED). */
#define PM_KSIG_FILTER                                                                      \
    "(sig==1||sig==2||sig==3||sig==4||sig==5||sig==6||sig==7||sig==8||sig==9||sig==10||"   \
    "sig==11||sig==12||sig==13||sig==14||sig==15||sig==16||sig==24||sig==25||sig==29||"    \
    "sig==30||sig==31)&&result!=1"

#define KSIG_BUF 65536

/* What pm_ksig_tick writes to trace_marker, as trace_pipe shows it. */
#define PM_KSIG_SYNC_MARK ": tracing_mark_write: pressmon-sync "
#define SYNC_PERIOD_NS 1000000000LL
#define PARK_MARK "pressmon-park "

/* Above this many CPUs the instance's per-CPU buffer (1410 KiB by default,
 * allocated by mkdir) is shrunk to 256 KiB.  The resize costs an RCU grace
 * period (12-24 ms measured on the development VM) but saves 1.1 MiB of
 * kernel memory per CPU: 18 MiB at 16 CPUs, 215 MiB at 192. */
#define SHRINK_ABOVE_CPUS 16

struct pm_ksig {
    int fd;
    int marker_fd;          /* the instance's trace_marker (clock sync) */
    char dir[128];          /* the instance directory */
    int have_oom;           /* mark_victim enabled */
    int dir_fd;             /* the instance directory, flock()ed while ours */
    int synced;             /* offset_ns is known */
    int64_t want_sync;      /* the sync line that ends the lines to skip */
    int64_t offset_ns;      /* CLOCK_MONOTONIC minus the trace clock */
    int64_t sync_at;        /* CLOCK_MONOTONIC of the last sync line written */
    int64_t lost, garbled;
    size_t used;            /* bytes of an incomplete line at the start of buf */
    char buf[KSIG_BUF];
};

/* ---- parsing ------------------------------------------------------------ */

/* Parse a decimal integer (optional '-') in [p, end).  Returns the char
 * after it, or NULL when there is no digit.  Saturates instead of
 * overflowing. */
static const char *parse_ll(const char *p, const char *end, long long *v)
{
    int neg = 0;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    if (p >= end || *p < '0' || *p > '9')
        return NULL;
    long long x = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        int d = *p - '0';
        x = x > (LLONG_MAX - d) / 10 ? LLONG_MAX : x * 10 + d;
        p++;
    }
    *v = neg ? -x : x;
    return p;
}

/* The last occurrence of needle in [p, end), or NULL. */
static const char *rfind(const char *p, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    if ((size_t)(end - p) < n)
        return NULL;
    for (const char *q = end - n; q >= p; q--)
        if (!memcmp(q, needle, n))
            return q;
    return NULL;
}

static const char *find(const char *p, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *q = p; q + n <= end; q++)
        if (!memcmp(q, needle, n))
            return q;
    return NULL;
}

static void copy_span(char *dst, size_t cap, const char *a, const char *b)
{
    size_t n = (size_t)(b - a);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, a, n);
    dst[n] = '\0';
}

/* "key=<int>" at p; returns the position after the number or NULL. */
static const char *key_int(const char *p, const char *end, const char *key, long long *v)
{
    size_t n = strlen(key);
    if ((size_t)(end - p) < n || memcmp(p, key, n))
        return NULL;
    return parse_ll(p + n, end, v);
}

/*
 * The header, parsed from the right because a comm may contain anything
 * (spaces, dashes, brackets):
 *   "<comm>-<tid> [(<tgid>)] [<cpu>] <flags> <secs>.<frac>"
 * hdr_end points at the ':' that ends the timestamp.
 */
static int parse_header(const char *line, const char *hdr_end, struct pm_ksig_event *ev)
{
    const char *q = hdr_end;
    /* timestamp */
    const char *ts_end = q;
    while (q > line && ((q[-1] >= '0' && q[-1] <= '9') || q[-1] == '.'))
        q--;
    if (q == ts_end)
        return -1;
    long long secs = 0, frac = 0;
    const char *dot = memchr(q, '.', (size_t)(ts_end - q));
    /* A time that does not fit int64 ns (292 years) is garbage. */
    if (!parse_ll(q, dot ? dot : ts_end, &secs) || secs > INT64_MAX / 1000000000 - 1)
        return -1;
    int64_t frac_ns = 0;
    if (dot) {
        int digits = 0;
        for (const char *f = dot + 1; f < ts_end; f++)
            if (*f == '.')
                return -1; /* "1.2.3" */
        for (const char *f = dot + 1; f < ts_end && digits < 9; f++, digits++)
            frac = frac * 10 + (*f - '0');
        frac_ns = frac;
        for (; digits < 9; digits++)
            frac_ns *= 10;
    }
    ev->ts_ns = (int64_t)secs * 1000000000 + frac_ns;
    /* flags token ("d..1."), then the [cpu] field */
    while (q > line && q[-1] == ' ')
        q--;
    while (q > line && q[-1] != ' ')
        q--;
    while (q > line && q[-1] == ' ')
        q--;
    if (q == line || q[-1] != ']')
        return -1;
    while (q > line && q[-1] != '[')
        q--;
    if (q == line)
        return -1;
    q--; /* at '[' */
    while (q > line && q[-1] == ' ')
        q--;
    ev->sender_tgid = -1;
    if (q > line && q[-1] == ')') {
        const char *close = q - 1;
        while (q > line && q[-1] != '(')
            q--;
        if (q == line)
            return -1;
        const char *num = q;
        while (num < close && *num == ' ')
            num++;
        long long tg;
        if (parse_ll(num, close, &tg))
            ev->sender_tgid = (pid_t)tg; /* "(-----)": tgid unknown, stays -1 */
        q--; /* at '(' */
        while (q > line && q[-1] == ' ')
            q--;
    }
    /* "<comm>-<tid>" */
    const char *tid_end = q;
    while (q > line && q[-1] >= '0' && q[-1] <= '9')
        q--;
    if (q == tid_end || q == line || q[-1] != '-')
        return -1;
    long long tid;
    parse_ll(q, tid_end, &tid);
    ev->sender_tid = (pid_t)tid;
    const char *comm_end = q - 1;
    const char *comm = line;
    while (comm < comm_end && *comm == ' ')
        comm++;
    copy_span(ev->sender_comm, sizeof(ev->sender_comm), comm, comm_end);
    return 0;
}

/* "sig=9 errno=0 code=0 comm=sleep pid=5909 grp=1 res=0"; comm may contain
 * spaces, so pid/grp/res are found from the right. */
static int parse_signal(const char *p, const char *end, struct pm_ksig_event *ev)
{
    long long v;
    if (!(p = key_int(p, end, "sig=", &v)))
        return -1;
    ev->sig = (int)v;
    if (!(p = key_int(p, end, " errno=", &v)))
        return -1;
    if (!(p = key_int(p, end, " code=", &v)))
        return -1;
    ev->code = (int)v;
    if ((size_t)(end - p) < 6 || memcmp(p, " comm=", 6))
        return -1;
    const char *comm = p + 6;
    const char *res = rfind(comm, end, " res=");
    const char *grp = res ? rfind(comm, res, " grp=") : NULL;
    const char *pid = grp ? rfind(comm, grp, " pid=") : NULL;
    if (!pid)
        return -1;
    if (!parse_ll(res + 5, end, &v))
        return -1;
    ev->res = (int)v;
    if (!parse_ll(grp + 5, res, &v))
        return -1;
    ev->grp = (int)v;
    if (!parse_ll(pid + 5, grp, &v))
        return -1;
    ev->pid = (pid_t)v;
    copy_span(ev->comm, sizeof(ev->comm), comm, pid);
    return 0;
}

/* "pid=5998 comm=python3 total-vm=18620kB anon-rss=7936kB file-rss:..."
 * (kernels before 4.x print only "pid=N"). */
static int parse_victim(const char *p, const char *end, struct pm_ksig_event *ev)
{
    long long v;
    if (!(p = key_int(p, end, "pid=", &v)))
        return -1;
    ev->pid = (pid_t)v;
    if ((size_t)(end - p) < 6 || memcmp(p, " comm=", 6))
        return 0;
    const char *comm = p + 6;
    const char *tvm = rfind(comm, end, " total-vm=");
    if (!tvm) {
        copy_span(ev->comm, sizeof(ev->comm), comm, end);
        return 0;
    }
    copy_span(ev->comm, sizeof(ev->comm), comm, tvm);
    if (parse_ll(tvm + 10, end, &v))
        ev->total_vm_kb = v;
    const char *anon = find(tvm, end, " anon-rss=");
    if (anon && parse_ll(anon + 10, end, &v))
        ev->anon_rss_kb = v;
    return 0;
}

int pm_ksig_parse_line(const char *line, size_t len, struct pm_ksig_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->sender_tgid = -1;
    const char *end = line + len;
    while (end > line && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\0'))
        end--;
    const char *p = line;
    while (p < end && *p == ' ')
        p++;
    if (p == end || *p == '#')
        return 0;
    if ((size_t)(end - p) > 4 && !memcmp(p, "CPU:", 4)) {
        const char *lost = find(p, end, "[LOST ");
        long long v;
        if (lost && parse_ll(lost + 6, end, &v)) {
            ev->kind = PM_KSIG_LOST;
            ev->lost = v;
        }
        return 0;
    }
    /* The markers are longer than a comm (15 chars), so their first
     * occurrence is the real one. */
    static const char sig_mark[] = ": signal_generate: ";
    static const char oom_mark[] = ": mark_victim: pid=";
    const char *m = find(line, end, sig_mark);
    if (m) {
        if (parse_header(line, m, ev) || parse_signal(m + sizeof(sig_mark) - 1, end, ev))
            return -1;
        ev->kind = PM_KSIG_SIGNAL;
        return 1;
    }
    m = find(line, end, oom_mark);
    if (m) {
        if (parse_header(line, m, ev) || parse_victim(m + 15, end, ev))
            return -1;
        ev->kind = PM_KSIG_OOM_VICTIM;
        return 1;
    }
    m = find(line, end, PM_KSIG_SYNC_MARK);
    if (m) {
        long long mono;
        if (parse_header(line, m, ev) || !parse_ll(m + sizeof(PM_KSIG_SYNC_MARK) - 1, end, &mono))
            return -1;
        ev->kind = PM_KSIG_SYNC;
        ev->sync_mono_ns = mono;
    }
    return 0;
}

const char *pm_ksig_code_name(int code)
{
    switch (code) {
    case 0: return "userspace kill";           /* SI_USER: kill(2) */
    case 0x80: return "kernel";                /* SI_KERNEL: OOM killer, kernel kill */
    case -1: return "userspace sigqueue";      /* SI_QUEUE */
    case -2: return "timer";                   /* SI_TIMER */
    case -3: return "mqueue";                  /* SI_MESGQ */
    case -4: return "aio";                     /* SI_ASYNCIO */
    case -5: return "sigio";                   /* SI_SIGIO */
    case -6: return "userspace tgkill";        /* SI_TKILL: tgkill/tkill, raise, abort */
    case -7: return "exec of another thread";  /* SI_DETHREAD */
    case -8: return "async io";                /* SI_ASYNCNL */
    default: return code > 0 ? "kernel fault" : "userspace";
    }
}

int pm_ksig_to_rec(const struct pm_ksig_event *ev, int64_t run_start_mono_ns, struct pm_rec *out)
{
    memset(out, 0, sizeof(*out));
    out->type = PM_REC_EVENT;
    struct pm_event_rec *e = &out->u.ev;
    e->t_ns = ev->ts_ns - run_start_mono_ns;
    e->pid = ev->pid;
    pid_t sender = ev->sender_tgid > 0 ? ev->sender_tgid : ev->sender_tid;
    switch (ev->kind) {
    case PM_KSIG_SIGNAL:
        e->kind = PM_EV_SIGNAL;
        e->signal = ev->sig;
        if (ev->code == -2) {
            /* SI_TIMER: the target's own POSIX timer expired (timeout(1)
             * arms one).  The line's header names whatever task the timer
             * interrupt happened to run on, not a sender. */
            e->sender_pid = ev->pid;
            pm_strlcpy(e->sender_comm, ev->comm, sizeof(e->sender_comm));
            snprintf(e->detail, sizeof(e->detail), "code=-2 %s (its own timer)", pm_ksig_code_name(ev->code));
            return 0;
        }
        e->sender_pid = sender;
        pm_strlcpy(e->sender_comm, ev->sender_comm, sizeof(e->sender_comm));
        if (ev->sender_tgid > 0 && ev->sender_tid != ev->sender_tgid)
            snprintf(e->detail, sizeof(e->detail), "code=%d %s (thread %d)", ev->code,
                     pm_ksig_code_name(ev->code), (int)ev->sender_tid);
        else
            snprintf(e->detail, sizeof(e->detail), "code=%d %s", ev->code,
                     pm_ksig_code_name(ev->code));
        return 0;
    case PM_KSIG_OOM_VICTIM:
        e->kind = PM_EV_OOM_KILL;
        e->signal = SIGKILL;
        snprintf(e->detail, sizeof(e->detail),
                 "kernel OOM killer; victim %.31s anon-rss %lld kB total-vm %lld kB; "
                 "allocation by %.31s[%d]",
                 ev->comm, (long long)ev->anon_rss_kb, (long long)ev->total_vm_kb,
                 ev->sender_comm, (int)sender);
        return 0;
    default:
        return -1;
    }
}

/* ---- the live instance ----------------------------------------------------- */

static const char *const tracefs_roots[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};

const char *pm_ksig_tracefs_root(void)
{
    char p[PATH_MAX];
    for (size_t i = 0; i < sizeof(tracefs_roots) / sizeof(tracefs_roots[0]); i++) {
        snprintf(p, sizeof(p), "%s/instances", tracefs_roots[i]);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
            return tracefs_roots[i];
    }
    return NULL;
}

static int write_str(const char *dir, const char *rel, const char *val)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    int fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t n = strlen(val);
    ssize_t w = write(fd, val, n);
    int e = errno;
    close(fd);
    errno = e;
    return w == (ssize_t)n ? 0 : -1;
}

/* Read dir/rel into buf (NUL-terminated); its length, or -1. */
static ssize_t read_str(const char *dir, const char *rel, char *buf, size_t cap)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return n;
}

/* Does dir/rel hold exactly val (and a newline)? */
static int has_str(const char *dir, const char *rel, const char *val)
{
    char buf[1024];
    ssize_t n = read_str(dir, rel, buf, sizeof(buf));
    size_t l = strlen(val);
    return n >= (ssize_t)l && !memcmp(buf, val, l) && (buf[l] == '\n' || buf[l] == '\0');
}

static void disable_events(const char *dir)
{
    write_str(dir, "events/signal/signal_generate/enable", "0");
    write_str(dir, "events/oom/mark_victim/enable", "0");
    write_str(dir, "tracing_on", "0");
}

/* Disable our events and remove the instance directory.  rmdir fails with
 * EBUSY while a trace_pipe of the instance is open, so callers close first. */
static int remove_instance(const char *dir)
{
    disable_events(dir);
    return rmdir(dir);
}

/* Open and lock an instance directory: 0 and *fd when it is ours now.  The
 * lock (flock, released by the kernel when its holder dies) is what makes
 * an instance in use; the check after it catches a directory that was
 * removed while we waited for it. */
static int lock_dir(const char *dir, int *fd)
{
    int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0)
        return -1;
    if (flock(d, LOCK_EX | LOCK_NB) != 0 || faccessat(d, "trace_pipe", F_OK, 0) != 0) {
        close(d);
        return -1;
    }
    *fd = d;
    return 0;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Write a sync line: the kernel stamps it with the trace clock a microsecond
 * or two after the CLOCK_MONOTONIC time it carries was read. */
static int write_sync(struct pm_ksig *k, int64_t now)
{
    char line[48];
    k->sync_at = now;
    int n = snprintf(line, sizeof(line), "pressmon-sync %lld", (long long)now);
    return write(k->marker_fd, line, (size_t)n) == n ? 0 : -1;
}

/* The trace clocks that count nanoseconds (the others, `counter` and
 * `x86-tsc`, can only be chosen by a boot parameter). */
static int clock_is_ns(const char *dir)
{
    char buf[256];
    if (read_str(dir, "trace_clock", buf, sizeof(buf)) < 0)
        return 0;
    static const char *const ok[] = {"[local]", "[global]", "[perf]", "[mono]", "[mono_raw]", "[boot]", "[tai]"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strstr(buf, ok[i]))
            return 1;
    return 0;
}

/* Is `pid` a live process that started before `since` (so that it, and not
 * a later process that reused the pid, made the instance)?  A dead pid, or
 * one whose process is younger than the directory, means the instance is
 * stale. */
static int owner_alive(pid_t pid, const struct timespec *since)
{
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return 0;
    char p[64];
    snprintf(p, sizeof(p), "/proc/%d", (int)pid);
    struct stat st;
    if (stat(p, &st) != 0)
        return 0;
    if (since && (st.st_ctim.tv_sec > since->tv_sec + 1))
        return 0;
    return 1;
}

/* The first pressmon instance under root that nobody uses (its creator is
 * gone and nobody holds its lock), locked: 0 with path and *fd, or -1.
 * A creator that is still alive may be an older pressmon that does not
 * lock, so its instance is never taken. */
static int take_free(const char *root, char *path, size_t plen, int *fd)
{
    char idir[128];
    snprintf(idir, sizeof(idir), "%s/instances", root);
    DIR *d = opendir(idir);
    if (!d)
        return -1;
    int found = -1;
    struct dirent *de;
    while (found != 0 && (de = readdir(d))) {
        if (strncmp(de->d_name, "pressmon-", 9))
            continue;
        char *endp;
        long pid = strtol(de->d_name + 9, &endp, 10);
        if (*endp || pid <= 0 || pid == (long)getpid())
            continue;
        snprintf(path, plen, "%s/%s", idir, de->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || owner_alive((pid_t)pid, &st.st_mtim))
            continue;
        found = lock_dir(path, fd);
    }
    closedir(d);
    return found;
}

int pm_ksig_reap_stale(void)
{
    const char *root = pm_ksig_tracefs_root();
    if (!root)
        return 0;
    int removed = 0, fd;
    char p[PATH_MAX];
    while (take_free(root, p, sizeof(p), &fd) == 0) {
        int r = remove_instance(p);
        close(fd);
        if (r != 0)
            break;
        removed++;
    }
    return removed;
}

struct pm_ksig *pm_ksig_open(char *why, size_t whylen)
{
    const char *root = pm_ksig_tracefs_root();
    if (!root && geteuid() == 0) {
        /* Not mounted (this VM boots without it): mount it where the kernel
         * documents it.  It stays mounted: other tools may start using it. */
        if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0)
            root = pm_ksig_tracefs_root();
        else {
            snprintf(why, whylen, "tracefs is not mounted and mounting it on /sys/kernel/tracing failed: %s",
                     strerror(errno));
            return NULL;
        }
    }
    if (!root) {
        if (geteuid() != 0)
            snprintf(why, whylen, "reading kernel signal events needs root (tracefs); pressmon runs as uid %d",
                     (int)geteuid());
        else
            snprintf(why, whylen, "tracefs is not available (kernel without CONFIG_TRACING?)");
        return NULL;
    }
    struct pm_ksig *k = calloc(1, sizeof(*k));
    if (!k) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    k->fd = k->marker_fd = k->dir_fd = -1;
    /* An instance released by a run that just ended (or left by one that
     * died) is taken over: creating one costs 2 ms, and while the previous
     * run's instance is being removed (~40 ms of RCU grace periods under
     * the kernel's event mutex) a mkdir waits for it. */
    int adopted = take_free(root, k->dir, sizeof(k->dir), &k->dir_fd) == 0;
    if (!adopted) {
        snprintf(k->dir, sizeof(k->dir), "%s/instances/pressmon-%d", root, (int)getpid());
        int rc = mkdir(k->dir, 0700);
        if (rc != 0 && errno == EEXIST) {
            /* Ours by pid but not by us: left by a dead pressmon whose pid we got. */
            remove_instance(k->dir);
            rc = mkdir(k->dir, 0700);
        }
        if (rc != 0) {
            int e = errno;
            if (e == EACCES || e == EPERM)
                snprintf(why, whylen, "cannot create tracefs instance %s: %s (run pressmon as root)", k->dir,
                         strerror(e));
            else
                snprintf(why, whylen, "cannot create tracefs instance %s: %s", k->dir, strerror(e));
            free(k);
            return NULL;
        }
        if (lock_dir(k->dir, &k->dir_fd) != 0) {
            snprintf(why, whylen, "cannot lock tracefs instance %s: %s", k->dir, strerror(errno));
            goto fail;
        }
        /* A few hundred fatal signals per second at most, read within
         * 250 ms: the default buffer is plenty; on a big machine it is
         * shrunk. */
        long ncpu = sysconf(_SC_NPROCESSORS_CONF);
        if (ncpu > SHRINK_ABOVE_CPUS)
            write_str(k->dir, "buffer_size_kb", "256");
        /* A clock that is not in nanoseconds can only come from a boot
         * parameter; then pay for the switch to mono (sync still applies). */
        if (!clock_is_ns(k->dir) && write_str(k->dir, "trace_clock", "mono") != 0) {
            snprintf(why, whylen, "cannot set the trace clock of %s to mono: %s", k->dir, strerror(errno));
            goto fail;
        }
    }
    write_str(k->dir, "buffer_percent", "0"); /* poll wakes on the first line */
    write_str(k->dir, "options/record-tgid", "1"); /* sender's process id, not only its thread */
    write_str(k->dir, "tracing_on", "1");         /* off in one left by an older pressmon */
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/trace_pipe", k->dir);
    k->fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (k->fd < 0) {
        snprintf(why, whylen, "cannot open %s: %s", p, strerror(errno));
        goto fail;
    }
    snprintf(p, sizeof(p), "%s/trace_marker", k->dir);
    k->marker_fd = open(p, O_WRONLY | O_CLOEXEC);
    if (k->marker_fd < 0) {
        snprintf(why, whylen, "cannot open %s: %s", p, strerror(errno));
        goto fail;
    }
    /* The first sync, read back before any event is enabled, so that every
     * event has an offset; lines before it (an adopted instance's last ones)
     * are skipped. */
    k->want_sync = mono_ns();
    if (write_sync(k, k->want_sync) != 0) {
        snprintf(why, whylen, "cannot write to %s: %s", p, strerror(errno));
        goto fail;
    }
    for (int tries = 0; tries < 100 && !k->synced; tries++) {
        if (pm_ksig_drain(k, 0, NULL) < 0)
            break;
        if (!k->synced) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
    }
    if (!k->synced) {
        snprintf(why, whylen, "the clock sync line written to %s did not come back through trace_pipe", p);
        goto fail;
    }
    /* Replacing a filter waits for an RCU grace period (the old one may be
     * in use): an adopted instance that has ours already keeps it. */
    if ((!adopted || !has_str(k->dir, "events/signal/signal_generate/filter", PM_KSIG_FILTER)) &&
        write_str(k->dir, "events/signal/signal_generate/filter", PM_KSIG_FILTER) != 0) {
        snprintf(why, whylen, "cannot set the signal/signal_generate filter in %s: %s", k->dir, strerror(errno));
        goto fail;
    }
    if (
        write_str(k->dir, "events/signal/signal_generate/enable", "1") != 0) {
        snprintf(why, whylen, "cannot enable signal/signal_generate in %s: %s", k->dir, strerror(errno));
        goto fail;
    }
    k->have_oom = write_str(k->dir, "events/oom/mark_victim/enable", "1") == 0;
    return k;
fail:
    if (k->fd >= 0)
        close(k->fd);
    if (k->marker_fd >= 0)
        close(k->marker_fd);
    remove_instance(k->dir);
    if (k->dir_fd >= 0)
        close(k->dir_fd);
    free(k);
    return NULL;
}

void pm_ksig_tick(struct pm_ksig *k)
{
    if (!k || k->marker_fd < 0)
        return;
    int64_t now = mono_ns();
    if (now - k->sync_at >= SYNC_PERIOD_NS)
        write_sync(k, now);
}

const char *pm_ksig_dir(const struct pm_ksig *k)
{
    return k->dir;
}

int pm_ksig_fd(const struct pm_ksig *k)
{
    return k ? k->fd : -1;
}

int64_t pm_ksig_lost(const struct pm_ksig *k)
{
    return k ? k->lost : 0;
}

int64_t pm_ksig_garbled(const struct pm_ksig *k)
{
    return k ? k->garbled : 0;
}

/* Append "; cgroup <path>" of the OOM victim (its memory cgroup on v1, its
 * unified cgroup on v2) if the process can still be read. */
static void add_cgroup(struct pm_event_rec *e)
{
    char p[64], buf[2048];
    snprintf(p, sizeof(p), "/proc/%d/cgroup", (int)e->pid);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    const char *path = NULL;
    size_t plen = 0;
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);
        const char *c1 = memchr(line, ':', ll);
        const char *c2 = c1 ? memchr(c1 + 1, ':', ll - (size_t)(c1 + 1 - line)) : NULL;
        if (c2) {
            int is_mem = (size_t)(c2 - c1 - 1) == 6 && !memcmp(c1 + 1, "memory", 6);
            int is_v2 = c2 == c1 + 1 && line[0] == '0';
            if (is_mem || (is_v2 && !path)) {
                path = c2 + 1;
                plen = ll - (size_t)(c2 + 1 - line);
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    /* An exiting task is moved to the root cgroup (cgroup_exit): "/" read
     * after the kill says nothing about where the OOM happened, so leave
     * it out and let /dev/kmsg's memcg path stand in (killbook). */
    if (path && plen == 1 && path[0] == '/')
        return;
    size_t used = strlen(e->detail);
    if (path && used + 10 < sizeof(e->detail))
        snprintf(e->detail + used, sizeof(e->detail) - used, "; cgroup %.*s", (int)plen, path);
}

/* Who sent a signal, as /proc says now (within milliseconds of the event).
 * The trace header's tid is the task that was running: always right.  Its
 * comm ("<...>" when not cached) and its tgid come from kernel caches
 * indexed by pid, which can still hold a previous task of the same number
 * (pids wrap at 32768 on many machines; a stale tgid once named a dead
 * pressmon thread's process as the sender).  So when the sending task
 * still exists, its Name and Tgid from /proc/TID/status win. */
static void fill_sender(struct pm_event_rec *e, pid_t tid)
{
    if (tid <= 0)
        return;
    char p[64], buf[1024];
    snprintf(p, sizeof(p), "/proc/%d/status", (int)tid);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return; /* gone: keep what the trace said */
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    char name[PM_COMM_MAX] = "";
    long tgid = -1;
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (strncmp(line, "Name:\t", 6) == 0)
            pm_strlcpy(name, line + 6, sizeof(name));
        else if (strncmp(line, "Tgid:\t", 6) == 0)
            tgid = strtol(line + 6, NULL, 10);
        line = nl ? nl + 1 : NULL;
    }
    if (tgid > 0)
        e->sender_pid = (pid_t)tgid;
    if (name[0])
        pm_strlcpy(e->sender_comm, name, sizeof(e->sender_comm));
}

static void handle_line(struct pm_ksig *k, const char *line, size_t len, int64_t start,
                        struct pm_ring *out, int *pushed)
{
    struct pm_ksig_event ev;
    int r = pm_ksig_parse_line(line, len, &ev);
    if (r < 0) {
        k->garbled++;
        return;
    }
    if (ev.kind == PM_KSIG_LOST) {
        k->lost += ev.lost;
        return;
    }
    if (ev.kind == PM_KSIG_SYNC) {
        if (!k->synced && ev.sync_mono_ns != k->want_sync)
            return; /* a previous owner's */
        k->offset_ns = ev.sync_mono_ns - ev.ts_ns;
        k->synced = 1;
        return;
    }
    if (r == 0 || !out || !k->synced)
        return;
    ev.ts_ns += k->offset_ns;
    struct pm_rec *rec = pm_ring_reserve(out);
    if (!rec)
        return; /* counted as dropped by the ring */
    pm_ksig_to_rec(&ev, start, rec);
    if (ev.kind == PM_KSIG_OOM_VICTIM)
        add_cgroup(&rec->u.ev);
    else if (ev.code != -2) /* SI_TIMER: the sender is the target itself */
        fill_sender(&rec->u.ev, ev.sender_tid);
    pm_ring_commit(out);
    (*pushed)++;
}

int pm_ksig_drain(struct pm_ksig *k, int64_t run_start_mono_ns, struct pm_ring *out)
{
    if (!k || k->fd < 0)
        return 0;
    int pushed = 0;
    for (;;) {
        ssize_t n = read(k->fd, k->buf + k->used, sizeof(k->buf) - k->used);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return -1;
        }
        if (n == 0)
            break;
        size_t total = k->used + (size_t)n;
        size_t start = 0;
        for (size_t i = k->used; i < total; i++) {
            if (k->buf[i] != '\n')
                continue;
            handle_line(k, k->buf + start, i - start, run_start_mono_ns, out, &pushed);
            start = i + 1;
        }
        if (start == 0 && total == sizeof(k->buf)) {
            k->garbled++; /* a 64 KiB line is not a trace line: drop it */
            k->used = 0;
            continue;
        }
        memmove(k->buf, k->buf + start, total - start);
        k->used = total - start;
    }
    return pushed;
}

int pm_ksig_release(struct pm_ksig *k, char *dir, size_t dirlen)
{
    if (dirlen)
        dir[0] = '\0';
    if (!k)
        return -1;
    /* The park line marks this release: if it is still unread when the
     * park is over, nobody adopted the instance since. */
    char token[64];
    snprintf(token, sizeof(token), PARK_MARK "%d %lld", (int)getpid(), (long long)mono_ns());
    int marked = k->marker_fd >= 0 && write(k->marker_fd, token, strlen(token)) == (ssize_t)strlen(token);
    if (k->fd >= 0)
        close(k->fd);
    if (k->marker_fd >= 0)
        close(k->marker_fd);
    /* The events stay enabled: turning a tracepoint off and on again
     * within a grace period makes the enable wait for one (14-20 ms
     * measured for oom/mark_victim).  The adopter skips what they leave
     * in the buffer, up to its own sync line. */
    if (k->dir_fd >= 0)
        close(k->dir_fd); /* the lock: the instance is free from here */
    snprintf(dir, dirlen, "%s", k->dir);
    free(k);
    return marked ? 0 : 1;
}

/* Is there an unread park line in the instance's buffer?  An adopter reads
 * everything up to its own sync line, so a park line that is still there
 * says the instance has not been taken since that release.  Whose park line
 * does not matter: two releases close together leave two, and whichever
 * park ends first finds both and removes the instance (reading consumes
 * them, so the later park would find none and leave it alone). */
static int park_line_unread(const char *dir, const char *token)
{
    char p[PATH_MAX], buf[4096];
    snprintf(p, sizeof(p), "%s/trace_pipe", dir);
    int fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int found = 0;
    size_t tl = strlen(token), keep = 0;
    ssize_t n;
    while ((n = read(fd, buf + keep, sizeof(buf) - 1 - keep)) > 0) {
        size_t len = keep + (size_t)n;
        buf[len] = '\0';
        if (strstr(buf, token))
            found = 1;
        keep = len < tl ? len : tl; /* a token split across reads */
        memmove(buf, buf + len - keep, keep);
    }
    close(fd);
    return found;
}

void pm_ksig_park(const char *dir, int64_t wait_ns, int remove)
{
    struct timespec park = {wait_ns / 1000000000, wait_ns % 1000000000};
    while (wait_ns > 0 && nanosleep(&park, &park) != 0 && errno == EINTR)
        ;
    int fd;
    if (lock_dir(dir, &fd) != 0)
        return; /* in use (its user parks it again), another park is deciding, or gone */
    if (remove || park_line_unread(dir, PARK_MARK))
        remove_instance(dir);
    close(fd);
}

void pm_ksig_close(struct pm_ksig *k)
{
    char dir[128];
    if (pm_ksig_release(k, dir, sizeof(dir)) >= 0)
        pm_ksig_park(dir, 0, 1);
}
