/*
 * Helpers shared by every command: messages, the database path, durations,
 * human formatting, signal names, color policy.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

void pm_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pressmon: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

const char *pm_db_path(const char *opt)
{
    if (opt && *opt)
        return opt;
    const char *env = getenv("PRESSMON_DB");
    if (env && *env)
        return env;
    return "pressmon.db";
}

struct pm_store *pm_open_for_read(const char *db_opt)
{
    char err[768];
    struct pm_store *st = pm_store_open(pm_db_path(db_opt), PM_STORE_READ, err, sizeof(err));
    if (!st)
        pm_err("%s", err);
    return st;
}

int pm_parse_duration(const char *s, int64_t default_unit_ns, int64_t *ns)
{
    if (!s || !*s)
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0)
        return -1;
    static const struct {
        const char *suffix;
        double ns;
    } units[] = {{"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9},
                 {"m", 60e9}, {"min", 60e9}, {"h", 3600e9}, {"d", 86400e9}};
    double mult = (double)default_unit_ns;
    if (*end) {
        mult = -1;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (strcmp(end, units[i].suffix) == 0)
                mult = units[i].ns;
        if (mult < 0)
            return -1;
    }
    double r = v * mult;
    if (r > 9.2e18)
        return -1;
    *ns = (int64_t)llround(r);
    return 0;
}

const char *pm_fmt_duration(int64_t ns, char *buf, size_t len)
{
    double s = (double)ns / 1e9;
    if (ns < 0)
        snprintf(buf, len, "-");
    else if (s < 1)
        snprintf(buf, len, "%.0f ms", s * 1e3);
    else if (s < 60)
        snprintf(buf, len, "%.1f s", s);
    else if (s < 3600)
        snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else
        snprintf(buf, len, "%dh%02dm", (int)(s / 3600), ((int)s % 3600) / 60);
    return buf;
}

const char *pm_fmt_own_cpu(int64_t cpu_ns, int64_t dur_ns, char *buf, size_t len)
{
    /* Over a run of a few ms the share is mostly starting and stopping the
     * threads (record -- true shows ~100%): the time says more. */
    if (dur_ns < 1000000000LL)
        snprintf(buf, len, "%.1f ms", (double)cpu_ns / 1e6);
    else
        snprintf(buf, len, "%.2f%%", (double)cpu_ns * 100.0 / (double)dur_ns);
    return buf;
}

const char *pm_fmt_bytes(double b, char *buf, size_t len)
{
    static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (fabs(b) >= 1024 && i < 4) {
        b /= 1024;
        i++;
    }
    snprintf(buf, len, i == 0 ? "%.0f %s" : "%.1f %s", b, u[i]);
    return buf;
}

const char *pm_fmt_cg_peak(double peak, double limit, char *buf, size_t len)
{
    char p[32], l[32];
    snprintf(buf, len, "cgroup memory peak %s of its %s limit (%.0f%%)", pm_fmt_bytes(peak, p, sizeof(p)),
             pm_fmt_bytes(limit, l, sizeof(l)), limit > 0 ? peak * 100.0 / limit : 0.0);
    return buf;
}

const char *pm_signame(int sig)
{
    static const struct {
        int n;
        const char *name;
    } names[] = {
        {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
        {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
        {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
        {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"}, {SIGCHLD, "SIGCHLD"},
        {SIGCONT, "SIGCONT"}, {SIGSTOP, "SIGSTOP"}, {SIGTSTP, "SIGTSTP"}, {SIGTTIN, "SIGTTIN"},
        {SIGTTOU, "SIGTTOU"}, {SIGURG, "SIGURG"},   {SIGXCPU, "SIGXCPU"}, {SIGXFSZ, "SIGXFSZ"},
        {SIGVTALRM, "SIGVTALRM"}, {SIGPROF, "SIGPROF"}, {SIGWINCH, "SIGWINCH"}, {SIGSYS, "SIGSYS"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].n == sig)
            return names[i].name;
    static _Thread_local char buf[16];
    snprintf(buf, sizeof(buf), "SIG%d", sig);
    return buf;
}

int pm_use_color(FILE *f)
{
    const char *nc = getenv("NO_COLOR");
    if (nc && *nc)
        return 0;
    const char *term = getenv("TERM");
    if (term && strcmp(term, "dumb") == 0)
        return 0;
    return isatty(fileno(f));
}
