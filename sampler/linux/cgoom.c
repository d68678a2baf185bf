/*
 * The run's memory-cgroup oom_kill counter (see cgoom.h).
 */
#include "cgoom.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"

/* Does the comma-separated list [p, e) hold `word`? */
static int has_word(const char *p, const char *e, const char *word)
{
    size_t wl = strlen(word);
    while (p < e) {
        const char *c = memchr(p, ',', (size_t)(e - p));
        const char *fe = c ? c : e;
        if ((size_t)(fe - p) == wl && !memcmp(p, word, wl))
            return 1;
        p = fe + 1;
    }
    return 0;
}

/* Split a line into space-separated fields (at most max). */
static int fields(const char *p, const char *e, const char **f, size_t *fl, int max)
{
    int n = 0;
    while (p < e && n < max) {
        while (p < e && *p == ' ')
            p++;
        if (p >= e)
            break;
        const char *s = p;
        while (p < e && *p != ' ')
            p++;
        f[n] = s;
        fl[n] = (size_t)(p - s);
        n++;
    }
    return n;
}

/* Mount point and root of the v1 memory hierarchy (v1 = 1) or of cgroup2. */
static int find_mount(const char *mi, size_t mlen, int v1, char *mnt, size_t mcap, char *root, size_t rcap)
{
    for (const char *p = mi, *end = mi + mlen; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *f[32];
        size_t fl[32];
        int n = fields(p, le, f, fl, 32);
        p = le + 1;
        /* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
        int dash = -1;
        for (int i = 6; i < n; i++)
            if (fl[i] == 1 && f[i][0] == '-') {
                dash = i;
                break;
            }
        if (dash < 0 || dash + 3 >= n + 1 || dash + 1 >= n)
            continue;
        const char *fs = f[dash + 1];
        size_t fsl = fl[dash + 1];
        int match = v1 ? (fsl == 6 && !memcmp(fs, "cgroup", 6) && dash + 3 < n &&
                          has_word(f[dash + 3], f[dash + 3] + fl[dash + 3], "memory"))
                       : (fsl == 7 && !memcmp(fs, "cgroup2", 7));
        if (!match)
            continue;
        snprintf(mnt, mcap, "%.*s", (int)fl[4], f[4]);
        snprintf(root, rcap, "%.*s", (int)fl[3], f[3]);
        return 0;
    }
    return -1;
}

/* The path of the v1 memory line (v1 = 1) or of the "0::" line. */
static int find_cgroup(const char *cg, size_t clen, int v1, char *out, size_t cap)
{
    for (const char *p = cg, *end = cg + clen; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *c1 = memchr(p, ':', (size_t)(le - p));
        const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(le - c1 - 1)) : NULL;
        if (c2) {
            int is_v2 = c1 - p == 1 && p[0] == '0' && c2 == c1 + 1;
            int hit = v1 ? has_word(c1 + 1, c2, "memory") : is_v2;
            if (hit && le > c2 + 1 && c2[1] == '/') {
                snprintf(out, cap, "%.*s", (int)(le - c2 - 1), c2 + 1);
                return 0;
            }
        }
        p = le + 1;
    }
    return -1;
}

int pm_cgroup_dir(const char *cgroup, size_t clen, const char *mountinfo, size_t mlen, int v1, char *out,
                  size_t cap, size_t *mnt_len)
{
    char path[512], mnt[512], root[512];
    if (find_cgroup(cgroup, clen, v1, path, sizeof(path)) != 0)
        return -1;
    if (find_mount(mountinfo, mlen, v1, mnt, sizeof(mnt), root, sizeof(root)) != 0)
        return -1;
    /* In a container the mount's root is a sub-cgroup: the process's
     * path is below it. */
    const char *rel = path;
    size_t rl = strlen(root);
    if (strcmp(root, "/") != 0) {
        if (strncmp(path, root, rl) != 0 || (path[rl] != '/' && path[rl] != '\0'))
            return -1;
        rel = path + rl;
    }
    if (!strcmp(rel, "/"))
        rel = "";
    int n = snprintf(out, cap, "%s%s", mnt, rel);
    if (n <= 0 || (size_t)n >= cap)
        return -1;
    if (mnt_len)
        *mnt_len = strlen(mnt);
    return 0;
}

int pm_cgoom_path(const char *cgroup, size_t clen, const char *mountinfo, size_t mlen, char *out, size_t cap)
{
    for (int v1 = 1; v1 >= 0; v1--) {
        char dir[1024];
        size_t ml;
        if (pm_cgroup_dir(cgroup, clen, mountinfo, mlen, v1, dir, sizeof(dir), &ml) != 0)
            continue;
        if (!v1 && strlen(dir) == ml)
            continue; /* the v2 root cgroup has no memory.events */
        int n = snprintf(out, cap, "%s/%s", dir, v1 ? "memory.oom_control" : "memory.events");
        return n > 0 && (size_t)n < cap ? 0 : -1;
    }
    return -1;
}

struct pm_cgoom {
    int fd;
    int64_t last;
    char file[1100];
    char buf[1024];
};

static ssize_t slurp(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t got = 0;
    ssize_t n;
    while (got < cap && (n = read(fd, buf + got, cap - got)) > 0)
        got += (size_t)n;
    close(fd);
    return (ssize_t)got;
}

static int read_count(struct pm_cgoom *c, int64_t *v)
{
    ssize_t n = pread(c->fd, c->buf, sizeof(c->buf), 0);
    return n > 0 ? pm_parse_keyed(c->buf, (size_t)n, "oom_kill", v) : -1;
}

struct pm_cgoom *pm_cgoom_open(pid_t pid, char *why, size_t whylen)
{
    return pm_cgoom_open_at("", pid, why, whylen);
}

struct pm_cgoom *pm_cgoom_open_at(const char *root, pid_t pid, char *why, size_t whylen)
{
    char path[600], file[600];
    static const size_t cap = 64 * 1024;
    char *cg = malloc(4096), *mi = malloc(cap);
    struct pm_cgoom *c = calloc(1, sizeof(*c));
    if (!cg || !mi || !c) {
        snprintf(why, whylen, "out of memory");
        goto fail;
    }
    c->fd = -1;
    snprintf(path, sizeof(path), "%s/proc/self/mountinfo", root);
    ssize_t mn = slurp(path, mi, cap);
    snprintf(path, sizeof(path), "%s/proc/%d/cgroup", root, (int)pid);
    ssize_t cn = slurp(path, cg, 4096);
    if (cn <= 0 || mn <= 0) {
        snprintf(why, whylen, "cannot read %s or /proc/self/mountinfo", path);
        goto fail;
    }
    int at_root = 0;
    if (pm_cgoom_path(cg, (size_t)cn, mi, (size_t)mn, file, sizeof(file)) != 0) {
        /* "0::/" is the root of the cgroup2 mount.  In a container with
         * its own cgroup namespace that is the container's cgroup, which
         * has a memory.events; the system's root cgroup has none, and the
         * open below fails there. */
        size_t ml;
        if (pm_cgroup_dir(cg, (size_t)cn, mi, (size_t)mn, 0, path, sizeof(path), &ml) != 0 || strlen(path) != ml ||
            snprintf(file, sizeof(file), "%s/memory.events", path) >= (int)sizeof(file)) {
            snprintf(why, whylen, "no memory cgroup with an oom_kill counter (no memory controller)");
            goto fail;
        }
        at_root = 1;
    }
    snprintf(c->file, sizeof(c->file), "%s%s", root, file);
    c->fd = open(c->file, O_RDONLY | O_CLOEXEC);
    if (c->fd < 0 && errno == ENOENT && at_root) {
        snprintf(why, whylen, "no memory cgroup with an oom_kill counter (the v2 root cgroup has no memory.events)");
        goto fail;
    }
    if (c->fd < 0 || read_count(c, &c->last) != 0) {
        snprintf(why, whylen, "%s: %s", c->file, c->fd < 0 ? strerror(errno) : "no oom_kill line");
        goto fail;
    }
    free(cg);
    free(mi);
    return c;
fail:
    free(cg);
    free(mi);
    pm_cgoom_close(c);
    return NULL;
}

const char *pm_cgoom_file(const struct pm_cgoom *c)
{
    return c->file;
}

int64_t pm_cgoom_check(struct pm_cgoom *c, int64_t run_start_mono_ns, struct pm_ring *out)
{
    int64_t v;
    if (read_count(c, &v) != 0 || v <= c->last)
        return 0;
    int64_t rise = v - c->last;
    c->last = v;
    struct pm_rec *r = pm_ring_reserve(out);
    if (!r)
        return rise;
    memset(r, 0, sizeof(*r));
    r->type = PM_REC_EVENT;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    r->u.ev.t_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - run_start_mono_ns;
    r->u.ev.kind = PM_EV_OOM_KILL;
    r->u.ev.signal = SIGKILL;
    snprintf(r->u.ev.detail, sizeof(r->u.ev.detail), "cgroup oom_kill +%lld (%.150s)", (long long)rise, c->file);
    pm_ring_commit(out);
    return rise;
}

void pm_cgoom_close(struct pm_cgoom *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}
