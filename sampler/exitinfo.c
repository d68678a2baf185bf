/*
 * Wait status, NOTE_EXIT_DETAIL bits and exit reasons -> kill
 * classification (see exitinfo.h for the vocabulary and the sources).
 */
#include "exitinfo.h"

#include <stdio.h>
#include <string.h>

#include "record.h"

static const char *const ns_names[] = {
    [PM_OSR_INVALID] = "INVALID",       [PM_OSR_JETSAM] = "JETSAM",
    [PM_OSR_SIGNAL] = "SIGNAL",         [PM_OSR_CODESIGNING] = "CODESIGNING",
    [PM_OSR_HANGTRACER] = "HANGTRACER", [PM_OSR_TEST] = "TEST",
    [PM_OSR_DYLD] = "DYLD",             [PM_OSR_LIBXPC] = "LIBXPC",
    [PM_OSR_OBJC] = "OBJC",             [PM_OSR_EXEC] = "EXEC",
    [PM_OSR_SPRINGBOARD] = "SPRINGBOARD", [PM_OSR_TCC] = "TCC",
    [PM_OSR_REPORTCRASH] = "REPORTCRASH", [PM_OSR_COREANIMATION] = "COREANIMATION",
    [PM_OSR_AGGREGATED] = "AGGREGATED", [PM_OSR_RUNNINGBOARD] = "RUNNINGBOARD",
    [PM_OSR_SKYWALK] = "SKYWALK",       [PM_OSR_SETTINGS] = "SETTINGS",
    [PM_OSR_LIBSYSTEM] = "LIBSYSTEM",   [PM_OSR_FOUNDATION] = "FOUNDATION",
    [PM_OSR_WATCHDOG] = "WATCHDOG",     [PM_OSR_METAL] = "METAL",
    [PM_OSR_WATCHKIT] = "WATCHKIT",     [PM_OSR_GUARD] = "GUARD",
    [PM_OSR_ANALYTICS] = "ANALYTICS",   [PM_OSR_SANDBOX] = "SANDBOX",
    [PM_OSR_SECURITY] = "SECURITY",     [PM_OSR_ENDPOINTSECURITY] = "ENDPOINTSECURITY",
    [PM_OSR_PAC_EXCEPTION] = "PAC_EXCEPTION",
};

const char *pm_exit_reason_ns_name(uint32_t ns)
{
    if (ns >= sizeof(ns_names) / sizeof(ns_names[0]))
        return NULL;
    return ns_names[ns];
}

/* The kernel's own spelling (kern_memorystatus.c memorystatus_kill_cause_name),
 * indexed by JETSAM_REASON_*, so log lines and exit reasons read the same. */
static const char *const jetsam_causes[] = {
    "invalid",           "jettisoned",          "highwater",
    "vnode-limit",       "vm-pageshortage",     "proc-thrashing",
    "fc-thrashing",      "per-process-limit",   "disk-space-shortage",
    "idle-exit",         "zone-map-exhaustion", "vm-compressor-thrashing",
    "vm-compressor-space-shortage", "low-swap", "sustained-memory-pressure",
    "vm-pageout-starvation",
};

const char *pm_jetsam_cause_name(uint64_t code)
{
    if (code == 100)
        return "cpu-limit"; /* JETSAM_REASON_CPULIMIT */
    if (code >= sizeof(jetsam_causes) / sizeof(jetsam_causes[0]))
        return NULL;
    return jetsam_causes[code];
}

static void set_cause(struct pm_exit_info *o, const char *cause, int ev_kind, const char *detail)
{
    pm_strlcpy(o->cause, cause, sizeof(o->cause));
    o->ev_kind = ev_kind;
    pm_strlcpy(o->detail, detail, sizeof(o->detail));
}

void pm_exit_from_status(int status, struct pm_exit_info *out)
{
    memset(out, 0, sizeof(*out));
    out->known = 1;
    int sig = status & 0x7f;
    if (sig == 0) {
        out->exited = 1;
        out->exit_code = (status >> 8) & 0xff;
        return;
    }
    /* 0x7f is "stopped", which is not an exit; a caller only passes exit
     * statuses, so treat it as unknown rather than as signal 127. */
    if (sig == 0x7f) {
        out->known = 0;
        set_cause(out, "unknown", 0, "stopped status");
        return;
    }
    out->signal = sig;
    out->core = (status & 0x80) != 0;
    set_cause(out, "signal", PM_EV_SIGNAL, "");
}

static const char *memory_detail_name(uint32_t data)
{
    /* The kernel sets exactly one of these (a switch on the jetsam state). */
    if (data & PM_NOTE_EXIT_MEMORY_VMPAGESHORTAGE) return "vm-pageshortage";
    if (data & PM_NOTE_EXIT_MEMORY_VMTHRASHING) return "vm-thrashing";
    if (data & PM_NOTE_EXIT_MEMORY_HIWAT) return "highwater";
    if (data & PM_NOTE_EXIT_MEMORY_PID) return "pid-kill";
    if (data & PM_NOTE_EXIT_MEMORY_IDLE) return "idle-exit";
    if (data & PM_NOTE_EXIT_MEMORY_VNODE) return "vnode-limit";
    if (data & PM_NOTE_EXIT_MEMORY_FCTHRASHING) return "fc-thrashing";
    return NULL;
}

