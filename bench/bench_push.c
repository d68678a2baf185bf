/*
 * Push benchmarks and the synthetic runs the push tests use
 * (docs/BENCHMARKS.md "## push", tests/e2e/).
 *
 *   bench_push gen DB SECONDS HZ [LABEL [EXIT]]
 *       write a synthetic run through the store API (every catalog metric,
 *       gauges that move, counters that grow, one SIGKILL event mid-run);
 *       prints its uid.  Values are a pure function of the sample index,
 *       so the tests can compare what servers return with SQLite.
 *   bench_push throughput DB RUN_UID URL
 *       push the run with pm_push_run and print samples/s.
 *   bench_push live URL SECONDS HZ
 *       offer samples at HZ to the live pusher for SECONDS and print the
 *       CPU this process used (the cost `record --push` adds); URL "none"
 *       runs the same loop without pushing, as the baseline.
 *   bench_push encode ITERS
 *       CPU per value of the remote-write protobuf (pm_enc_remote_write_raw,
 *       before snappy) for a request of push's default size, every metric
 *       present: the best of 5 rounds of ITERS encodings.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../exporters/live.h"
#include "../exporters/push.h"
#include "../sampler/platform.h"
#include "../schema/store.h"

static void synth(struct pm_sys_rec *r, long i, int64_t t_ns)
{
    memset(r, 0, sizeof *r);
    r->t_ns = t_ns;
    for (int m = 0; m < PM_SYS_N; m++) {
        const struct pm_metric *mt = &pm_sys_metrics[m];
        if (mt->kind == PM_COUNTER) {
            if (i == 0)
                continue; /* first sample: counters have no delta yet */
            r->v[m] = (i * (m + 3)) % 17 + m;
        } else {
            r->v[m] = 1000 * (m + 1) + (int64_t)(500.0 * sin((double)i / 50.0 + m));
        }
        r->present |= 1ull << m;
    }
}

static int cmd_gen(const char *db, double seconds, double hz, const char *label, int exit_code)
{
    char err[512];
    struct pm_store *st = pm_store_open(db, PM_STORE_WRITE, err, sizeof err);
    if (!st) {
        fprintf(stderr, "bench_push: %s\n", err);
        return 1;
    }
    struct pm_host host;
    pm_host_info(&host);
    int64_t interval = (int64_t)(1e9 / hz);
    int64_t now = pm_wall_ns();
    long n = (long)(seconds * hz);
    /* The run ends now: its samples are in the recent past, as after a CI job. */
    int64_t started = now - n * interval - 1000000000LL;
    struct pm_run_info ri;
    memset(&ri, 0, sizeof ri);
    pm_run_uid(ri.uid, started);
    ri.label = label && *label ? label : NULL;
    char *argv[] = {(char *)"synthetic", NULL};
    ri.argv = argv;
    ri.argc = 1;
    ri.cwd = "/";
    ri.started_at = started;
    ri.interval_ns = interval;
    ri.proc_interval_ns = interval * 4;
    ri.host = &host;
    ri.recorder_pid = getpid();
    int64_t run = pm_store_run_begin(st, &ri);
    if (run < 0) {
        fprintf(stderr, "bench_push: %s\n", pm_store_errmsg(st));
        return 1;
    }
    pm_store_begin(st);
    for (long i = 0; i < n; i++) {
        struct pm_sys_rec r;
        synth(&r, i, i * interval);
        if (pm_store_put_sys(st, run, &r) < 0) {
            fprintf(stderr, "bench_push: %s\n", pm_store_errmsg(st));
            return 1;
        }
        if (i == n / 3) {
            /* A late tick followed closely by the next one: two samples in
             * one millisecond, which export must not turn into two values
             * for one ms timestamp. */
            int64_t wall = started + i * interval;
            int64_t extra = i * interval + (999999 - wall % 1000000) / 2 + 1;
            synth(&r, i + 1, extra);
            if (pm_store_put_sys(st, run, &r) < 0) {
                fprintf(stderr, "bench_push: %s\n", pm_store_errmsg(st));
                return 1;
            }
        }
        if (i % 20000 == 19999) {
            pm_store_commit(st);
            pm_store_begin(st);
        }
    }
    struct pm_event_rec ev;
    memset(&ev, 0, sizeof ev);
    ev.t_ns = (n / 2) * interval + 3000000;
    ev.kind = PM_EV_SIGNAL;
    ev.pid = 4242;
    ev.signal = 9;
    ev.sender_pid = 77;
    pm_strlcpy(ev.sender_comm, "kill \"er\", a=b", sizeof ev.sender_comm);
    pm_strlcpy(ev.detail, "synthetic kill", sizeof ev.detail);
    pm_store_put_event(st, run, &ev);
    pm_store_commit(st);
    struct pm_run_end re;
    memset(&re, 0, sizeof re);
    re.duration_ns = n * interval;
    re.ended_at = started + re.duration_ns;
    re.has_status = 1;
    re.exit_code = exit_code;
    re.samples = n;
    if (pm_store_run_end(st, run, &re) < 0) {
        fprintf(stderr, "bench_push: %s\n", pm_store_errmsg(st));
        return 1;
    }
    printf("%s\n", ri.uid);
    pm_store_close(st);
    return 0;
}

