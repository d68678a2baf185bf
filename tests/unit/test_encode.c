/*
 * Unit tests of the export encoders (exporters/): remote write protobuf
 * decoded back with libprotobuf-c and compared byte for byte with what
 * libprotobuf-c packs for the same message, the snappy and gzip round
 * trips, label escaping in Influx line protocol and the Prometheus text
 * format, label value sanitizing, counter accumulation, protocol inference
 * and the Pushgateway grouping key.
 *
 * pressmon writes the protobuf by hand and loads libsnappy at run time;
 * this test links libprotobuf-c (with the code generated into tests/proto/)
 * and libsnappy as an oracle that shares no code with the encoder.
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <snappy-c.h>
#include <zlib.h>

#include "exporters/export.h"
#include "exporters/push.h"
#include "tests/proto/remote_write.pb-c.h"

/* Every awkward character the brief names, in one label value. */
static const char *const NASTY = "a \"quoted\", b=c d\nnext line \xc3\xbc\xe2\x9c\x93 \\x";

static void make_batch(struct pm_batch *b)
{
    memset(b, 0, sizeof *b);
    struct pm_xident id = {.job = "ci", .instance = "host-1", .label = NASTY, .run_id = "01ABC"};
    pm_batch_labels(b, &id);
    for (int r = 0; r < 3; r++) {
        long i = pm_batch_add_row(b, 1700000000123456789LL + r * 10000000LL);
        assert_true(i == r);
        b->present[i] = (1ull << PM_M_MEM_AVAILABLE) | (1ull << PM_M_CPU_USER);
        b->val[(size_t)i * PM_SYS_N + PM_M_MEM_AVAILABLE] = 1024.0 * (r + 1);
        b->val[(size_t)i * PM_SYS_N + PM_M_CPU_USER] = 0.5 * r;
    }
    struct pm_xpoint *p = pm_batch_add_point(b, "kill_event_timestamp_seconds", "gauge", NULL,
                                             1700000001000000000LL, 1700000001.0);
    assert_non_null(p);
    pm_xpoint_label(p, "kind", "signal");
    pm_xpoint_label(p, "sender", "kill, \"x\"");
}

static const char *label_of(const Prometheus__TimeSeries *ts, const char *name)
{
    for (size_t i = 0; i < ts->n_labels; i++)
        if (!strcmp(ts->labels[i]->name, name))
            return ts->labels[i]->value;
    return NULL;
}

static void test_remote_write_decodes_back(void **state)
{
    struct pm_batch b;
    make_batch(&b);
    struct pm_buf raw = {0};
    assert_int_equal(pm_enc_remote_write_raw(&b, &raw), 0);
    Prometheus__WriteRequest *req =
        prometheus__write_request__unpack(NULL, raw.len, (const uint8_t *)raw.p);
    assert_non_null(req);
    assert_int_equal(req->n_timeseries, 3); /* two metrics + one point */
    int seen_mem = 0, seen_cpu = 0, seen_kill = 0;
    for (size_t i = 0; i < req->n_timeseries; i++) {
        const Prometheus__TimeSeries *ts = req->timeseries[i];
        for (size_t l = 1; l < ts->n_labels; l++) /* sorted, unique names */
            assert_true(strcmp(ts->labels[l - 1]->name, ts->labels[l]->name) < 0);
        assert_string_equal(ts->labels[0]->name, "__name__");
        assert_string_equal(label_of(ts, "job"), "ci");
        assert_string_equal(label_of(ts, "instance"), "host-1");
        assert_string_equal(label_of(ts, "label"), NASTY); /* protobuf needs no escaping */
        assert_string_equal(label_of(ts, "run_id"), "01ABC");
        const char *name = label_of(ts, "__name__");
        if (!strcmp(name, "pressmon_memory_available_bytes")) {
            seen_mem = 1;
            assert_int_equal(ts->n_samples, 3);
            for (size_t s = 0; s < 3; s++) {
                assert_true(ts->samples[s]->value == 1024.0 * (double)(s + 1));
                /* ns -> ms, truncated, oldest first */
                assert_int_equal(ts->samples[s]->timestamp, 1700000000123LL + (int64_t)s * 10);
            }
        } else if (!strcmp(name, "pressmon_cpu_user_seconds_total")) {
            seen_cpu = 1;
            assert_true(ts->samples[2]->value == 1.0);
        } else if (!strcmp(name, "pressmon_kill_event_timestamp_seconds")) {
            seen_kill = 1;
            assert_string_equal(label_of(ts, "sender"), "kill, \"x\"");
            assert_string_equal(label_of(ts, "kind"), "signal");
            assert_int_equal(ts->samples[0]->timestamp, 1700000001000LL);
        }
    }
    assert_true(seen_mem && seen_cpu && seen_kill);
    prometheus__write_request__free_unpacked(req, NULL);

    /* Snappy block round trip of the compressed body. */
    struct pm_buf comp = {0};
    char err[256];
    assert_int_equal(pm_enc_remote_write(&b, &comp, err, sizeof err), 0);
    size_t ulen;
    assert_int_equal(snappy_uncompressed_length(comp.p, comp.len, &ulen), SNAPPY_OK);
    assert_int_equal(ulen, raw.len);
    char *u = malloc(ulen);
    assert_int_equal(snappy_uncompress(comp.p, comp.len, u, &ulen), SNAPPY_OK);
    assert_memory_equal(u, raw.p, raw.len);
    assert_true(comp.len < raw.len);
    free(u);
    pm_buf_free(&comp);
    pm_buf_free(&raw);
    pm_batch_free(&b);
}

