/*
 * The recorded process tree on macOS: membership, per-process samples,
 * exits and kill attribution (sampler/platform.h, DESIGN §6).
 *
 * Membership (event thread): kqueue EVFILT_PROC on every member with
 * NOTE_FORK | NOTE_EXEC | NOTE_EXIT | NOTE_EXITSTATUS | NOTE_EXIT_DETAIL.
 * NOTE_TRACK (automatic registration of children) is not supported by
 * macOS, so on NOTE_FORK the parent's children are listed with
 * proc_listchildpids and registered; a child that forks again before it
 * is registered, or that lives shorter than that, is caught by a sweep
 * every SWEEP_NS (proc_listpids of every pid + PROC_PIDT_SHORTBSDINFO
 * ppid check -- it scans all processes, so it stays off the sampler
 * thread).
 *
 * Exits: NOTE_EXIT's data carries the wait status (NOTE_EXITSTATUS) and
 * the NOTE_EXIT_MEMORY / CSERROR / DECRYPTFAIL bits (NOTE_EXIT_DETAIL),
 * decoded by sampler/exitinfo.c into a PROC_EXIT with kill_cause, plus a
 * memory_kill / codesign_kill event.  For the root (pressmon's own child,
 * a zombie until the main thread reaps it) the exit reason is read too
 * (proc_pidinfo flavor 25, PROC_PIDEXITREASONBASICINFO), when the event
 * thread gets there before the reap.
 *
 * Kernel kill messages: optionally a `log stream --style ndjson` child
 * (sampler/macos_log.c parses its lines; PRESSMON_NO_LOG_STREAM=1 turns
 * it off).  Its stdout is one more kqueue source.  `log` exits 77 ("Must
 * be admin") for non-admin users: pressmon says so once, as a notice
 * event, and goes on.  Lines that name a tree member (by pid, or by
 * executable name when the line has no pid) become events.
 *
 * Samples (sampler thread, no malloc): proc_pidinfo PROC_PIDTASKINFO
 * (CPU times in Mach absolute units, converted with mach_timebase_info:
 * 125/3 ns per unit on Apple Silicon, 1 on Intel), proc_pid_rusage
 * (ri_phys_footprint -- what Activity Monitor shows and memory limits
 * use -- as rss_kb; disk bytes) and PROC_PIDT_SHORTBSDINFO (state).
 */
#include <errno.h>
#include <fcntl.h>
#include <libproc.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/event.h>
#include <sys/proc_info.h>
#include <sys/resource.h>
#include <sys/sysctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "darwin.h"
#include "sampler/exitinfo.h"
#include "sampler/macos_log.h"
#include "sampler/platform.h"
#include "sampler/members.h"
#include "sampler/prochist.h"

extern char **environ;

#define MAX_MEMBERS 4096
#define MAX_PIDS 16384 /* sweep buffer */
#define SWEEP_NS 250000000LL
#define ARGBUF 65536
/* Not in the public <sys/proc_info.h>: xnu's flavor for
 * struct proc_exitreasonbasicinfo. */
#define PM_PROC_PIDEXITREASONBASICINFO 25
#define LOG_IDENT 0x7fffff01 /* kqueue ident for the log pipe is its fd; this tags the log pid */

/* Per slot of the member table (sampler/members.h). */
struct member {
    char comm[PM_COMM_MAX];   /* event thread (the adder): for log lines without a pid */
    struct pm_proc_hist hist; /* sampler-private */
};

struct pm_tree {
    pid_t root;
    int64_t run_start;
    int kq;
    char mechanism[128];
    _Atomic int alive;       /* members not yet known dead, the root included */
    _Atomic int root_alive;
    _Atomic uint64_t lost;
    struct pm_members mem;   /* who is a member; the event thread adds and retires */
    struct member *slots;    /* per slot of mem */
    pid_t *pids;             /* sweep buffer */
    char *argbuf;            /* KERN_PROCARGS2 buffer */
    int64_t last_sweep;
    /* log stream */
    pid_t log_pid;
    int log_fd;
    int log_noticed;
    struct pm_mlog_splitter *split;
    struct pm_ring *cur_out; /* ring of the current pm_tree_events call */
};

