/*
 * Linux process tree: who belongs to the recorded command, and what each
 * member is doing.
 *
 * Membership, in order of preference (DESIGN §6):
 *  1. The netlink proc connector, read by the event thread: every fork,
 *     exec and exit on the machine with the raw wait status, so even a
 *     process that lives for a microsecond is recorded.  Unprivileged since
 *     Linux 6.6, CAP_NET_ADMIN before, and only in the initial namespaces:
 *     in a container the subscription fails (ECONNREFUSED) or is silently
 *     ignored.  pm_tree_open therefore proves it works by waiting for the
 *     root's own exec event (see confirm_connector) before trusting it.
 *  2. A /proc scan by the sampler thread at --proc-interval: every pid
 *     whose parent is a member joins.  Processes that start and end between
 *     two scans are missed; exits have no status unless pressmon reaps them
 *     (it is the child subreaper, so orphans come to it).
 *
 * The member table (sampler/members.h) is shared by two threads without
 * locks: the *adder* (the event thread in connector mode, the sampler in
 * scan mode) adds and retires members; the sampler opens a member's
 * /proc/PID fds when it first sees it and closes them when it is retired.
 * A kept /proc/PID directory fd fails with ESRCH once its process is
 * reaped, so a reused pid is never mistaken for the old process.
 *
 * Nothing here allocates after pm_tree_open.
 */
#include "../platform.h"
#include "../members.h"
#include "../prochist.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgoom.h"
#include "kmsg.h"
#include "procfs.h"
#include "psi_trigger.h"
#include "tracefs.h"

extern char **environ;

#define MAX_MEMBERS 8192
#define FDS_PER_MEMBER 5 /* the /proc/PID directory, stat, io, schedstat, statm */
#define DENTS_BUF (64 * 1024)

/* What the sampler keeps per member slot, beside the shared table. */
struct member {
    int dir_fd, stat_fd, io_fd, sched_fd, statm_fd;
    int pidfd;          /* scan mode: the exit status after the parent reaps it */
    struct pm_proc_hist hist;
};

struct pm_tree {
    pid_t root;
    int64_t run_start;
    int64_t boot_minus_mono; /* CLOCK_BOOTTIME - CLOCK_MONOTONIC, for /proc starttime */
    int64_t ns_per_tick;
    long page_kb;
    _Atomic int use_connector;
    int nl_fd;
    int pidfd_exit;            /* scan mode: pidfds keep exit statuses (Linux >= 6.15) */
    int wake_fd;               /* eventfd: pm_tree_wake ends a pm_tree_events wait */
    int root_exec_seen;        /* event thread: the connector saw the root exec or exit */
    int64_t confirm_deadline;
    char mechanism[160];
    _Atomic uint64_t lost;     /* connector overruns */
    struct pm_members mem;     /* who is a member (members.h) */
    struct member *slots;      /* the sampler's data per slot of mem */
    int proc_fd;               /* /proc, for the scan */
    char *dents;
    char *buf;                 /* sampler-thread read buffer */
    char *ebuf;                /* event-thread read buffer */
    char *recvbuf;
    struct pm_ksig *ksig;      /* kill attribution (tracefs.h), NULL when off */
    struct pm_kmsg *kmsg;      /* OOM kills from /dev/kmsg (kmsg.h), NULL when unreadable */
    struct pm_cgoom *cgoom;    /* the run's memory cgroup oom_kill counter (cgoom.h) */
    struct pm_psi_trig *psi;   /* memory PSI trigger -> pressure events (psi_trigger.h) */
    char attribution[256];     /* "on", or why it is off */
};

/* ---- helpers ----------------------------------------------------------- */

static int64_t clock_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Read a small /proc/PID file by path (adder side, not the sampling path). */
static ssize_t read_proc_file(pid_t pid, const char *name, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap);
    close(fd);
    return n;
}

/* Fill comm/argv of a start record from /proc (best effort: a process that
 * already exited leaves them empty). */
static void fill_identity(pid_t pid, struct pm_proc_start_rec *r, char *buf, size_t cap)
{
    ssize_t n = read_proc_file(pid, "stat", buf, cap);
    struct pm_pid_stat ps;
    if (n > 0 && pm_parse_pid_stat(buf, (size_t)n, &ps) == 0) {
        pm_strlcpy(r->comm, ps.comm, sizeof(r->comm));
        if (r->ppid <= 0)
            r->ppid = (pid_t)ps.ppid;
    }
    n = read_proc_file(pid, "cmdline", buf, cap);
    r->argv_len = n > 0 ? (uint16_t)pm_parse_cmdline(buf, (size_t)n, r->argv, sizeof(r->argv)) : 0;
}

/* Adder: add pid as a member.  pidfd (scan mode, or -1) is kept for its
 * exit status.  Returns the slot, or -1 if pid is a member already or the
 * table is full (then pidfd is closed). */
