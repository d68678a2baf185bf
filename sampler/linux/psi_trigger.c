/*
 * Memory PSI triggers as `pressure` events (see psi_trigger.h).
 */
#include "psi_trigger.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PSI_FILE "/proc/pressure/memory"

int pm_psi_spec_parse(const char *s, struct pm_psi_spec *out, char *why, size_t whylen)
{
    char kind[8];
    long long stall, window;
    int used = 0;
    if (!s || sscanf(s, "%7s %lld %lld %n", kind, &stall, &window, &used) != 3 || s[used] != '\0') {
        snprintf(why, whylen, "PSI trigger '%s': want \"some|full STALL_US WINDOW_US\"", s ? s : "");
        return -1;
    }
    if (strcmp(kind, "some") && strcmp(kind, "full")) {
        snprintf(why, whylen, "PSI trigger '%s': the kind is some or full", s);
        return -1;
    }
    /* The kernel's limits (kernel/sched/psi.c): window 500 ms..10 s, the
     * threshold not above the window. */
    if (window < 500000 || window > 10000000) {
        snprintf(why, whylen, "PSI trigger '%s': the window must be 500000..10000000 us", s);
        return -1;
    }
    if (stall <= 0 || stall > window) {
        snprintf(why, whylen, "PSI trigger '%s': the stall must be 1..WINDOW us", s);
        return -1;
    }
    out->full = kind[0] == 'f';
    out->stall_us = stall;
    out->window_us = window;
    return 0;
}

void pm_psi_event_detail(const struct pm_psi_spec *sp, const struct pm_psi *now, const struct pm_psi *prev,
                         char *out, size_t cap)
{
    const struct pm_psi_line *n = sp->full ? &now->full : &now->some;
    const struct pm_psi_line *p = sp->full ? &prev->full : &prev->some;
    int len = snprintf(out, cap, "memory %s stall >= %lld ms in %.1f s", sp->full ? "full" : "some",
                       (long long)(sp->stall_us / 1000), (double)sp->window_us / 1e6);
    if (len < 0 || (size_t)len >= cap || !n->present)
        return;
    len += snprintf(out + len, cap - (size_t)len, "; avg10 %lld.%02lld%%", (long long)(n->avg10_c / 100),
                    (long long)(n->avg10_c % 100));
    if ((size_t)len < cap && p->present && n->total_us >= p->total_us)
        snprintf(out + len, cap - (size_t)len, "; +%lld ms stalled since the last event",
                 (long long)((n->total_us - p->total_us) / 1000));
}

struct pm_psi_trig {
    int fd;      /* the trigger */
    int read_fd; /* the same file, for the values when it fires */
    struct pm_psi_spec spec;
    struct pm_psi prev;
    char buf[512];
};

static int read_psi(struct pm_psi_trig *p, struct pm_psi *out)
{
    memset(out, 0, sizeof(*out));
    ssize_t n = pread(p->read_fd, p->buf, sizeof(p->buf), 0);
    return n > 0 ? pm_parse_psi(p->buf, (size_t)n, out) : -1;
}

struct pm_psi_trig *pm_psi_trig_open(const char *spec, char *why, size_t whylen)
{
    struct pm_psi_spec sp;
    if (pm_psi_spec_parse(spec, &sp, why, whylen) != 0)
        return NULL;
    int fd = open(PSI_FILE, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, whylen, "%s: %s%s", PSI_FILE, strerror(errno),
                 errno == ENOENT ? " (PSI needs Linux >= 4.20 with psi=1)" : "");
        return NULL;
    }
    /* The kernel wants the terminating NUL written too. */
    if (write(fd, spec, strlen(spec) + 1) < 0) {
        int e = errno;
        /* Without CAP_SYS_RESOURCE (even as root, in some sandboxes) the
         * kernel refuses other windows with EINVAL (6.5+) or EPERM. */
        int short_window = sp.window_us % 2000000 != 0;
        snprintf(why, whylen, "%s trigger '%s': %s%s", PSI_FILE, spec, strerror(e),
                 short_window && (e == EPERM || e == EACCES || e == EINVAL)
                     ? " (windows that are not a multiple of 2 s need CAP_SYS_RESOURCE)"
                     : "");
        close(fd);
        return NULL;
    }
    struct pm_psi_trig *p = calloc(1, sizeof(*p));
    if (!p) {
        close(fd);
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    p->fd = fd;
    p->spec = sp;
    p->read_fd = open(PSI_FILE, O_RDONLY | O_CLOEXEC);
    if (p->read_fd >= 0)
        read_psi(p, &p->prev);
    return p;
}

int pm_psi_trig_fd(const struct pm_psi_trig *p)
{
    return p ? p->fd : -1;
}

int pm_psi_trig_fire(struct pm_psi_trig *p, int64_t run_start_mono_ns, struct pm_ring *out)
{
    struct pm_psi now;
    if (p->read_fd < 0 || read_psi(p, &now) != 0)
        memset(&now, 0, sizeof(now));
    struct pm_rec *r = pm_ring_reserve(out);
    if (!r)
        return 0;
    memset(r, 0, sizeof(*r));
    r->type = PM_REC_EVENT;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    r->u.ev.t_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - run_start_mono_ns;
    r->u.ev.kind = PM_EV_PRESSURE;
    pm_psi_event_detail(&p->spec, &now, &p->prev, r->u.ev.detail, sizeof(r->u.ev.detail));
    pm_ring_commit(out);
    if (now.some.present)
        p->prev = now;
    return 1;
}

int pm_psi_trig_release(struct pm_psi_trig *p)
{
    if (!p)
        return -1;
    int fd = p->fd;
    if (p->read_fd >= 0)
        close(p->read_fd);
    free(p);
    return fd;
}

void pm_psi_trig_close(struct pm_psi_trig *p)
{
    int fd = pm_psi_trig_release(p);
    if (fd >= 0)
        close(fd);
}
