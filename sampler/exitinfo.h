/*
 * Decoding how a process ended into pressmon's kill vocabulary.
 *
 * Three sources tell how a process died, and this module turns each into
 * the same classification, shared with Linux:
 *   - the wait status (waitpid, the Linux proc connector, macOS
 *     NOTE_EXITSTATUS): exit code or terminating signal, core dump;
 *   - macOS NOTE_EXIT_DETAIL bits delivered with NOTE_EXIT in kevent data
 *     (memory/jetsam kill, code-signing kill, decrypt failure);
 *   - macOS exit reasons (proc_pidinfo flavor 25 on a zombie): a namespace
 *     (JETSAM=1, SIGNAL=2, CODESIGNING=3, ...) and a code within it.
 *
 * kill_cause strings are part of the database contract (procs.kill_cause):
 *   "memory"   macOS jetsam / memorystatus kill
 *   "codesign" macOS code signing, AMFI, security policy, decrypt failure
 *   "signal"   a fatal signal whose sender pressmon does not know
 *   "oom"      the Linux OOM killer
 *   "kernel"   another kernel-initiated termination (guard, sandbox, ...)
 *   "self"     the process ended itself (abort, a library's exit reason)
 *   "unknown"  it vanished and nothing says how
 * A plain exit(N) has an empty cause: nothing killed it.
 *
 * Pure logic with the constants spelled out here (from xnu's sys/event.h
 * and sys/reason.h), so it compiles on Linux and is tested there.
 */
#ifndef PM_EXITINFO_H
#define PM_EXITINFO_H

#include <stdint.h>

/* NOTE_EXIT data layout (xnu bsd/sys/event.h): the low 20 bits
 * (NOTE_PDATAMASK) carry the wait status when NOTE_EXITSTATUS was asked
 * for; NOTE_EXIT_DETAIL adds these bits. */
#define PM_NOTE_PDATAMASK 0x000fffffu
#define PM_NOTE_EXIT_DECRYPTFAIL 0x00010000u
#define PM_NOTE_EXIT_MEMORY 0x00020000u
#define PM_NOTE_EXIT_CSERROR 0x00040000u
/* With NOTE_EXIT_MEMORY, which jetsam condition (xnu, PRIVATE section). */
#define PM_NOTE_EXIT_MEMORY_VMPAGESHORTAGE 0x80000000u
#define PM_NOTE_EXIT_MEMORY_VMTHRASHING 0x40000000u
#define PM_NOTE_EXIT_MEMORY_HIWAT 0x20000000u
#define PM_NOTE_EXIT_MEMORY_PID 0x10000000u
#define PM_NOTE_EXIT_MEMORY_IDLE 0x08000000u
#define PM_NOTE_EXIT_MEMORY_VNODE 0x04000000u
#define PM_NOTE_EXIT_MEMORY_FCTHRASHING 0x02000000u

/* Exit reason namespaces (xnu bsd/sys/reason.h, OS_REASON_*). */
enum {
    PM_OSR_INVALID = 0,
    PM_OSR_JETSAM = 1,
    PM_OSR_SIGNAL = 2,
    PM_OSR_CODESIGNING = 3,
    PM_OSR_HANGTRACER = 4,
    PM_OSR_TEST = 5,
    PM_OSR_DYLD = 6,
    PM_OSR_LIBXPC = 7,
    PM_OSR_OBJC = 8,
    PM_OSR_EXEC = 9,
    PM_OSR_SPRINGBOARD = 10,
    PM_OSR_TCC = 11,
    PM_OSR_REPORTCRASH = 12,
    PM_OSR_COREANIMATION = 13,
    PM_OSR_AGGREGATED = 14,
    PM_OSR_RUNNINGBOARD = 15,
    PM_OSR_SKYWALK = 16,
    PM_OSR_SETTINGS = 17,
    PM_OSR_LIBSYSTEM = 18,
    PM_OSR_FOUNDATION = 19,
    PM_OSR_WATCHDOG = 20,
    PM_OSR_METAL = 21,
    PM_OSR_WATCHKIT = 22,
    PM_OSR_GUARD = 23,
    PM_OSR_ANALYTICS = 24,
    PM_OSR_SANDBOX = 25,
    PM_OSR_SECURITY = 26,
    PM_OSR_ENDPOINTSECURITY = 27,
    PM_OSR_PAC_EXCEPTION = 28,
    PM_OSR_MAX_KNOWN = 36,
};

/* EXEC namespace codes that mean a security decision (xnu sys/reason.h). */
#define PM_EXEC_REASON_SECURITY_POLICY 8
#define PM_EXEC_REASON_TASKGATED_OTHER 9
#define PM_EXEC_REASON_FAIRPLAY_DECRYPT 10
#define PM_EXEC_REASON_DECRYPT 11

/* How one process ended. */
struct pm_exit_info {
    int known;          /* 0: no wait status (only detail bits or a reason) */
    int exited;         /* 1: exit(exit_code); 0: killed by `signal` */
    int exit_code;
    int signal;
    int core;
    int ev_kind;        /* 0, or PM_EV_MEMORY_KILL / PM_EV_CODESIGN_KILL / PM_EV_SIGNAL */
    char cause[32];     /* see the vocabulary above; "" for a plain exit */
    char detail[96];    /* e.g. "jetsam per-process-limit", "cs_error", "reason SIGNAL 9" */
};

/* A traditional wait status (the same encoding on Linux and macOS: low 7
 * bits signal, 0x80 core, bits 8..15 exit code).  Sets cause "signal" for
 * a signal death and "" for an exit. */
void pm_exit_from_status(int status, struct pm_exit_info *out);

/* The data of a macOS NOTE_EXIT kevent.  `have_status`: NOTE_EXITSTATUS
 * was granted (kevent fflags had it), else the low bits mean nothing.
 * `have_detail`: likewise NOTE_EXIT_DETAIL. */
void pm_exit_from_kevent(uint32_t data, int have_status, int have_detail, struct pm_exit_info *out);

/* Refine `io` with a macOS exit reason (namespace, code).  An exit reason
 * is the most specific source and overrides a plain "signal" cause. */
void pm_exit_apply_reason(struct pm_exit_info *io, uint32_t ns, uint64_t code);

/* Names, for details and docs: "JETSAM", "SIGNAL", ...; "NS<n>" style
 * names are not returned: unknown values give NULL. */
const char *pm_exit_reason_ns_name(uint32_t ns);
/* Jetsam codes (kern_memorystatus.h JETSAM_REASON_*) by the cause names the
 * kernel prints in memorystatus log lines: 7 -> "per-process-limit". */
const char *pm_jetsam_cause_name(uint64_t code);

#endif
