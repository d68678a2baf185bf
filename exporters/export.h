/*
 * Export and push: the shared model between the database, the encoders and
 * the HTTP senders (DESIGN §8, docs/EXPORT.md).
 *
 * A run leaves the database as batches (struct pm_batch): rows of system
 * samples (one value per catalog metric, wall-clock ns timestamps) plus a
 * few single points (kill events, the end-of-run summary).  Every encoder
 * takes a batch, so remote write, Influx line protocol, OpenMetrics and the
 * Pushgateway text format all name and label things the same way:
 *
 *   metric names  "pressmon_" + the catalog's prom name (sampler/catalog.h);
 *                 Influx writes measurement "pressmon" with the prom name as
 *                 field, which VictoriaMetrics turns into the same name
 *   values        in the catalog's base unit (bytes, seconds); counters are
 *                 cumulative since the run started (the database stores
 *                 deltas), so rate() works
 *   labels        job, instance, label (when the run has one), run_id
 *                 (unless dropped); outcome only on the pressmon_run_*
 *                 summary series, because a live push cannot know it and
 *                 a re-push must produce the very same series
 */
#ifndef PM_EXPORT_H
#define PM_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "../sampler/catalog.h"
#include "../sampler/record.h"

#define PM_X_PREFIX "pressmon_"
#define PM_X_MEASUREMENT "pressmon"
#define PM_X_MAXLABELS 8
#define PM_X_VALUE_MAX 256

/* ---- growable byte buffer ------------------------------------------- */

struct pm_buf {
    char *p;
    size_t len, cap;
    int oom; /* an allocation failed: the content is incomplete */
};

void pm_buf_add(struct pm_buf *b, const void *data, size_t n);
/* n more bytes at the end, counted as written: returns where the caller
 * writes them, or NULL when out of memory (oom set). */
