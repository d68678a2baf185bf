/*
 * `pressmon push RUN --to URL`: read a recorded run, encode it in bounded
 * requests (batch_samples values each), send them in time order, then the
 * kill events and the end-of-run summary.  The original timestamps are
 * kept, so a server needs to accept the past (Prometheus:
 * out_of_order_time_window; docs/EXPORT.md).
 */
#include "push.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snappy_dl.h"

int pm_proto_parse(const char *s, enum pm_proto *p)
{
    if (!strcmp(s, "remote-write") || !strcmp(s, "remote_write") || !strcmp(s, "rw") ||
        !strcmp(s, "prometheus"))
        *p = PM_PROTO_REMOTE_WRITE;
    else if (!strcmp(s, "influx") || !strcmp(s, "influxdb") || !strcmp(s, "line"))
        *p = PM_PROTO_INFLUX;
    else if (!strcmp(s, "pushgateway") || !strcmp(s, "pgw"))
        *p = PM_PROTO_PUSHGATEWAY;
    else if (!strcmp(s, "auto"))
        *p = PM_PROTO_AUTO;
    else
        return -1;
    return 0;
}

const char *pm_proto_name(enum pm_proto p)
{
    switch (p) {
    case PM_PROTO_REMOTE_WRITE: return "remote-write";
    case PM_PROTO_INFLUX: return "influx";
    case PM_PROTO_PUSHGATEWAY: return "pushgateway";
    default: return "auto";
    }
}

static int ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && !memcmp(s + len - n, suffix, n);
}

enum pm_proto pm_proto_infer(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    p += strcspn(p, "/?#");
    size_t len = strcspn(p, "?#");
    while (len > 1 && p[len - 1] == '/')
        len--;
    if (ends_with(p, len, "/api/v1/write") || ends_with(p, len, "/api/prom/push") ||
        ends_with(p, len, "/api/v1/push") || ends_with(p, len, "/receive"))
        return PM_PROTO_REMOTE_WRITE;
    if (ends_with(p, len, "/write") || ends_with(p, len, "/api/v2/write"))
        return PM_PROTO_INFLUX;
    const char *mj = strstr(p, "/metrics/job/");
    if (mj && (size_t)(mj - p) < len)
        return PM_PROTO_PUSHGATEWAY;
    return PM_PROTO_AUTO;
}

/* Pushgateway grouping key segment: plain when safe, else label@base64. */
static void pgw_segment(struct pm_buf *u, const char *name, const char *value)
{
    int plain = *value != '\0';
    for (const char *c = value; *c && plain; c++)
        plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                *c == '_' || *c == '-' || *c == '.';
    if (plain) {
        pm_buf_printf(u, "/%s/%s", name, value);
        return;
    }
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    pm_buf_printf(u, "/%s@base64/", name);
    const unsigned char *s = (const unsigned char *)value;
    size_t len = strlen(value);
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)s[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)s[i + 1] << 8;
        if (i + 2 < len)
            v |= s[i + 2];
        char out[4] = {b64[(v >> 18) & 63], b64[(v >> 12) & 63], b64[(v >> 6) & 63], b64[v & 63]};
        size_t take = i + 2 < len ? 4 : i + 1 < len ? 3 : 2;
        pm_buf_add(u, out, take);
        for (size_t k = take; k < 4; k++)
            pm_buf_add(u, "=", 1);
    }
}

int pm_push_encode(enum pm_proto p, const char *url, const struct pm_batch *b, int gzip,
                   struct pm_buf *body, const char **headers, struct pm_buf *final_url, char *err,
                   size_t n)
{
    int h = 0;
    pm_buf_reset(final_url);
    pm_buf_puts(final_url, url);
    switch (p) {
    case PM_PROTO_REMOTE_WRITE:
        if (pm_enc_remote_write(b, body, err, n) < 0)
            return -1;
        headers[h++] = "Content-Type: application/x-protobuf";
        headers[h++] = "Content-Encoding: snappy";
        headers[h++] = "X-Prometheus-Remote-Write-Version: 0.1.0";
        break;
    case PM_PROTO_INFLUX: {
        struct pm_buf text = {0};
        if (pm_enc_influx(b, &text) < 0) {
            pm_buf_free(&text);
            goto oom;
        }
        if (gzip) {
            int rc = pm_gzip(text.p ? text.p : "", text.len, body);
            pm_buf_free(&text);
            if (rc < 0)
                goto oom;
            headers[h++] = "Content-Encoding: gzip";
        } else {
            pm_buf_reset(body);
            pm_buf_add(body, text.p ? text.p : "", text.len);
            pm_buf_free(&text);
        }
        headers[h++] = "Content-Type: text/plain; charset=utf-8";
        if (!strstr(url, "precision="))
            pm_buf_puts(final_url, strchr(url, '?') ? "&precision=ns" : "?precision=ns");
        break;
    }
    case PM_PROTO_PUSHGATEWAY: {
        if (pm_enc_pushgateway(b, body, 1) < 0)
            goto oom;
        headers[h++] = "Content-Type: text/plain; version=0.0.4";
        size_t len = strcspn(url, "?#");
        pm_buf_reset(final_url);
        while (len > 0 && url[len - 1] == '/')
            len--;
        pm_buf_add(final_url, url, len);
        const char *mj = strstr(final_url->p, "/metrics/job/");
        if (!mj) {
            pm_buf_puts(final_url, "/metrics");
            /* job first: the Pushgateway's path grammar wants it there. */
            for (int i = 0; i < b->ncommon; i++)
                if (!strcmp(b->common[i].name, "job"))
                    pgw_segment(final_url, "job", b->common[i].value);
        }
        /* The rest of the grouping key, except labels the URL already has. */
        for (int i = 0; i < b->ncommon; i++) {
            const char *name = b->common[i].name;
            if (!strcmp(name, "job"))
                continue;
            char seg[48], seg64[48];
            snprintf(seg, sizeof seg, "/%s/", name);
            snprintf(seg64, sizeof seg64, "/%s@base64/", name);
            if (mj && (strstr(mj + 8, seg) || strstr(mj + 8, seg64)))
                continue;
            pgw_segment(final_url, name, b->common[i].value);
        }
        break;
    }
    default:
        snprintf(err, n, "no protocol chosen");
        return -1;
    }
    headers[h] = NULL;
    if (final_url->oom)
        goto oom;
    return 0;
oom:
    snprintf(err, n, "out of memory while encoding");
    return -1;
}