static int add_member(struct pm_tree *t, pid_t pid, pid_t ppid, int64_t start_ns, int pidfd)
{
    int fresh;
    int i = pm_members_claim(&t->mem, pid, ppid, start_ns, &fresh);
    if (i < 0) {
        if (pidfd >= 0)
            close(pidfd);
        return -1;
    }
    struct member *m = &t->slots[i];
    if (fresh) /* the slots' pages stay untouched until a run needs them */
        m->dir_fd = m->stat_fd = m->io_fd = m->sched_fd = m->statm_fd = m->pidfd = -1;
    m->pidfd = pidfd;
    pm_members_publish(&t->mem, i);
    return i;
}

/* ---- pidfd exit status (scan mode) ----------------------------------------
 *
 * Without the proc connector, a grandchild's exit status goes to its own
 * parent's waitpid, not to pressmon.  Since Linux 6.15 a pidfd keeps the
 * exit status of its process after it is reaped (PIDFD_GET_INFO with
 * PIDFD_INFO_EXIT), so the scan opens a pidfd for every member it finds.
 * Debian 12's headers predate it: the UAPI is declared here. */
#ifndef PIDFD_INFO_EXIT
#define PIDFD_INFO_EXIT (1UL << 3)
#endif
struct pm_pidfd_info {  /* struct pidfd_info, PIDFD_INFO_SIZE_VER0 = 64 bytes */
    uint64_t mask;
    uint64_t cgroupid;
    uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
    int32_t exit_code;  /* a wait status, as waitpid gives it */
};
_Static_assert(sizeof(struct pm_pidfd_info) == 64, "PIDFD_INFO_SIZE_VER0");
#define PM_PIDFD_GET_INFO _IOWR(0xFF, 11, struct pm_pidfd_info)

static int pidfd_open_pid(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

/* The wait status of a reaped process held by pidfd, or -1. */
static int pidfd_exit_status(int pidfd)
{
    if (pidfd < 0)
        return -1;
    struct pm_pidfd_info info;
    memset(&info, 0, sizeof(info));
    info.mask = PIDFD_INFO_EXIT;
    if (ioctl(pidfd, PM_PIDFD_GET_INFO, &info) != 0 || !(info.mask & PIDFD_INFO_EXIT))
        return -1;
    return info.exit_code;
}

/* Does this kernel keep exit statuses in pidfds?  One short-lived child
 * tells (scan mode only, at open). */
static int pidfd_exit_supported(void)
{
    pid_t c = fork();
    if (c < 0)
        return 0;
    if (c == 0)
        _exit(3);
    int fd = pidfd_open_pid(c), st;
    waitpid(c, &st, 0);
    int ws = pidfd_exit_status(fd);
    if (fd >= 0)
        close(fd);
    return ws >= 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 3;
}

/* ---- the proc connector --------------------------------------------------- */

static int cn_send_op(int fd, enum proc_cn_mcast_op op)
{
    char buf[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(op))] __attribute__((aligned(NLMSG_ALIGNTO)));
    memset(buf, 0, sizeof(buf));
    struct nlmsghdr *nl = (struct nlmsghdr *)buf;
    struct cn_msg *cn = (struct cn_msg *)NLMSG_DATA(nl);
    nl->nlmsg_len = NLMSG_LENGTH(sizeof(*cn) + sizeof(op));
    nl->nlmsg_type = NLMSG_DONE;
    nl->nlmsg_pid = 0;
    cn->id.idx = CN_IDX_PROC;
    cn->id.val = CN_VAL_PROC;
    cn->len = sizeof(op);
    memcpy(cn->data, &op, sizeof(op));
    return send(fd, nl, nl->nlmsg_len, 0) == (ssize_t)nl->nlmsg_len ? 0 : -1;
}

static int cn_open(char *why, size_t whylen)
{
    int fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
    if (fd < 0) {
        snprintf(why, whylen, "netlink connector socket: %s", strerror(errno));
        return -1;
    }
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC, .nl_pid = 0};
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        snprintf(why, whylen, "proc connector bind: %s%s", strerror(errno),
                 errno == EPERM ? " (needs CAP_NET_ADMIN before Linux 6.6)" : "");
        close(fd);
        return -1;
    }
    /* A large receive buffer absorbs fork storms between two reads. */
    int rcv = 4 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) != 0) /* root only */
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
    if (cn_send_op(fd, PROC_CN_MCAST_LISTEN) != 0) {
        snprintf(why, whylen, "proc connector subscribe: %s%s", strerror(errno),
                 errno == ECONNREFUSED ? " (not in the initial namespaces: a container?)" : "");
        close(fd);
        return -1;
    }
    return fd;
}

static void cn_close(int fd)
{
    if (fd < 0)
        return;
    cn_send_op(fd, PROC_CN_MCAST_IGNORE); /* always unsubscribe before closing */
    close(fd);
}

