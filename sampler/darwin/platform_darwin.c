/*
 * macOS clocks, host facts and the sampling timer (sampler/platform.h).
 *
 * The clock: pm_mono_ns is mach_absolute_time converted to ns (the same
 * clock as CLOCK_UPTIME_RAW: monotonic, stops while the Mac sleeps, like
 * Linux CLOCK_MONOTONIC).  It is chosen because the kernel's own sources
 * speak it: the kqueue timer takes absolute deadlines in it
 * (NOTE_MACHTIME | NOTE_ABSOLUTE), and `log stream` stamps entries with it
 * (machTimestamp), so deadlines and event times need no second clock.
 *
 * The timer: kqueue EVFILT_TIMER with NOTE_MACHTIME | NOTE_ABSOLUTE (an
 * absolute timer is one-shot: it is re-armed with the next deadline after
 * each expiry) plus NOTE_CRITICAL, which asks for minimal timer
 * coalescing.  Deadlines are kept absolute (first + k * interval), so
 * lateness never accumulates; expirations that were slept through are
 * counted and reported, as timerfd does on Linux.
 */
#include <errno.h>
#include <libproc.h>
#include <mach/mach.h>
#include <mach/mach_time.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/event.h>
#include <sys/sysctl.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "darwin.h"
#include "sampler/platform.h"

static mach_timebase_info_data_t timebase;
static pthread_once_t timebase_once = PTHREAD_ONCE_INIT;

static void timebase_init(void)
{
    if (mach_timebase_info(&timebase) != KERN_SUCCESS || timebase.denom == 0) {
        timebase.numer = 1;
        timebase.denom = 1;
    }
}

int64_t pm_mach_to_ns(uint64_t mach)
{
    pthread_once(&timebase_once, timebase_init);
    /* Split to avoid overflowing mach * numer (125 on Apple Silicon). */
    uint64_t q = mach / timebase.denom, r = mach % timebase.denom;
    return (int64_t)(q * timebase.numer + r * timebase.numer / timebase.denom);
}

uint64_t pm_ns_to_mach(int64_t ns)
{
    pthread_once(&timebase_once, timebase_init);
    if (ns <= 0)
        return 0;
    uint64_t u = (uint64_t)ns;
    uint64_t q = u / timebase.numer, r = u % timebase.numer;
    return q * timebase.denom + r * timebase.denom / timebase.numer;
}

int64_t pm_mono_ns(void)
{
    return pm_mach_to_ns(mach_absolute_time());
}

int64_t pm_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t pm_self_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sysctl_str(const char *name, char *dst, size_t cap)
{
    size_t len = cap;
    if (sysctlbyname(name, dst, &len, NULL, 0) != 0 || len == 0)
        dst[0] = '\0';
    else
        dst[len < cap ? len : cap - 1] = '\0';
}

int pm_host_info(struct pm_host *h)
{
    memset(h, 0, sizeof(*h));
    if (gethostname(h->hostname, sizeof(h->hostname) - 1) != 0)
        pm_strlcpy(h->hostname, "unknown", sizeof(h->hostname));
    pm_strlcpy(h->os, "darwin", sizeof(h->os));
    sysctl_str("kern.osproductversion", h->os_version, sizeof(h->os_version));
    struct utsname u;
    if (uname(&u) == 0) {
        pm_strlcpy(h->kernel, u.release, sizeof(h->kernel));
        pm_strlcpy(h->arch, u.machine, sizeof(h->arch));
    }
    /* Under Rosetta uname says x86_64; the hardware is what matters for
     * page size and CPU figures. */
    int translated = 0;
    size_t len = sizeof(translated);
    if (sysctlbyname("sysctl.proc_translated", &translated, &len, NULL, 0) == 0 && translated)
        pm_strlcpy(h->arch, "arm64", sizeof(h->arch));
    int ncpu = 0;
    len = sizeof(ncpu);
    if (sysctlbyname("hw.logicalcpu", &ncpu, &len, NULL, 0) != 0)
        ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
    h->cpu_count = ncpu;
    int64_t mem = 0;
    len = sizeof(mem);
    if (sysctlbyname("hw.memsize", &mem, &len, NULL, 0) == 0)
        h->mem_total = mem;
    /* vm_kernel_page_size: the unit of every VM count; vm_page_size is the
     * 4 KiB user page size under Rosetta. */
    h->page_size = (int64_t)vm_kernel_page_size;
    sysctl_str("kern.bootsessionuuid", h->boot_id, sizeof(h->boot_id));
    if (!h->boot_id[0]) {
        struct timeval bt;
        len = sizeof(bt);
        if (sysctlbyname("kern.boottime", &bt, &len, NULL, 0) == 0)
            snprintf(h->boot_id, sizeof(h->boot_id), "boottime-%ld", (long)bt.tv_sec);
    }
    return 0;
}

