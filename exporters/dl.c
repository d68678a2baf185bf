/*
 * Loading an optional library with dlopen: see dl.h.
 */
#include "dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env_lib(const struct pm_dl_lib *l)
{
    const char *env = getenv(l->env);
    return env && *env ? env : NULL;
}

static void *open_lib(const struct pm_dl_lib *l, const char **used, char *why, size_t n)
{
    const char *env = env_lib(l);
    if (env) {
        *used = env;
        void *lib = dlopen(env, RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            const char *e = dlerror();
            snprintf(why, n, "cannot load %s (%s) from %s=%s: %s (unset %s to use the system's %s)",
                     l->what, l->needed_for, l->env, env, e ? e : "dlopen failed", l->env, l->what);
        }
        return lib;
    }
    /* The first name's error is the one to show: it is the usual file on
     * this system; the others are fallbacks. */
    char first[512] = "";
    for (size_t i = 0; i < l->nnames; i++) {
        *used = l->names[i];
        void *lib = dlopen(l->names[i], RTLD_NOW | RTLD_LOCAL);
        if (lib)
            return lib;
        const char *e = dlerror();
        if (i == 0)
            snprintf(first, sizeof first, "%s", e ? e : l->names[i]);
    }
    snprintf(why, n, "cannot load %s (%s): %s (%s; or set %s to its path)", l->what, l->needed_for,
             first, l->how_to_get, l->env);
    return NULL;
}

/* Open and resolve: the name the library was opened by, or NULL with a
 * message in why and the table zeroed. */
static const char *load(const struct pm_dl_lib *l, void *table, size_t table_size, char *why, size_t n)
{
    const char *used = NULL;
    void *lib = open_lib(l, &used, why, n);
    if (!lib)
        return NULL;
    for (size_t i = 0; i < l->nsyms; i++) {
        void *p = dlsym(lib, l->syms[i].name);
        if (!p) {
            if (env_lib(l))
                snprintf(why, n, "%s is not a usable %s: it has no %s (check %s)", used, l->what,
                         l->syms[i].name, l->env);
            else
                snprintf(why, n, "%s is not a usable %s: it has no %s (%s)", used, l->what,
                         l->syms[i].name, l->how_to_get);
            memset(table, 0, table_size);
            return NULL;
        }
        memcpy((char *)table + l->syms[i].off, &p, sizeof p);
    }
    return used;
}

void *pm_dl_get(const struct pm_dl_lib *l, struct pm_dl_once *o, void *table, size_t table_size,
                int (*init)(void *table, const char *used, char *why, size_t n), char *err, size_t n)
{
    pthread_mutex_lock(&o->mu);
    if (!o->tried) {
        o->tried = 1;
        const char *used = load(l, table, table_size, o->why, sizeof o->why);
        o->ok = used && (!init || init(table, used, o->why, sizeof o->why) == 0);
        if (!o->ok)
            memset(table, 0, table_size);
    }
    int ok = o->ok;
    pthread_mutex_unlock(&o->mu);
    if (ok)
        return table;
    snprintf(err, n, "%s", o->why);
    return NULL;
}