static void push_exit(struct pm_ring *out, int64_t t_ns, pid_t pid, int src, int status, int64_t maxrss_kb)
{
    struct pm_rec *r = pm_ring_reserve(out);
    if (!r)
        return;
    memset(r, 0, sizeof(*r));
    r->type = PM_REC_PROC_EXIT;
    r->u.exit.t_ns = t_ns;
    r->u.exit.pid = pid;
    r->u.exit.status_src = src;
    r->u.exit.maxrss_kb = maxrss_kb;
    if (src != PM_STATUS_UNKNOWN) {
        if (WIFSIGNALED(status)) {
            r->u.exit.signal = WTERMSIG(status);
            r->u.exit.core = WCOREDUMP(status) ? 1 : 0;
        } else {
            r->u.exit.exit_code = WEXITSTATUS(status);
        }
    }
    pm_ring_commit(out);
}

static void push_start(struct pm_tree *t, struct pm_ring *out, int64_t t_ns, pid_t pid, pid_t ppid,
                       int64_t start_ns, int is_exec, char *buf, size_t cap)
{
    struct pm_rec *r = pm_ring_reserve(out);
    if (!r)
        return;
    memset(&r->u.start, 0, sizeof(r->u.start));
    r->type = PM_REC_PROC_START;
    r->u.start.t_ns = t_ns;
    r->u.start.pid = pid;
    r->u.start.ppid = ppid;
    r->u.start.start_ns = start_ns;
    r->u.start.is_exec = is_exec;
    fill_identity(pid, &r->u.start, buf, cap);
    pm_ring_commit(out);
    (void)t;
}

/* Handle one connector event (event thread). */
static void cn_event(struct pm_tree *t, const struct proc_event *ev, struct pm_ring *out)
{
    int64_t t_ns = (int64_t)ev->timestamp_ns - t->run_start;
    switch (ev->what) {
    case PROC_EVENT_FORK: {
        pid_t parent = ev->event_data.fork.parent_tgid, child = ev->event_data.fork.child_pid;
        /* New threads also come as forks: only new processes matter. */
        if (child != ev->event_data.fork.child_tgid)
            return;
        if (pm_members_find(&t->mem, parent) < 0)
            return;
        if (add_member(t, child, parent, t_ns, -1) < 0) {
            atomic_fetch_add(&t->lost, 1);
            return;
        }
        push_start(t, out, t_ns, child, parent, t_ns, 0, t->ebuf, 65536);
        break;
    }
    case PROC_EVENT_EXEC: {
        pid_t pid = ev->event_data.exec.process_tgid;
        if (pid == t->root)
            t->root_exec_seen = 1;
        if (pm_members_find(&t->mem, pid) < 0)
            return;
        push_start(t, out, t_ns, pid, 0, INT64_MIN, 1, t->ebuf, 65536);
        break;
    }
    case PROC_EVENT_EXIT: {
        /* One EXIT arrives per thread; the process ends with its leader.
         * exit_code is the raw wait status (0x9 = SIGKILL, 0x300 = exit(3));
         * exit_signal is the signal sent to the parent, NOT the fatal one. */
        pid_t pid = ev->event_data.exit.process_pid;
        if (pid != ev->event_data.exit.process_tgid)
            return;
        if (pid == t->root)
            t->root_exec_seen = 1;
        int slot = pm_members_find(&t->mem, pid);
        if (slot < 0)
            return;
        push_exit(out, t_ns, pid, PM_STATUS_PROCCONN, (int)ev->event_data.exit.exit_code, 0);
        pm_members_retire(&t->mem, slot);
        break;
    }
    default:
        break;
    }
}

/* Drain what the socket holds (event thread).  Returns 0, -1 on a dead socket. */
static int cn_drain(struct pm_tree *t, struct pm_ring *out)
{
    for (;;) {
        ssize_t n = recv(t->nl_fd, t->recvbuf, 65536, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return 0;
            if (errno == ENOBUFS) { /* overrun: events were lost */
                atomic_fetch_add(&t->lost, 1);
                continue;
            }
            return -1;
        }
        for (struct nlmsghdr *nl = (struct nlmsghdr *)t->recvbuf; NLMSG_OK(nl, (size_t)n);
             nl = NLMSG_NEXT(nl, n)) {
            if (nl->nlmsg_type == NLMSG_ERROR || nl->nlmsg_type == NLMSG_NOOP)
                continue;
            struct cn_msg *cn = (struct cn_msg *)NLMSG_DATA(nl);
            if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC)
                continue;
            /* cn->data sits 20 bytes into the message: copy it out so the
             * 64-bit fields of proc_event are read aligned. */
            struct proc_event ev;
            size_t len = cn->len < sizeof(ev) ? cn->len : sizeof(ev);
            memset(&ev, 0, sizeof(ev));
            memcpy(&ev, cn->data, len);
            cn_event(t, &ev, out);
        }
    }
}

/* ---- the /proc scan (fallback) -------------------------------------------- */

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* Sampler thread, scan mode: any pid whose parent is a member joins.  One
 * pass sees a chain of new processes only if parents list before children;
 * pids mostly grow, and the next scan catches the rest. */