/* ---- member table ------------------------------------------------------- */

static int add_member(struct pm_tree *t, pid_t pid, pid_t ppid)
{
    int fresh;
    int i = pm_members_claim(&t->mem, pid, ppid, 0, &fresh);
    if (i < 0) {
        if (i == -2)
            atomic_fetch_add(&t->lost, 1); /* table full: not followed */
        return -1;
    }
    struct member *m = &t->slots[i];
    m->comm[0] = '\0';
    proc_name(pid, m->comm, sizeof(m->comm));
    atomic_fetch_add(&t->alive, 1);
    pm_members_publish(&t->mem, i);
    return i;
}

static void kill_member(struct pm_tree *t, int slot)
{
    if (pm_members_retire(&t->mem, slot))
        atomic_fetch_sub(&t->alive, 1);
}

/* ---- records ------------------------------------------------------------ */

static int64_t rel_now(struct pm_tree *t)
{
    return pm_mono_ns() - t->run_start;
}

/* argv from KERN_PROCARGS2: int argc, the exec path, NUL padding, then
 * argc NUL-terminated strings. */
static void fill_argv(struct pm_tree *t, pid_t pid, struct pm_proc_start_rec *r)
{
    int mib[3] = {CTL_KERN, KERN_PROCARGS2, pid};
    size_t len = ARGBUF;
    if (sysctl(mib, 3, t->argbuf, &len, NULL, 0) != 0 || len < sizeof(int))
        return;
    int argc;
    memcpy(&argc, t->argbuf, sizeof(argc));
    const char *p = t->argbuf + sizeof(int), *end = t->argbuf + len;
    while (p < end && *p)
        p++; /* exec path */
    while (p < end && !*p)
        p++; /* padding */
    size_t used = 0;
    for (int a = 0; a < argc && p < end && used < sizeof(r->argv); a++) {
        size_t n = strnlen(p, (size_t)(end - p));
        size_t room = sizeof(r->argv) - used - 1;
        size_t c = n < room ? n : room;
        memcpy(r->argv + used, p, c);
        used += c;
        r->argv[used++] = '\0';
        p += n + 1;
    }
    r->argv_len = (uint16_t)used;
}

static void push_start(struct pm_tree *t, struct pm_ring *out, pid_t pid, pid_t ppid, int is_exec)
{
    struct pm_rec *r = pm_ring_reserve(out);
    if (!r)
        return;
    memset(&r->u.start, 0, sizeof(r->u.start));
    r->type = PM_REC_PROC_START;
    r->u.start.t_ns = rel_now(t);
    r->u.start.pid = pid;
    r->u.start.ppid = ppid;
    r->u.start.is_exec = is_exec;
    r->u.start.start_ns = INT64_MIN;
    struct proc_bsdinfo bi;
    if (proc_pidinfo(pid, PROC_PIDTBSDINFO, 0, &bi, sizeof(bi)) == (int)sizeof(bi)) {
        /* Start time is wall clock: move it onto the monotonic run clock. */
        int64_t start_wall = (int64_t)bi.pbi_start_tvsec * 1000000000 + (int64_t)bi.pbi_start_tvusec * 1000;
        r->u.start.start_ns = start_wall - (pm_wall_ns() - pm_mono_ns()) - t->run_start;
        pm_strlcpy(r->u.start.comm, bi.pbi_name[0] ? bi.pbi_name : bi.pbi_comm, sizeof(r->u.start.comm));
        if (!ppid)
            r->u.start.ppid = (pid_t)bi.pbi_ppid;
    } else {
        proc_name(pid, r->u.start.comm, sizeof(r->u.start.comm));
    }
    fill_argv(t, pid, &r->u.start);
    pm_ring_commit(out);
}

