/*
 * HTTP for push (libcurl, loaded at run time by curl_dl.c): one keep-alive
 * connection, authentication from the environment, and the retry policy
 * of DESIGN §8.
 *
 *   2xx                 done
 *   4xx (not 429)       permanent: the server's message is returned, no retry
 *   5xx, 429, network   retried with exponential backoff and jitter, up to
 *                       max_attempts, never past the deadline
 *   "too old" / "out of bounds" / "out of order" in a 4xx or 5xx body:
 *                       permanent, reported as such (Prometheus answers 500
 *                       for samples older than its TSDB accepts: retrying
 *                       cannot help)
 *
 * Secrets: PRESSMON_PUSH_USER + PRESSMON_PUSH_PASSWORD (basic) or
 * PRESSMON_PUSH_TOKEN (bearer) are read from the environment only, held in
 * this module, wiped on free, and never part of a message.  URLs carrying
 * credentials (user:pass@host) are refused; messages show URLs without
 * their query string.  TLS peer and host verification stay on.
 */
#ifndef PM_HTTP_H
#define PM_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct pm_http_opts {
    const char *ca_file;     /* extra CA bundle for TLS, or NULL */
    long connect_timeout_ms; /* 0: 5000 */
    long timeout_ms;         /* whole request; 0: 30000 */
    int max_attempts;        /* 0: 6 */
    long backoff_ms;         /* first retry delay; 0: 250 */
    long backoff_max_ms;     /* 0: 8000 */
};

enum pm_http_result {
    PM_HTTP_OK = 0,
    PM_HTTP_PERMANENT = 1, /* 4xx, bad TLS, bad URL: fix something, then retry */
    PM_HTTP_TOO_OLD = 2,   /* the server refuses samples this old */
    PM_HTTP_GAVE_UP = 3,   /* retryable failures until attempts or deadline ran out */
};

struct pm_http;

/* Loads libcurl on first use and reads the auth variables.  NULL with a
 * message on error (libcurl cannot be loaded, both a token and a user are
 * set, ...). */
struct pm_http *pm_http_new(const struct pm_http_opts *o, char *err, size_t n);
void pm_http_free(struct pm_http *h);

/* No retry starts after this pm_http_mono_ns() time (0: none). */
void pm_http_set_deadline(struct pm_http *h, int64_t mono_ns);
int64_t pm_http_mono_ns(void);

/* Check a push URL: http(s) only, no credentials inside it. */
int pm_url_check(const char *url, char *err, size_t n);
/* The URL without query and fragment, for messages. */
void pm_url_safe(const char *url, char *out, size_t n);

/* POST (or PUT) body with the given extra headers (NULL-terminated).
 * On failure `msg` says what failed, with the server's own words. */
enum pm_http_result pm_http_send(struct pm_http *h, const char *method, const char *url,
                                 const char *const *headers, const void *body, size_t len,
                                 char *msg, size_t msglen);

/* Requests made (attempts, including retries) and retries, for tests and
 * benchmarks. */
void pm_http_counts(const struct pm_http *h, uint64_t *attempts, uint64_t *retries);

#endif
