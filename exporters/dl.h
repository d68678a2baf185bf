/*
 * Optional libraries loaded with dlopen when first needed, instead of
 * linked: libcurl (curl_dl.c) and libsnappy (snappy_dl.c).  Only a push
 * uses them, and a library in the binary's NEEDED list is loaded, with
 * everything behind it, by every command at every start.
 *
 * This is the part the two share: which file to open ($ENV if set, else
 * a list of names), resolving a table of function pointers, and the
 * messages when that fails, which name the library, what needs it and
 * how to get it.  Each caller keeps its own pthread_once and table.
 */
#ifndef PM_DL_H
#define PM_DL_H

#include <stddef.h>

/* dlsym gives a void *; POSIX guarantees it can hold a function pointer,
 * and pm_dl_load copies it into one. */
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

/* Opens the library (RTLD_NOW | RTLD_LOCAL) and stores every symbol's
 * address at table + off.  Returns the name it was opened by (the
 * environment's value or one of names), or NULL with a message in why and
 * the table (table_size bytes) zeroed.  A library that opened but lacks a
 * symbol is never dlclosed: nothing must point into an unmapped library,
 * and libcurl's TLS backends do not support being unloaded. */
const char *pm_dl_load(const struct pm_dl_lib *l, void *table, size_t table_size, char *why,
                       size_t n);

#endif
