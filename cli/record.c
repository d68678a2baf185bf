/*
 * pressmon record: run a command (or nothing) and record it.
 *
 * The wrapper contract (DESIGN §3, the conventions of env(1), timeout(1)
 * and `docker run`): pressmon exits with the child's exit code, 128+N when
 * the child died of signal N, 125 when pressmon itself failed before or
 * while starting the child, 126 when the command is not executable, 127
 * when it is not found.  The child shares pressmon's stdin, stdout, stderr
 * and TTY.  Signals (see "Signals" below): in the foreground of a terminal
 * the child shares pressmon's process group, so Ctrl-C reaches it directly;
 * elsewhere (CI, a background job) it gets a process group of its own, so
 * that a signal sent to pressmon's group reaches it once, forwarded.
 * Nothing pressmon does after the child started (a full disk, a locked
 * database) changes the child's fate or the exit status.
 *
 * Order of work, chosen so that every failure of pressmon's own happens
 * before the command runs: parse options -> find the command -> open the
 * database -> open the samplers -> fork the child, held on a pipe -> follow
 * its tree -> write the run row -> start the threads -> release the child.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../exporters/live.h"
#include "../sampler/recorder.h"
#include "cli.h"

#define MAX_TAGS 64

static const char usage_text[] =
    "usage: pressmon record [options] -- COMMAND [ARGS...]\n"
    "       pressmon record [options] --duration DURATION\n"
    "\n"
    "Run COMMAND and sample the system (memory, CPU, IO, pressure) and COMMAND's whole\n"
    "process tree into SQLite until it exits; or, with --duration and no command, record\n"
    "the system alone (Ctrl-C ends it early, cleanly).\n"
    "\n"
    "options:\n"
    "  -d, --db PATH            database (default $PRESSMON_DB, else ./pressmon.db)\n"
    "  -i, --interval DUR       system sampling interval, 1ms..60s (default 10ms)\n"
    "  -p, --proc-interval DUR  process tree sampling interval, 1ms..60s (default 40ms;\n"
    "                           never shorter than --interval)\n"
    "  -D, --duration DUR       record the system alone for DUR (no COMMAND)\n"
    "  -l, --label TEXT         label the run (select it later with label:TEXT)\n"
    "  -t, --tag KEY=VALUE      attach a tag (repeatable)\n"
    "  -q, --quiet              no status line and no summary on stderr\n"
    "      --json               print the end-of-run summary as JSON on stdout\n"
    "      --commit-interval DUR  how often samples are committed (default 250ms, 50ms..5s)\n"
    "      --push URL           also push samples live (docs/EXPORT.md); auth from\n"
    "                           PRESSMON_PUSH_USER/PASSWORD or PRESSMON_PUSH_TOKEN\n"
    "      --push-protocol P    remote-write, influx or pushgateway (default: from URL)\n"
    "  -h, --help               this text\n"
    "\n"
    "DUR is a number with a unit, which is required: ns, us, ms, s, m, h, d (e.g. 5ms,\n"
    "1.5s, 2m).\n"
    "\n"
    "signals: in the foreground of a terminal COMMAND shares pressmon's process group\n"
    "(Ctrl-C reaches it directly; kill -INT/-TERM/-HUP/-QUIT of pressmon alone is\n"
    "forwarded).  Elsewhere (CI, a background job) COMMAND gets a process group of its\n"
    "own and those signals, from anyone, are forwarded to it once.\n"
    "\n"
    "exit status: COMMAND's exit code; 128+N if it died of signal N (SIGKILL: 137);\n"
    "125 if pressmon failed (bad option, unwritable database, ...); 126 if COMMAND is not\n"
    "executable; 127 if it is not found.  A system-only recording exits 0.\n";

struct record_opts {
    const char *db;
    int64_t interval, proc_interval, duration, commit;
    const char *label;
    struct pm_tag tags[MAX_TAGS];
    int ntags;
    int quiet, json;
    const char *push_url;
    enum pm_proto push_proto;
    char **cmd;
    int ncmd;
};

/* The recorder's writer-thread hook: hand each stored sample to live push. */
static void live_offer(void *ctx, const struct pm_sys_rec *r)
{
    pm_live_offer_sys(ctx, r);
}

static void live_kill(void *ctx, const struct pm_event_rec *e, const char *target_comm)
{
    pm_live_offer_event(ctx, e, target_comm);
}

