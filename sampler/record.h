/*
 * Fixed-size records that flow from the sampling threads to the writer.
 *
 * The sampler, event and main threads never allocate and never touch
 * SQLite: they fill one of these records and push it into their own
 * single-producer ring (ring.h).  The writer thread drains the rings and
 * turns records into rows (sampler/writer.c).  Everything here is plain
 * data with fixed-size arrays so that a record can be copied with memcpy.
 */
#ifndef PM_RECORD_H
#define PM_RECORD_H

#include <stdint.h>
#include <sys/types.h>

#include "catalog.h"

#define PM_COMM_MAX 32   /* Linux comm is 16, macOS p_comm 17 / name 33 */
#define PM_ARGV_MAX 256  /* argv stored per process, NUL-separated, capped */
#define PM_DETAIL_MAX 192

enum pm_rec_type {
    PM_REC_SYS = 1,      /* one system sample */
    PM_REC_PROC_START,   /* a process joined the tree (or exec'd: new comm/argv) */
    PM_REC_PROC_SAMPLE,  /* one process sample */
    PM_REC_PROC_EXIT,    /* a process left the tree */
    PM_REC_EVENT,        /* anything else that happened: see enum pm_event_kind */
};

/* Event kinds, stored by name in events.kind (pm_event_kind_name). */
enum pm_event_kind {
    PM_EV_EXEC = 1,
    PM_EV_FORK,
    PM_EV_EXIT,
    PM_EV_SIGNAL,        /* a fatal signal was generated for a tree member */
    PM_EV_OOM_KILL,
    PM_EV_MEMORY_KILL,   /* macOS jetsam / memorystatus */
    PM_EV_CODESIGN_KILL, /* macOS code signing / AMFI / ASP */
    PM_EV_THERMAL,
    PM_EV_PRESSURE,
    PM_EV_SAMPLER_GAP,   /* the sampler missed several ticks in a row */
    PM_EV_NOTICE,        /* a source became unavailable, a queue overflowed, ... */
    PM_EV_FORWARD,       /* pressmon forwarded a signal to the command (never stored:
                          * the killbook's note of who sent it first, killbook.h) */
    PM_EV_KIND_MAX
};

const char *pm_event_kind_name(enum pm_event_kind k);

struct pm_sys_rec {
    int64_t t_ns;        /* monotonic ns since the run started */
    int64_t late_ns;     /* how long after its deadline the sample was taken */
    uint64_t present;    /* bit i set: v[i] is valid (else NULL) */
    int64_t v[PM_SYS_N]; /* counters: delta since the source was last read (catalog.h) */
};

struct pm_proc_start_rec {
    int64_t t_ns;        /* when pressmon saw it start (or exec) */
    pid_t pid, ppid;
    int64_t start_ns;    /* process start relative to the run; INT64_MIN if unknown */
    int is_exec;         /* 1: an exec of an already known pid */
    char comm[PM_COMM_MAX];
    uint16_t argv_len;   /* bytes used in argv (NUL-separated) */
    char argv[PM_ARGV_MAX];
};

struct pm_proc_sample_rec {
    int64_t t_ns;
    pid_t pid;
    char state;          /* R S D Z T ... as the kernel reports it */
    uint64_t present;
    int64_t v[PM_PROC_N];
};

/* How a process's exit became known, and how sure it is. */
enum pm_status_src {
    PM_STATUS_UNKNOWN = 0, /* vanished between scans */
    PM_STATUS_WAIT,        /* waitpid/waitid by pressmon (direct child or orphan) */
    PM_STATUS_PROCCONN,    /* netlink proc connector exit event */
    PM_STATUS_PIDFD,       /* pidfd PIDFD_GET_INFO */
    PM_STATUS_KQUEUE,      /* macOS NOTE_EXITSTATUS */
};

struct pm_proc_exit_rec {
    int64_t t_ns;
    pid_t pid;
    int status_src;      /* enum pm_status_src */
    int exit_code;       /* valid when signal == 0 and status_src != UNKNOWN */
    int signal;          /* terminating signal, 0 if it exited */
    int core;            /* core dumped */
    pid_t killer_pid;    /* 0 if unknown */
    char killer_comm[PM_COMM_MAX];
    char kill_cause[32]; /* "oom", "signal", "kernel", "self", "memory", "codesign", ... */
    pid_t forwarded_by;  /* the pressmon that passed the killer's signal on, 0 if none */
    int64_t maxrss_kb;   /* the kernel's high-water RSS from wait4's rusage, KiB: the largest of
                          * the process and the descendants it waited for; 0 if not known */
};

struct pm_event_rec {
    int64_t t_ns;
    int kind;            /* enum pm_event_kind */
    pid_t pid;
    int signal;
    pid_t sender_pid;
    char sender_comm[PM_COMM_MAX];
    char detail[PM_DETAIL_MAX];
    pid_t forwarded_by;  /* the pressmon that passed sender's signal on, 0 if none */
};

/* The event kinds that are kills (the exporters' annotation series). */
static inline int pm_event_is_kill(int kind)
{
    return kind == PM_EV_SIGNAL || kind == PM_EV_OOM_KILL || kind == PM_EV_MEMORY_KILL ||
           kind == PM_EV_CODESIGN_KILL;
}

struct pm_rec {
    int type;            /* enum pm_rec_type */
    union {
        struct pm_sys_rec sys;
        struct pm_proc_start_rec start;
        struct pm_proc_sample_rec ps;
        struct pm_proc_exit_rec exit;
        struct pm_event_rec ev;
    } u;
};

/* Linux's SI_KERNEL: the si_code of a signal the kernel sent (tracefs
 * reports the number; macOS has no such code, and no tracefs). */
#define PM_SI_KERNEL 0x80

/* A signal the terminal layer sends (Ctrl-C, Ctrl-\, Ctrl-Z, hangup, a
 * resize), given its number and si_code: "the terminal (Ctrl-C)", "the
 * terminal hung up", ...; NULL for any other.  The tty layer sends them with
 * SI_KERNEL, often from a kworker, which is not a sender worth naming.
 * (SIGHUP with SI_KERNEL also goes to a stopped process group that became
 * orphaned; rare enough to read as a hangup.) */
const char *pm_sig_terminal(int sig, int code);

/* Bounded copy that always terminates dst (no allocation). */
void pm_strlcpy(char *dst, const char *src, size_t size);

#endif
