/*
 * libcurl through dlopen: see curl_dl.h for why, dl.h for how.
 */
#include "curl_dl.h"

#include <stdio.h>

#include "dl.h"

#define SYM(field, name) PM_DL_SYM(struct pm_curl, field, name)
static const struct pm_dl_sym syms[] = {
    SYM(global_init, "curl_global_init"),
    SYM(easy_init, "curl_easy_init"),
    SYM(easy_reset, "curl_easy_reset"),
    SYM(easy_cleanup, "curl_easy_cleanup"),
    SYM(easy_setopt, "curl_easy_setopt"),
    SYM(easy_perform, "curl_easy_perform"),
    SYM(easy_getinfo, "curl_easy_getinfo"),
    SYM(easy_strerror, "curl_easy_strerror"),
    SYM(slist_append, "curl_slist_append"),
    SYM(slist_free_all, "curl_slist_free_all"),
};

#ifdef __APPLE__
/* macOS ships libcurl in /usr/lib (in the dyld shared cache: dlopen finds
 * it though no file is on disk); the bare name lets DYLD paths find
 * another. */
static const char *const names[] = {"/usr/lib/libcurl.4.dylib", "libcurl.4.dylib"};
#define HOW_TO_GET "macOS ships /usr/lib/libcurl.4.dylib"
#else
static const char *const names[] = {"libcurl.so.4"};
#define HOW_TO_GET "Debian/Ubuntu: apt-get install libcurl4"
#endif

static const struct pm_dl_lib libcurl = {
    .what = "libcurl",
    .needed_for = "needed to push",
    .env = "PRESSMON_LIBCURL",
    .names = names,
    .nnames = sizeof names / sizeof names[0],
    .how_to_get = HOW_TO_GET,
    .syms = syms,
    .nsyms = sizeof syms / sizeof syms[0],
};

/* Written once by pm_dl_get, read-only after. */
static struct pm_curl curl;
static struct pm_dl_once once = PM_DL_ONCE_INIT;

/* Once per process, under pm_dl_get's lock: curl_global_init is not
 * thread-safe on every libcurl. */
static int global_init(void *table, const char *used, char *why, size_t n)
{
    const struct pm_curl *c = table;
    CURLcode rc = c->global_init(CURL_GLOBAL_DEFAULT);
    if (rc == CURLE_OK)
        return 0;
    snprintf(why, n, "cannot initialize libcurl (%s): %s", used, c->easy_strerror(rc));
    return -1;
}

const struct pm_curl *pm_curl_load(char *err, size_t n)
{
    return pm_dl_get(&libcurl, &once, &curl, sizeof curl, global_init, err, n);
}
