/*
 * libcurl through dlopen: see curl_dl.h for why.
 */
#include "curl_dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* dlsym gives a void *; POSIX guarantees it can hold a function pointer,
 * and the table below copies it into one. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "dlsym result must fit a function pointer");

#define SYM(field, name) {name, offsetof(struct pm_curl, field)}
static const struct {
    const char *name;
    size_t off;
} syms[] = {
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

/* Written once under pthread_once, read-only after. */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct pm_curl curl;
static int loaded;
static char why[768];

static const char *env_lib(void)
{
    const char *env = getenv("PRESSMON_LIBCURL");
    return env && *env ? env : NULL;
}

static void *open_lib(const char **used)
{
    const char *env = env_lib();
    if (env) {
        *used = env;
        void *lib = dlopen(env, RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            const char *e = dlerror();
            snprintf(why, sizeof why,
                     "cannot load libcurl (needed to push) from PRESSMON_LIBCURL=%s: %s "
                     "(unset PRESSMON_LIBCURL to use the system's libcurl)",
                     env, e ? e : "dlopen failed");
        }
        return lib;
    }
    char first[512] = "";
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        *used = names[i];
        void *lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (lib)
            return lib;
        const char *e = dlerror();
        if (i == 0)
            snprintf(first, sizeof first, "%s", e ? e : names[i]);
    }
    snprintf(why, sizeof why,
             "cannot load libcurl (needed to push): %s (%s; or set PRESSMON_LIBCURL to its path)",
             first, HOW_TO_GET);
    return NULL;
}

static void load(void)
{
    const char *used = NULL;
    void *lib = open_lib(&used);
    if (!lib)
        return;
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        void *p = dlsym(lib, syms[i].name);
        if (!p) {
            snprintf(why, sizeof why, "%s is not a usable libcurl: it has no %s (%s)", used,
                     syms[i].name, env_lib() ? "check PRESSMON_LIBCURL" : HOW_TO_GET);
            /* Never dlclose: a half-resolved table must not point into an
             * unmapped library, and libcurl's TLS backends do not support
             * being unloaded. */
            memset(&curl, 0, sizeof curl);
            return;
        }
        memcpy((char *)&curl + syms[i].off, &p, sizeof p);
    }
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
