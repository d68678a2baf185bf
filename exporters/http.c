/*
 * HTTP for push, with libcurl: see http.h for the policy.  libcurl is
 * loaded on the first pm_http_new (curl_dl.h), so commands that do not
 * push never load it.
 */
#include "http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "curl_dl.h"
#include "export.h"

#define RESP_MAX 4096

struct pm_http {
    const struct pm_curl *cu;
    CURL *curl;
    struct pm_http_opts o;
    char *ca_file;
    char *user, *password; /* basic auth */
    char *bearer;          /* "Authorization: Bearer ..." header line */
    int64_t deadline;
    unsigned seed;
    uint64_t attempts, retries;
    char resp[RESP_MAX];
    size_t resp_len;
};

int64_t pm_http_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char *dup_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? strdup(v) : NULL;
}

static void wipe_free(char *s)
{
    if (!s)
        return;
    volatile char *p = s;
    while (*p)
        *p++ = 0;
    free(s);
}

struct pm_http *pm_http_new(const struct pm_http_opts *o, char *err, size_t n)
{
    /* Loads libcurl and runs curl_global_init once (pm_dl_get).  Callers
     * create their pm_http on the main thread anyway (pm_live_start does),
     * before the threads that push exist. */
    const struct pm_curl *cu = pm_curl_load(err, n);
    if (!cu)
        return NULL;
    struct pm_http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    h->cu = cu;
    if (o)
        h->o = *o;
    if (!h->o.connect_timeout_ms)
        h->o.connect_timeout_ms = 5000;
    if (!h->o.timeout_ms)
        h->o.timeout_ms = 30000;
    if (!h->o.max_attempts)
        h->o.max_attempts = 6;
    if (!h->o.backoff_ms)
        h->o.backoff_ms = 250;
    if (!h->o.backoff_max_ms)
        h->o.backoff_max_ms = 8000;
    h->seed = (unsigned)(pm_http_mono_ns() ^ (int64_t)getpid());
    if (o && o->ca_file) {
        if (access(o->ca_file, R_OK) != 0) {
            snprintf(err, n, "cannot read CA file %s (check --cacert)", o->ca_file);
            free(h);
            return NULL;
        }
        h->ca_file = strdup(o->ca_file);
    }
    h->user = dup_env("PRESSMON_PUSH_USER");
    h->password = dup_env("PRESSMON_PUSH_PASSWORD");
    char *token = dup_env("PRESSMON_PUSH_TOKEN");
    if (token && (h->user || h->password)) {
        snprintf(err, n, "both PRESSMON_PUSH_TOKEN and PRESSMON_PUSH_USER/PASSWORD are set: "
                         "unset one (token = bearer auth, user+password = basic auth)");
        wipe_free(token);
        pm_http_free(h);
        return NULL;
    }
    if ((h->user != NULL) != (h->password != NULL)) {
        snprintf(err, n, "PRESSMON_PUSH_USER and PRESSMON_PUSH_PASSWORD must be set together");
        wipe_free(token);
        pm_http_free(h);
        return NULL;
    }
    if (token) {
        size_t len = strlen(token) + 32;
        h->bearer = malloc(len);
        if (h->bearer)
            snprintf(h->bearer, len, "Authorization: Bearer %s", token);
        wipe_free(token);
    }
    h->curl = cu->easy_init();
    if (!h->curl) {
        snprintf(err, n, "cannot create a libcurl handle");
        pm_http_free(h);
        return NULL;
    }
    return h;
}

void pm_http_free(struct pm_http *h)
{
    if (!h)
        return;
    if (h->curl)
        h->cu->easy_cleanup(h->curl);
    wipe_free(h->user);
    wipe_free(h->password);
    wipe_free(h->bearer);
    free(h->ca_file);
    free(h);
}

void pm_http_set_deadline(struct pm_http *h, int64_t mono_ns)
{
    h->deadline = mono_ns;
}

