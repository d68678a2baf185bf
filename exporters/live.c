/*
 * Live push thread (live.h).  One mutex guards a fixed ring of converted
 * samples; the writer thread holds it only for a memcpy, the push thread
 * only to move a batch out, never across a network call.
 */
#include "live.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "snappy_dl.h"

struct live_row {
    int64_t ts_ns;
    uint64_t present;
    double v[PM_SYS_N];
};

#define LIVE_MAX_POINTS 256

struct pm_live {
    char *url;
    char safe_url[512];
    enum pm_proto proto;
    struct pm_live_opts o;
    char run_id[32];
    struct pm_xrun run; /* for the summary */
    int has_end;
    sqlite3 *end_db; /* pm_live_end.db */
    int64_t end_run_id;

    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct live_row *q;
    size_t cap, head, count; /* ring: oldest at head */
    struct pm_xpoint pts[LIVE_MAX_POINTS];
    size_t npts;
    int64_t last_kill_ts;       /* writer thread: the last kill point's time (ns) */
    int stopping;
    int64_t deadline; /* set with stopping: no sending after it */

    /* writer side only */
    struct pm_cumul cumul;
    int first;

    /* statistics (under mu) */
    uint64_t offered, sent, dropped;
    int warned;

    struct pm_http *http;
    struct pm_batch batch; /* push thread only */
};

static void *live_main(void *arg);

static int64_t now_mono(void)
{
    return pm_http_mono_ns();
}

struct pm_live *pm_live_start(const char *url, const struct pm_live_opts *o, char *err, size_t n)
{
    enum pm_proto proto = o->proto ? o->proto : pm_proto_infer(url);
    if (proto == PM_PROTO_AUTO) {
        snprintf(err, n, "cannot tell the push protocol from %s: add --protocol remote-write, "
                         "influx or pushgateway", url);
        return NULL;
    }
    if (pm_url_check(url, err, n) < 0)
        return NULL;
    /* Remote write needs libsnappy: without it there is no live push, and
     * the caller says so once instead of failing every request. */
    if (proto == PM_PROTO_REMOTE_WRITE && !pm_snappy_load(err, n))
        return NULL;
    struct pm_live *lv = calloc(1, sizeof *lv);
    if (!lv) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    lv->o = *o;
    lv->proto = proto;
    lv->first = 1;
    lv->url = strdup(url);
    pm_url_safe(url, lv->safe_url, sizeof lv->safe_url);
    if (!lv->o.queue_len)
        lv->o.queue_len = 6000;
    if (!lv->o.flush_interval_ns)
        lv->o.flush_interval_ns = 1000000000;
    if (!lv->o.finish_timeout_ns)
        lv->o.finish_timeout_ns = 5000000000LL;
    struct pm_http_opts ho = o->http;
    if (!ho.connect_timeout_ms)
        ho.connect_timeout_ms = 2000;
    if (!ho.timeout_ms)
        ho.timeout_ms = 5000;
    if (!ho.max_attempts)
        ho.max_attempts = 3;
    lv->q = calloc(lv->o.queue_len, sizeof *lv->q);
    lv->cap = lv->o.queue_len;
    lv->http = pm_http_new(&ho, err, n);
    if (!lv->url || !lv->q || !lv->http) {
        if (lv->http || !lv->url || !lv->q)
            snprintf(err, n, "out of memory");
        pm_http_free(lv->http);
        free(lv->q);
        free(lv->url);
        free(lv);
        return NULL;
    }
    /* Identity of the series: exactly what `pressmon push` would send. */
    pm_strlcpy(lv->run.uid, o->run_id ? o->run_id : "", sizeof lv->run.uid);
    pm_strlcpy(lv->run.label, o->label ? o->label : "", sizeof lv->run.label);
    lv->run.started_at = o->started_at;
    struct pm_xident id = {
        .job = o->job,
        .instance = o->instance,
        .label = o->label,
        .run_id = o->no_run_id ? NULL : o->run_id,
    };
    pm_batch_labels(&lv->batch, &id);
    pthread_mutex_init(&lv->mu, NULL);
    pthread_cond_init(&lv->cv, NULL);
    if (pthread_create(&lv->thread, NULL, live_main, lv) != 0) {
        snprintf(err, n, "cannot start the live push thread");
        pthread_mutex_destroy(&lv->mu);
        pthread_cond_destroy(&lv->cv);
        pm_batch_free(&lv->batch);
        pm_http_free(lv->http);
        free(lv->q);
        free(lv->url);
        free(lv);
        return NULL;
    }
    return lv;
}