static int parse(int argc, char **argv, struct record_opts *o)
{
    enum { OPT_JSON = 1000, OPT_COMMIT, OPT_PUSH, OPT_PUSH_PROTO };
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"interval", required_argument, NULL, 'i'},
        {"proc-interval", required_argument, NULL, 'p'},
        {"duration", required_argument, NULL, 'D'},
        {"label", required_argument, NULL, 'l'},
        {"tag", required_argument, NULL, 't'},
        {"quiet", no_argument, NULL, 'q'},
        {"json", no_argument, NULL, OPT_JSON},
        {"commit-interval", required_argument, NULL, OPT_COMMIT},
        {"push", required_argument, NULL, OPT_PUSH},
        {"push-protocol", required_argument, NULL, OPT_PUSH_PROTO},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    o->interval = 10000000;
    o->proc_interval = 40000000;
    o->commit = 250000000;
    int proc_given = 0;
    optind = 1;
    opterr = 0;
    int c;
    /* "+": stop at the first non-option, which starts COMMAND. */
    while ((c = getopt_long(argc, argv, "+d:i:p:D:l:t:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o->db = optarg;
            break;
        case 'i':
            if (pm_duration_arg("record", "--interval", optarg, "10ms or 1s", &o->interval))
                return -1;
            if (o->interval < 1000000 || o->interval > 60000000000LL) {
                pm_err("record: bad --interval '%s': give 1ms..60s, e.g. 10ms", optarg);
                return -1;
            }
            break;
        case 'p':
            if (pm_duration_arg("record", "--proc-interval", optarg, "40ms or 1s", &o->proc_interval))
                return -1;
            if (o->proc_interval < 1000000 || o->proc_interval > 60000000000LL) {
                pm_err("record: bad --proc-interval '%s': give 1ms..60s, e.g. 40ms", optarg);
                return -1;
            }
            proc_given = 1;
            break;
        case 'D':
            if (pm_duration_arg("record", "--duration", optarg, "30s or 5m", &o->duration))
                return -1;
            if (o->duration <= 0) {
                pm_err("record: bad --duration '%s': give a positive duration, e.g. 30s", optarg);
                return -1;
            }
            break;
        case 'l':
            if (!*optarg || strlen(optarg) > 200) {
                pm_err("record: --label must be 1..200 characters");
                return -1;
            }
            o->label = optarg;
            break;
        case 't': {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg) {
                pm_err("record: bad --tag '%s': give KEY=VALUE", optarg);
                return -1;
            }
            if (o->ntags == MAX_TAGS) {
                pm_err("record: at most %d tags", MAX_TAGS);
                return -1;
            }
            *eq = '\0';
            o->tags[o->ntags].key = optarg;
            o->tags[o->ntags].value = eq + 1;
            o->ntags++;
            break;
        }
        case 'q':
            o->quiet = 1;
            break;
        case OPT_JSON:
            o->json = 1;
            break;
        case OPT_COMMIT:
            if (pm_duration_arg("record", "--commit-interval", optarg, "250ms or 1s", &o->commit))
                return -1;
            if (o->commit < 50000000 || o->commit > 5000000000LL) {
                pm_err("record: bad --commit-interval '%s': give 50ms..5s", optarg);
                return -1;
            }
            break;
        case OPT_PUSH:
            o->push_url = optarg;
            break;
        case OPT_PUSH_PROTO:
            if (pm_proto_parse(optarg, &o->push_proto) < 0) {
                pm_err("record: unknown --push-protocol '%s' (remote-write, influx, pushgateway)", optarg);
                return -1;
            }
            break;
        case 'h':
            fputs(usage_text, stdout);
            exit(0);
        default:
            if (optopt)
                pm_err("record: unknown or incomplete option '-%c' (see 'pressmon record --help')", optopt);
            else
                pm_err("record: unknown or incomplete option '%s' (see 'pressmon record --help')",
                       argv[optind - 1]);
            return -1;
        }
    }
    o->cmd = argv + optind;
    o->ncmd = argc - optind;
    if (o->ncmd == 0 && o->duration == 0) {
        pm_err("record: nothing to record: give a COMMAND after --, or --duration for the system "
               "alone (see 'pressmon record --help')");
        return -1;
    }
    if (o->ncmd > 0 && o->duration > 0) {
        pm_err("record: --duration is for system-only recordings; a COMMAND is recorded until it exits");
        return -1;
    }
    if (o->proc_interval < o->interval) {
        if (proc_given)
            pm_err("record: note: --proc-interval is raised to --interval (%lld ms)",
                   (long long)(o->interval / 1000000));
        o->proc_interval = o->interval;
    }
    return 0;
}

/* Find COMMAND the way execvp would.  Returns 0 and the path, or the
 * exit status to use (126/127) after printing why. */