static void push_event(struct pm_ring *out, int64_t t_ns, int kind, pid_t pid, int sig, pid_t sender,
                       const char *sender_comm, const char *detail)
{
    struct pm_rec *r = pm_ring_reserve(out);
    if (!r)
        return;
    memset(&r->u.ev, 0, sizeof(r->u.ev));
    r->type = PM_REC_EVENT;
    r->u.ev.t_ns = t_ns;
    r->u.ev.kind = kind;
    r->u.ev.pid = pid;
    r->u.ev.signal = sig;
    r->u.ev.sender_pid = sender;
    pm_strlcpy(r->u.ev.sender_comm, sender_comm ? sender_comm : "", sizeof(r->u.ev.sender_comm));
    pm_strlcpy(r->u.ev.detail, detail ? detail : "", sizeof(r->u.ev.detail));
    pm_ring_commit(out);
}

static void push_exit(struct pm_ring *out, int64_t t_ns, pid_t pid, int src, const struct pm_exit_info *e,
                      int64_t maxrss_kb)
{
    struct pm_rec *r = pm_ring_reserve(out);
    if (!r)
        return;
    memset(&r->u.exit, 0, sizeof(r->u.exit));
    r->type = PM_REC_PROC_EXIT;
    r->u.exit.t_ns = t_ns;
    r->u.exit.pid = pid;
    r->u.exit.status_src = e->known ? src : PM_STATUS_UNKNOWN;
    r->u.exit.exit_code = e->exit_code;
    r->u.exit.signal = e->signal;
    r->u.exit.core = e->core;
    r->u.exit.maxrss_kb = maxrss_kb;
    pm_strlcpy(r->u.exit.kill_cause, e->cause, sizeof(r->u.exit.kill_cause));
    if (!strcmp(e->cause, "memory") || !strcmp(e->cause, "codesign"))
        pm_strlcpy(r->u.exit.killer_comm, "kernel", sizeof(r->u.exit.killer_comm));
    pm_ring_commit(out);
}

/* ---- kqueue registration ------------------------------------------------- */

static int watch(struct pm_tree *t, pid_t pid)
{
    struct kevent64_s ev;
    EV_SET64(&ev, (uint64_t)pid, EVFILT_PROC, EV_ADD | EV_ENABLE,
             NOTE_FORK | NOTE_EXEC | NOTE_EXIT | NOTE_EXITSTATUS | NOTE_EXIT_DETAIL, 0, 0, 0, 0);
    if (kevent64(t->kq, &ev, 1, NULL, 0, 0, NULL) == 0)
        return 0;
    /* NOTE_EXITSTATUS is only granted for our children or processes we
     * may signal; retry without it rather than lose the process. */
    EV_SET64(&ev, (uint64_t)pid, EVFILT_PROC, EV_ADD | EV_ENABLE, NOTE_FORK | NOTE_EXEC | NOTE_EXIT, 0, 0,
             0, 0);
    return kevent64(t->kq, &ev, 1, NULL, 0, 0, NULL);
}

/* A new member: register it, report it, and report it gone if it already
 * is (it exited before we could watch it: no status). */
static void adopt(struct pm_tree *t, struct pm_ring *out, pid_t pid, pid_t ppid)
{
    int slot = add_member(t, pid, ppid);
    if (slot < 0)
        return;
    push_start(t, out, pid, ppid, 0);
    push_event(out, rel_now(t), PM_EV_FORK, pid, 0, ppid, NULL, "");
    if (watch(t, pid) != 0) {
        struct pm_exit_info e;
        memset(&e, 0, sizeof(e));
        pm_strlcpy(e.cause, "unknown", sizeof(e.cause));
        push_exit(out, rel_now(t), pid, PM_STATUS_UNKNOWN, &e, 0);
        kill_member(t, slot);
    }
}

static void adopt_children(struct pm_tree *t, struct pm_ring *out, pid_t parent)
{
    int n = proc_listchildpids(parent, t->pids, MAX_PIDS * (int)sizeof(pid_t));
    /* proc_listchildpids returns a count of pids (unlike proc_listpids,
     * which returns bytes). */
    for (int i = 0; i < n && i < MAX_PIDS; i++)
        if (t->pids[i] > 0 && pm_members_find(&t->mem, t->pids[i]) < 0)
            adopt(t, out, t->pids[i], parent);
}

