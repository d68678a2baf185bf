/*
 * Prometheus remote write 1.0 encoder: a batch becomes one WriteRequest
 * (exporters/remote_write.proto), compressed with snappy's block format
 * (not the framed format: the spec says block).
 *
 * One TimeSeries per catalog metric present in the batch (its samples in
 * time order) and one per point.  Labels are sorted by name with __name__
 * among them, as the spec requires; receivers such as Prometheus reject or
 * mis-index unsorted label sets.
 *
 * The protobuf is written here rather than by libprotobuf-c, and libsnappy
 * is loaded only when a push compresses (snappy_dl.h): linked, the two
 * (with libstdc++ and libgcc_s behind libsnappy) were loaded by every
 * command at every start, for the one command that pushes.  Four messages
 * need little code.  Wire format (protobuf encoding; tag = field << 3 |
 * wire type):
 *
 *   WriteRequest  0x0a len TimeSeries          per series (field 1, length-delimited)
 *   TimeSeries    0x0a len Label               per label  (field 1)
 *                 0x12 len Sample              per sample (field 2)
 *   Label         0x0a len name bytes, 0x12 len value bytes
 *   Sample        0x09 value: 8 bytes, the double's bits little-endian (field 1, fixed64)
 *                 0x10 timestamp: varint of the int64 as uint64, so a
 *                      negative one takes 10 bytes (field 2, varint)
 *
 * Lengths are base-128 varints, low 7 bits first.  The bytes are those
 * libprotobuf-c 1.4 packs for the same message, which pressmon sent before
 * (tests/unit/test_encode.c compares the two): fields in field-number
 * order, and proto3 fields at their default left out, as its descriptor
 * says (LABEL_NONE: no presence) and protobuf_c_message_pack does
 * -- an empty name or value, a timestamp of 0, and a value that compares
 * equal to 0, which includes -0.0 (a receiver reads it as 0).  NaN and the
 * infinities are written, bits as they are.
 *
 * A message's length comes before it, so sizes are known before writing:
 * the same functions size a series (cursor NULL) and then write it, the
 * whole request is reserved once, and nothing is copied twice.
 */
#include "export.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snappy_dl.h"

/* Tags of the fields pressmon writes. */
enum {
    TAG_LEN_1 = 1 << 3 | 2,     /* timeseries, labels, name */
    TAG_LEN_2 = 2 << 3 | 2,     /* samples, value (Label) */
    TAG_FIXED64_1 = 1 << 3 | 1, /* value (Sample) */
    TAG_VARINT_2 = 2 << 3 | 0,  /* timestamp */
};

/* __name__, the batch's labels and a point's own. */
#define RW_MAXLABELS (1 + PM_X_MAXLABELS + 4)

struct rw_label {
    const char *name, *value;
    size_t nlen, vlen;
};

/* One TimeSeries: its labels, sorted, and where its samples are. */
struct rw_series {
    char name[96]; /* the value of __name__ */
    struct rw_label lbl[RW_MAXLABELS];
    int nlbl;
    int metric;                 /* catalog index of a metric's series */
    const struct pm_xpoint *pt; /* or the point of a one-sample series */
    size_t len;                 /* its encoded size, without tag and length */
};

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    for (; v >= 0x80; v >>= 7)
        n++;
    return n;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
    for (; v >= 0x80; v >>= 7)
        *p++ = (uint8_t)(v | 0x80);
    *p++ = (uint8_t)v;
    return p;
}

/* A length-delimited field's tag and length; returns its whole size. */
static size_t put_head(uint8_t **p, uint8_t tag, size_t len)
{
    if (p) {
        *(*p)++ = tag;
        *p = put_varint(*p, len);
    }
    return 1 + varint_len(len) + len;
}

/* A string field: nothing when empty. */
static size_t put_str(uint8_t **p, uint8_t tag, const char *s, size_t n)
{
    if (n == 0)
        return 0;
    size_t len = put_head(p, tag, n);
    if (p) {
        memcpy(*p, s, n);
        *p += n;
    }
    return len;
}

/* Each put_* below returns the size of what it writes, and writes it at *p
 * (moving *p past it) unless p is NULL. */

static size_t put_label(uint8_t **p, const struct rw_label *l)
{
    size_t body = put_str(NULL, TAG_LEN_1, l->name, l->nlen) + put_str(NULL, TAG_LEN_2, l->value, l->vlen);
    size_t len = put_head(p, TAG_LEN_1, body);
    put_str(p, TAG_LEN_1, l->name, l->nlen);
    put_str(p, TAG_LEN_2, l->value, l->vlen);
    return len;
}