/* Send one batch.  An Influx server that does not take gzip (HTTP 415)
 * gets this and every later body uncompressed. */
static int send_batch(struct pm_http *http, enum pm_proto proto, const char *url,
                      const struct pm_batch *b, int *gzip, struct pm_push_stats *st, char *err,
                      size_t n)
{
    struct pm_buf body = {0}, final_url = {0};
    const char *headers[6];
    int rc = -1;
    for (int attempt = 0; attempt < 2 && rc < 0; attempt++) {
        if (pm_push_encode(proto, url, b, *gzip, &body, headers, &final_url, err, n) < 0)
            break;
        const char *method = proto == PM_PROTO_PUSHGATEWAY ? "PUT" : "POST";
        enum pm_http_result r =
            pm_http_send(http, method, final_url.p, headers, body.p ? body.p : "", body.len, err, n);
        if (r == PM_HTTP_OK) {
            st->requests++;
            st->samples += proto == PM_PROTO_PUSHGATEWAY ? b->npts : pm_batch_samples(b);
            st->bytes += body.len;
            rc = 0;
        } else if (r == PM_HTTP_PERMANENT && proto == PM_PROTO_INFLUX && *gzip &&
                   strstr(err, "HTTP 415")) {
            *gzip = 0;
        } else {
            break;
        }
    }
    pm_buf_free(&body);
    pm_buf_free(&final_url);
    return rc;
}

int pm_push_run(sqlite3 *db, int64_t run_id, const char *url, const struct pm_push_opts *o,
                struct pm_push_stats *stats, char *err, size_t n)
{
    struct pm_push_stats st = {0};
    if (stats)
        *stats = st; /* also when failing before the first request */
    int64_t t0 = pm_http_mono_ns();
    enum pm_proto proto = o->proto ? o->proto : pm_proto_infer(url);
    if (proto == PM_PROTO_AUTO) {
        snprintf(err, n, "cannot tell the protocol from the URL's path: add --protocol "
                         "remote-write, influx or pushgateway");
        return -1;
    }
    if (pm_url_check(url, err, n) < 0)
        return -1;
    /* Remote write needs libsnappy: say so before anything is read or sent. */
    if (proto == PM_PROTO_REMOTE_WRITE && !pm_snappy_load(err, n))
        return -1;
    struct pm_xrun run;
    if (pm_src_run(db, run_id, &run, err, n) < 0)
        return -1;
    struct pm_xident id = {
        .job = o->job,
        .instance = o->instance && *o->instance ? o->instance : run.hostname,
        .label = run.label,
        .run_id = o->no_run_id ? NULL : run.uid,
    };
    struct pm_http *http = pm_http_new(&o->http, err, n);
    if (!http)
        return -1;
    struct pm_batch b = {0};
    pm_batch_labels(&b, &id);
    int gzip = !o->no_gzip;
    int rc = -1;
    struct pm_src *src = NULL;

    if (proto != PM_PROTO_PUSHGATEWAY) {
        src = pm_src_open(db, &run, err, n);
        if (!src)
            goto out;
        size_t per_req = o->batch_samples ? o->batch_samples : 10000;
        size_t rows = per_req / PM_SYS_N;
        if (rows == 0)
            rows = 1;
        for (;;) {
            pm_batch_clear(&b);
            long got = pm_src_next(src, &b, rows, err, n);
            if (got < 0)
                goto out;
            if (got == 0)
                break;
            if (send_batch(http, proto, url, &b, &gzip, &st, err, n) < 0)
                goto out;
        }
        pm_batch_clear(&b);
        if (pm_src_kill_points(db, &run, &b, err, n) < 0)
            goto out;
    }
    if (pm_src_summary_points(db, &run, &b, err, n) < 0)
        goto out;
    if (send_batch(http, proto, url, &b, &gzip, &st, err, n) < 0)
        goto out;
    rc = 0;
out:
    pm_src_close(src);
    pm_batch_free(&b);
    uint64_t attempts;
    pm_http_counts(http, &attempts, &st.retries);
    pm_http_free(http);
    st.seconds = (double)(pm_http_mono_ns() - t0) / 1e9;
    if (stats)
        *stats = st;
    return rc;
}
