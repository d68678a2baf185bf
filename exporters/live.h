/*
 * Live push during `pressmon record --push URL`.
 *
 * The writer thread offers every system sample and event it commits; a
 * push thread of its own sends them about once a second.  Offering never
 * waits for the network: the queue is bounded, and when it is full (a
 * slow or dead server) the sample is dropped and counted.  What could not
 * be sent is said once on stderr; it is still in SQLite, so
 * `pressmon push RUN --to URL` re-sends it later (same series, same
 * timestamps, same values: the servers keep one copy).
 *
 * Usage (cli/record.c, writer thread):
 *   struct pm_live *lv = pm_live_start(url, &opts, err, sizeof err);  // NULL: say err, go on
 *   pm_live_offer_sys(lv, &rec.u.sys);     // for each system sample, in order
 *   pm_live_offer_event(lv, &ev, comm);    // kills become annotation series, as they happen
 *   pm_live_set_end(lv, &end);             // optional: outcome for pressmon_run_*
 *   pm_live_finish(lv, &dropped);          // flush (bounded by finish_timeout), join
 */
#ifndef PM_LIVE_H
#define PM_LIVE_H

#include <stdint.h>

#include "../sampler/record.h"
#include "http.h"
#include "push.h"

struct pm_live_opts {
    enum pm_proto proto;        /* AUTO: from the URL (pushgateway: summary at the end only) */
    const char *job;            /* NULL: "pressmon" */
    const char *instance;       /* NULL: the host name */
    const char *label;          /* the run's label, or NULL */
    const char *run_id;         /* the run's uid */
    int no_run_id;
    int64_t started_at;         /* runs.started_at: wall ns at t_ns = 0 */
    size_t queue_len;           /* samples held while the server is slow; 0: 6000 */
    int64_t flush_interval_ns;  /* 0: 1 s */
    int64_t finish_timeout_ns;  /* longest pm_live_finish may flush; 0: 5 s */
    int no_gzip;
    int quiet;                  /* do not print the one failure line */
    struct pm_http_opts http;   /* live defaults: connect 2 s, request 5 s, 3 attempts */
};

struct pm_live_end {
    int has_exit, exit_code, signal; /* the child's status */
    int64_t duration_ns;
    int64_t samples, missed_ticks;
    /* Optional: the finished run in the database.  Then the end-of-run
     * summary and the kill events are read from it, exactly as
     * `pressmon push` sends them (the fields above are then unused). */
    sqlite3 *db;
    int64_t run_id;
};

struct pm_live;

struct pm_live *pm_live_start(const char *url, const struct pm_live_opts *o, char *err, size_t n);
/* Non-blocking; counters are made cumulative here, so a dropped sample
 * never corrupts the ones after it. */
void pm_live_offer_sys(struct pm_live *lv, const struct pm_sys_rec *r);
void pm_live_offer_event(struct pm_live *lv, const struct pm_event_rec *e, const char *target_comm);
void pm_live_set_end(struct pm_live *lv, const struct pm_live_end *end);
/* Flush, stop the thread, free.  *dropped = samples not delivered.
 * Returns 0 when everything offered was delivered, -1 otherwise. */
int pm_live_finish(struct pm_live *lv, uint64_t *dropped);

#endif