static void scan_proc(struct pm_tree *t, int64_t t_ns, struct pm_ring *out)
{
    if (lseek(t->proc_fd, 0, SEEK_SET) != 0)
        return;
    for (;;) {
        long n = syscall(SYS_getdents64, t->proc_fd, t->dents, DENTS_BUF);
        if (n <= 0)
            break;
        for (long off = 0; off < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(t->dents + off);
            off += d->d_reclen;
            if (d->d_name[0] < '1' || d->d_name[0] > '9')
                continue;
            pid_t pid = (pid_t)atoi(d->d_name);
            if (pm_members_find(&t->mem, pid) >= 0)
                continue;
            ssize_t len = read_proc_file(pid, "stat", t->buf, 4096);
            struct pm_pid_stat ps;
            if (len <= 0 || pm_parse_pid_stat(t->buf, (size_t)len, &ps) != 0)
                continue;
            if (pm_members_find(&t->mem, (pid_t)ps.ppid) < 0)
                continue;
            int64_t start = ps.starttime * t->ns_per_tick - t->boot_minus_mono - t->run_start;
            int slot = add_member(t, pid, (pid_t)ps.ppid, start, t->pidfd_exit ? pidfd_open_pid(pid) : -1);
            if (slot >= 0) {
                push_start(t, out, t_ns, pid, (pid_t)ps.ppid, start, 0, t->buf, 65536);
            }
        }
    }
}

/* ---- public interface ------------------------------------------------------ */

/* The tracefs instance, opened by a thread started by pm_tree_prepare while
 * the main thread opens the database and the /proc sources. */
static struct {
    pthread_t th;
    int started;
    struct pm_ksig *ksig;
    char why[200];
} prep;

/* PRESSMON_ATTRIBUTION=off: measure or avoid the tracefs cost
 * (docs/BENCHMARKS.md); =no-tracefs: only the OOM sources, as an
 * unprivileged or locked-down machine has them (tests).  Returns 0 when
 * tracefs may be used, else says why not. */
static int tracefs_wanted(char *why, size_t whylen)
{
    const char *aenv = getenv("PRESSMON_ATTRIBUTION");
    if (aenv && !strcmp(aenv, "off"))
        snprintf(why, whylen, "disabled by PRESSMON_ATTRIBUTION=off");
    else if (aenv && !strcmp(aenv, "no-tracefs"))
        snprintf(why, whylen, "tracefs disabled by PRESSMON_ATTRIBUTION=no-tracefs");
    else
        return 1;
    return 0;
}

static void *prep_main(void *arg)
{
    (void)arg;
    prep.ksig = pm_ksig_open(prep.why, sizeof(prep.why));
    return NULL;
}