int pm_pid_alive(pid_t pid)
{
    if (pid <= 0)
        return 0;
    return kill(pid, 0) == 0 || errno == EPERM;
}

void pm_proc_name(pid_t pid, char *out, size_t len)
{
    out[0] = '\0';
    if (pid <= 0 || len == 0)
        return;
    /* No snprintf: this runs in a signal handler (cli/record.c). */
    char name[2 * MAXCOMLEN + 1];
    if (proc_name(pid, name, sizeof(name)) > 0) {
        size_t n = strnlen(name, sizeof(name));
        if (n >= len)
            n = len - 1;
        memcpy(out, name, n);
        out[n] = '\0';
    }
}

int64_t pm_maxrss_kb(const struct rusage *ru)
{
    return (int64_t)ru->ru_maxrss / 1024; /* bytes */
}

int pm_si_sent_to_pid(int code)
{
    return code == SI_USER || code == SI_QUEUE;
}

int pm_become_subreaper(void)
{
    return 0; /* macOS has no subreaper: orphans go to launchd */
}

/* ---- timer ------------------------------------------------------------ */

enum { TIMER_ID = 1, WAKE_ID = 2 };

struct pm_timer {
    int kq;
    int64_t next;      /* next deadline, pm_mono_ns clock */
    int64_t interval;
    int armed;
};

static int arm(struct pm_timer *t)
{
    struct kevent64_s ev;
    EV_SET64(&ev, TIMER_ID, EVFILT_TIMER, EV_ADD | EV_ENABLE | EV_ONESHOT,
             NOTE_MACHTIME | NOTE_ABSOLUTE | NOTE_CRITICAL, (int64_t)pm_ns_to_mach(t->next), 0, 0, 0);
    if (kevent64(t->kq, &ev, 1, NULL, 0, 0, NULL) != 0)
        return -1;
    t->armed = 1;
    return 0;
}

struct pm_timer *pm_timer_open(int64_t first_deadline_ns, int64_t interval_ns)
{
    if (interval_ns <= 0) {
        errno = EINVAL;
        return NULL;
    }
    struct pm_timer *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->kq = kqueue();
    if (t->kq < 0) {
        free(t);
        return NULL;
    }
    t->next = first_deadline_ns;
    t->interval = interval_ns;
    struct kevent64_s ev;
    EV_SET64(&ev, WAKE_ID, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, 0, 0, 0);
    if (kevent64(t->kq, &ev, 1, NULL, 0, 0, NULL) != 0 || arm(t) != 0) {
        int e = errno;
        close(t->kq);
        free(t);
        errno = e;
        return NULL;
    }
    return t;
}

int64_t pm_timer_wait(struct pm_timer *t)
{
    for (;;) {
        if (!t->armed && arm(t) != 0)
            return -1;
        struct kevent64_s ev;
        int n = kevent64(t->kq, NULL, 0, &ev, 1, 0, NULL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            continue;
        if (ev.filter == EVFILT_USER)
            return 0;
        if (ev.filter != EVFILT_TIMER)
            continue;
        t->armed = 0;
        int64_t now = pm_mono_ns();
        if (now < t->next)
            continue; /* early wakeup: re-arm for the same deadline */
        int64_t expirations = 1 + (now - t->next) / t->interval;
        t->next += expirations * t->interval;
        return expirations;
    }
}

void pm_timer_wake(struct pm_timer *t)
{
    struct kevent64_s ev;
    EV_SET64(&ev, WAKE_ID, EVFILT_USER, 0, NOTE_TRIGGER, 0, 0, 0, 0);
    kevent64(t->kq, &ev, 1, NULL, 0, 0, NULL);
}

void pm_timer_close(struct pm_timer *t)
{
    if (!t)
        return;
    close(t->kq);
    free(t);
}