static void sweep(struct pm_tree *t, struct pm_ring *out)
{
    int bytes = proc_listpids(PROC_ALL_PIDS, 0, t->pids, MAX_PIDS * (int)sizeof(pid_t));
    if (bytes <= 0)
        return;
    int n = bytes / (int)sizeof(pid_t);
    /* Two passes: a grandchild listed before its parent was adopted. */
    for (int pass = 0; pass < 2; pass++) {
        int added = 0;
        for (int i = 0; i < n; i++) {
            pid_t pid = t->pids[i];
            if (pid <= 0 || pm_members_find(&t->mem, pid) >= 0)
                continue;
            struct proc_bsdshortinfo si;
            if (proc_pidinfo(pid, PROC_PIDT_SHORTBSDINFO, 0, &si, sizeof(si)) != (int)sizeof(si))
                continue;
            if (pm_members_find(&t->mem, (pid_t)si.pbsi_ppid) >= 0) {
                adopt(t, out, pid, (pid_t)si.pbsi_ppid);
                added++;
            }
        }
        if (!added)
            break;
    }
}

/* ---- log stream --------------------------------------------------------- */

static void start_log_stream(struct pm_tree *t)
{
    t->log_pid = -1;
    t->log_fd = -1;
    const char *off = getenv("PRESSMON_NO_LOG_STREAM");
    if ((off && *off && strcmp(off, "0")) || access("/usr/bin/log", X_OK) != 0)
        return;
    int p[2];
    if (pipe(p) != 0)
        return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    posix_spawn_file_actions_addclose(&fa, p[1]);
    char *argv[] = {"log", "stream", "--style", "ndjson", "--predicate", (char *)pm_mlog_predicate, NULL};
    /* Its own process group: Ctrl-C at the terminal is for the recorded
     * command, and must not end the log stream before the kill shows up. */
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&at, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, "/usr/bin/log", &fa, &at, argv, environ);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        return;
    }
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    struct kevent64_s ev[2];
    EV_SET64(&ev[0], (uint64_t)p[0], EVFILT_READ, EV_ADD | EV_ENABLE, 0, 0, LOG_IDENT, 0, 0);
    EV_SET64(&ev[1], (uint64_t)pid, EVFILT_PROC, EV_ADD | EV_ENABLE, NOTE_EXIT | NOTE_EXITSTATUS, 0,
             LOG_IDENT, 0, 0);
    kevent64(t->kq, ev, 2, NULL, 0, 0, NULL);
    t->log_pid = pid;
    t->log_fd = p[0];
    t->split = calloc(1, sizeof(*t->split));
}

static int member_by_comm(struct pm_tree *t, const char *comm)
{
    if (!comm[0])
        return 0;
    int used = pm_members_used(&t->mem);
    for (int i = 0; i < used; i++) {
        struct member *m = &t->slots[i];
        if (pm_members_state(&t->mem, i) != PM_SLOT_FREE && !strncmp(m->comm, comm, sizeof(m->comm) - 1))
            return 1;
    }
    return 0;
}

static void on_log_line(const char *line, size_t len, void *arg)
{
    struct pm_tree *t = arg;
    struct pm_mlog_event ev;
    if (pm_mlog_parse_line(line, len, &ev) != 1)
        return;
    /* The victim must be ours: by pid, or by name when the line has none.
     * (A dead member's pid has left the hash, but a kill line for it
     * arrives around its exit: the DEAD slot still matches by name.) */
    int ours = ev.pid ? (pm_members_find(&t->mem, ev.pid) >= 0 || member_by_comm(t, ev.comm)) : member_by_comm(t, ev.comm);
    if (!ours)
        return;
    int64_t t_ns = rel_now(t);
    if (ev.mach_ts) {
        int64_t ts = pm_mach_to_ns(ev.mach_ts) - t->run_start;
        if (ts > -1000000000LL && ts <= t_ns)
            t_ns = ts; /* the kernel's own time of the message */
    }
    char detail[PM_DETAIL_MAX];
    snprintf(detail, sizeof(detail), "%s: %s", ev.reason, ev.detail);
    push_event(t->cur_out, t_ns, ev.kind, ev.pid, ev.fatal ? SIGKILL : 0, ev.sender_pid, ev.sender_comm, detail);
}

