/*
 * Unit tests of the export encoders (exporters/): remote write protobuf
 * decoded back with libprotobuf-c, the snappy and gzip round trips, label
 * escaping in Influx line protocol and the Prometheus text format, label
 * value sanitizing, counter accumulation, protocol inference and the
 * Pushgateway grouping key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <snappy-c.h>
#include <zlib.h>

#include "exporters/export.h"
#include "exporters/push.h"
#include "exporters/remote_write.pb-c.h"

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
    assert_int_equal(pm_enc_remote_write(&b, &comp), 0);
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
