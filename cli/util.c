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
    if (!st || *err)
        pm_err("%s", err);
    return st;
}

int pm_parse_duration(const char *s, int64_t *ns)
{
    if (!s || !*s)
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0)
        return -1;
    /* A bare number has no unit it could obviously mean: -i 1 read as 1 ms
     * and -D 1 as 1 s before; now both are refused. */
    if (!*end)
        return PM_DURATION_NO_UNIT;
    static const struct {
        const char *suffix;
        double ns;
    } units[] = {{"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9},
                 {"m", 60e9}, {"min", 60e9}, {"h", 3600e9}, {"d", 86400e9}};
    double mult = -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(end, units[i].suffix) == 0)
            mult = units[i].ns;
    if (mult < 0)
        return -1;
    double r = v * mult;
    if (r > 9.2e18)
        return -1;
    *ns = (int64_t)llround(r);
    return 0;
}

int pm_duration_arg(const char *cmd, const char *opt, const char *value, const char *examples, int64_t *ns)
{
    int rc = pm_parse_duration(value, ns);
    if (rc == 0)
        return 0;
    pm_err("%s: bad %s '%s': give a %s, as in %s", cmd, opt, value, rc == PM_DURATION_NO_UNIT ? "unit" : "duration",
           examples);
    return -1;
}

/* Decode one UTF-8 character at s (NUL-terminated).  Returns its length in
 * bytes and the code point in *cp; a byte that starts no valid sequence
 * (stray continuation byte, overlong form, surrogate, cut sequence) is one
 * character of its own, *cp = -1. */
static int utf8_next(const unsigned char *s, long *cp)
{
    unsigned char c = s[0];
    int n;
    long v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        n = 2, v = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        *cp = -1;
        return 1;
    }
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) { /* also stops at the NUL */
            *cp = -1;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
        *cp = -1;
        return 1;
    }
    *cp = v;
    return n;
}

/* Terminal columns of one code point: 2 for the East Asian Wide and
 * Fullwidth blocks (Unicode's EastAsianWidth.txt, W and F, by block), 0 for
 * combining marks and zero-width characters, else 1.  A table of our own
 * rather than wcwidth(3): the result must not depend on the user's locale. */
static int cp_cols(long cp)
{
    static const long zero[][2] = {{0x0300, 0x036f}, {0x0483, 0x0489}, {0x0591, 0x05bd}, {0x200b, 0x200f},
                                   {0x20d0, 0x20ff}, {0xfe00, 0xfe0f}, {0xfe20, 0xfe2f}};
    static const long wide[][2] = {
        {0x1100, 0x115f},   {0x231a, 0x231b},   {0x2e80, 0x303e},   {0x3041, 0x33ff},  {0x3400, 0x4dbf},
        {0x4e00, 0x9fff},   {0xa000, 0xa4cf},   {0xa960, 0xa97f},   {0xac00, 0xd7a3},  {0xf900, 0xfaff},
        {0xfe10, 0xfe19},   {0xfe30, 0xfe6f},   {0xff00, 0xff60},   {0xffe0, 0xffe6},  {0x1f300, 0x1f64f},
        {0x1f900, 0x1f9ff}, {0x20000, 0x2fffd}, {0x30000, 0x3fffd},
    };
    if (cp < 0)
        return 1; /* an invalid byte: terminals show one replacement mark */
    if (cp < 0x300)
        return 1;
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
        if (cp >= zero[i][0] && cp <= zero[i][1])
            return 0;
    for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++)
        if (cp >= wide[i][0] && cp <= wide[i][1])
            return 2;
    return 1;
}

int pm_text_cols(const char *s)
{
    int cols = 0;
    long cp;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        p += utf8_next(p, &cp);
        cols += cp_cols(cp);
    }
    return cols;
}

size_t pm_fit_cols(const char *s, int max_cols, int ellipsis, char *buf, size_t len, int *cols_out)
{
    static const char ell[] = "\xe2\x80\xa6"; /* U+2026, one column */
    const unsigned char *p = (const unsigned char *)s;
    int whole = pm_text_cols(s);
    int room = whole <= max_cols || !ellipsis ? max_cols : max_cols - 1;
    int cols = 0;
    size_t used = 0;
    long cp;
    while (*p) {
        int n = utf8_next(p, &cp), w = cp_cols(cp);
        if (cols + w > room || used + (size_t)n + sizeof ell > len)
            break;
        memcpy(buf + used, p, (size_t)n);
        used += (size_t)n;
        cols += w;
        p += n;
    }
    if (*p && ellipsis && room >= 0 && used + sizeof ell <= len) {
        memcpy(buf + used, ell, sizeof ell - 1);
        used += sizeof ell - 1;
        cols++;
    }
    if (len)
        buf[used < len ? used : len - 1] = '\0';
    if (cols_out)
        *cols_out = cols;
    return used;
}

const char *pm_cell(const char *s, int width, char *buf, size_t len)
{
    int cols;
    size_t used = pm_fit_cols(s ? s : "", width, 1, buf, len, &cols);
    while (cols < width && used + 1 < len) {
        buf[used++] = ' ';
        cols++;
    }
    if (len)
        buf[used] = '\0';
    return buf;
}

int pm_label_width(int widest)
{
    if (widest < (int)sizeof "LABEL" - 1)
        return (int)sizeof "LABEL" - 1;
    return widest > PM_LABEL_COLS_MAX ? PM_LABEL_COLS_MAX : widest;
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