void pm_tree_prepare(void)
{
    char why[200];
    if (prep.started || !tracefs_wanted(why, sizeof(why)))
        return;
    /* The thread takes no signal: they are the main thread's. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    prep.started = pthread_create(&prep.th, NULL, prep_main, NULL) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* The prepared instance (or NULL and why), waiting for the thread. */
static struct pm_ksig *prep_take(char *why, size_t whylen)
{
    if (!prep.started)
        return NULL;
    pthread_join(prep.th, NULL);
    prep.started = 0;
    struct pm_ksig *k = prep.ksig;
    prep.ksig = NULL;
    if (!k)
        snprintf(why, whylen, "%s", prep.why);
    return k;
}

void pm_tree_unprepare(void)
{
    char why[200];
    pm_ksig_close(prep_take(why, sizeof(why)));
}

/* Every live member keeps FDS_PER_MEMBER fds open.  A login shell's soft
 * limit of 1024 fds would stop the table at ~200 live processes (the rest
 * wait, unsampled, for a slot's fds), so the soft limit is raised toward
 * the hard one.  The command is forked before this and keeps the limits it
 * was given: programs that use select() need fds below 1024. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)MAX_MEMBERS * FDS_PER_MEMBER + 256;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

struct pm_tree *pm_tree_open(pid_t root, const struct pm_tree_opts *o, char *mechanism, size_t mlen, char *err,
                             size_t errlen)
{
    raise_fd_limit();
    struct pm_tree *t = calloc(1, sizeof(*t));
    if (!t)
        goto oom;
    t->slots = calloc(MAX_MEMBERS, sizeof(*t->slots));
    int map_ok = pm_members_init(&t->mem, MAX_MEMBERS) == 0;
    t->dents = malloc(DENTS_BUF);
    t->buf = malloc(65536);
    t->ebuf = malloc(65536);
    t->recvbuf = malloc(65536);
    if (!t->slots || !map_ok || !t->dents || !t->buf || !t->ebuf || !t->recvbuf)
        goto oom;
    /* Slots get their fds set to -1 when first used (add_member): the
     * table's 1 MB is not touched beyond the slots a run needs. */
    t->root = root;
    t->run_start = o->run_start_mono_ns;
    t->boot_minus_mono = clock_ns(CLOCK_BOOTTIME) - clock_ns(CLOCK_MONOTONIC);
    long hz = sysconf(_SC_CLK_TCK);
    t->ns_per_tick = 1000000000 / (hz > 0 ? hz : 100);
    t->page_kb = sysconf(_SC_PAGESIZE) / 1024;
    t->proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    t->nl_fd = -1;
    t->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

    char why[256] = "";
    /* PRESSMON_TREE=scan: follow the tree as a container would have to
     * (for tests, or when the connector misbehaves). */
    const char *tenv = getenv("PRESSMON_TREE");
    if (tenv && !strcmp(tenv, "scan"))
        snprintf(why, sizeof(why), "forced by PRESSMON_TREE=scan");
    else
        t->nl_fd = cn_open(why, sizeof(why));
    atomic_init(&t->use_connector, t->nl_fd >= 0);
    if (t->nl_fd >= 0)
        snprintf(t->mechanism, sizeof(t->mechanism), "proc_connector");
    else {
        t->pidfd_exit = pidfd_exit_supported();
        snprintf(t->mechanism, sizeof(t->mechanism), "proc_scan%s (%.120s)",
                 t->pidfd_exit ? " + pidfd exit status" : "", why);
    }
    snprintf(mechanism, mlen, "%s", t->mechanism);
    char kwhy[200] = "";
    const char *aenv = getenv("PRESSMON_ATTRIBUTION");
    int all_off = aenv && !strcmp(aenv, "off");
    if (tracefs_wanted(kwhy, sizeof(kwhy))) {
        int prepared = prep.started;
        t->ksig = prep_take(kwhy, sizeof(kwhy));
        if (!prepared)
            t->ksig = pm_ksig_open(kwhy, sizeof(kwhy));
    }
    /* OOM kills without tracefs (and a second witness with it): the
     * kernel log when readable, and the cgroup's counter. */
    char owhy[200];
    if (!all_off) {
        t->kmsg = pm_kmsg_open(owhy, sizeof(owhy));
        t->cgoom = pm_cgoom_open(root, owhy, sizeof(owhy));
    }
    if (t->ksig)
        snprintf(t->attribution, sizeof(t->attribution), "on");
    else if (t->kmsg || t->cgoom)
        snprintf(t->attribution, sizeof(t->attribution), "%.150s; OOM kills still seen via %s%s%s", kwhy,
                 t->kmsg ? "/dev/kmsg" : "", t->kmsg && t->cgoom ? " and " : "",
                 t->cgoom ? "the cgroup oom_kill counter" : "");
    else
        snprintf(t->attribution, sizeof(t->attribution), "%s", kwhy);
    /* Pressure events, owned by the event thread like the other sources. */
    const char *penv = getenv("PRESSMON_PSI_TRIGGER");
    if (!penv || strcmp(penv, "off")) {
        char pwhy[200];
        t->psi = pm_psi_trig_open(penv && *penv ? penv : PM_PSI_TRIGGER_DEFAULT, pwhy, sizeof(pwhy));
    }
    add_member(t, root, getpid(), 0, -1);
    return t;
oom:
    snprintf(err, errlen, "out of memory");
    pm_tree_close(t);
    return NULL;
}

/* The first pm_tree_events calls prove the connector delivers: a socket
 * that subscribed but stays silent (a container that ignores it) is
 * replaced by the /proc scan once the root has had CONFIRM_MS to exec. */
#define CONFIRM_MS 500

static void connector_give_up(struct pm_tree *t, const char *why)
{
    cn_close(t->nl_fd);
    t->nl_fd = -1;
    snprintf(t->mechanism, sizeof(t->mechanism), "proc_scan (%s)", why);
    /* From here the sampler thread is the adder (release: it sees our pid map). */
    atomic_store_explicit(&t->use_connector, 0, memory_order_release);
}