void pm_exit_from_kevent(uint32_t data, int have_status, int have_detail, struct pm_exit_info *out)
{
    if (have_status) {
        /* The wait status is 16 bits; bits 16..19 of PDATAMASK are the
         * detail bits, so mask them out before decoding. */
        pm_exit_from_status((int)(data & 0xffffu), out);
    } else {
        memset(out, 0, sizeof(*out));
        set_cause(out, "unknown", 0, "");
    }
    if (!have_detail)
        return;
    if (data & PM_NOTE_EXIT_MEMORY) {
        const char *why = memory_detail_name(data);
        char d[sizeof(out->detail)];
        snprintf(d, sizeof(d), "jetsam%s%s", why ? " " : "", why ? why : "");
        set_cause(out, "memory", PM_EV_MEMORY_KILL, d);
    } else if (data & PM_NOTE_EXIT_CSERROR) {
        set_cause(out, "codesign", PM_EV_CODESIGN_KILL, "code signing error (CS_KILLED)");
    } else if (data & PM_NOTE_EXIT_DECRYPTFAIL) {
        set_cause(out, "codesign", PM_EV_CODESIGN_KILL, "decryption failure");
    }
}

void pm_exit_apply_reason(struct pm_exit_info *io, uint32_t ns, uint64_t code)
{
    const char *nsname = pm_exit_reason_ns_name(ns);
    char d[sizeof(io->detail)];
    if (ns == PM_OSR_INVALID)
        return; /* no reason recorded: keep what the status said */

    switch (ns) {
    case PM_OSR_JETSAM: {
        const char *c = pm_jetsam_cause_name(code);
        if (c)
            snprintf(d, sizeof(d), "jetsam %s", c);
        else
            snprintf(d, sizeof(d), "jetsam code %llu", (unsigned long long)code);
        set_cause(io, "memory", PM_EV_MEMORY_KILL, d);
        return;
    }
    case PM_OSR_CODESIGNING: {
        static const char *const cs[] = {NULL, "invalid signature (taskgated)", "invalid page",
                                         "task access port", "launch constraint violation"};
        const char *c = code < sizeof(cs) / sizeof(cs[0]) ? cs[code] : NULL;
        if (c)
            snprintf(d, sizeof(d), "code signing: %s", c);
        else
            snprintf(d, sizeof(d), "code signing code %llu", (unsigned long long)code);
        set_cause(io, "codesign", PM_EV_CODESIGN_KILL, d);
        return;
    }
    case PM_OSR_SIGNAL:
        /* The code is the signal number.  Someone sent it: keep "signal"
         * (the sender is found elsewhere), but record the signal if the
         * status did not carry it. */
        if (!io->signal && code > 0 && code < 128 && !io->exited)
            io->signal = (int)code;
        snprintf(d, sizeof(d), "reason SIGNAL %llu", (unsigned long long)code);
        if (!io->cause[0] || !strcmp(io->cause, "unknown") || !strcmp(io->cause, "signal"))
            set_cause(io, "signal", PM_EV_SIGNAL, d);
        return;
    case PM_OSR_EXEC:
        if (code == PM_EXEC_REASON_SECURITY_POLICY || code == PM_EXEC_REASON_TASKGATED_OTHER ||
            code == PM_EXEC_REASON_FAIRPLAY_DECRYPT || code == PM_EXEC_REASON_DECRYPT) {
            snprintf(d, sizeof(d), "exec refused by security policy (EXEC code %llu)",
                     (unsigned long long)code);
            set_cause(io, "codesign", PM_EV_CODESIGN_KILL, d);
        } else {
            snprintf(d, sizeof(d), "exec failed (EXEC code %llu)", (unsigned long long)code);
            set_cause(io, "kernel", 0, d);
        }
        return;
    case PM_OSR_SECURITY:
        snprintf(d, sizeof(d), "security policy (SECURITY code %llu)", (unsigned long long)code);
        set_cause(io, "codesign", PM_EV_CODESIGN_KILL, d);
        return;
    /* Terminated by a user-space library on the process's own behalf
     * (abort_with_reason, dyld failing to load, an ObjC/XPC fatal error). */
    case PM_OSR_DYLD:
    case PM_OSR_LIBXPC:
    case PM_OSR_OBJC:
    case PM_OSR_LIBSYSTEM:
    case PM_OSR_FOUNDATION:
    case PM_OSR_METAL:
        snprintf(d, sizeof(d), "reason %s code %llu", nsname, (unsigned long long)code);
        set_cause(io, "self", 0, d);
        return;
    default:
        if (nsname)
            snprintf(d, sizeof(d), "reason %s code %llu", nsname, (unsigned long long)code);
        else
            snprintf(d, sizeof(d), "reason namespace %u code %llu", ns, (unsigned long long)code);
        set_cause(io, "kernel", 0, d);
        return;
    }
}