static size_t put_sample(uint8_t **p, double v, int64_t ms)
{
    size_t body = (v != 0 ? 1 + 8 : 0) + (ms != 0 ? 1 + varint_len((uint64_t)ms) : 0);
    size_t len = put_head(p, TAG_LEN_2, body);
    if (!p)
        return len;
    if (v != 0) {
        uint64_t bits;
        memcpy(&bits, &v, sizeof bits);
        *(*p)++ = TAG_FIXED64_1;
        for (int i = 0; i < 8; i++)
            *(*p)++ = (uint8_t)(bits >> (8 * i));
    }
    if (ms != 0) {
        *(*p)++ = TAG_VARINT_2;
        *p = put_varint(*p, (uint64_t)ms);
    }
    return len;
}

/* Labels then samples: the body of a TimeSeries.  Remote write is in ms;
 * ns are truncated toward zero, as C's division does. */
static size_t put_series_body(uint8_t **p, const struct pm_batch *b, const struct rw_series *s)
{
    size_t len = 0;
    for (int i = 0; i < s->nlbl; i++)
        len += put_label(p, &s->lbl[i]);
    if (s->pt)
        return len + put_sample(p, s->pt->v, s->pt->ts_ns / 1000000);
    for (size_t r = 0; r < b->nrows; r++)
        if ((b->present[r] >> s->metric) & 1)
            len += put_sample(p, b->val[r * PM_SYS_N + (size_t)s->metric], b->ts_ns[r] / 1000000);
    return len;
}

static int lbl_cmp(const void *a, const void *b)
{
    return strcmp(((const struct rw_label *)a)->name, ((const struct rw_label *)b)->name);
}

static void add_label(struct rw_series *s, const char *name, const char *value)
{
    struct rw_label *l = &s->lbl[s->nlbl++];
    l->name = name;
    l->value = value;
    l->nlen = strlen(name);
    l->vlen = strlen(value);
}

/* Names s, labels it and sorts its labels; returns its encoded size. */
static size_t set_series(struct rw_series *s, const char *name, const struct pm_batch *b,
                         const struct pm_xlabel *extra, int nextra)
{
    snprintf(s->name, sizeof s->name, PM_X_PREFIX "%s", name);
    add_label(s, "__name__", s->name);
    for (int i = 0; i < b->ncommon; i++)
        add_label(s, b->common[i].name, b->common[i].value);
    for (int i = 0; i < nextra; i++)
        add_label(s, extra[i].name, extra[i].value);
    qsort(s->lbl, (size_t)s->nlbl, sizeof s->lbl[0], lbl_cmp);
    s->len = put_series_body(NULL, b, s);
    return put_head(NULL, TAG_LEN_1, s->len);
}

int pm_enc_remote_write_raw(const struct pm_batch *b, struct pm_buf *out)
{
    struct rw_series *series = calloc(PM_SYS_N + b->npts, sizeof *series);
    if (!series)
        return -1;
    size_t nseries = 0, total = 0;
    for (int m = 0; m < PM_SYS_N; m++) {
        size_t r = 0;
        while (r < b->nrows && !((b->present[r] >> m) & 1))
            r++;
        if (r == b->nrows)
            continue; /* no sample: no series */
        struct rw_series *s = &series[nseries++];
        s->metric = m;
        total += set_series(s, pm_sys_metrics[m].prom, b, NULL, 0);
    }
    for (size_t i = 0; i < b->npts; i++) {
        const struct pm_xpoint *pt = &b->pts[i];
        struct rw_series *s = &series[nseries++];
        s->pt = pt;
        total += set_series(s, pt->name, b, pt->labels, pt->nlabels);
    }

    pm_buf_reset(out);
    uint8_t *start = pm_buf_append(out, total), *p = start;
    if (p) {
        for (size_t i = 0; i < nseries; i++) {
            put_head(&p, TAG_LEN_1, series[i].len);
            put_series_body(&p, b, &series[i]);
        }
        /* The functions that sized the request wrote it. */
        assert(p == start + total);
    }
    free(series);
    return out->oom ? -1 : 0;
}

int pm_enc_remote_write(const struct pm_batch *b, struct pm_buf *out, char *err, size_t n)
{
    const struct pm_snappy *sn = pm_snappy_load(err, n);
    if (!sn)
        return -1;
    struct pm_buf raw = {0};
    if (pm_enc_remote_write_raw(b, &raw) < 0) {
        pm_buf_free(&raw);
        snprintf(err, n, "out of memory while encoding");
        return -1;
    }
    size_t clen = sn->max_compressed_length(raw.len);
    pm_buf_reset(out);
    char *c = pm_buf_append(out, clen);
    int rc = -1;
    if (!c)
        snprintf(err, n, "out of memory while encoding");
    else if (sn->compress(raw.p, raw.len, c, &clen) != SNAPPY_OK)
        snprintf(err, n, "snappy_compress failed on %zu bytes", raw.len);
    else {
        out->len = clen; /* the compressed size, at most what was reserved */
        out->p[clen] = '\0';
        rc = 0;
    }
    pm_buf_free(&raw);
    return rc;
}
