/*
 * Text encoders: Influx line protocol, the Prometheus text format for the
 * Pushgateway, the label escaping they share with OpenMetrics export, and
 * gzip for request bodies.
 *
 * Escaping rules (tested in tests/unit/test_encode.c):
 *   Prometheus text / OpenMetrics label values: \ -> \\, " -> \", LF -> \n.
 *   Influx measurement: comma and space get a backslash.  Tag keys and
 *   values: comma, '=' and space get a backslash; line protocol has no
 *   escape for a newline, so CR/LF become a space; a tag may not end in a
 *   lone backslash, so a trailing one is doubled; empty tags are left out.
 *   Values are floats always (InfluxDB fixes a field's type on first write,
 *   and a metric that is integral now may not be later).
 */
#include "export.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

/* ---- Influx line protocol --------------------------------------------- */

void pm_influx_escape(struct pm_buf *out, const char *s, int is_measurement)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\n' || c == '\r') {
            pm_buf_puts(out, "\\ ");
            continue;
        }
        if (c == ',' || c == ' ' || (!is_measurement && c == '='))
            pm_buf_add(out, "\\", 1);
        else if (c == '\\' && i + 1 == n)
            pm_buf_add(out, "\\", 1);
        pm_buf_add(out, &c, 1);
    }
}

static int xlabel_cmp(const void *a, const void *b)
{
    return strcmp(((const struct pm_xlabel *)a)->name, ((const struct pm_xlabel *)b)->name);
}

static void influx_tags(struct pm_buf *out, const struct pm_batch *b, const struct pm_xlabel *extra,
                        int nextra)
{
    struct pm_xlabel all[PM_X_MAXLABELS + 4];
    int n = 0;
    for (int i = 0; i < b->ncommon; i++)
        all[n++] = b->common[i];
    for (int i = 0; i < nextra && n < (int)(sizeof all / sizeof all[0]); i++)
        all[n++] = extra[i];
    /* InfluxDB wants tags sorted by key for best performance. */
    qsort(all, (size_t)n, sizeof all[0], xlabel_cmp);
    for (int i = 0; i < n; i++) {
        if (!all[i].value[0])
            continue;
        pm_buf_add(out, ",", 1);
        pm_influx_escape(out, all[i].name, 0);
        pm_buf_add(out, "=", 1);
        pm_influx_escape(out, all[i].value, 0);
    }
}

int pm_enc_influx(const struct pm_batch *b, struct pm_buf *out)
{
    pm_buf_reset(out);
    struct pm_buf head = {0};
    pm_influx_escape(&head, PM_X_MEASUREMENT, 1);
    influx_tags(&head, b, NULL, 0);
    for (size_t r = 0; r < b->nrows; r++) {
        if (!b->present[r])
            continue;
        pm_buf_add(out, head.p, head.len);
        char sep = ' ';
        for (int m = 0; m < PM_SYS_N; m++) {
            double v = b->val[r * PM_SYS_N + (size_t)m];
            if (!((b->present[r] >> m) & 1) || !isfinite(v))
                continue;
            pm_buf_add(out, &sep, 1);
            sep = ',';
            pm_buf_puts(out, pm_sys_metrics[m].prom);
            pm_buf_add(out, "=", 1);
            pm_buf_double(out, v);
        }
        if (sep == ' ') { /* nothing finite: undo the head */
            out->len -= head.len;
            out->p[out->len] = '\0';
            continue;
        }
        pm_buf_printf(out, " %lld\n", (long long)b->ts_ns[r]);
    }
    for (size_t p = 0; p < b->npts; p++) {
        const struct pm_xpoint *pt = &b->pts[p];
        if (!isfinite(pt->v))
            continue;
        pm_influx_escape(out, PM_X_MEASUREMENT, 1);
        influx_tags(out, b, pt->labels, pt->nlabels);
        pm_buf_add(out, " ", 1);
        pm_influx_escape(out, pt->name, 0);
        pm_buf_add(out, "=", 1);
        pm_buf_double(out, pt->v);
        pm_buf_printf(out, " %lld\n", (long long)pt->ts_ns);
    }
    int oom = head.oom;
    pm_buf_free(&head);
    return out->oom || oom ? -1 : 0;
}