/* ---- the hand-written protobuf against libprotobuf-c ------------------ */

static int oracle_lbl_cmp(const void *a, const void *b)
{
    return strcmp((*(Prometheus__Label *const *)a)->name, (*(Prometheus__Label *const *)b)->name);
}

/* The WriteRequest a batch stands for, built with libprotobuf-c's structs
 * and packed by libprotobuf-c: one series per catalog metric with samples,
 * in catalog order, then one per point; labels __name__, the batch's, the
 * point's, sorted by name; timestamps in ms, truncated. */
static void oracle_pack(const struct pm_batch *b, struct pm_buf *out)
{
    size_t nts = PM_SYS_N + b->npts, nsmp = pm_batch_samples(b) + 1;
    size_t nlbl = nts * (1 + PM_X_MAXLABELS + 4);
    Prometheus__TimeSeries *ts = calloc(nts, sizeof *ts), **tsp = calloc(nts, sizeof *tsp);
    Prometheus__Label *lbl = calloc(nlbl, sizeof *lbl), **lblp = calloc(nlbl, sizeof *lblp);
    Prometheus__Sample *smp = calloc(nsmp, sizeof *smp), **smpp = calloc(nsmp, sizeof *smpp);
    char (*names)[96] = calloc(nts, sizeof *names);
    assert_true(ts && tsp && lbl && lblp && smp && smpp && names);
    size_t its = 0, ilbl = 0, ismp = 0;
    for (size_t k = 0; k < PM_SYS_N + b->npts; k++) {
        const struct pm_xpoint *pt = k >= PM_SYS_N ? &b->pts[k - PM_SYS_N] : NULL;
        size_t first = ismp;
        if (pt) {
            prometheus__sample__init(&smp[ismp]);
            smp[ismp].value = pt->v;
            smp[ismp].timestamp = pt->ts_ns / 1000000;
            smpp[ismp] = &smp[ismp];
            ismp++;
        }
        for (size_t r = 0; !pt && r < b->nrows; r++) {
            if (!(b->present[r] & (1ull << k)))
                continue;
            prometheus__sample__init(&smp[ismp]);
            smp[ismp].value = b->val[r * PM_SYS_N + k];
            smp[ismp].timestamp = b->ts_ns[r] / 1000000;
            smpp[ismp] = &smp[ismp];
            ismp++;
        }
        if (ismp == first)
            continue;
        Prometheus__TimeSeries *t = &ts[its];
        prometheus__time_series__init(t);
        t->samples = &smpp[first];
        t->n_samples = ismp - first;
        snprintf(names[its], sizeof names[0], "pressmon_%s", pt ? pt->name : pm_sys_metrics[k].prom);
        t->labels = &lblp[ilbl];
        const char *ln[1 + PM_X_MAXLABELS + 4], *lv[1 + PM_X_MAXLABELS + 4];
        size_t n = 0;
        ln[n] = "__name__";
        lv[n++] = names[its];
        for (int i = 0; i < b->ncommon; i++) {
            ln[n] = b->common[i].name;
            lv[n++] = b->common[i].value;
        }
        for (int i = 0; pt && i < pt->nlabels; i++) {
            ln[n] = pt->labels[i].name;
            lv[n++] = pt->labels[i].value;
        }
        for (size_t i = 0; i < n; i++) {
            prometheus__label__init(&lbl[ilbl]);
            lbl[ilbl].name = (char *)ln[i];
            lbl[ilbl].value = (char *)lv[i];
            lblp[ilbl] = &lbl[ilbl];
            ilbl++;
        }
        t->n_labels = n;
        qsort(t->labels, n, sizeof *t->labels, oracle_lbl_cmp);
        tsp[its++] = t;
    }
    Prometheus__WriteRequest req = PROMETHEUS__WRITE_REQUEST__INIT;
    req.timeseries = tsp;
    req.n_timeseries = its;
    size_t len = prometheus__write_request__get_packed_size(&req);
    pm_buf_reset(out);
    uint8_t *p = pm_buf_append(out, len);
    assert_non_null(p);
    assert_int_equal(prometheus__write_request__pack(&req, p), len);
    free(ts), free(tsp), free(lbl), free(lblp), free(smp), free(smpp), free(names);
}