void pm_http_counts(const struct pm_http *h, uint64_t *attempts, uint64_t *retries)
{
    *attempts = h->attempts;
    *retries = h->retries;
}

int pm_url_check(const char *url, char *err, size_t n)
{
    const char *rest;
    if (!strncmp(url, "http://", 7))
        rest = url + 7;
    else if (!strncmp(url, "https://", 8))
        rest = url + 8;
    else {
        snprintf(err, n, "push URL must start with http:// or https://");
        return -1;
    }
    size_t auth_len = strcspn(rest, "/?#");
    if (memchr(rest, '@', auth_len)) {
        snprintf(err, n, "push URL must not contain credentials: set PRESSMON_PUSH_USER and "
                         "PRESSMON_PUSH_PASSWORD (or PRESSMON_PUSH_TOKEN) in the environment");
        return -1;
    }
    if (auth_len == 0) {
        snprintf(err, n, "push URL has no host");
        return -1;
    }
    return 0;
}

void pm_url_safe(const char *url, char *out, size_t n)
{
    size_t len = strcspn(url, "?#");
    if (len >= n)
        len = n - 1;
    memcpy(out, url, len);
    out[len] = '\0';
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct pm_http *h = ud;
    size_t len = size * nmemb;
    size_t room = RESP_MAX - 1 - h->resp_len;
    size_t take = len < room ? len : room;
    memcpy(h->resp + h->resp_len, p, take);
    h->resp_len += take;
    h->resp[h->resp_len] = '\0';
    return len;
}

/* The server's message, one line, printable, bounded. */
static void server_text(const struct pm_http *h, char *out, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < h->resp_len && o + 1 < n && o < 400; i++) {
        unsigned char c = (unsigned char)h->resp[i];
        out[o++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

static int too_old(const char *body)
{
    static const char *const words[] = {"too old", "out of bounds", "out of order", "too far in the past"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(body, words[i]))
            return 1;
    return 0;
}

static int curl_permanent(CURLcode c)
{
    switch (c) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_LOGIN_DENIED:
        return 1;
    default:
        return 0;
    }
}

/* Abort a request in flight once the deadline has passed (a hung server
 * must not hold `record` past pm_live_finish's bound). */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    const struct pm_http *h = ud;
    return h->deadline && pm_http_mono_ns() > h->deadline;
}

/* curl_easy_setopt is variadic: called through a pointer, neither the
 * compiler's conversion of the argument nor curl's own type-check macros
 * apply.  Each kind of option goes through a setter that takes exactly
 * the type libcurl reads for it. */
static void opt_long(struct pm_http *h, CURLoption o, long v)
{
    h->cu->easy_setopt(h->curl, o, v);
}

static void opt_ptr(struct pm_http *h, CURLoption o, const void *v)
{
    h->cu->easy_setopt(h->curl, o, v);
}