void pm_live_offer_sys(struct pm_live *lv, const struct pm_sys_rec *r)
{
    if (!lv)
        return;
    struct live_row row;
    row.ts_ns = lv->o.started_at + r->t_ns;
    pm_cumul_row(&lv->cumul, r->present, r->v, row.v, &row.present, lv->first);
    int keep = pm_cumul_keep(&lv->cumul, row.ts_ns, lv->first);
    lv->first = 0;
    if (!keep)
        return;
    if (lv->proto == PM_PROTO_PUSHGATEWAY)
        return; /* the Pushgateway takes no timestamps: summary only */
    pthread_mutex_lock(&lv->mu);
    lv->offered++;
    if (lv->count == lv->cap) {
        lv->dropped++;
    } else {
        lv->q[(lv->head + lv->count) % lv->cap] = row;
        lv->count++;
    }
    pthread_mutex_unlock(&lv->mu);
}

void pm_live_offer_event(struct pm_live *lv, const struct pm_event_rec *e, const char *target_comm)
{
    if (!lv || !pm_event_is_kill(e->kind))
        return;
    /* The point pm_src_kill_points makes of this event for `pressmon push`
     * and export, name, labels, timestamp and value alike, so that pushing
     * the run again later makes one sample, not two: two kills in one
     * millisecond nudge the later one a millisecond on, in the order they
     * are stored. */
    int64_t ts = lv->o.started_at + e->t_ns;
    if (ts / 1000000 <= lv->last_kill_ts / 1000000)
        ts = (lv->last_kill_ts / 1000000 + 1) * 1000000;
    lv->last_kill_ts = ts;
    struct pm_xpoint p;
    memset(&p, 0, sizeof p);
    pm_strlcpy(p.name, "kill_event_timestamp_seconds", sizeof p.name);
    p.type = "gauge";
    p.ts_ns = ts;
    p.v = (double)(ts / 1000000) / 1000.0;
    char sig[16] = "";
    if (e->signal > 0)
        pm_x_signame(e->signal, sig, sizeof sig);
    pm_xpoint_label(&p, "kind", pm_event_kind_name((enum pm_event_kind)e->kind));
    pm_xpoint_label(&p, "signal", sig);
    pm_xpoint_label(&p, "sender", e->sender_comm);
    pm_xpoint_label(&p, "target", target_comm ? target_comm : "");
    pthread_mutex_lock(&lv->mu);
    lv->run.kills++;
    if (lv->proto != PM_PROTO_PUSHGATEWAY) {
        if (lv->npts < LIVE_MAX_POINTS)
            lv->pts[lv->npts++] = p;
        else
            lv->dropped++;
    }
    pthread_mutex_unlock(&lv->mu);
}

void pm_live_set_end(struct pm_live *lv, const struct pm_live_end *end)
{
    if (!lv)
        return;
    pthread_mutex_lock(&lv->mu);
    lv->has_end = 1;
    lv->end_db = end->db;
    lv->end_run_id = end->run_id;
    lv->run.has_exit = end->has_exit;
    lv->run.exit_code = end->exit_code;
    lv->run.signal = end->signal;
    lv->run.duration_ns = end->duration_ns;
    lv->run.ended_at = lv->o.started_at + end->duration_ns;
    lv->run.samples = end->samples;
    lv->run.missed_ticks = end->missed_ticks;
    if (end->has_exit)
        pm_strlcpy(lv->run.outcome, end->exit_code == 0 && end->signal == 0 ? "pass" : "fail",
                   sizeof lv->run.outcome);
    pthread_mutex_unlock(&lv->mu);
}

static void say_once(struct pm_live *lv, const char *msg)
{
    if (lv->warned || lv->o.quiet)
        return;
    lv->warned = 1;
    fprintf(stderr,
            "pressmon: live push to %s failed: %s; recording goes on and keeps every sample: "
            "re-send with 'pressmon push %s --to URL'\n",
            lv->safe_url, msg, lv->run.uid[0] ? lv->run.uid : "RUN");
}

/* Send what is in lv->batch; count it as sent or dropped. */
static void send_batch(struct pm_live *lv, size_t nsamples)
{
    struct pm_buf body = {0}, final_url = {0};
    const char *headers[6];
    char msg[768];
    int ok = 0;
    for (int attempt = 0; attempt < 2 && !ok; attempt++) {
        if (pm_push_encode(lv->proto, lv->url, &lv->batch, !lv->o.no_gzip, &body, headers,
                           &final_url, msg, sizeof msg) < 0)
            break;
        const char *method = lv->proto == PM_PROTO_PUSHGATEWAY ? "PUT" : "POST";
        enum pm_http_result r = pm_http_send(lv->http, method, final_url.p, headers,
                                             body.p ? body.p : "", body.len, msg, sizeof msg);
        ok = r == PM_HTTP_OK;
        /* An Influx server that does not take gzip: plain from now on. */
        if (r != PM_HTTP_PERMANENT || lv->proto != PM_PROTO_INFLUX || lv->o.no_gzip ||
            !strstr(msg, "HTTP 415"))
            break;
        lv->o.no_gzip = 1;
    }
    pm_buf_free(&body);
    pm_buf_free(&final_url);
    pthread_mutex_lock(&lv->mu);
    if (ok)
        lv->sent += nsamples;
    else
        lv->dropped += nsamples;
    if (!ok)
        say_once(lv, msg);
    pthread_mutex_unlock(&lv->mu);
}

