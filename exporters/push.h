/*
 * Pushing runs to metric servers: the protocols, how one is picked from a
 * URL, and `pressmon push RUN` (after the fact, original timestamps,
 * bounded requests).  The live variant during `record` is live.h.
 */
#ifndef PM_PUSH_H
#define PM_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "export.h"
#include "http.h"

enum pm_proto {
    PM_PROTO_AUTO = 0,
    PM_PROTO_REMOTE_WRITE,
    PM_PROTO_INFLUX,
    PM_PROTO_PUSHGATEWAY,
};

/* "remote-write" (or "prometheus", "rw"), "influx", "pushgateway". */
int pm_proto_parse(const char *s, enum pm_proto *p);
const char *pm_proto_name(enum pm_proto p);
/* From the URL's path: .../api/v1/write, /api/prom/push, /api/v1/push,
 * /receive -> remote write; .../write, /api/v1/push/influx/write,
 * /api/v2/write -> influx; /metrics/job/... -> pushgateway; else AUTO
 * (ambiguous: the caller asks for --protocol). */
enum pm_proto pm_proto_infer(const char *url);

struct pm_push_opts {
    enum pm_proto proto;     /* AUTO: inferred, error if it cannot be */
    const char *job;         /* NULL: "pressmon" */
    const char *instance;    /* NULL: the run's host name */
    int no_run_id;           /* drop the run_id label (see docs/EXPORT.md) */
    size_t batch_samples;    /* samples per request; 0: 10000 */
    int no_gzip;             /* influx bodies are gzipped unless set */
    int quiet;
    struct pm_http_opts http;
};

struct pm_push_stats {
    uint64_t requests, samples, bytes, retries;
    double seconds;
};

/* The request for one batch in protocol p: body, extra headers, and the
 * final URL (Influx gets precision=ns, the Pushgateway its grouping key).
 * headers must hold 6 entries.  Returns 0 or -1 with err. */
int pm_push_encode(enum pm_proto p, const char *url, const struct pm_batch *b, int gzip,
                   struct pm_buf *body, const char **headers, struct pm_buf *final_url, char *err,
                   size_t n);

/* Push run `run_id` to url.  Returns 0, or -1 with err (the server's words,
 * "too old", or what to fix). */
int pm_push_run(sqlite3 *db, int64_t run_id, const char *url, const struct pm_push_opts *o,
                struct pm_push_stats *stats, char *err, size_t n);

#endif