int pm_tree_events(struct pm_tree *t, struct pm_ring *out, int timeout_ms)
{
    int connector = atomic_load_explicit(&t->use_connector, memory_order_acquire);
    if (connector && t->confirm_deadline == 0)
        t->confirm_deadline = clock_ns(CLOCK_MONOTONIC) + (int64_t)CONFIRM_MS * 1000000;
    /* Every event source of the run in one poll: the wake eventfd that
     * lets a stop end the wait at once, the proc connector (while it is the
     * membership source), tracefs signals, /dev/kmsg, the PSI trigger
     * (POLLPRI). */
    enum { P_WAKE, P_NL, P_KSIG, P_KMSG, P_PSI, P_N };
    struct pollfd p[P_N];
    int idx[P_N], n = 0;
    int fds[P_N] = {t->wake_fd, connector ? t->nl_fd : -1, t->ksig ? pm_ksig_fd(t->ksig) : -1,
                    pm_kmsg_fd(t->kmsg), pm_psi_trig_fd(t->psi)};
    for (int i = 0; i < P_N; i++) {
        idx[i] = -1;
        if (fds[i] >= 0 && n < P_N) {
            p[n].fd = fds[i];
            p[n].events = i == P_PSI ? POLLPRI : POLLIN;
            p[n].revents = 0;
            idx[i] = n++;
        }
    }
    int r;
    if (n > 0) {
        r = poll(p, (nfds_t)n, timeout_ms);
    } else {
        struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
        r = 0;
    }
    int ret = 0;
    if (r > 0 && idx[P_WAKE] >= 0 && p[idx[P_WAKE]].revents) {
        uint64_t v;
        if (read(t->wake_fd, &v, sizeof(v)) < 0) { /* nothing to do */
        }
    }
    if (r > 0 && idx[P_KSIG] >= 0 && p[idx[P_KSIG]].revents)
        pm_ksig_drain(t->ksig, t->run_start, out);
    pm_ksig_tick(t->ksig);
    if (r > 0 && idx[P_KMSG] >= 0 && p[idx[P_KMSG]].revents)
        pm_kmsg_drain(t->kmsg, t->run_start, out);
    if (r > 0 && idx[P_PSI] >= 0 && (p[idx[P_PSI]].revents & POLLPRI))
        pm_psi_trig_fire(t->psi, t->run_start, out);
    if (r > 0 && idx[P_PSI] >= 0 && (p[idx[P_PSI]].revents & (POLLERR | POLLNVAL))) {
        pm_psi_trig_close(t->psi); /* the trigger is gone: stop polling it */
        t->psi = NULL;
    }
    if (t->cgoom)
        pm_cgoom_check(t->cgoom, t->run_start, out);
    if (r > 0 && idx[P_NL] >= 0 && p[idx[P_NL]].revents && cn_drain(t, out) < 0) {
        connector_give_up(t, "proc connector socket failed");
        ret = -1;
    } else if (connector && !t->root_exec_seen && clock_ns(CLOCK_MONOTONIC) > t->confirm_deadline) {
        connector_give_up(t, "proc connector subscribed but silent: a container?");
        ret = -1;
    }
    return ret;
}

void pm_tree_wake(struct pm_tree *t)
{
    uint64_t one = 1;
    if (write(t->wake_fd, &one, sizeof(one)) < 0) { /* eventfd cannot be full here */
    }
}

const char *pm_tree_mechanism(struct pm_tree *t)
{
    return t->mechanism;
}

void pm_tree_set_run_start(struct pm_tree *t, int64_t run_start_mono_ns)
{
    t->run_start = run_start_mono_ns;
}

const char *pm_tree_attribution(struct pm_tree *t)
{
    return t->attribution;
}

/* Sampler thread: open the fds of a NEW member.  Returns 0 if it is LIVE. */
static int open_member(struct pm_tree *t, struct member *m, pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d", (int)pid);
    m->dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (m->dir_fd < 0)
        return -1;
    m->stat_fd = openat(m->dir_fd, "stat", O_RDONLY | O_CLOEXEC);
    m->io_fd = openat(m->dir_fd, "io", O_RDONLY | O_CLOEXEC);
    m->sched_fd = openat(m->dir_fd, "schedstat", O_RDONLY | O_CLOEXEC);
    m->statm_fd = openat(m->dir_fd, "statm", O_RDONLY | O_CLOEXEC);
    pm_proc_hist_reset(&m->hist);
    (void)t;
    return m->stat_fd >= 0 ? 0 : -1;
}

static void close_member(struct member *m)
{
    if (m->pidfd >= 0)
        close(m->pidfd);
    m->pidfd = -1;
    if (m->stat_fd >= 0)
        close(m->stat_fd);
    if (m->io_fd >= 0)
        close(m->io_fd);
    if (m->sched_fd >= 0)
        close(m->sched_fd);
    if (m->statm_fd >= 0)
        close(m->statm_fd);
    if (m->dir_fd >= 0)
        close(m->dir_fd);
    m->dir_fd = m->stat_fd = m->io_fd = m->sched_fd = m->statm_fd = -1;
}

/* pread a small /proc/PID file of a member: length, 0 if unreadable, or -1
 * if the process has gone (a kept fd of a reaped process gives ESRCH). */
static ssize_t pread_member(int fd, char *buf, size_t cap)
{
    if (fd < 0)
        return 0;
    ssize_t n = pread(fd, buf, cap, 0);
    if (n < 0)
        return errno == ESRCH ? -1 : 0;
    return n;
}

/* Resident size in kB from /proc/PID/statm: -1 if unreadable, -2 if the
 * process has gone.  statm sums the per-CPU RSS counters exactly; the rss
 * in /proc/PID/stat reads them without the per-CPU parts (off by up to
 * ~100 kB for a small process here), so both paths below use statm, or a
 * sleeping process would seem to change size whenever it was read the
 * other way. */
static int64_t member_rss_kb(struct pm_tree *t, struct member *m)
{
    struct pm_pid_statm sm;
    ssize_t n = pread_member(m->statm_fd, t->buf, 256);
    if (n < 0)
        return -2;
    return n > 0 && pm_parse_pid_statm(t->buf, (size_t)n, &sm) == 0 ? sm.resident * t->page_kb : -1;
}

