/*
 * libcurl through dlopen: see curl_dl.h for why, dl.h for how.
 */
#include "curl_dl.h"

#include <pthread.h>
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

/* Written once under pthread_once, read-only after. */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct pm_curl curl;
static int loaded;
static char why[768];

static void load(void)
{
    const char *used = pm_dl_load(&libcurl, &curl, sizeof curl, why, sizeof why);
    if (!used)
        return;
    /* Once per process, here: curl_global_init is not thread-safe on every
     * libcurl, and pthread_once serializes it. */
    CURLcode c = curl.global_init(CURL_GLOBAL_DEFAULT);
    if (c != CURLE_OK) {
        snprintf(why, sizeof why, "cannot initialize libcurl (%s): %s", used, curl.easy_strerror(c));
        return;
    }
    loaded = 1;
}

const struct pm_curl *pm_curl_load(char *err, size_t n)
{
    pthread_once(&once, load);
    if (loaded)
        return &curl;
    snprintf(err, n, "%s", why);
    return NULL;
}
