/*
 * The export model (export.h): byte buffers, batches of rows and points,
 * label values made safe for every format, and counter accumulation.
 */
#include "export.h"

#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- pm_buf ----------------------------------------------------------- */

static int buf_reserve(struct pm_buf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void pm_buf_add(struct pm_buf *b, const void *data, size_t n)
{
    if (buf_reserve(b, n) < 0)
        return;
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void *pm_buf_append(struct pm_buf *b, size_t n)
{
    if (buf_reserve(b, n) < 0)
        return NULL;
    void *at = b->p + b->len;
    b->len += n;
    b->p[b->len] = '\0';
    return at;
}

void pm_buf_puts(struct pm_buf *b, const char *s)
{
    pm_buf_add(b, s, strlen(s));
}

void pm_buf_printf(struct pm_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || buf_reserve(b, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void pm_buf_reset(struct pm_buf *b)
{
    b->len = 0;
    b->oom = 0;
    if (b->p)
        b->p[0] = '\0';
}

void pm_buf_free(struct pm_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void pm_buf_double(struct pm_buf *b, double v)
{
    if (isnan(v)) {
        pm_buf_puts(b, "NaN");
        return;
    }
    if (isinf(v)) {
        pm_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    /* Integral values (most of ours: bytes, counts) print without exponent. */
    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        pm_buf_printf(b, "%.0f", v);
        return;
    }
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    pm_buf_puts(b, tmp);
}

/* ---- labels ----------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return c ? 1 : 0;
    if ((c & 0xE0) == 0xC0) {
        n = 2;
        min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3;
        min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n > avail)
        return 0;
    unsigned cp = c & (0xFF >> (n + 1));
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

void pm_x_label_value(char *dst, size_t size, const char *src)
{
    size_t o = 0;
    if (size == 0)
        return;
    if (src) {
        const unsigned char *s = (const unsigned char *)src;
        size_t avail = strlen(src);
        while (avail > 0) {
            size_t n = utf8_len(s, avail);
            if (n == 0) {
                if (o + 1 >= size)
                    break;
                dst[o++] = '?';
                s++;
                avail--;
                continue;
            }
            if (o + n >= size)
                break;
            memcpy(dst + o, s, n);
            o += n;
            s += n;
            avail -= n;
        }
    }
    dst[o] = '\0';
}

static int label_cmp(const void *a, const void *b)
{
    return strcmp(((const struct pm_xlabel *)a)->name, ((const struct pm_xlabel *)b)->name);
}

static void add_common(struct pm_batch *b, const char *name, const char *value)
{
    if (!value || !*value || b->ncommon >= PM_X_MAXLABELS)
        return;
    struct pm_xlabel *l = &b->common[b->ncommon++];
    pm_strlcpy(l->name, name, sizeof l->name);
    pm_x_label_value(l->value, sizeof l->value, value);
}

void pm_batch_labels(struct pm_batch *b, const struct pm_xident *id)
{
    b->ncommon = 0;
    add_common(b, "job", id->job && *id->job ? id->job : "pressmon");
    add_common(b, "instance", id->instance);
    add_common(b, "label", id->label);
    add_common(b, "run_id", id->run_id);
    qsort(b->common, (size_t)b->ncommon, sizeof b->common[0], label_cmp);
}

/* ---- batches ---------------------------------------------------------- */

long pm_batch_add_row(struct pm_batch *b, int64_t ts_ns)
{
    if (b->nrows == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        int64_t *ts = realloc(b->ts_ns, cap * sizeof *ts);
        if (!ts)
            return -1;
        b->ts_ns = ts;
        double *val = realloc(b->val, cap * PM_SYS_N * sizeof *val);
        if (!val)
            return -1;
        b->val = val;
        uint64_t *pr = realloc(b->present, cap * sizeof *pr);
        if (!pr)
            return -1;
        b->present = pr;
        b->cap = cap;
    }
    size_t i = b->nrows++;
    b->ts_ns[i] = ts_ns;
    b->present[i] = 0;
    return (long)i;
}

struct pm_xpoint *pm_batch_add_point(struct pm_batch *b, const char *name, const char *type,
                                     const char *help, int64_t ts_ns, double v)
{
    if (b->npts == b->pts_cap) {
        size_t cap = b->pts_cap ? b->pts_cap * 2 : 32;
        struct pm_xpoint *p = realloc(b->pts, cap * sizeof *p);
        if (!p)
            return NULL;
        b->pts = p;
        b->pts_cap = cap;
    }
    struct pm_xpoint *p = &b->pts[b->npts++];
    memset(p, 0, sizeof *p);
    pm_strlcpy(p->name, name, sizeof p->name);
    p->type = type;
    p->help = help;
    p->ts_ns = ts_ns;
    p->v = v;
    return p;
}

void pm_xpoint_label(struct pm_xpoint *p, const char *name, const char *value)
{
    if (!value || !*value || p->nlabels >= (int)(sizeof p->labels / sizeof p->labels[0]))
        return;
    struct pm_xlabel *l = &p->labels[p->nlabels++];
    pm_strlcpy(l->name, name, sizeof l->name);
    pm_x_label_value(l->value, sizeof l->value, value);
}

void pm_batch_clear(struct pm_batch *b)
{
    b->nrows = 0;
    b->npts = 0;
}

void pm_batch_free(struct pm_batch *b)
{
    free(b->ts_ns);
    free(b->val);
    free(b->present);
    free(b->pts);
    memset(b, 0, sizeof *b);
}

size_t pm_batch_samples(const struct pm_batch *b)
{
    size_t n = b->npts;
    for (size_t i = 0; i < b->nrows; i++)
        n += (size_t)__builtin_popcountll(b->present[i]);
    return n;
}

/* ---- values ----------------------------------------------------------- */

void pm_cumul_row(struct pm_cumul *c, uint64_t present, const int64_t *stored, double *out,
                  uint64_t *out_present, int first)
{
    uint64_t op = 0;
    for (int i = 0; i < PM_SYS_N; i++) {
        const struct pm_metric *m = &pm_sys_metrics[i];
        int has = (present >> i) & 1;
        if (m->kind == PM_COUNTER) {
            /* The first sample of a run stores NULL for counters (no delta
             * yet): the cumulative value starts there at 0. */
            if (first)
                c->total[i] = 0;
            if (has) {
                c->total[i] += pm_metric_value(m, stored[i]);
                out[i] = c->total[i];
                op |= 1ull << i;
            }
        } else if (has) {
            out[i] = pm_metric_value(m, stored[i]);
            op |= 1ull << i;
        }
    }
    *out_present = op;
}

int pm_cumul_keep(struct pm_cumul *c, int64_t ts_ns, int first)
{
    int64_t ms = ts_ns / 1000000;
    if (!first && ms <= c->last_ms)
        return 0;
    c->last_ms = ms;
    return 1;
}

const char *pm_x_signame(int sig, char *buf, size_t n)
{
    static const struct {
        int sig;
        const char *name;
    } names[] = {
        {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
        {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
        {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
        {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"}, {SIGXCPU, "SIGXCPU"},
        {SIGXFSZ, "SIGXFSZ"}, {SIGSYS, "SIGSYS"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].sig == sig) {
            pm_strlcpy(buf, names[i].name, n);
            return buf;
        }
    snprintf(buf, n, "SIG%d", sig);
    return buf;
}