static int resolve_command(const char *name, char *out, size_t outlen)
{
    struct stat sb;
    if (strchr(name, '/')) {
        if (stat(name, &sb) != 0) {
            pm_err("cannot run '%s': %s", name, strerror(errno));
            return errno == ENOENT || errno == ENOTDIR ? PM_EXIT_NOTFOUND : PM_EXIT_NOEXEC;
        }
        if (S_ISDIR(sb.st_mode)) {
            pm_err("cannot run '%s': is a directory", name);
            return PM_EXIT_NOEXEC;
        }
        if (access(name, X_OK) != 0) {
            pm_err("cannot run '%s': %s", name, strerror(errno));
            return PM_EXIT_NOEXEC;
        }
        snprintf(out, outlen, "%s", name);
        return 0;
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    int denied = 0;
    for (const char *p = path;; p++) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        snprintf(out, outlen, "%.*s%s%s", (int)n, n ? p : "", n ? "/" : "", name);
        if (stat(out, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
            if (access(out, X_OK) == 0)
                return 0;
            denied = 1;
        }
        if (!end)
            break;
        p = end;
    }
    if (denied) {
        pm_err("cannot run '%s': permission denied", name);
        return PM_EXIT_NOEXEC;
    }
    pm_err("cannot run '%s': command not found", name);
    return PM_EXIT_NOTFOUND;
}

static volatile int dummy_sink;

/* pipe2 is not on macOS. */
static int pipe_cloexec(int p[2])
{
    if (pipe(p) != 0)
        return -1;
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

/* In its own process group (see "Signals") the command no longer dies with
 * pressmon's group: a SIGKILL to that group (`timeout -k`, a CI runner
 * escalating to `kill -9 -PGID`), which pressmon cannot forward, left it
 * running.  A watchdog process in the command's group, ignoring the
 * signals pressmon forwards there, waits on a pipe: end of file without a
 * word means pressmon died, and it SIGKILLs the command's group, itself
 * included.  Returns its pid (and the pipe's write end in *wfd), or -1. */
static pid_t start_watchdog(pid_t child, const sigset_t *handled, int *wfd)
{
    int p[2];
    if (pipe_cloexec(p) != 0)
        return -1;
    sigset_t old;
    sigprocmask(SIG_BLOCK, handled, &old); /* no handler of pressmon's runs in it */
    pid_t w = fork();
    if (w == 0) {
        struct sigaction ign = {.sa_handler = SIG_IGN}, dfl = {.sa_handler = SIG_DFL};
        sigaction(SIGINT, &ign, NULL);
        sigaction(SIGQUIT, &ign, NULL);
        sigaction(SIGTERM, &ign, NULL);
        sigaction(SIGHUP, &ign, NULL);
        sigaction(SIGCHLD, &dfl, NULL);
        sigprocmask(SIG_SETMASK, &old, NULL);
        setpgid(0, child);
        close(p[1]);
        char c;
        ssize_t n;
        while ((n = read(p[0], &c, 1)) < 0 && errno == EINTR)
            ;
        if (n == 0)
            kill(-child, SIGKILL);
        _exit(0);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(p[0]);
    if (w < 0) {
        close(p[1]);
        return -1;
    }
    setpgid(w, child); /* both sides, as for the child: whichever runs first */
    *wfd = p[1];
    return w;
}

/* pressmon is done with the command: the watchdog goes without a kill. */
static void stop_watchdog(pid_t *w, int *wfd)
{
    if (*w <= 0)
        return;
    if (write(*wfd, "", 1) < 0)
        dummy_sink = 1;
    close(*wfd);
    waitpid(*w, NULL, 0);
    *w = 0;
    *wfd = -1;
}

/* Signals reach the main thread through a self-pipe: the handler only
 * writes the signal number and si_code (async-signal-safe), the main loop
 * polls the pipe with a timeout.  Portable where sigtimedwait is not
 * (macOS). */
static int sig_pipe[2] = {-1, -1};

struct sig_note {
    int sig, code;
    pid_t pid;    /* the sender (si_pid), 0 when the kernel sent it */
    int64_t t;    /* pm_mono_ns when it arrived */
    char comm[16]; /* the sender's name, read in the handler */
};

static void on_signal(int sig, siginfo_t *si, void *uctx)
{
    (void)uctx;
    int saved = errno;
    /* clock_gettime and memset are async-signal-safe (POSIX.1-2008, -2016).
     * memset: the padding after `pid` goes into the pipe too (valgrind). */
    struct sig_note n;
    memset(&n, 0, sizeof n);
    n.sig = sig;
    n.code = si ? si->si_code : 0;
    n.pid = si ? si->si_pid : 0;
    n.t = pm_mono_ns();
    /* At once: kill(1) exits right after its kill(2), and in the main loop's
     * turn its /proc entry was gone ("SIGTERM by pid 20365"). */
    if (n.pid > 0 && (sig == SIGINT || sig == SIGQUIT || sig == SIGTERM || sig == SIGHUP))
        pm_proc_name(n.pid, n.comm, sizeof(n.comm));
    if (write(sig_pipe[1], &n, sizeof(n)) < 0)
        dummy_sink = 1;
    errno = saved;
}

/*
 * Signals.  A terminal sends Ctrl-C, Ctrl-\ and its hangup to its
 * foreground process group; `kill -TERM -PGID`, bash's `kill %1`, CI
 * runners that cancel a job and GNU timeout (its child, then its own group)
 * send to a whole group.  A child in pressmon's group would get such a
 * signal from the sender and again from pressmon's forward: a Python
 * script cleaning up after its first KeyboardInterrupt was aborted by the
 * second copy in 3 of 6 runs.  So:
 *   - pressmon in the foreground of its controlling terminal (interactive):
 *     the child shares pressmon's group, so the terminal's signals and job
 *     control (Ctrl-Z, fg) reach it directly; only signals sent to pressmon
 *     alone (SI_USER, SI_QUEUE, SI_TKILL) are forwarded, to the child, and
 *     the terminal's hangup when pressmon leads the session (the kernel
 *     sends that to the session leader alone).  A
 *     signal sent by kill(2) to the group of such a job still reaches the
 *     child twice: nothing tells it apart from one sent to pressmon alone.
 *   - anywhere else (no controlling terminal, as in CI; a background job):
 *     the child leads a process group of its own, and SIGINT, SIGQUIT,
 *     SIGTERM and SIGHUP, whoever sent them, are forwarded to that group.
 *     A signal to pressmon's group then reaches the child once.
 * In both, a signal that arrives again within FWD_BURST_NS of its last
 * forward is not forwarded again: GNU timeout sends it to pressmon twice
 * (to its child, then to its group), microseconds apart.
 */
#define FWD_BURST_NS (100LL * 1000 * 1000)

/* Is pressmon in the foreground process group of its controlling
 * terminal?  No controlling terminal (open fails with ENXIO): no. */
static int terminal_foreground(void)
{
    int fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return 0;
    pid_t fg = tcgetpgrp(fd);
    close(fd);
    return fg > 0 && fg == getpgrp();
}

/* The child: wait for the go byte, restore signals, exec.  own_group: lead
 * a process group of its own (pressmon calls setpgid too, so that neither
 * order of the two races). */
static void child_exec(const char *path, char **argv, int go_fd, int err_fd, const sigset_t *orig_mask,
                       const struct sigaction *orig_act, const int *sigs, int nsigs,
                       const struct sigaction *orig_pipe, int own_group)
{
    if (own_group)
        setpgid(0, 0);
    for (int i = 0; i < nsigs; i++)
        sigaction(sigs[i], &orig_act[i], NULL);
    char b;
    ssize_t n;
    do
        n = read(go_fd, &b, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1)
        _exit(PM_EXIT_RECORD_FAIL); /* pressmon gave up before starting us */
    close(go_fd);
    sigaction(SIGPIPE, orig_pipe, NULL);
    sigprocmask(SIG_SETMASK, orig_mask, NULL);
    execv(path, argv);
    int e = errno;
    if (write(err_fd, &e, sizeof(e)) < 0)
        dummy_sink = 1;
    _exit(e == ENOENT ? PM_EXIT_NOTFOUND : PM_EXIT_NOEXEC);
}

/* The root's process row, written before the writer stores anything the
 * threads report about it; its exec (if the connector sees it) refreshes
 * comm and argv from the kernel's view. */
static void put_root_row(struct pm_store *st, int64_t run_id, pid_t child, const char *path, char **argv,
                         int argc)
{
    struct pm_proc_start_rec r;
    memset(&r, 0, sizeof(r));
    r.pid = child;
    r.ppid = getpid();
    r.start_ns = 0;
    const char *base = strrchr(path, '/');
    pm_strlcpy(r.comm, base ? base + 1 : path, sizeof(r.comm));
    size_t off = 0;
    for (int i = 0; i < argc && off < PM_ARGV_MAX; i++) {
        size_t l = strlen(argv[i]);
        if (off + l + 1 > PM_ARGV_MAX)
            l = PM_ARGV_MAX - off - 1;
        memcpy(r.argv + off, argv[i], l);
        r.argv[off + l] = '\0';
        off += l + 1;
    }
    r.argv_len = (uint16_t)off;
    pm_store_put_proc_start(st, run_id, &r);
}

static void status_line(struct pm_recorder *rec, int64_t now_t, int final)
{
    struct pm_live_status s;
    pm_recorder_status(rec, &s);
    char dur[32], mem[32], line[512], fit[512];
    size_t n = 0;
    fprintf(stderr, "\r\033[K");
    if (final)
        return;
    /* Past the end, snprintf gets a size of 0 and a pointer one past it. */
#define ADD(...)                                                                 \
    (n += (size_t)snprintf(line + (n < sizeof line ? n : sizeof line),          \
                           n < sizeof line ? sizeof line - n : 0, __VA_ARGS__))
    ADD("pressmon ▸ %s · %lld samples", pm_fmt_duration(now_t, dur, sizeof(dur)), (long long)s.samples);
    if (s.mem_available_kb >= 0)
        ADD(" · mem available %s", pm_fmt_bytes((double)s.mem_available_kb * 1024, mem, sizeof(mem)));
    if (s.mem_level_pct >= 0)
        ADD(" (%lld%%)", (long long)s.mem_level_pct);
    if (s.psi_mem_some_pm >= 0)
        ADD(" · psi mem %.1f%%", (double)s.psi_mem_some_pm / 10.0);
    if (s.missed_ticks)
        ADD(" · %lld missed", (long long)s.missed_ticks);
#undef ADD
    /* A line wider than the terminal wraps, and "\r\033[K" then clears
     * only its last row: each redraw would leave a stale row behind.  The
     * width is read at every redraw (4 a second), so a resized terminal is
     * followed without a SIGWINCH handler; one column is left free, as
     * some terminals wrap on writing the last one. */
    struct winsize ws;
    int cols = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col - 1 : 79;
    pm_fit_cols(line, cols, 0, fit, sizeof fit, NULL);
    fputs(fit, stderr);
    fflush(stderr);
}

enum { NSIG_FWD = 32 };

/* Pass a signal pressmon received on to the command (see "Signals"), and
 * tell the killbook who sent it first, so that a kill by the forwarded copy
 * names that sender, not pressmon.  last_fwd: when each signal was last
 * forwarded. */
static void forward(struct pm_recorder *rec, pid_t child, int own_group, const struct sig_note *n, int64_t t0,
                    int64_t *last_fwd)
{
    /* In the terminal's foreground group, what the terminal sends the group
     * reached the child already; its hangup goes to the session leader
     * alone (pressmon under `script -c`, `ssh -t host pressmon ...`), and
     * the child gets it only from pressmon. */
    int alone = pm_si_sent_to_pid(n->code);
    if (!own_group && !alone && !(n->sig == SIGHUP && getsid(0) == getpid()))
        return;
    if (n->sig < NSIG_FWD && last_fwd[n->sig] && n->t - last_fwd[n->sig] < FWD_BURST_NS)
        return;
    if (n->sig < NSIG_FWD)
        last_fwd[n->sig] = n->t;
    struct pm_ring *ring = pm_recorder_main_ring(rec);
    struct pm_rec *r = pm_ring_reserve(ring);
    if (r) {
        memset(r, 0, sizeof(*r));
        r->type = PM_REC_EVENT;
        struct pm_event_rec *e = &r->u.ev;
        e->kind = PM_EV_FORWARD;
        e->t_ns = pm_mono_ns() - t0;
        e->pid = child;
        e->signal = n->sig;
        e->sender_pid = n->pid;
        /* Read in the handler: the sender may be gone by now (kill(1) is). */
        if (n->comm[0])
            pm_strlcpy(e->sender_comm, n->comm, sizeof(e->sender_comm));
        else
            pm_proc_name(n->pid, e->sender_comm, sizeof(e->sender_comm));
        snprintf(e->detail, sizeof(e->detail), "code=%d", n->code);
        e->forwarded_by = getpid();
        pm_ring_commit(ring);
    }
    if (!own_group) {
        kill(child, n->sig);
        return;
    }
    /* The child's group; and the child itself if it left that group
     * (setsid, a shell with job control). */
    if (kill(-child, n->sig) != 0 || getpgid(child) != child)
        kill(child, n->sig);
}

/* Processes of the run that ended by a signal: the summary line on stderr
 * (pm_print_kill_summary) and the "killed" array of --json. */
static void kill_summary(struct pm_store *st, int64_t run_id, json_t *js, int print)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(pm_store_db(st),
                           "SELECT pid, comm, signal, killer_pid, killer_comm, kill_cause, end_ns, forwarded_by"
                           " FROM procs"
                           " WHERE run_id = ? AND signal IS NOT NULL ORDER BY end_ns",
                           -1, &s, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(s, 1, run_id);
    int n = 0;
    json_t *arr = json_array();
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *comm = (const char *)sqlite3_column_text(s, 1);
        int sig = sqlite3_column_int(s, 2);
        const char *kcomm = (const char *)sqlite3_column_text(s, 4);
        const char *cause = (const char *)sqlite3_column_text(s, 5);
        double at = sqlite3_column_double(s, 6) / 1e9;
        json_t *o = json_pack("{s:I,s:s?,s:s,s:f}", "pid", (json_int_t)sqlite3_column_int64(s, 0), "comm", comm,
                              "signal", pm_signame(sig), "at_s", at);
        if (sqlite3_column_type(s, 3) != SQLITE_NULL)
            json_object_set_new(o, "killer_pid", json_integer(sqlite3_column_int64(s, 3)));
        if (kcomm)
            json_object_set_new(o, "killer_comm", json_string(kcomm));
        if (cause)
            json_object_set_new(o, "kill_cause", json_string(cause));
        if (sqlite3_column_int64(s, 7) > 0)
            json_object_set_new(o, "forwarded_by_pid", json_integer(sqlite3_column_int64(s, 7)));
        json_array_append_new(arr, o);
        n++;
    }
    sqlite3_finalize(s);
    if (print && n)
        pm_print_kill_summary(st, run_id, stderr, "pressmon: ");
    json_object_set_new(js, "killed", arr);
}

int cmd_record(int argc, char **argv)
{
    struct record_opts o;
    if (parse(argc, argv, &o) != 0)
        return PM_EXIT_RECORD_FAIL;

    char path[PATH_MAX];
    if (o.ncmd > 0) {
        int rc = resolve_command(o.cmd[0], path, sizeof(path));
        if (rc)
            return rc;
    }

    /* Kill attribution's kernel setup runs while the database opens. */
    if (o.ncmd > 0)
        pm_tree_prepare();
    const char *dbpath = pm_db_path(o.db);
    char err[1024];
    struct pm_store *st = pm_store_open(dbpath, PM_STORE_WRITE, err, sizeof(err));
    if (!st) {
        pm_err("%s (use --db or PRESSMON_DB to choose another file)", err);
        pm_tree_unprepare();
        return PM_EXIT_RECORD_FAIL;
    }
    struct pm_host host;
    pm_host_info(&host);
    int stale = pm_store_reap_stale(st, host.boot_id);
    if (stale > 0 && !o.quiet)
        pm_err("marked %d run%s of a pressmon that died as aborted", stale, stale == 1 ? "" : "s");

    char sources[256];
    /* PRESSMON_SYSFS: sysfs mounted elsewhere (a container given the
     * host's /sys), or a fixture tree in the tests. */
    struct pm_sys_opts so = {.cgroup_pid = getpid(), .sysfs_root = getenv("PRESSMON_SYSFS")};
    struct pm_sys *sys = pm_sys_open(&so, sources, sizeof(sources), err, sizeof(err));
    if (!sys) {
        pm_err("cannot sample the system: %s", err);
        pm_tree_unprepare();
        pm_store_close(st);
        return PM_EXIT_RECORD_FAIL;
    }

    /* Signals: handled by the main thread through the self-pipe.  The
     * recorder threads start with them blocked; the child gets every
     * original disposition and the original mask back before exec (a job
     * started with SIGINT ignored keeps it ignored, as with nohup). */
    enum { NHS = 5 };
    static const int hs[NHS] = {SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    struct sigaction orig_act[NHS], orig_pipe;
    sigset_t handled, orig_mask;
    sigemptyset(&handled);
    if (pipe_cloexec(sig_pipe) != 0) {
        pm_err("cannot create a pipe: %s", strerror(errno));
        pm_tree_unprepare();
        pm_sys_close(sys);
        pm_store_close(st);
        return PM_EXIT_RECORD_FAIL;
    }
    fcntl(sig_pipe[0], F_SETFL, O_NONBLOCK);
    fcntl(sig_pipe[1], F_SETFL, O_NONBLOCK);
    for (int i = 0; i < NHS; i++) {
        sigaction(hs[i], NULL, &orig_act[i]);
        sigaddset(&handled, hs[i]);
        if ((hs[i] == SIGINT || hs[i] == SIGQUIT) && orig_act[i].sa_handler == SIG_IGN)
            continue;
        struct sigaction sa = {.sa_sigaction = on_signal, .sa_flags = SA_SIGINFO | SA_RESTART};
        sigemptyset(&sa.sa_mask);
        sigaction(hs[i], &sa, NULL);
    }
    sigprocmask(SIG_SETMASK, NULL, &orig_mask);
    struct sigaction ign = {.sa_handler = SIG_IGN};
    sigaction(SIGPIPE, &ign, &orig_pipe);

    int exit_status = PM_EXIT_RECORD_FAIL;
    pid_t child = 0;
    int own_group = 0; /* the child leads its own process group (see "Signals") */
    pid_t watchdog = 0;  /* then: start_watchdog */
    int watchdog_fd = -1;
    int go[2] = {-1, -1}, errp[2] = {-1, -1};
    struct pm_tree *tree = NULL;
    char mechanism[200] = "";

    if (o.ncmd > 0) {
        pm_become_subreaper();
        if (pipe_cloexec(go) != 0 || pipe_cloexec(errp) != 0) {
            pm_err("cannot create a pipe: %s", strerror(errno));
            goto out;
        }
        own_group = !terminal_foreground();
        child = fork();
        if (child < 0) {
            pm_err("cannot start '%s': fork: %s", o.cmd[0], strerror(errno));
            goto out;
        }
        if (child == 0)
            child_exec(path, o.cmd, go[0], errp[1], &orig_mask, orig_act, hs, NHS, &orig_pipe, own_group);
        if (own_group)
            setpgid(child, child);
        close(go[0]);
        close(errp[1]);
        go[0] = errp[1] = -1;
        /* After those closes: the watchdog must not hold the exec error
         * pipe's write end open (pressmon reads it to its end). */
        if (own_group)
            watchdog = start_watchdog(child, &handled, &watchdog_fd);
    }

    int64_t t0 = pm_mono_ns();
    if (child) {
        struct pm_tree_opts to = {.run_start_mono_ns = t0, .proc_interval_ns = o.proc_interval};
        tree = pm_tree_open(child, &to, mechanism, sizeof(mechanism), err, sizeof(err));
        if (!tree) {
            pm_err("cannot follow the process tree: %s", err);
            goto kill_child;
        }
        /* Opening the tree (the tracefs instance) takes ~40 ms: the run
         * starts after it, so that the first sample is on time. */
        t0 = pm_mono_ns();
        pm_tree_set_run_start(tree, t0);
    }
    /* Own CPU is counted from t=0: what recording costs while the command
     * runs (start-up is measured apart, docs/BENCHMARKS.md). */
    int64_t cpu0 = pm_self_cpu_ns();

    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)))
        cwd[0] = '\0';
    struct pm_run_info ri = {
        .label = o.label,
        .argv = o.cmd,
        .argc = o.ncmd,
        .cwd = cwd,
        .started_at = pm_wall_ns(),
        .interval_ns = o.interval,
        .proc_interval_ns = o.proc_interval,
        .host = &host,
        .recorder_pid = getpid(),
        .tags = o.tags,
        .ntags = o.ntags,
        .sources = sources,
        .tree_mechanism = child ? mechanism : NULL,
        .attribution = child ? pm_tree_attribution(tree) : NULL,
    };
    if (child && strcmp(ri.attribution, "on") && !o.quiet)
        pm_err("kill attribution off: %s (exits and signals are still recorded, senders are not)",
               ri.attribution);
    pm_run_uid(ri.uid, ri.started_at);

    /* Live push: its own thread; a failure to start it is said and ignored. */
    struct pm_live *live = NULL;
    if (o.push_url) {
        struct pm_live_opts lo = {.proto = o.push_proto, .instance = host.hostname, .label = o.label,
                                  .run_id = ri.uid, .started_at = ri.started_at, .quiet = o.quiet};
        live = pm_live_start(o.push_url, &lo, err, sizeof(err));
        if (!live)
            pm_err("live push is off: %s (the run is recorded; push it later with 'pressmon push')", err);
    }

    struct pm_recorder_opts ro = {
        .store = st,
        .run_id = 0, /* written below, while the command starts */
        .t0 = t0,
        .interval_ns = o.interval,
        .proc_interval_ns = o.proc_interval,
        .commit_ns = o.commit,
        .gap_ticks = 5,
        .sys = sys,
        .tree = tree,
        .root_pid = child,
        .quiet = o.quiet,
        .on_sample = live ? live_offer : NULL,
        .on_sample_ctx = live,
        .on_kill = live ? live_kill : NULL,
        .on_kill_ctx = live,
    };
    sigprocmask(SIG_BLOCK, &handled, NULL); /* the threads inherit this mask */
    struct pm_recorder *rec = pm_recorder_start(&ro, err, sizeof(err));
    sigprocmask(SIG_SETMASK, &orig_mask, NULL);
    if (!rec) {
        pm_live_finish(live, NULL);
        pm_err("%s", err);
        goto kill_child;
    }

    if (child) {
        if (write(go[1], "g", 1) != 1) {
            pm_err("cannot start '%s': %s", o.cmd[0], strerror(errno));
        }
        close(go[1]);
        go[1] = -1;
    }

    /* The run's row is written while the command starts: its commit
     * (~1 ms: a new WAL's header is synced) is no longer in the command's
     * way.  Until pm_recorder_set_run the writer thread leaves the store
     * to this thread, and the threads' records wait in their rings.  The
     * file was opened for writing above, so what can fail here is rare
     * (a full disk, a lock held past busy_timeout): the command then runs
     * unrecorded and its status still comes back. */
    int64_t run_id = pm_store_run_begin(st, &ri);
    if (run_id < 0) {
        char why[700];
        /* the store's message names the file */
        snprintf(why, sizeof(why), "cannot write the run: %s", pm_store_errmsg(st));
        pm_err("%s%s (use --db or PRESSMON_DB to choose another file)", why,
               child ? "; the command runs unrecorded" : "");
        pm_recorder_set_run(rec, -1, why);
    } else {
        if (child)
            put_root_row(st, run_id, child, path, o.cmd, o.ncmd);
        pm_recorder_set_run(rec, run_id, NULL);
    }

    /* Wait for the child (or the duration), forwarding signals. */
    int tty = !o.quiet && isatty(STDERR_FILENO);
    int child_status = 0, have_status = 0, stop = 0, exec_errno = 0;
    int64_t peak_kb = 0; /* the largest wait4 ru_maxrss of what pressmon reaped */
    const char *stop_reason = NULL;
    int64_t next_status = t0;
    int64_t last_fwd[NSIG_FWD] = {0};
    while (!stop) {
        int64_t now = pm_mono_ns();
        int64_t wait_ns = 250000000;
        if (o.duration && t0 + o.duration - now < wait_ns)
            wait_ns = t0 + o.duration - now;
        if (wait_ns < 0)
            wait_ns = 0;
        struct pollfd pfd = {.fd = sig_pipe[0], .events = POLLIN};
        int ms = (int)((wait_ns + 999999) / 1000000);
        poll(&pfd, 1, ms);
        now = pm_mono_ns();
        struct sig_note notes[16];
        ssize_t got = read(sig_pipe[0], notes, sizeof(notes));
        int nn = got > 0 ? (int)(got / (ssize_t)sizeof(notes[0])) : 0;
        /* Reap on every wake-up: a SIGCHLD coalesced with another is not lost. */
        if (child) {
            int wst;
            pid_t p;
            struct rusage ru;
            /* wait4: the kernel's high-water RSS comes with the status. */
            while ((p = wait4(-1, &wst, WNOHANG, &ru)) > 0) {
                if (p == watchdog) { /* killed from outside: the command is on its own now */
                    watchdog = 0;
                    close(watchdog_fd);
                    watchdog_fd = -1;
                    continue;
                }
                int64_t kb = pm_maxrss_kb(&ru);
                if (kb > peak_kb)
                    peak_kb = kb;
                pm_tree_reaped(tree, p, wst, kb, pm_recorder_main_ring(rec), now - t0);
                if (p == child) {
                    child_status = wst;
                    have_status = 1;
                    stop = 1;
                }
            }
        }
        for (int i = 0; i < nn; i++) {
            int sig = notes[i].sig;
            if (sig != SIGINT && sig != SIGQUIT && sig != SIGTERM && sig != SIGHUP)
                continue;
            if (!child) {
                stop = 1;
                stop_reason = sig == SIGTERM ? "terminated" : sig == SIGHUP ? "hung up" : "interrupted";
            } else if (!have_status) {
                forward(rec, child, own_group, &notes[i], t0, last_fwd);
            }
        }
        if (o.duration && now - t0 >= o.duration)
            stop = 1;
        if (tty && !stop && now >= next_status) {
            status_line(rec, now - t0, 0);
            next_status = now + 250000000;
        }
    }
    stop_watchdog(&watchdog, &watchdog_fd);
    if (tty)
        status_line(rec, 0, 1);
    if (child) {
        int e;
        if (read(errp[0], &e, sizeof(e)) == (ssize_t)sizeof(e))
            exec_errno = e;
    }

    int64_t t_end = pm_mono_ns();
    struct pm_recorder_result res;
    pm_recorder_stop(rec, &res);
    int64_t cpu = pm_self_cpu_ns() - cpu0;

    int still = 0;
    if (tree) {
        still = pm_tree_alive(tree);
        snprintf(mechanism, sizeof(mechanism), "%s", pm_tree_mechanism(tree));
        if (run_id > 0)
            pm_store_run_set_text(st, run_id, "tree_mechanism", mechanism);
    }
    char notes[1024] = "";
    if (res.db_failed)
        snprintf(notes, sizeof(notes), "database writes failed: %s", res.db_error);
    if (still > 0) {
        size_t l = strlen(notes);
        snprintf(notes + l, sizeof(notes) - l, "%s%d descendant%s still running when the command exited",
                 l ? "; " : "", still, still == 1 ? "" : "s");
    }
    if (stop_reason) {
        size_t l = strlen(notes);
        snprintf(notes + l, sizeof(notes) - l, "%srecording %s", l ? "; " : "", stop_reason);
    }
    if (exec_errno) {
        size_t l = strlen(notes);
        snprintf(notes + l, sizeof(notes) - l, "%sexec failed: %s", l ? "; " : "", strerror(exec_errno));
        pm_err("cannot run '%s': %s", o.cmd[0], strerror(exec_errno));
    }
    if (tree && pm_tree_lost(tree)) {
        size_t l = strlen(notes);
        snprintf(notes + l, sizeof(notes) - l, "%s%llu process events lost", l ? "; " : "",
                 (unsigned long long)pm_tree_lost(tree));
    }

    struct pm_run_end re = {
        .ended_at = pm_wall_ns(),
        .duration_ns = t_end - t0,
        .has_status = have_status,
        .exit_code = have_status && WIFEXITED(child_status) ? WEXITSTATUS(child_status) : 0,
        .signal = have_status && WIFSIGNALED(child_status) ? WTERMSIG(child_status) : 0,
        .core_dumped = have_status && WIFSIGNALED(child_status) && WCOREDUMP(child_status),
        .samples = res.samples,
        .samples_stored = res.samples_stored,
        .proc_samples = res.proc_samples,
        .missed_ticks = res.missed_ticks,
        .dropped = res.dropped,
        .late_p50_ns = res.late_p50_ns,
        .late_p99_ns = res.late_p99_ns,
        .late_max_ns = res.late_max_ns,
        .self_cpu_ns = cpu,
        .notes = notes,
    };
    int end_ok = run_id > 0 && pm_store_run_end(st, run_id, &re) == 0;
    if (live) {
        struct pm_live_end le = {.has_exit = have_status, .exit_code = re.exit_code, .signal = re.signal,
                                 .duration_ns = re.duration_ns, .samples = re.samples,
                                 .missed_ticks = re.missed_ticks, .db = pm_store_db(st),
                                 .run_id = run_id};
        uint64_t unsent = 0;
        pm_live_set_end(live, &le);
        if (pm_live_finish(live, &unsent) < 0 && !o.quiet)
            pm_err("live push: %llu samples not sent; they are in %s: 'pressmon push %s --to URL' "
                   "sends them", (unsigned long long)unsent, dbpath, ri.uid);
    }
    if (!end_ok && !res.db_failed)
        pm_err("cannot finish the run in %s: %s", dbpath, pm_store_errmsg(st));

    if (child)
        exit_status = re.signal ? 128 + re.signal : re.exit_code;
    else
        exit_status = 0;

    /* The summary (stderr; --json: stdout). */
    char dur[32], mem[32];
    json_t *js = json_pack("{s:s,s:s,s:f,s:I,s:I,s:I,s:f}", "run", ri.uid, "db", dbpath, "duration_s",
                           (double)re.duration_ns / 1e9, "samples", (json_int_t)res.samples, "missed_ticks",
                           (json_int_t)res.missed_ticks, "dropped", (json_int_t)res.dropped, "self_cpu_pct",
                           re.duration_ns > 0 ? (double)cpu * 100.0 / (double)re.duration_ns : 0.0);
    if (child) {
        json_object_set_new(js, "exit_status", json_integer(exit_status));
        if (re.signal)
            json_object_set_new(js, "signal", json_string(pm_signame(re.signal)));
        else
            json_object_set_new(js, "exit_code", json_integer(re.exit_code));
    }
    if (res.min_mem_available_kb >= 0)
        json_object_set_new(js, "min_mem_available_bytes", json_integer(res.min_mem_available_kb * 1024));
    if (res.max_psi_mem_some_pm >= 0)
        json_object_set_new(js, "max_psi_mem_some_pct", json_real((double)res.max_psi_mem_some_pm / 10.0));
    if (res.min_cg_mem_max_kb >= 0 && res.max_cg_mem_current_kb >= 0) {
        json_object_set_new(js, "cgroup_memory_peak_bytes", json_integer(res.max_cg_mem_current_kb * 1024));
        json_object_set_new(js, "cgroup_memory_max_bytes", json_integer(res.min_cg_mem_max_kb * 1024));
    }
    json_object_set_new(js, "samples_stored", json_integer(res.samples_stored));
    if (peak_kb > 0)
        json_object_set_new(js, "peak_rss_bytes", json_integer(peak_kb * 1024));
    if (!o.quiet) {
        char what[96];
        if (!child)
            snprintf(what, sizeof(what), "system only");
        else if (re.signal)
            snprintf(what, sizeof(what), "exit %d (%s%s)", exit_status, pm_signame(re.signal),
                     re.core_dumped ? ", core dumped" : "");
        else
            snprintf(what, sizeof(what), "exit %d", exit_status);
        char own[32];
        fprintf(stderr, "pressmon: run %s%s %s in %s · %lld samples (%lld missed) · own CPU %s\n", ri.uid,
                run_id > 0 ? "" : " (not recorded)", what, pm_fmt_duration(re.duration_ns, dur, sizeof(dur)),
                (long long)res.samples, (long long)res.missed_ticks,
                pm_fmt_own_cpu(cpu, re.duration_ns, own, sizeof(own)));
        if (res.min_mem_available_kb >= 0) {
            fprintf(stderr, "pressmon: lowest memory available %s",
                    pm_fmt_bytes((double)res.min_mem_available_kb * 1024, mem, sizeof(mem)));
            if (res.min_mem_level_pct >= 0)
                fprintf(stderr, " (%lld%%)", (long long)res.min_mem_level_pct);
            if (res.max_psi_mem_some_pm >= 0)
                fprintf(stderr, " · peak memory pressure %.1f%%", (double)res.max_psi_mem_some_pm / 10.0);
            fputc('\n', stderr);
        }
        /* In a container or a unit with a memory limit the host's memory
         * says little: the cgroup's OOM killer acts on its own limit. */
        if (res.min_cg_mem_max_kb >= 0 && res.max_cg_mem_current_kb >= 0) {
            char cgl[128];
            fprintf(stderr, "pressmon: %s\n",
                    pm_fmt_cg_peak((double)res.max_cg_mem_current_kb * 1024, (double)res.min_cg_mem_max_kb * 1024,
                                   cgl, sizeof(cgl)));
        }
        if (peak_kb > 0)
            fprintf(stderr, "pressmon: peak rss %s (the largest single process of the tree that was "
                    "waited for: the kernel's high-water mark)\n",
                    pm_fmt_bytes((double)peak_kb * 1024, mem, sizeof(mem)));
        if (res.samples_stored < res.samples)
            pm_err("%lld of %lld samples were stored (%lld lost)", (long long)res.samples_stored,
                   (long long)res.samples, (long long)(res.samples - res.samples_stored));
        if (res.dropped)
            pm_err("%lld records could not be stored (queue full or database error)", (long long)res.dropped);
        if (still > 0)
            pm_err("%d descendant%s still running after the command exited (not waited for)", still,
                   still == 1 ? "" : "s");
    }
    if (end_ok)
        kill_summary(st, run_id, js, !o.quiet);
    if (o.json) {
        char *s = json_dumps(js, JSON_COMPACT);
        if (s) {
            puts(s);
            free(s);
        }
    }
    json_decref(js);
    goto out;

kill_child:
    if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    stop_watchdog(&watchdog, &watchdog_fd);
    exit_status = PM_EXIT_RECORD_FAIL;
out:
    for (int i = 0; i < 2; i++) {
        if (go[i] >= 0)
            close(go[i]);
        if (errp[i] >= 0)
            close(errp[i]);
    }
    pm_tree_close(tree);
    pm_tree_unprepare(); /* when the tree was never opened */
    pm_sys_close(sys);
    pm_store_close(st);
    sigaction(SIGPIPE, &orig_pipe, NULL);
    for (int i = 0; i < NHS; i++)
        sigaction(hs[i], &orig_act[i], NULL);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    sig_pipe[0] = sig_pipe[1] = -1;
    return exit_status;
}