static void drain_log(struct pm_tree *t)
{
    char buf[8192];
    for (;;) {
        ssize_t n = read(t->log_fd, buf, sizeof(buf));
        if (n > 0) {
            pm_mlog_feed(t->split, buf, (size_t)n, on_log_line, t);
            continue;
        }
        if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
            pm_mlog_finish(t->split, on_log_line, t);
            close(t->log_fd);
            t->log_fd = -1;
        }
        return;
    }
}

static void log_exited(struct pm_tree *t, struct pm_ring *out, uint32_t data)
{
    int status = (int)(data & 0xffff);
    waitpid(t->log_pid, NULL, WNOHANG); /* ours to reap, if main has not */
    t->log_pid = -1;
    if (t->log_noticed++)
        return;
    if ((status & 0x7f) == 0 && ((status >> 8) & 0xff) == 77)
        push_event(out, rel_now(t), PM_EV_NOTICE, 0, 0, 0, "log",
                   "kernel kill messages off: `log stream` needs an admin user (it exited 77, "
                   "\"Must be admin\"); kqueue exit details still classify kills");
    else
        push_event(out, rel_now(t), PM_EV_NOTICE, 0, 0, 0, "log",
                   "kernel kill messages off: `log stream` ended early");
}

/* ---- the platform interface --------------------------------------------- */

/* Nothing in pm_tree_open is slow enough to start early on macOS. */
void pm_tree_prepare(void)
{
}

void pm_tree_unprepare(void)
{
}

/* pm_tree_close lets go of nothing slow on macOS: no helper. */
int pm_tree_teardown_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return 2;
}

struct pm_tree *pm_tree_open(pid_t root, const struct pm_tree_opts *o, char *mechanism, size_t mechanism_len,
                             char *err, size_t errlen)
{
    struct pm_tree *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of memory opening the process tree");
        return NULL;
    }
    t->root = root;
    t->run_start = o->run_start_mono_ns;
    t->kq = -1;
    t->log_fd = -1;
    t->log_pid = -1;
    t->slots = calloc(MAX_MEMBERS, sizeof(*t->slots));
    int map_ok = pm_members_init(&t->mem, MAX_MEMBERS) == 0;
    t->pids = malloc(MAX_PIDS * sizeof(*t->pids));
    t->argbuf = malloc(ARGBUF);
    if (!t->slots || !map_ok || !t->pids || !t->argbuf) {
        snprintf(err, errlen, "out of memory opening the process tree");
        pm_tree_close(t);
        return NULL;
    }
    t->kq = kqueue();
    if (t->kq >= 0) {
        struct kevent64_s wake;
        EV_SET64(&wake, 0x504d /* PM_WAKE_IDENT */, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, 0, 0, 0);
        kevent64(t->kq, &wake, 1, NULL, 0, 0, NULL);
    }
    if (t->kq < 0) {
        snprintf(err, errlen, "kqueue: %s", strerror(errno));
        pm_tree_close(t);
        return NULL;
    }
    add_member(t, root, getpid());
    atomic_store(&t->root_alive, 1);
    if (watch(t, root) != 0) {
        snprintf(err, errlen, "cannot watch process %d with kqueue EVFILT_PROC: %s", (int)root,
                 strerror(errno));
        pm_tree_close(t);
        return NULL;
    }
    start_log_stream(t);
    snprintf(t->mechanism, sizeof(t->mechanism), "kqueue EVFILT_PROC + proc_listchildpids + sweep%s",
             t->log_fd >= 0 ? " + log stream" : "");
    if (mechanism && mechanism_len)
        pm_strlcpy(mechanism, t->mechanism, mechanism_len);
    return t;
}

