/*
 * Optional libraries loaded with dlopen when first needed, instead of
 * linked: libcurl (curl_dl.c) and libsnappy (snappy_dl.c).  Only a push
 * uses them, and a library in the binary's NEEDED list is loaded, with
 * everything behind it, by every command at every start.
 *
 * This is the part the two share: which file to open ($ENV if set, else
 * a list of names), resolving a table of function pointers, and the
 * messages when that fails, which name the library, what needs it and
 * how to get it, and loading once per process whatever thread asks first.
 * Each caller keeps its table of function pointers and a pm_dl_once.
 */
#ifndef PM_DL_H
#define PM_DL_H

#include <pthread.h>
#include <stddef.h>

/* dlsym gives a void *; POSIX guarantees it can hold a function pointer,
 * and pm_dl_get copies it into one. */
_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "dlsym result must fit a function pointer");

/* A function to resolve and where its pointer goes in the caller's table. */
struct pm_dl_sym {
    const char *name;
    size_t off;
};
#define PM_DL_SYM(type, field, name) {name, offsetof(type, field)}

struct pm_dl_lib {
    const char *what;         /* "libcurl": how messages name it */
    const char *needed_for;   /* "needed to push" */
    const char *env;          /* "PRESSMON_LIBCURL": a path or a name for dlopen */
    const char *const *names; /* tried in order when env is unset */
    size_t nnames;
    const char *how_to_get;   /* "Debian/Ubuntu: apt-get install libcurl4" */
    const struct pm_dl_sym *syms;
    size_t nsyms;
};

/* What the first attempt to load a library gave, kept for the later ones:
 * one per library, static in its caller, initialized with PM_DL_ONCE_INIT. */
struct pm_dl_once {
    pthread_mutex_t mu;
    int tried, ok;
    char why[768];
};
#define PM_DL_ONCE_INIT {PTHREAD_MUTEX_INITIALIZER, 0, 0, {0}}

/* The first call in the process opens the library (RTLD_NOW | RTLD_LOCAL),
 * stores every symbol's address at table + off, then runs `init` (if not
 * NULL) on the filled table with the name the library was opened by;
 * init returns 0, or -1 with a reason in why (libcurl's global init, which
 * is not thread-safe on every libcurl: the lock serializes it).  Every call
 * returns what the first gave: table, or NULL with the message in err and
 * the table zeroed.  A library that opened but lacks a symbol is never
 * dlclosed: nothing must point into an unmapped library, and libcurl's TLS
 * backends do not support being unloaded. */
void *pm_dl_get(const struct pm_dl_lib *l, struct pm_dl_once *o, void *table, size_t table_size,
                int (*init)(void *table, const char *used, char *why, size_t n), char *err, size_t n);

#endif