/* Sample one LIVE member; returns -1 if it has gone.  A process that has
 * not run since the last sample is not read in full: its run time and
 * resident size cost ~2 + 1 us against ~6 us for stat and io, and a tree
 * is mostly processes waiting for a child or a pipe (prochist.h says why
 * nothing else can have moved). */
static int sample_member(struct pm_tree *t, struct member *m, pid_t pid, int64_t t_ns, struct pm_ring *out)
{
    int64_t run_ns = 0;
    ssize_t n = pread_member(m->sched_fd, t->buf, 256);
    if (n < 0)
        return -1;
    if (n > 0)
        pm_parse_pid_schedstat(t->buf, (size_t)n, &run_ns);
    int64_t rss_kb = member_rss_kb(t, m);
    if (rss_kb == -2)
        return -1;
    if (pm_proc_hist_idle(&m->hist, t_ns, run_ns)) {
        pm_proc_hist_push_idle(&m->hist, t_ns, pid, rss_kb, out);
        return 0;
    }
    n = pread(m->stat_fd, t->buf, 4096, 0);
    struct pm_pid_stat ps;
    if (n <= 0 || pm_parse_pid_stat(t->buf, (size_t)n, &ps) != 0)
        return -1;
    int64_t cur[PM_PROC_N];
    uint64_t present = 0;
#define PUT(id, val) (cur[PM_M_##id] = (val), present |= UINT64_C(1) << PM_M_##id)
    PUT(P_RSS, rss_kb >= 0 ? rss_kb : ps.rss * t->page_kb);
    PUT(P_CPU_USER, ps.utime * t->ns_per_tick / 1000);
    PUT(P_CPU_SYSTEM, ps.stime * t->ns_per_tick / 1000);
    PUT(P_THREADS, ps.num_threads);
    PUT(P_MINFLT, ps.minflt);
    PUT(P_MAJFLT, ps.majflt);
    if (m->io_fd >= 0) {
        struct pm_pid_io io;
        n = pread(m->io_fd, t->buf, 4096, 0);
        if (n > 0 && pm_parse_pid_io(t->buf, (size_t)n, &io) == 0) {
            if (io.present & PM_IO_READ)
                PUT(P_READ, io.read_bytes / 1024);
            if (io.present & PM_IO_WRITE)
                PUT(P_WRITE, io.write_bytes / 1024);
        }
    }
#undef PUT
    /* Only what changed is written: counters as deltas, a row only when any
     * value moved or the state changed (DESIGN §4). */
    pm_proc_hist_push(&m->hist, t_ns, pid, ps.state, cur, present, out);
    pm_proc_hist_ran(&m->hist, t_ns, run_ns);
    return 0;
}

/* Scan mode: a member vanished (reaped).  Its pidfd may still know why. */
static void scan_exit(struct member *m, pid_t pid, int64_t t_ns, struct pm_ring *out)
{
    int ws = pidfd_exit_status(m->pidfd);
    if (ws >= 0)
        push_exit(out, t_ns, pid, PM_STATUS_PIDFD, ws, 0);
    else
        push_exit(out, t_ns, pid, PM_STATUS_UNKNOWN, 0, 0);
}

void pm_tree_sample(struct pm_tree *t, int64_t t_ns, struct pm_ring *out)
{
    int scanning = !atomic_load_explicit(&t->use_connector, memory_order_acquire);
    if (scanning)
        scan_proc(t, t_ns, out);
    int used = pm_members_used(&t->mem);
    for (int i = 0; i < used; i++) {
        struct member *m = &t->slots[i];
        int s = pm_members_state(&t->mem, i);
        if (s == PM_SLOT_FREE)
            continue;
        pid_t pid = t->mem.slot[i].pid;
        if (s == PM_SLOT_NEW) {
            if (open_member(t, m, pid) != 0) {
                /* Gone before we looked.  In scan mode it was never seen
                 * alive long enough: the adder (us) retires it. */
                if (scanning) {
                    scan_exit(m, pid, t_ns, out);
                    pm_members_retire(&t->mem, i);
                }
                s = pm_members_state(&t->mem, i);
            } else {
                s = pm_members_promote(&t->mem, i);
            }
        }
        if (s == PM_SLOT_LIVE && sample_member(t, m, pid, t_ns, out) != 0 && scanning) {
            scan_exit(m, pid, t_ns, out);
            pm_members_retire(&t->mem, i);
        }
        if (pm_members_state(&t->mem, i) == PM_SLOT_DEAD) {
            close_member(m);
            pm_members_release(&t->mem, i);
        }
    }
}

void pm_tree_reaped(struct pm_tree *t, pid_t pid, int status, int64_t maxrss_kb, struct pm_ring *out,
                    int64_t t_ns)
{
    /* The connector reports the same exit with the same status; the store
     * keeps the first known status.  In scan mode this is the only status
     * there is. */
    push_exit(out, t_ns, pid, PM_STATUS_WAIT, status, maxrss_kb);
    (void)t;
}