/* ---- Prometheus text -------------------------------------------------- */

void pm_prom_escape(struct pm_buf *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '\\': pm_buf_puts(out, "\\\\"); break;
        case '"': pm_buf_puts(out, "\\\""); break;
        case '\n': pm_buf_puts(out, "\\n"); break;
        default: pm_buf_add(out, s, 1);
        }
    }
}

void pm_prom_labels(struct pm_buf *out, const struct pm_xlabel *common, int ncommon,
                    const struct pm_xlabel *extra, int nextra)
{
    struct pm_xlabel all[PM_X_MAXLABELS + 4];
    int n = 0;
    for (int i = 0; i < ncommon; i++)
        all[n++] = common[i];
    for (int i = 0; i < nextra && n < (int)(sizeof all / sizeof all[0]); i++)
        all[n++] = extra[i];
    if (n == 0)
        return;
    qsort(all, (size_t)n, sizeof all[0], xlabel_cmp);
    pm_buf_add(out, "{", 1);
    for (int i = 0; i < n; i++) {
        pm_buf_printf(out, "%s%s=\"", i ? "," : "", all[i].name);
        pm_prom_escape(out, all[i].value);
        pm_buf_add(out, "\"", 1);
    }
    pm_buf_add(out, "}", 1);
}

/* HELP text escapes only backslash and newline. */
static void help_escape(struct pm_buf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            pm_buf_puts(out, "\\\\");
        else if (*s == '\n')
            pm_buf_puts(out, "\\n");
        else
            pm_buf_add(out, s, 1);
    }
}

int pm_enc_pushgateway(const struct pm_batch *b, struct pm_buf *out, int skip_common)
{
    pm_buf_reset(out);
    /* Every sample of one metric must follow its single # TYPE line. */
    for (size_t i = 0; i < b->npts; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strcmp(b->pts[j].name, b->pts[i].name);
        if (seen)
            continue;
        const struct pm_xpoint *p0 = &b->pts[i];
        if (p0->help) {
            pm_buf_printf(out, "# HELP " PM_X_PREFIX "%s ", p0->name);
            help_escape(out, p0->help);
            pm_buf_add(out, "\n", 1);
        }
        pm_buf_printf(out, "# TYPE " PM_X_PREFIX "%s %s\n", p0->name, p0->type ? p0->type : "gauge");
        for (size_t j = i; j < b->npts; j++) {
            const struct pm_xpoint *p = &b->pts[j];
            if (strcmp(p->name, p0->name) || !isfinite(p->v))
                continue;
            pm_buf_printf(out, PM_X_PREFIX "%s", p->name);
            pm_prom_labels(out, b->common, skip_common ? 0 : b->ncommon, p->labels, p->nlabels);
            pm_buf_add(out, " ", 1);
            pm_buf_double(out, p->v);
            pm_buf_add(out, "\n", 1);
        }
    }
    return out->oom ? -1 : 0;
}

/* ---- gzip ------------------------------------------------------------- */

int pm_gzip(const void *in, size_t n, struct pm_buf *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* windowBits 15 + 16: a gzip header and trailer instead of zlib's. */
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    uLong bound = deflateBound(&z, (uLong)n);
    pm_buf_reset(out);
    char *dst = malloc(bound + 32);
    if (!dst) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)dst;
    z.avail_out = (uInt)(bound + 32);
    int rc = deflate(&z, Z_FINISH);
    size_t produced = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(dst);
        return -1;
    }
    pm_buf_add(out, dst, produced);
    free(dst);
    return out->oom ? -1 : 0;
}