static int cmd_throughput(const char *db, const char *uid, const char *url)
{
    char err[1024];
    struct pm_store *st = pm_store_open(db, PM_STORE_READ, err, sizeof err);
    if (!st) {
        fprintf(stderr, "bench_push: %s\n", err);
        return 1;
    }
    sqlite3_stmt *q;
    sqlite3_prepare_v2(pm_store_db(st), "SELECT id FROM runs WHERE uid = ?", -1, &q, NULL);
    sqlite3_bind_text(q, 1, uid, -1, SQLITE_STATIC);
    int64_t run = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
    sqlite3_finalize(q);
    struct pm_push_opts o;
    memset(&o, 0, sizeof o);
    struct pm_push_stats s;
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    if (run < 0 || pm_push_run(pm_store_db(st), run, url, &o, &s, err, sizeof err) < 0) {
        fprintf(stderr, "bench_push: %s\n", run < 0 ? "no such run" : err);
        return 1;
    }
    getrusage(RUSAGE_SELF, &r1);
    double cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
                 (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6;
    printf("samples=%llu requests=%llu bytes=%llu seconds=%.3f samples_per_s=%.0f "
           "bytes_per_sample=%.2f pressmon_cpu_s=%.3f\n",
           (unsigned long long)s.samples, (unsigned long long)s.requests,
           (unsigned long long)s.bytes, s.seconds, (double)s.samples / s.seconds,
           (double)s.bytes / (double)s.samples, cpu);
    pm_store_close(st);
    return 0;
}

static double cpu_now(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
           (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

static int cmd_live(const char *url, double seconds, double hz)
{
    char err[512];
    struct pm_live_opts o;
    memset(&o, 0, sizeof o);
    o.run_id = "BENCHLIVE";
    o.instance = "bench";
    o.started_at = pm_wall_ns();
    int64_t interval = (int64_t)(1e9 / hz);
    long n = (long)(seconds * hz);
    double c0 = cpu_now();
    /* url "none": the same loop without pushing, to subtract its own cost. */
    struct pm_live *lv = strcmp(url, "none") ? pm_live_start(url, &o, err, sizeof err) : NULL;
    if (!lv && strcmp(url, "none")) {
        fprintf(stderr, "bench_push: %s\n", err);
        return 1;
    }
    int64_t t0 = pm_mono_ns();
    for (long i = 0; i < n; i++) {
        struct pm_sys_rec r;
        synth(&r, i, i * interval);
        int64_t due = t0 + i * interval;
        int64_t now;
        while ((now = pm_mono_ns()) < due) {
            struct timespec ts = {0, (long)(due - now)};
            nanosleep(&ts, NULL);
        }
        pm_live_offer_sys(lv, &r);
    }
    uint64_t dropped;
    pm_live_finish(lv, &dropped);
    double cpu = cpu_now() - c0;
    printf("live: %ld samples at %.0f Hz over %.1f s, dropped %llu, cpu %.3f s = %.2f%% of one "
           "core (includes the offering loop)\n",
           n, hz, seconds, (unsigned long long)dropped, cpu, 100.0 * cpu / seconds);
    return 0;
}

static int cmd_encode(long iters)
{
    struct pm_batch b;
    memset(&b, 0, sizeof b);
    struct pm_xident id = {.instance = "bench", .label = "nightly", .run_id = "01M8SRD3JN2CQRVZ"};
    pm_batch_labels(&b, &id);
    struct pm_cumul c;
    memset(&c, 0, sizeof c);
    for (long i = 0; i < 10000 / PM_SYS_N; i++) { /* pm_push_run's rows per request */
        struct pm_sys_rec r;
        synth(&r, i, i * 10000000);
        long row = pm_batch_add_row(&b, 1700000000000000000LL + r.t_ns);
        if (row < 0)
            return 1;
        pm_cumul_row(&c, r.present, r.v, &b.val[(size_t)row * PM_SYS_N], &b.present[row], i == 0);
    }
    struct pm_buf out = {0};
    double best = 0;
    for (int round = 0; round < 5; round++) {
        double c0 = cpu_now();
        for (long k = 0; k < iters; k++)
            if (pm_enc_remote_write_raw(&b, &out) < 0)
                return 1;
        double per = (cpu_now() - c0) / (double)iters / (double)pm_batch_samples(&b);
        if (round == 0 || per < best)
            best = per;
    }
    printf("encode: %zu values, %zu bytes of protobuf per request; best of 5 x %ld: %.1f ns CPU "
           "per value\n", pm_batch_samples(&b), out.len, iters, best * 1e9);
    pm_buf_free(&out);
    pm_batch_free(&b);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && !strcmp(argv[1], "gen"))
        return cmd_gen(argv[2], atof(argv[3]), atof(argv[4]), argc > 5 ? argv[5] : NULL,
                       argc > 6 ? atoi(argv[6]) : 0);
    if (argc == 5 && !strcmp(argv[1], "throughput"))
        return cmd_throughput(argv[2], argv[3], argv[4]);
    if (argc == 5 && !strcmp(argv[1], "live"))
        return cmd_live(argv[2], atof(argv[3]), atof(argv[4]));
    if (argc == 3 && !strcmp(argv[1], "encode"))
        return cmd_encode(atol(argv[2]));
    fprintf(stderr, "usage: bench_push gen DB SECONDS HZ [LABEL [EXIT]] | throughput DB UID URL | "
                    "live URL SECONDS HZ | encode ITERS\n");
    return 2;
}