/* pressmon's bytes for b are libprotobuf-c's, and unpacking them with
 * libprotobuf-c and packing again gives them back. */
static void assert_same_as_protobuf_c(const struct pm_batch *b)
{
    struct pm_buf mine = {0}, want = {0};
    assert_int_equal(pm_enc_remote_write_raw(b, &mine), 0);
    oracle_pack(b, &want);
    assert_int_equal(mine.len, want.len);
    assert_memory_equal(mine.p, want.p, want.len);
    Prometheus__WriteRequest *req =
        prometheus__write_request__unpack(NULL, mine.len, (const uint8_t *)mine.p);
    assert_non_null(req);
    size_t len = prometheus__write_request__get_packed_size(req);
    assert_int_equal(len, mine.len);
    uint8_t *again = malloc(len ? len : 1);
    prometheus__write_request__pack(req, again);
    assert_memory_equal(again, mine.p, len);
    free(again);
    prometheus__write_request__free_unpacked(req, NULL);
    pm_buf_free(&mine);
    pm_buf_free(&want);
}

static void set_common(struct pm_batch *b, int i, const char *name, const char *value)
{
    snprintf(b->common[i].name, sizeof b->common[i].name, "%s", name);
    snprintf(b->common[i].value, sizeof b->common[i].value, "%s", value);
}

