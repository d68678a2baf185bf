/*
 * Prometheus remote write 1.0 encoder: a batch becomes one WriteRequest
 * (exporters/remote_write.proto, packed by libprotobuf-c), compressed with
 * snappy's block format (not the framed format: the spec says block).
 *
 * One TimeSeries per catalog metric present in the batch (its samples in
 * time order) and one per point.  Labels are sorted by name with __name__
 * among them, as the spec requires; receivers such as Prometheus reject or
 * mis-index unsorted label sets.
 */
#include "export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>

#include "remote_write.pb-c.h"

static int lbl_cmp(const void *a, const void *b)
{
    const Prometheus__Label *x = *(Prometheus__Label *const *)a;
    const Prometheus__Label *y = *(Prometheus__Label *const *)b;
    return strcmp(x->name, y->name);
}

struct rw_arena {
    Prometheus__TimeSeries *ts;
    Prometheus__TimeSeries **tsp;
    Prometheus__Label *lbl;
    Prometheus__Label **lblp;
    Prometheus__Sample *smp;
    Prometheus__Sample **smpp;
    char (*names)[96];
    size_t nts, nlbl, nsmp;
};

static void set_labels(struct rw_arena *a, Prometheus__TimeSeries *ts, const char *name,
                       const struct pm_batch *b, const struct pm_xlabel *extra, int nextra)
{
    Prometheus__Label **first = &a->lblp[a->nlbl];
    size_t n = 0;
    Prometheus__Label *l = &a->lbl[a->nlbl + n];
    prometheus__label__init(l);
    l->name = (char *)"__name__";
    l->value = (char *)name;
    first[n++] = l;
    for (int i = 0; i < b->ncommon; i++) {
        l = &a->lbl[a->nlbl + n];
        prometheus__label__init(l);
        l->name = (char *)b->common[i].name;
        l->value = (char *)b->common[i].value;
        first[n++] = l;
    }
    for (int i = 0; i < nextra; i++) {
        l = &a->lbl[a->nlbl + n];
        prometheus__label__init(l);
        l->name = (char *)extra[i].name;
        l->value = (char *)extra[i].value;
        first[n++] = l;
    }
    qsort(first, n, sizeof *first, lbl_cmp);
    ts->labels = first;
    ts->n_labels = n;
    a->nlbl += n;
}

int pm_enc_remote_write_raw(const struct pm_batch *b, struct pm_buf *out)
{
    size_t nseries = PM_SYS_N + b->npts;
    size_t nsamples = pm_batch_samples(b);
    size_t nlabels = nseries * (size_t)(1 + b->ncommon + 4);
    struct rw_arena a = {0};
    int rc = -1;
    a.ts = calloc(nseries, sizeof *a.ts);
    a.tsp = calloc(nseries, sizeof *a.tsp);
    a.lbl = calloc(nlabels, sizeof *a.lbl);
    a.lblp = calloc(nlabels, sizeof *a.lblp);
    a.smp = calloc(nsamples + 1, sizeof *a.smp);
    a.smpp = calloc(nsamples + 1, sizeof *a.smpp);
    a.names = calloc(nseries, sizeof *a.names);
    if (!a.ts || !a.tsp || !a.lbl || !a.lblp || !a.smp || !a.smpp || !a.names)
        goto done;

    for (int m = 0; m < PM_SYS_N; m++) {
        Prometheus__TimeSeries *ts = &a.ts[a.nts];
        size_t first = a.nsmp;
        for (size_t r = 0; r < b->nrows; r++) {
            if (!((b->present[r] >> m) & 1))
                continue;
            Prometheus__Sample *s = &a.smp[a.nsmp];
            prometheus__sample__init(s);
            s->value = b->val[r * PM_SYS_N + (size_t)m];
            s->timestamp = b->ts_ns[r] / 1000000; /* remote write is in ms */
            a.smpp[a.nsmp++] = s;
        }
        if (a.nsmp == first)
            continue;
        prometheus__time_series__init(ts);
        ts->samples = &a.smpp[first];
        ts->n_samples = a.nsmp - first;
        snprintf(a.names[a.nts], sizeof a.names[0], PM_X_PREFIX "%s", pm_sys_metrics[m].prom);
        set_labels(&a, ts, a.names[a.nts], b, NULL, 0);
        a.tsp[a.nts] = ts;
        a.nts++;
    }
    for (size_t p = 0; p < b->npts; p++) {
        const struct pm_xpoint *pt = &b->pts[p];
        Prometheus__TimeSeries *ts = &a.ts[a.nts];
        Prometheus__Sample *s = &a.smp[a.nsmp];
        prometheus__sample__init(s);
        s->value = pt->v;
        s->timestamp = pt->ts_ns / 1000000;
        a.smpp[a.nsmp] = s;
        prometheus__time_series__init(ts);
        ts->samples = &a.smpp[a.nsmp++];
        ts->n_samples = 1;
        snprintf(a.names[a.nts], sizeof a.names[0], PM_X_PREFIX "%s", pt->name);
        set_labels(&a, ts, a.names[a.nts], b, pt->labels, pt->nlabels);
        a.tsp[a.nts] = ts;
        a.nts++;
    }

    Prometheus__WriteRequest req = PROMETHEUS__WRITE_REQUEST__INIT;
    req.timeseries = a.tsp;
    req.n_timeseries = a.nts;
    size_t len = prometheus__write_request__get_packed_size(&req);
    pm_buf_reset(out);
    pm_buf_add(out, "", 0);
    if (out->oom)
        goto done;
    /* Grow once to the packed size, then pack in place. */
    char *tmp = malloc(len ? len : 1);
    if (!tmp)
        goto done;
    prometheus__write_request__pack(&req, (uint8_t *)tmp);
    pm_buf_add(out, tmp, len);
    free(tmp);
    rc = out->oom ? -1 : 0;
done:
    free(a.ts);
    free(a.tsp);
    free(a.lbl);
    free(a.lblp);
    free(a.smp);
    free(a.smpp);
    free(a.names);
    return rc;
}

int pm_enc_remote_write(const struct pm_batch *b, struct pm_buf *out)
{
    struct pm_buf raw = {0};
    if (pm_enc_remote_write_raw(b, &raw) < 0) {
        pm_buf_free(&raw);
        return -1;
    }
    size_t clen = snappy_max_compressed_length(raw.len);
    pm_buf_reset(out);
    char *c = malloc(clen ? clen : 1);
    if (!c) {
        pm_buf_free(&raw);
        return -1;
    }
    int rc = -1;
    if (snappy_compress(raw.p ? raw.p : "", raw.len, c, &clen) == SNAPPY_OK) {
        pm_buf_add(out, c, clen);
        rc = out->oom ? -1 : 0;
    }
    free(c);
    pm_buf_free(&raw);
    return rc;
}