static void on_proc_event(struct pm_tree *t, struct pm_ring *out, const struct kevent64_s *ev)
{
    pid_t pid = (pid_t)ev->ident;
    uint32_t ff = ev->fflags;
    if (ev->udata == LOG_IDENT) {
        if (ff & NOTE_EXIT)
            log_exited(t, out, (uint32_t)ev->data);
        return;
    }
    int slot = pm_members_find(&t->mem, pid);
    if (ff & NOTE_FORK)
        adopt_children(t, out, pid);
    if ((ff & NOTE_EXEC) && slot >= 0) {
        proc_name(pid, t->slots[slot].comm, sizeof(t->slots[slot].comm));
        push_start(t, out, pid, t->mem.slot[slot].ppid, 1);
        push_event(out, rel_now(t), PM_EV_EXEC, pid, 0, 0, NULL, t->slots[slot].comm);
    }
    if (ff & NOTE_EXIT) {
        struct pm_exit_info e;
        pm_exit_from_kevent((uint32_t)ev->data, (ff & NOTE_EXITSTATUS) != 0, (ff & NOTE_EXIT_DETAIL) != 0, &e);
        if (pid == t->root) {
            /* A zombie until the main thread reaps it: the exit reason
             * says what the kernel recorded (jetsam, code signing, ...). */
            struct proc_exitreasonbasicinfo ri;
            memset(&ri, 0, sizeof(ri));
            if (proc_pidinfo(pid, PM_PROC_PIDEXITREASONBASICINFO, 1, &ri, sizeof(ri)) == (int)sizeof(ri))
                pm_exit_apply_reason(&e, ri.beri_namespace, ri.beri_code);
        }
        int64_t now = rel_now(t);
        push_exit(out, now, pid, PM_STATUS_KQUEUE, &e, 0);
        if (e.ev_kind == PM_EV_MEMORY_KILL || e.ev_kind == PM_EV_CODESIGN_KILL)
            push_event(out, now, e.ev_kind, pid, e.signal, 0, "kernel", e.detail);
        push_event(out, now, PM_EV_EXIT, pid, e.signal, 0, NULL, e.cause);
        if (slot >= 0)
            kill_member(t, slot);
        if (pid == t->root)
            atomic_store(&t->root_alive, 0);
    }
}

int pm_tree_events(struct pm_tree *t, struct pm_ring *out, int timeout_ms)
{
    if (t->kq < 0)
        return -1;
    t->cur_out = out;
    struct kevent64_s evs[64];
    struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
    int n = kevent64(t->kq, NULL, 0, evs, 64, 0, &ts);
    if (n < 0 && errno != EINTR)
        return -1;
    for (int i = 0; i < n; i++) {
        if (evs[i].flags & EV_ERROR)
            continue;
        if (evs[i].filter == EVFILT_PROC)
            on_proc_event(t, out, &evs[i]);
        else if (evs[i].filter == EVFILT_READ && (int)evs[i].ident == t->log_fd)
            drain_log(t);
        /* EVFILT_USER: pm_tree_wake, nothing to do but return */
    }
    int64_t now = pm_mono_ns();
    if (now - t->last_sweep >= SWEEP_NS && atomic_load(&t->alive) > 0) {
        sweep(t, out);
        t->last_sweep = now;
    }
    return 0;
}

static char state_char(uint32_t status)
{
    /* sys/proc.h: SIDL 1, SRUN 2, SSLEEP 3, SSTOP 4, SZOMB 5 */
    static const char map[] = {'?', 'I', 'R', 'S', 'T', 'Z'};
    return status < sizeof(map) ? map[status] : '?';
}

static void sample_member(struct member *m, pid_t pid, int64_t t_ns, struct pm_ring *out)
{
    struct proc_taskinfo ti;
    struct proc_bsdshortinfo si;
    struct rusage_info_v2 ru;
    int64_t cur[PM_PROC_N];
    uint64_t present = 0;
    char st = '?';
#define PUT(id, val) (cur[PM_M_##id] = (val), present |= UINT64_C(1) << PM_M_##id)
    if (proc_pidinfo(pid, PROC_PIDTASKINFO, 0, &ti, sizeof(ti)) == (int)sizeof(ti)) {
        PUT(P_CPU_USER, pm_mach_to_ns(ti.pti_total_user) / 1000);
        PUT(P_CPU_SYSTEM, pm_mach_to_ns(ti.pti_total_system) / 1000);
        PUT(P_THREADS, ti.pti_threadnum);
        PUT(P_MAJFLT, ti.pti_pageins);
        PUT(P_MINFLT, ti.pti_faults > ti.pti_pageins ? ti.pti_faults - ti.pti_pageins : 0);
    }
    if (proc_pid_rusage(pid, RUSAGE_INFO_V2, (rusage_info_t *)&ru) == 0) {
        PUT(P_RSS, (int64_t)(ru.ri_phys_footprint / 1024));
        PUT(P_READ, (int64_t)(ru.ri_diskio_bytesread / 1024));
        PUT(P_WRITE, (int64_t)(ru.ri_diskio_byteswritten / 1024));
    }
    if (proc_pidinfo(pid, PROC_PIDT_SHORTBSDINFO, 0, &si, sizeof(si)) == (int)sizeof(si))
        st = state_char(si.pbsi_status);
#undef PUT
    if (!present)
        return; /* gone: NOTE_EXIT reports it */
    pm_proc_hist_push(&m->hist, t_ns, pid, st, cur, present, out);
}