static double dbl_bits(uint64_t bits)
{
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static void test_remote_write_is_protobuf_c_bytes(void **state)
{
    struct pm_batch b;
    memset(&b, 0, sizeof b);
    assert_same_as_protobuf_c(&b); /* nothing at all: 0 bytes */

    /* Every label slot, given out of order; an empty value and an empty
     * name (both left out of the Label), and a 255-byte value (a 2-byte
     * length). */
    char longv[PM_X_VALUE_MAX];
    memset(longv, 'v', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    set_common(&b, 0, "zone", "z");
    set_common(&b, 1, "empty", "");
    set_common(&b, 2, "", "nameless");
    set_common(&b, 3, "long", longv);
    set_common(&b, 4, "job", "ci");
    set_common(&b, 5, "instance", NASTY);
    set_common(&b, 6, "a", "1");
    set_common(&b, 7, "run_id", "01ABC");
    b.ncommon = PM_X_MAXLABELS;

    /* Values protobuf-c leaves out (0, -0: it compares with == 0) or
     * writes as they are (NaN with its payload, infinities, subnormals),
     * and timestamps that are 0 ms (left out), negative (10-byte varints)
     * or at the ends of int64. */
    const double vals[] = {0.0, -0.0, NAN, -NAN, dbl_bits(0x7ff4000000000001ull), INFINITY,
                           -INFINITY, DBL_MIN, DBL_MAX, -DBL_MAX, 4.9e-324, -1.5, 1e300, 1.0};
    const int64_t tss[] = {0, -1, 999999, 1000000, -1000000, -999999999, 127000000, 128000000,
                           INT64_MIN, INT64_MAX, 1700000000123456789LL, -1700000000123456789LL};
    size_t nv = sizeof vals / sizeof vals[0], nt = sizeof tss / sizeof tss[0];
    for (size_t r = 0; r < nv * nt; r++) {
        long i = pm_batch_add_row(&b, tss[r % nt]);
        assert_true(i == (long)r);
        b.present[i] = (1ull << PM_M_MEM_AVAILABLE) | (1ull << PM_M_CPU_USER);
        b.val[(size_t)i * PM_SYS_N + PM_M_MEM_AVAILABLE] = vals[r % nv];
        b.val[(size_t)i * PM_SYS_N + PM_M_CPU_USER] = vals[(r / nt) % nv];
    }
    /* One series long enough for a 3-byte length (over 16 KiB). */
    for (size_t r = 0; r < 2000; r++) {
        long i = pm_batch_add_row(&b, 1700000000000000000LL + (int64_t)r * 10000000);
        b.present[i] = 1ull << PM_M_MEM_FREE;
        b.val[(size_t)i * PM_SYS_N + PM_M_MEM_FREE] = 1e9 + (double)r;
    }
    /* Points: all four of a point's labels (one empty), and a sample with
     * nothing in it (value 0 at time 0: an empty Sample message). */
    struct pm_xpoint *p = pm_batch_add_point(&b, "kill_event_timestamp_seconds", "gauge", NULL,
                                             -5000000, NAN);
    pm_xpoint_label(p, "kind", "signal");
    pm_xpoint_label(p, "sender", "kill, \"x\"");
    pm_xpoint_label(p, "comm", "sh");
    p->labels[p->nlabels].name[0] = 'e';
    p->labels[p->nlabels++].value[0] = '\0';
    p = pm_batch_add_point(&b, "run_exit_code", "gauge", NULL, 0, 0.0);
    pm_xpoint_label(p, "outcome", "pass");
    assert_same_as_protobuf_c(&b);

    /* A few exact bytes, from the wire format itself rather than either
     * encoder: the empty Sample and a -1 ms timestamp. */
    struct pm_buf raw = {0};
    assert_int_equal(pm_enc_remote_write_raw(&b, &raw), 0);
    const char *tail = raw.p + raw.len - 2;
    assert_memory_equal(tail, "\x12\x00", 2); /* last series, last field: samples, length 0 */
    static const char neg1[] = "\x12\x0b\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01";
    assert_non_null(memmem(raw.p, raw.len, neg1, sizeof neg1 - 1)); /* value 0, timestamp -1 ms */
    pm_buf_free(&raw);
    pm_batch_free(&b);
}

/* xorshift64*: the same pseudo-random batches on every run. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static void rnd_str(uint64_t *s, char *dst, size_t size)
{
    size_t n = rnd(s) % 4 == 0 ? 0 : rnd(s) % size;
    for (size_t i = 0; i < n; i++)
        dst[i] = (char)(1 + rnd(s) % 255); /* any byte but NUL */
    dst[n] = '\0';
}

static void test_remote_write_random_batches(void **state)
{
    static const char *const pool[] = {"job", "instance", "label", "run_id", "a", "zz", "le",
                                       "__x", "Upper", "k9", "quantile", "env"};
    const double special[] = {0.0, -0.0, NAN, INFINITY, -INFINITY, 1.0, -1.0, DBL_MIN};
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    struct pm_batch b;
    memset(&b, 0, sizeof b);
    for (int iter = 0; iter < 300; iter++) {
        pm_batch_clear(&b);
        b.ncommon = (int)(rnd(&seed) % (PM_X_MAXLABELS + 1));
        for (int i = 0; i < b.ncommon; i++) { /* distinct names, as the encoder's callers give */
            snprintf(b.common[i].name, sizeof b.common[i].name, "%s", pool[i]);
            rnd_str(&seed, b.common[i].value, rnd(&seed) % 2 ? 8 : sizeof b.common[i].value);
        }
        size_t nrows = rnd(&seed) % 40;
        for (size_t r = 0; r < nrows; r++) {
            long i = pm_batch_add_row(&b, (int64_t)rnd(&seed) >> (rnd(&seed) % 64));
            b.present[i] = rnd(&seed) & rnd(&seed);
            for (int m = 0; m < PM_SYS_N; m++) {
                uint64_t k = rnd(&seed);
                b.val[(size_t)i * PM_SYS_N + (size_t)m] =
                    k % 3 == 0 ? special[k / 3 % 8] : k % 3 == 1 ? dbl_bits(rnd(&seed)) : (double)(k % 1000);
            }
        }
        size_t npts = rnd(&seed) % 4;
        for (size_t i = 0; i < npts; i++) {
            struct pm_xpoint *p = pm_batch_add_point(&b, "point", "gauge", NULL,
                                                     (int64_t)rnd(&seed), dbl_bits(rnd(&seed)));
            p->nlabels = (int)(rnd(&seed) % 5);
            for (int l = 0; l < p->nlabels; l++) {
                snprintf(p->labels[l].name, sizeof p->labels[l].name, "p%d", l);
                rnd_str(&seed, p->labels[l].value, sizeof p->labels[l].value);
            }
        }
        assert_same_as_protobuf_c(&b);
    }
    pm_batch_free(&b);
}

static void test_influx_line_and_escaping(void **state)
{
    struct pm_batch b;
    make_batch(&b);
    struct pm_buf out = {0};
    assert_int_equal(pm_enc_influx(&b, &out), 0);
    const char *want_head =
        "pressmon,instance=host-1,job=ci,label=a\\ \"quoted\"\\,\\ b\\=c\\ d\\ next\\ line\\ "
        "\xc3\xbc\xe2\x9c\x93\\ \\x,run_id=01ABC ";
    assert_memory_equal(out.p, want_head, strlen(want_head));
    /* Fields in catalog order, floats always (no "i" suffix), ns timestamps. */
    const char *line0 = strstr(out.p, "memory_available_bytes=1024,cpu_user_seconds_total=0 "
                                      "1700000000123456789\n");
    assert_non_null(line0);
    assert_non_null(strstr(out.p, "cpu_user_seconds_total=0.5 1700000000133456789\n"));
    /* The point: its own tags sorted in with the common ones. */
    assert_non_null(strstr(out.p, ",kind=signal,label="));
    assert_non_null(strstr(out.p, "run_id=01ABC,sender=kill\\,\\ \"x\" "
                                  "kill_event_timestamp_seconds=1700000001 1700000001000000000\n"));
    /* Exactly 4 lines, no raw newline inside a line. */
    int lines = 0;
    for (size_t i = 0; i < out.len; i++)
        lines += out.p[i] == '\n';
    assert_int_equal(lines, 4);
    /* A trailing backslash must not escape the separator after it. */
    pm_buf_reset(&out);
    pm_influx_escape(&out, "end\\", 0);
    assert_string_equal(out.p, "end\\\\");
    pm_buf_reset(&out);
    pm_influx_escape(&out, "m,x y=z", 1);
    assert_string_equal(out.p, "m\\,x\\ y=z"); /* '=' is fine in a measurement */
    pm_buf_free(&out);
    pm_batch_free(&b);
}

static void test_prom_text_escaping(void **state)
{
    struct pm_buf out = {0};
    pm_prom_escape(&out, NASTY);
    assert_string_equal(out.p, "a \\\"quoted\\\", b=c d\\nnext line \xc3\xbc\xe2\x9c\x93 \\\\x");
    pm_buf_free(&out);

    struct pm_batch b;
    make_batch(&b);
    struct pm_xpoint *p = pm_batch_add_point(&b, "run_info", "gauge", "One per run", 1, 1);
    pm_xpoint_label(p, "outcome", "fail");
    p = pm_batch_add_point(&b, "run_kills", "gauge", NULL, 1, 2);
    pm_xpoint_label(p, "outcome", "fail");
    struct pm_buf pg = {0};
    assert_int_equal(pm_enc_pushgateway(&b, &pg, 1), 0);
    assert_non_null(strstr(pg.p, "# HELP pressmon_run_info One per run\n"
                                 "# TYPE pressmon_run_info gauge\n"
                                 "pressmon_run_info{outcome=\"fail\"} 1\n"));
    assert_non_null(strstr(pg.p, "pressmon_run_kills{outcome=\"fail\"} 2\n"));
    /* No timestamps for the Pushgateway, and no grouping labels in the body. */
    assert_null(strstr(pg.p, "run_id="));
    assert_null(strstr(pg.p, "1700000001000")); /* a ms timestamp */
    assert_non_null(strstr(pg.p, "} 1700000001\n"));
    /* With common labels: sorted, escaped. */
    assert_int_equal(pm_enc_pushgateway(&b, &pg, 0), 0);
    assert_non_null(strstr(pg.p, "pressmon_kill_event_timestamp_seconds{instance=\"host-1\",job=\"ci\","
                                 "kind=\"signal\",label=\"a \\\"quoted\\\", b=c d\\nnext line "));
    pm_buf_free(&pg);
    pm_batch_free(&b);
}

static void test_label_value_sanitized(void **state)
{
    char out[64];
    pm_x_label_value(out, sizeof out, "ok \xff bad \xc3 end");
    assert_string_equal(out, "ok ? bad ? end");
    pm_x_label_value(out, sizeof out, "\xed\xa0\x80"); /* a UTF-16 surrogate is not UTF-8 */
    assert_string_equal(out, "???");
    pm_x_label_value(out, 5, "ab\xe2\x9c\x93"); /* never cut inside a character */
    assert_string_equal(out, "ab");
    pm_x_label_value(out, sizeof out, NULL);
    assert_string_equal(out, "");
}

static void test_counters_cumulative(void **state)
{
    struct pm_cumul c;
    int64_t stored[PM_SYS_N] = {0};
    double v[PM_SYS_N];
    uint64_t pr;
    uint64_t cpu = 1ull << PM_M_CPU_USER, mem = 1ull << PM_M_MEM_AVAILABLE;
    /* First sample: counter NULL (no delta yet), gauge 2 KiB. */
    stored[PM_M_MEM_AVAILABLE] = 2;
    pm_cumul_row(&c, mem, stored, v, &pr, 1);
    assert_int_equal(pr, mem);
    assert_true(v[PM_M_MEM_AVAILABLE] == 2048.0);
    stored[PM_M_CPU_USER] = 250000; /* µs */
    pm_cumul_row(&c, mem | cpu, stored, v, &pr, 0);
    assert_true(v[PM_M_CPU_USER] == 0.25);
    pm_cumul_row(&c, mem | cpu, stored, v, &pr, 0);
    assert_true(v[PM_M_CPU_USER] == 0.5);
    pm_cumul_row(&c, mem, stored, v, &pr, 0); /* absent: not sent, total kept */
    assert_int_equal(pr, mem);
    pm_cumul_row(&c, mem | cpu, stored, v, &pr, 0);
    assert_true(v[PM_M_CPU_USER] == 0.75);

    /* Two rows in one millisecond: the second is not sent, but its counter
     * delta is in the next row's total. */
    assert_int_equal(pm_cumul_keep(&c, 5000000000LL, 1), 1);
    assert_int_equal(pm_cumul_keep(&c, 5010000000LL, 0), 1);
    pm_cumul_row(&c, mem | cpu, stored, v, &pr, 0);
    assert_int_equal(pm_cumul_keep(&c, 5010900000LL, 0), 0);
    pm_cumul_row(&c, mem | cpu, stored, v, &pr, 0);
    assert_int_equal(pm_cumul_keep(&c, 5020000000LL, 0), 1);
    assert_true(v[PM_M_CPU_USER] == 1.25);
}

static void test_proto_inference(void **state)
{
    assert_int_equal(pm_proto_infer("https://prometheus-prod-01.grafana.net/api/prom/push"),
                     PM_PROTO_REMOTE_WRITE);
    assert_int_equal(pm_proto_infer("http://127.0.0.1:9090/api/v1/write"), PM_PROTO_REMOTE_WRITE);
    assert_int_equal(pm_proto_infer("http://mimir/api/v1/push/"), PM_PROTO_REMOTE_WRITE);
    assert_int_equal(pm_proto_infer("http://127.0.0.1:8428/write"), PM_PROTO_INFLUX);
    assert_int_equal(pm_proto_infer("http://127.0.0.1:8086/write?db=x&precision=ns"), PM_PROTO_INFLUX);
    assert_int_equal(pm_proto_infer("https://x.grafana.net/api/v1/push/influx/write"), PM_PROTO_INFLUX);
    assert_int_equal(pm_proto_infer("http://127.0.0.1:9091/metrics/job/ci"), PM_PROTO_PUSHGATEWAY);
    assert_int_equal(pm_proto_infer("http://127.0.0.1:9091"), PM_PROTO_AUTO);
    assert_int_equal(pm_proto_infer("http://127.0.0.1:9091/?x=/write"), PM_PROTO_AUTO);
    enum pm_proto p;
    assert_int_equal(pm_proto_parse("influx", &p), 0);
    assert_int_equal(p, PM_PROTO_INFLUX);
    assert_int_equal(pm_proto_parse("carrier-pigeon", &p), -1);
}

static void test_push_request_shapes(void **state)
{
    struct pm_batch b;
    make_batch(&b);
    struct pm_buf body = {0}, url = {0};
    const char *h[6];
    char err[128];
    assert_int_equal(pm_push_encode(PM_PROTO_PUSHGATEWAY, "http://h:9091/", &b, 0, &body, h, &url,
                                    err, sizeof err), 0);
    /* job first; values that are not plain go base64url (label@base64). */
    assert_string_equal(url.p, "http://h:9091/metrics/job/ci/instance/host-1/label@base64/"
                               "YSAicXVvdGVkIiwgYj1jIGQKbmV4dCBsaW5lIMO84pyTIFx4/run_id/01ABC");
    /* A URL with its own job (and instance) keeps them; the rest is added. */
    assert_int_equal(pm_push_encode(PM_PROTO_PUSHGATEWAY, "http://h:9091/metrics/job/nightly/instance/ci1",
                                    &b, 0, &body, h, &url, err, sizeof err), 0);
    assert_string_equal(url.p, "http://h:9091/metrics/job/nightly/instance/ci1/label@base64/"
                               "YSAicXVvdGVkIiwgYj1jIGQKbmV4dCBsaW5lIMO84pyTIFx4/run_id/01ABC");
    assert_int_equal(pm_push_encode(PM_PROTO_INFLUX, "http://h:8086/write?db=p", &b, 1, &body, h,
                                    &url, err, sizeof err), 0);
    assert_string_equal(url.p, "http://h:8086/write?db=p&precision=ns");
    assert_string_equal(h[0], "Content-Encoding: gzip");
    /* gzip round trip */
    struct pm_buf text = {0};
    pm_enc_influx(&b, &text);
    char *plain = malloc(text.len + 1);
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)body.p;
    z.avail_in = (uInt)body.len;
    z.next_out = (Bytef *)plain;
    z.avail_out = (uInt)text.len + 1;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.total_out, text.len);
    assert_memory_equal(plain, text.p, text.len);
    inflateEnd(&z);
    free(plain);
    assert_int_equal(pm_push_encode(PM_PROTO_REMOTE_WRITE, "http://h/api/v1/write", &b, 1, &body,
                                    h, &url, err, sizeof err), 0);
    assert_string_equal(h[0], "Content-Type: application/x-protobuf");
    assert_string_equal(h[1], "Content-Encoding: snappy");
    assert_string_equal(h[2], "X-Prometheus-Remote-Write-Version: 0.1.0");
    assert_null(h[3]);
    pm_buf_free(&text);
    pm_buf_free(&body);
    pm_buf_free(&url);
    pm_batch_free(&b);
}