void *pm_buf_append(struct pm_buf *b, size_t n);
void pm_buf_puts(struct pm_buf *b, const char *s);
void pm_buf_printf(struct pm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pm_buf_reset(struct pm_buf *b);
void pm_buf_free(struct pm_buf *b);

/* A double as the shortest text that reads back to the same value, never
 * in exponent form for integers below 2^53 (Influx and people like that);
 * NaN and infinities give "NaN", "+Inf", "-Inf" (callers skip them where a
 * format has no such thing). */
void pm_buf_double(struct pm_buf *b, double v);

/* ---- labels and points ------------------------------------------------ */

struct pm_xlabel {
    char name[32];
    char value[PM_X_VALUE_MAX];
};

/* One point outside the per-sample metrics: a kill event or a run summary
 * value.  name is without the "pressmon_" prefix. */
struct pm_xpoint {
    char name[64];
    const char *type; /* "gauge" or "counter" (for # TYPE lines) */
    const char *help;
    struct pm_xlabel labels[4];
    int nlabels;
    int64_t ts_ns; /* wall clock */
    double v;
};

/* Copy a label value, replacing invalid UTF-8 (Prometheus rejects it) and
 * NUL bytes with '?', truncating on a character boundary. */
void pm_x_label_value(char *dst, size_t size, const char *src);

struct pm_batch {
    /* Labels of every series in the batch, sorted by name; values are
     * copies.  Filled by pm_batch_labels. */
    struct pm_xlabel common[PM_X_MAXLABELS];
    int ncommon;
    /* Rows of system samples, oldest first. */
    size_t nrows, cap;
    int64_t *ts_ns;    /* wall clock ns */
    double *val;       /* nrows * PM_SYS_N, in the catalog's base unit */
    uint64_t *present; /* bit i: val[row * PM_SYS_N + i] is valid */
    /* Single points (events, summary). */
    struct pm_xpoint *pts;
    size_t npts, pts_cap;
};

/* What identifies a run's series. */
struct pm_xident {
    const char *job;      /* default "pressmon" */
    const char *instance; /* default: the host name of the run */
    const char *label;    /* the run's label; NULL or "" = no label */
    const char *run_id;   /* the run's uid; NULL = dropped (--no-run-id) */
};

void pm_batch_labels(struct pm_batch *b, const struct pm_xident *id);
/* Append a row; returns its index, or -1 when out of memory. */
long pm_batch_add_row(struct pm_batch *b, int64_t ts_ns);
struct pm_xpoint *pm_batch_add_point(struct pm_batch *b, const char *name, const char *type,
                                     const char *help, int64_t ts_ns, double v);
void pm_xpoint_label(struct pm_xpoint *p, const char *name, const char *value);
void pm_batch_clear(struct pm_batch *b); /* keeps labels and memory */
void pm_batch_free(struct pm_batch *b);
size_t pm_batch_samples(const struct pm_batch *b); /* values + points */

/* Running totals that turn stored counter deltas into cumulative values.
 * Feed every row of a run in order, even the ones that are not sent. */
struct pm_cumul {
    double total[PM_SYS_N];
    int64_t last_ms; /* pm_cumul_keep */
};
/* Stored integers of one sample -> base-unit values with counters made
 * cumulative.  `present` in, values out for the present ones; a counter
 * absent in the first sample is 0 from then on (the run's start). */
void pm_cumul_row(struct pm_cumul *c, uint64_t present, const int64_t *stored, double *out,
                  uint64_t *out_present, int first);

/* Prometheus and VictoriaMetrics keep ms: two samples of a run in the same
 * millisecond (a late tick followed by an on-time one) would be two values
 * for one timestamp, which Prometheus refuses.  Returns 0 for a row that
 * must be skipped for that reason (its counter deltas are already in the
 * totals, so nothing is lost from counters), 1 to send it.  Call after
 * pm_cumul_row, for every row in order; `first` as there. */
int pm_cumul_keep(struct pm_cumul *c, int64_t ts_ns, int first);

/* Signal number -> "SIGKILL" (portable: uses the <signal.h> names). */
const char *pm_x_signame(int sig, char *buf, size_t n);

/* ---- encoders (exporters/encode_*.c) -------------------------------- */

/* Prometheus remote write 1.0: protobuf WriteRequest, snappy block
 * compressed (libsnappy, loaded on the first call: snappy_dl.h).  Returns
 * 0, or -1 with err (out of memory, libsnappy cannot be loaded). */
int pm_enc_remote_write(const struct pm_batch *b, struct pm_buf *out, char *err, size_t n);
/* The uncompressed protobuf, for tests.  Returns 0 or -1 (out of memory). */
int pm_enc_remote_write_raw(const struct pm_batch *b, struct pm_buf *out);

/* Influx line protocol, ns timestamps, one line per row (all metrics as
 * float fields of measurement "pressmon") and per point. */
int pm_enc_influx(const struct pm_batch *b, struct pm_buf *out);
void pm_influx_escape(struct pm_buf *out, const char *s, int is_measurement);

/* Prometheus text / OpenMetrics label set: {a="x",b="y"} with the batch's
 * labels and `extra` ones, values escaped (\\, \", \n). */
void pm_prom_labels(struct pm_buf *out, const struct pm_xlabel *common, int ncommon,
                    const struct pm_xlabel *extra, int nextra);
void pm_prom_escape(struct pm_buf *out, const char *s);

/* Pushgateway text format (version 0.0.4) of the batch's points, without
 * timestamps (the Pushgateway rejects them) and without the labels of
 * the grouping key (`skip_common`: the URL carries them). */
int pm_enc_pushgateway(const struct pm_batch *b, struct pm_buf *out, int skip_common);

/* gzip (RFC 1952) of in; 0 or -1. */
int pm_gzip(const void *in, size_t n, struct pm_buf *out);

/* ---- reading a run from the database (exporters/source.c) -------------- */

struct pm_xrun {
    int64_t id;
    char uid[32];
    char label[PM_X_VALUE_MAX];
    char hostname[256];
    char state[16];
    char outcome[8];     /* "pass", "fail", or "" while unknown */
    int64_t started_at;  /* unix ns */
    int64_t ended_at;    /* unix ns, 0 if unknown */
    int64_t duration_ns;
    int has_exit, exit_code, signal;
    int64_t samples, missed_ticks, dropped;
    int64_t kills;       /* kill events */
};

int pm_src_run(sqlite3 *db, int64_t run_id, struct pm_xrun *r, char *err, size_t n);

struct pm_src;
/* Iterate a run's system samples in time order. */
struct pm_src *pm_src_open(sqlite3 *db, const struct pm_xrun *r, char *err, size_t n);
/* Append up to max_rows rows to b (after pm_batch_clear by the caller if
 * wanted).  Returns the number of rows added, 0 at the end, -1 on error. */
long pm_src_next(struct pm_src *s, struct pm_batch *b, size_t max_rows, char *err, size_t n);
void pm_src_close(struct pm_src *s);

/* Kill events (signal, oom_kill, memory_kill, codesign_kill) as points of
 * pressmon_kill_event_timestamp_seconds (value: the event's unix time, so
 * a Grafana annotation can use "series value as timestamp").  Returns the
 * number added or -1. */
int pm_src_kill_points(sqlite3 *db, const struct pm_xrun *r, struct pm_batch *b, char *err,
                       size_t n);

/* The end-of-run summary points (pressmon_run_*), with the outcome label.
 * With a database (db != NULL) also per-metric min/max of gauges. */
int pm_src_summary_points(sqlite3 *db, const struct pm_xrun *r, struct pm_batch *b, char *err,
                          size_t n);

/* Both of the above, kills first: what every format adds after the
 * samples.  Returns 0 or -1. */
int pm_src_event_points(sqlite3 *db, const struct pm_xrun *r, struct pm_batch *b, char *err, size_t n);

#endif