static void opt_off(struct pm_http *h, CURLoption o, curl_off_t v)
{
    h->cu->easy_setopt(h->curl, o, v);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

enum pm_http_result pm_http_send(struct pm_http *h, const char *method, const char *url,
                                 const char *const *headers, const void *body, size_t len,
                                 char *msg, size_t msglen)
{
    char safe[512], text[512];
    pm_url_safe(url, safe, sizeof safe);
    const struct pm_curl *cu = h->cu;
    struct curl_slist *hl = NULL;
    for (size_t i = 0; headers && headers[i]; i++)
        hl = cu->slist_append(hl, headers[i]);
    if (h->bearer)
        hl = cu->slist_append(hl, h->bearer);
    hl = cu->slist_append(hl, "Expect:"); /* no 100-continue round trip */

    CURL *c = h->curl;
    cu->easy_reset(c);
    opt_ptr(h, CURLOPT_URL, url);
    opt_ptr(h, CURLOPT_CUSTOMREQUEST, method);
    opt_long(h, CURLOPT_POST, 1);
    opt_ptr(h, CURLOPT_POSTFIELDS, body);
    opt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    opt_ptr(h, CURLOPT_HTTPHEADER, hl);
    opt_ptr(h, CURLOPT_USERAGENT, "pressmon/" PM_VERSION);
    opt_long(h, CURLOPT_CONNECTTIMEOUT_MS, h->o.connect_timeout_ms);
    opt_long(h, CURLOPT_TIMEOUT_MS, h->o.timeout_ms);
    opt_long(h, CURLOPT_NOSIGNAL, 1); /* threads: no SIGALRM for DNS timeouts */
    opt_long(h, CURLOPT_SSL_VERIFYPEER, 1);
    opt_long(h, CURLOPT_SSL_VERIFYHOST, 2);
    opt_ptr(h, CURLOPT_PROTOCOLS_STR, "http,https");
    /* Callbacks as the exact pointer types libcurl reads: assigning them
     * (no cast) makes the compiler check the signatures. */
    curl_write_callback write_cb = on_body;
    curl_xferinfo_callback progress_cb = on_progress;
    cu->easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
    opt_ptr(h, CURLOPT_WRITEDATA, h);
    cu->easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
    opt_ptr(h, CURLOPT_XFERINFODATA, h);
    opt_long(h, CURLOPT_NOPROGRESS, 0);
    if (h->ca_file)
        opt_ptr(h, CURLOPT_CAINFO, h->ca_file);
    if (h->user) {
        opt_long(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        opt_ptr(h, CURLOPT_USERNAME, h->user);
        opt_ptr(h, CURLOPT_PASSWORD, h->password);
    }

    enum pm_http_result res = PM_HTTP_GAVE_UP;
    long delay = h->o.backoff_ms;
    for (int attempt = 1;; attempt++) {
        h->resp_len = 0;
        h->resp[0] = '\0';
        h->attempts++;
        CURLcode cc = cu->easy_perform(c);
        long status = 0;
        if (cc == CURLE_OK)
            cu->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (cc == CURLE_OK && status >= 200 && status < 300) {
            res = PM_HTTP_OK;
            msg[0] = '\0';
            break;
        }
        int retry;
        if (cc != CURLE_OK) {
            snprintf(msg, msglen, "%s: %s", safe, cu->easy_strerror(cc));
            retry = !curl_permanent(cc);
            res = retry ? PM_HTTP_GAVE_UP : PM_HTTP_PERMANENT;
        } else {
            server_text(h, text, sizeof text);
            if (too_old(h->resp)) {
                snprintf(msg, msglen,
                         "%s refused samples as too old (HTTP %ld: %s); the server's "
                         "retention or out-of-order window does not reach back to this run",
                         safe, status, text);
                res = PM_HTTP_TOO_OLD;
                break;
            }
            snprintf(msg, msglen, "%s answered HTTP %ld: %s", safe, status,
                     text[0] ? text : "(no message)");
            retry = status >= 500 || status == 429;
            res = retry ? PM_HTTP_GAVE_UP : PM_HTTP_PERMANENT;
        }
        if (!retry || attempt >= h->o.max_attempts ||
            (h->deadline && pm_http_mono_ns() > h->deadline))
            break;
        /* Exponential backoff with jitter: a random delay in [d/2, d]. */
        long wait = delay / 2 + (long)(rand_r(&h->seed) % (unsigned)(delay / 2 + 1));
        if (h->deadline && pm_http_mono_ns() + wait * 1000000LL > h->deadline)
            break;
        h->retries++;
        sleep_ms(wait);
        delay = delay * 2 > h->o.backoff_max_ms ? h->o.backoff_max_ms : delay * 2;
    }
    cu->slist_free_all(hl);
    /* The handle keeps pointers to our header list and auth: clear them. */
    opt_ptr(h, CURLOPT_HTTPHEADER, NULL);
    return res;
}