static void test_url_checks(void **state)
{
    char err[256], safe[128];
    assert_int_equal(pm_url_check("https://123:glc_x@host/api/prom/push", err, sizeof err), -1);
    assert_non_null(strstr(err, "PRESSMON_PUSH_USER"));
    assert_null(strstr(err, "glc_x"));
    assert_int_equal(pm_url_check("ftp://host/x", err, sizeof err), -1);
    assert_int_equal(pm_url_check("http://host:1/a@b", err, sizeof err), 0); /* '@' in the path */
    pm_url_safe("http://h/write?db=x&p=secret", safe, sizeof safe);
    assert_string_equal(safe, "http://h/write");
}

static void test_double_format(void **state)
{
    struct pm_buf b = {0};
    pm_buf_double(&b, 4294967296.0);
    pm_buf_puts(&b, " ");
    pm_buf_double(&b, 0.1);
    pm_buf_puts(&b, " ");
    pm_buf_double(&b, 1.0 / 3.0);
    pm_buf_puts(&b, " ");
    pm_buf_double(&b, -2.5e-7);
    assert_string_equal(b.p, "4294967296 0.1 0.3333333333333333 -2.5e-07");
    pm_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_remote_write_decodes_back),
        cmocka_unit_test(test_remote_write_is_protobuf_c_bytes),
        cmocka_unit_test(test_remote_write_random_batches),
        cmocka_unit_test(test_influx_line_and_escaping),
        cmocka_unit_test(test_prom_text_escaping),
        cmocka_unit_test(test_label_value_sanitized),
        cmocka_unit_test(test_counters_cumulative),
        cmocka_unit_test(test_proto_inference),
        cmocka_unit_test(test_push_request_shapes),
        cmocka_unit_test(test_url_checks),
        cmocka_unit_test(test_double_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
