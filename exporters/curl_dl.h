/*
 * libcurl, loaded with dlopen on first use instead of linked (dl.h).
 *
 * Only `pressmon push` and `record --push` talk HTTP, but a binary linked
 * with libcurl.so.4 makes every command load it and the 28 libraries it
 * pulls in on Debian 12 (OpenSSL, GnuTLS, Kerberos, LDAP, SSH, nghttp2,
 * ...): `pressmon --version` took 8.1 ms that way and takes 2.3 ms now
 * (docs/BENCHMARKS.md).  So http.c calls libcurl through the function
 * pointers below, resolved once by pm_curl_load.  <curl/curl.h>
 * still gives the types and constants: the build needs the headers, not
 * the library.
 *
 * Which library: $PRESSMON_LIBCURL if set (a path or a name for dlopen),
 * else libcurl.so.4 on Linux, /usr/lib/libcurl.4.dylib (then
 * libcurl.4.dylib from the search path) on macOS.
 */
#ifndef PM_CURL_DL_H
#define PM_CURL_DL_H

#include <stddef.h>

#include <curl/curl.h>

struct pm_curl {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_reset)(CURL *c);
    void (*easy_cleanup)(CURL *c);
    CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
    CURLcode (*easy_perform)(CURL *c);
    CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
    const char *(*easy_strerror)(CURLcode code);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
};

/* Loads libcurl and runs curl_global_init, once per process (pm_dl_get:
 * any thread may call it).  NULL with a message naming the library and how
 * to install it when it cannot be loaded or is not libcurl; every later
 * call gives the same answer. */
const struct pm_curl *pm_curl_load(char *err, size_t n);

#endif