int pm_tree_alive(struct pm_tree *t)
{
    /* Called after the sampler and event threads stopped: count members
     * that really still run (the reaped root and zombies do not). */
    int n = 0, used = pm_members_used(&t->mem);
    for (int i = 0; i < used; i++) {
        int s = pm_members_state(&t->mem, i);
        pid_t pid = t->mem.slot[i].pid;
        if ((s == PM_SLOT_NEW || s == PM_SLOT_LIVE) && pid != t->root && pm_pid_alive(pid))
            n++;
    }
    return n;
}

uint64_t pm_tree_lost(struct pm_tree *t)
{
    return atomic_load(&t->lost);
}

/*
 * Two kernel objects of a run take long to let go of, in wall time rather
 * than CPU: the tracefs instance, released at once for the next run to
 * adopt (pm_ksig_release), is removed a second later unless adopted, which
 * waits for RCU grace periods (36-44 ms measured on the development VM);
 * closing the PSI trigger waits for one more (8.6 ms).  pressmon would exit
 * that much later for nothing (a `pressmon record -- true` took 120 ms
 * against 1 ms), so a helper does both and pressmon does not wait for it:
 * `pressmon __teardown DIR REMOVE` with the trigger as fd 3, started with
 * posix_spawn (a vfork: a fork copied pressmon's page tables and made its
 * exit fault in copies of the pages it touched, ~1 ms), in a session of
 * its own (the terminal's Ctrl-C does not reach it), with /dev/null as
 * stdin/stdout/stderr and no other fd (a caller reading pressmon's output
 * through a pipe sees EOF when pressmon exits).  The reaper of pressmon's
 * own orphans reaps it.  If it cannot be started, the instance is removed
 * here.
 */
static void teardown_detached(const char *dir, int park, int psi_fd)
{
    if (park < 0 && psi_fd < 0)
        return;
    /* The run is over: let the helper, like any orphan of the run, go to
     * our own parent's reaper once we exit. */
    prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
    char remove[4], *argv[] = {"pressmon", "__teardown", (char *)(park >= 0 ? dir : "-"), remove, NULL};
    snprintf(remove, sizeof(remove), "%d", park > 0);
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    int ok = posix_spawn_file_actions_init(&fa) == 0;
    if (ok && posix_spawnattr_init(&at) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        ok = 0;
    }
    if (ok) {
        for (int i = 0; i < 3; i++)
            posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i ? O_WRONLY : O_RDONLY, 0);
        if (psi_fd >= 0)
            posix_spawn_file_actions_adddup2(&fa, psi_fd, 3); /* dup2 onto itself clears CLOEXEC too */
        posix_spawn_file_actions_addclosefrom_np(&fa, psi_fd >= 0 ? 4 : 3);
        /* signals back to default, none blocked: the helper only sleeps */
        sigset_t none, all;
        sigemptyset(&none);
        sigfillset(&all);
        posix_spawnattr_setsigmask(&at, &none);
        posix_spawnattr_setsigdefault(&at, &all);
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        /* Our own binary, by the path the kernel (or valgrind, which
         * answers for its client) gives for /proc/self/exe. */
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0)
            self[n] = '\0';
        else
            snprintf(self, sizeof(self), "/proc/self/exe");
        pid_t pid;
        ok = posix_spawn(&pid, self, &fa, &at, argv, environ) == 0;
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
    }
    if (psi_fd >= 0)
        close(psi_fd); /* the helper's copy keeps the trigger, or it goes now */
    if (!ok && park >= 0)
        pm_ksig_park(dir, 0, 1);
}

int pm_tree_teardown_main(int argc, char **argv)
{
    /* argv: DIR|- REMOVE; fd 3 may hold a PSI trigger. */
    if (argc != 2 || (strcmp(argv[1], "0") && strcmp(argv[1], "1")) ||
        (strcmp(argv[0], "-") && !strstr(argv[0], "/instances/pressmon-"))) {
        fprintf(stderr, "pressmon __teardown: internal command of pressmon record, not for use\n");
        return 2;
    }
    close(3); /* the trigger goes now (a grace period, in this process) */
    if (strcmp(argv[0], "-"))
        pm_ksig_park(argv[0], PM_KSIG_PARK_NS, argv[1][0] == '1');
    return 0;
}

void pm_tree_close(struct pm_tree *t)
{
    if (!t)
        return;
    cn_close(t->nl_fd);
    char kdir[128];
    int park = pm_ksig_release(t->ksig, kdir, sizeof(kdir));
    pm_kmsg_close(t->kmsg);
    pm_cgoom_close(t->cgoom);
    teardown_detached(kdir, park, pm_psi_trig_release(t->psi));
    if (t->slots && t->mem.slot)
        for (int i = 0; i < pm_members_used(&t->mem); i++)
            close_member(&t->slots[i]);
    if (t->proc_fd > 0)
        close(t->proc_fd);
    free(t->slots);
    pm_members_free(&t->mem);
    free(t->dents);
    free(t->buf);
    free(t->ebuf);
    free(t->recvbuf);
    free(t);
}