static void *live_main(void *arg)
{
    struct pm_live *lv = arg;
    size_t per_req = 10000 / PM_SYS_N;
    for (;;) {
        pthread_mutex_lock(&lv->mu);
        if (!lv->stopping && lv->count < per_req) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t ns = ts.tv_nsec + lv->o.flush_interval_ns;
            ts.tv_sec += ns / 1000000000;
            ts.tv_nsec = ns % 1000000000;
            pthread_cond_timedwait(&lv->cv, &lv->mu, &ts);
        }
        int stopping = lv->stopping;
        if (stopping && now_mono() > lv->deadline) {
            pthread_mutex_unlock(&lv->mu);
            break; /* what is left is counted as dropped by pm_live_finish */
        }
        pm_batch_clear(&lv->batch);
        size_t take = lv->count < per_req ? lv->count : per_req;
        for (size_t i = 0; i < take; i++) {
            const struct live_row *r = &lv->q[(lv->head + i) % lv->cap];
            long row = pm_batch_add_row(&lv->batch, r->ts_ns);
            if (row < 0)
                break;
            memcpy(&lv->batch.val[(size_t)row * PM_SYS_N], r->v, sizeof r->v);
            lv->batch.present[row] = r->present;
        }
        lv->head = (lv->head + take) % lv->cap;
        lv->count -= take;
        for (size_t i = 0; i < lv->npts; i++) {
            struct pm_xpoint *p = pm_batch_add_point(&lv->batch, lv->pts[i].name, lv->pts[i].type,
                                                     NULL, lv->pts[i].ts_ns, lv->pts[i].v);
            if (p) {
                memcpy(p->labels, lv->pts[i].labels, sizeof p->labels);
                p->nlabels = lv->pts[i].nlabels;
            }
        }
        size_t npts = lv->npts;
        lv->npts = 0;
        int empty = lv->count == 0 && lv->npts == 0;
        pthread_mutex_unlock(&lv->mu);

        size_t nsamples = pm_batch_samples(&lv->batch);
        if (nsamples)
            send_batch(lv, take + npts);
        if (stopping && empty)
            break;
    }
    /* The end-of-run summary, with the outcome, when the caller gave one.
     * The kills went out as they were stored (pm_live_offer_event); one
     * that could not be sent is counted as dropped, like a sample, for
     * `pressmon push` to send again. */
    pthread_mutex_lock(&lv->mu);
    int has_end = lv->has_end;
    pthread_mutex_unlock(&lv->mu);
    if (has_end && now_mono() <= lv->deadline) {
        char err[256];
        pm_batch_clear(&lv->batch);
        struct pm_xrun run;
        int ok;
        if (lv->end_db && pm_src_run(lv->end_db, lv->end_run_id, &run, err, sizeof err) == 0)
            ok = pm_src_summary_points(lv->end_db, &run, &lv->batch, err, sizeof err) == 0;
        else
            ok = pm_src_summary_points(NULL, &lv->run, &lv->batch, err, sizeof err) == 0;
        if (ok)
            send_batch(lv, 0);
    }
    return NULL;
}

int pm_live_finish(struct pm_live *lv, uint64_t *dropped)
{
    if (!lv) {
        if (dropped)
            *dropped = 0;
        return 0;
    }
    int64_t deadline = now_mono() + lv->o.finish_timeout_ns;
    pm_http_set_deadline(lv->http, deadline);
    pthread_mutex_lock(&lv->mu);
    lv->deadline = deadline;
    lv->stopping = 1;
    pthread_cond_signal(&lv->cv);
    pthread_mutex_unlock(&lv->mu);
    pthread_join(lv->thread, NULL);

    uint64_t d = lv->dropped + lv->count + lv->npts;
    if (dropped)
        *dropped = d;
    pm_http_free(lv->http);
    pm_batch_free(&lv->batch);
    pthread_mutex_destroy(&lv->mu);
    pthread_cond_destroy(&lv->cv);
    free(lv->q);
    free(lv->url);
    free(lv);
    return d ? -1 : 0;
}
