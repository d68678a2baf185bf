/*
 * Helpers for the records of record.h.
 */
#include "record.h"

#include <signal.h>
#include <string.h>

static const char *const kind_names[PM_EV_KIND_MAX] = {
    [PM_EV_EXEC] = "exec",
    [PM_EV_FORK] = "fork",
    [PM_EV_EXIT] = "exit",
    [PM_EV_SIGNAL] = "signal",
    [PM_EV_OOM_KILL] = "oom_kill",
    [PM_EV_MEMORY_KILL] = "memory_kill",
    [PM_EV_CODESIGN_KILL] = "codesign_kill",
    [PM_EV_THERMAL] = "thermal",
    [PM_EV_PRESSURE] = "pressure",
    [PM_EV_SAMPLER_GAP] = "sampler_gap",
    [PM_EV_NOTICE] = "notice",
    [PM_EV_FORWARD] = "forward",
};

const char *pm_event_kind_name(enum pm_event_kind k)
{
    if ((int)k <= 0 || k >= PM_EV_KIND_MAX || !kind_names[k])
        return "unknown";
    return kind_names[k];
}

void pm_strlcpy(char *dst, const char *src, size_t size)
{
    if (size == 0)
        return;
    size_t n = src ? strnlen(src, size - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

const char *pm_sig_terminal(int sig, int code)
{
    if (code != PM_SI_KERNEL)
        return NULL;
    switch (sig) {
    case SIGINT: return "the terminal (Ctrl-C)";
    case SIGQUIT: return "the terminal (Ctrl-\\)";
    case SIGTSTP: return "the terminal (Ctrl-Z)";
    case SIGHUP: return "the terminal hung up";
    case SIGWINCH: return "the terminal (resized)";
    default: return NULL;
    }
}