void pm_tree_sample(struct pm_tree *t, int64_t t_ns, struct pm_ring *out)
{
    int used = pm_members_used(&t->mem);
    for (int i = 0; i < used; i++) {
        struct member *m = &t->slots[i];
        int s = pm_members_state(&t->mem, i);
        if (s == PM_SLOT_FREE)
            continue;
        if (s == PM_SLOT_NEW) {
            pm_proc_hist_reset(&m->hist);
            s = pm_members_promote(&t->mem, i);
        }
        if (s == PM_SLOT_LIVE)
            sample_member(m, t->mem.slot[i].pid, t_ns, out);
        if (pm_members_state(&t->mem, i) == PM_SLOT_DEAD)
            pm_members_release(&t->mem, i);
    }
}

void pm_tree_reaped(struct pm_tree *t, pid_t pid, int status, int64_t maxrss_kb, struct pm_ring *out,
                    int64_t t_ns)
{
    if (pid == t->log_pid)
        return; /* our `log stream` helper, not part of the recording */
    struct pm_exit_info e;
    pm_exit_from_status(status, &e);
    push_exit(out, t_ns, pid, PM_STATUS_WAIT, &e, maxrss_kb);
}

const char *pm_tree_mechanism(struct pm_tree *t)
{
    return t->mechanism;
}

uint64_t pm_tree_lost(struct pm_tree *t)
{
    return atomic_load(&t->lost);
}

int pm_tree_alive(struct pm_tree *t)
{
    /* Descendants only: the root is counted in `alive` until its
     * NOTE_EXIT is handled. */
    int n = atomic_load(&t->alive) - atomic_load(&t->root_alive);
    return n < 0 ? 0 : n;
}

void pm_tree_close(struct pm_tree *t)
{
    if (!t)
        return;
    if (t->log_pid > 0) {
        kill(t->log_pid, SIGTERM);
        for (int i = 0; i < 50 && waitpid(t->log_pid, NULL, WNOHANG) == 0; i++)
            usleep(10000);
    }
    if (t->log_fd >= 0)
        close(t->log_fd);
    if (t->kq >= 0)
        close(t->kq);
    free(t->split);
    free(t->slots);
    pm_members_free(&t->mem);
    free(t->pids);
    free(t->argbuf);
    free(t);
}

void pm_tree_set_run_start(struct pm_tree *t, int64_t run_start_mono_ns)
{
    t->run_start = run_start_mono_ns;
}

/* kqueue exit details (memory / code-signing kills) need no privilege;
 * the kernel's kill messages come from `log stream`, which needs an admin
 * user: when it could not start or exited, the notice event says why. */
const char *pm_tree_attribution(struct pm_tree *t)
{
    if (t->log_pid > 0 || t->log_fd >= 0)
        return "on (kqueue exit details + log stream)";
    return "partial: kqueue exit details only (log stream unavailable: needs an admin user)";
}

/* The event thread's kevent wait ends at once on this user event. */
#define PM_WAKE_IDENT 0x504d
void pm_tree_wake(struct pm_tree *t)
{
    struct kevent64_s ev;
    EV_SET64(&ev, PM_WAKE_IDENT, EVFILT_USER, 0, NOTE_TRIGGER, 0, 0, 0, 0);
    kevent64(t->kq, &ev, 1, NULL, 0, 0, NULL);
}
