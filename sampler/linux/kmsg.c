/*
 * OOM kills from /dev/kmsg (see kmsg.h): the record parser and the live,
 * non-blocking reader polled by the Linux event thread.
 */
#include "kmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- parser -------------------------------------------------------------- */

/* Unsigned decimal at *p (< end); advances *p.  0 if there is no digit. */
static int scan_num(const char **p, const char *end, int64_t *v)
{
    const char *q = *p;
    int64_t n = 0;
    while (q < end && *q >= '0' && *q <= '9') {
        if (n > (INT64_MAX - 9) / 10)
            return 0;
        n = n * 10 + (*q - '0');
        q++;
    }
    if (q == *p)
        return 0;
    *p = q;
    *v = n;
    return 1;
}

/* The value of "key" (e.g. "anon-rss:") as a number of kB, or -1. */
static int64_t find_kb(const char *m, size_t mlen, const char *key)
{
    const char *k = memmem(m, mlen, key, strlen(key));
    if (!k)
        return -1;
    const char *p = k + strlen(key);
    int64_t v;
    return scan_num(&p, m + mlen, &v) ? v : -1;
}

/* Copy the value of "key=" in a comma-separated list into out ("" if none). */
static void find_kv(const char *m, size_t mlen, const char *key, char *out, size_t cap)
{
    out[0] = '\0';
    size_t kl = strlen(key);
    for (const char *p = m, *end = m + mlen; p < end;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *fe = comma ? comma : end;
        if ((size_t)(fe - p) >= kl && memcmp(p, key, kl) == 0) {
            size_t n = (size_t)(fe - p) - kl;
            if (n >= cap)
                n = cap - 1;
            memcpy(out, p + kl, n);
            out[n] = '\0';
            return;
        }
        p = fe + 1;
    }
}

static int parse_constraint(const char *m, size_t mlen, struct pm_kmsg_rec *out)
{
    static const char tag[] = "oom-kill:";
    m += sizeof(tag) - 1;
    mlen -= sizeof(tag) - 1;
    char pid[16];
    find_kv(m, mlen, "pid=", pid, sizeof(pid));
    const char *p = pid;
    int64_t v;
    if (!scan_num(&p, pid + strlen(pid), &v) || *p || v <= 0 || v > INT32_MAX)
        return 0; /* unusable without the victim */
    out->kind = PM_KMSG_OOM_CONSTRAINT;
    out->pid = (pid_t)v;
    find_kv(m, mlen, "task=", out->comm, sizeof(out->comm));
    find_kv(m, mlen, "task_memcg=", out->memcg, sizeof(out->memcg));
    find_kv(m, mlen, "constraint=", out->constraint, sizeof(out->constraint));
    return 1;
}

static int parse_killed(const char *m, size_t mlen, const char *k, struct pm_kmsg_rec *out)
{
    static const char tag[] = "Killed process ";
    const char *end = m + mlen;
    const char *p = k + sizeof(tag) - 1;
    int64_t v;
    if (!scan_num(&p, end, &v) || v <= 0 || v > INT32_MAX || end - p < 3 || p[0] != ' ' || p[1] != '(')
        return 0;
    const char *c = p + 2;
    /* comm may hold ')' and spaces: it ends at the last ") total-vm:", or
     * at the last ')' on kernels that print nothing after it. */
    const char *ce = NULL;
    for (const char *q = c; q < end; q++)
        if (*q == ')')
            ce = q;
    const char *tv = NULL;
    for (const char *q = c; q + 11 <= end; q++)
        if (!memcmp(q, ") total-vm:", 11))
            tv = q;
    if (tv)
        ce = tv;
    if (!ce)
        return 0;
    size_t n = (size_t)(ce - c);
    if (n >= sizeof(out->comm))
        n = sizeof(out->comm) - 1;
    memcpy(out->comm, c, n);
    out->comm[n] = '\0';
    out->kind = PM_KMSG_OOM_KILLED;
    out->pid = (pid_t)v;
    out->memcg_oom = memmem(m, (size_t)(k - m), "Memory cgroup out of memory", 27) != NULL;
    size_t rest = (size_t)(end - ce);
    out->total_vm_kb = find_kb(ce, rest, "total-vm:");
    out->anon_rss_kb = find_kb(ce, rest, "anon-rss:");
    out->file_rss_kb = find_kb(ce, rest, "file-rss:");
    out->shmem_rss_kb = find_kb(ce, rest, "shmem-rss:");
    return 1;
}

int pm_kmsg_parse(const char *rec, size_t len, struct pm_kmsg_rec *out)
{
    memset(out, 0, sizeof(*out));
    out->total_vm_kb = out->anon_rss_kb = out->file_rss_kb = out->shmem_rss_kb = -1;
    const char *end = rec + len, *p = rec;
    int64_t prio, seq, ts;
    /* "prio,seq,ts_us,flags[,more];message" */
    if (!scan_num(&p, end, &prio) || p >= end || *p++ != ',')
        return -1;
    if (!scan_num(&p, end, &seq) || p >= end || *p++ != ',')
        return -1;
    if (!scan_num(&p, end, &ts) || p >= end || *p++ != ',')
        return -1;
    const char *semi = memchr(p, ';', (size_t)(end - p));
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!semi || (nl && nl < semi))
        return -1;
    out->seq = (uint64_t)seq;
    out->ts_us = ts;
    /* Root may write anything into /dev/kmsg (facility "user", prio >> 3
     * == 1): only the kernel's own records are believed. */
    if (prio >> 3 != 0)
        return 0;
    const char *m = semi + 1;
    const char *me = memchr(m, '\n', (size_t)(end - m));
    size_t mlen = (size_t)((me ? me : end) - m);
    if (mlen >= 9 && !memcmp(m, "oom-kill:", 9))
        return parse_constraint(m, mlen, out);
    const char *k = memmem(m, mlen, "Killed process ", 15);
    if (k)
        return parse_killed(m, mlen, k, out);
    return 0;
}

void pm_kmsg_to_rec(const struct pm_kmsg_rec *killed, const char *memcg, int64_t run_start_mono_ns,
                    int64_t now_mono_ns, struct pm_rec *out)
{
    memset(out, 0, sizeof(*out));
    out->type = PM_REC_EVENT;
    struct pm_event_rec *e = &out->u.ev;
    int64_t ts = killed->ts_us * 1000;
    if (ts < now_mono_ns - 5000000000LL || ts > now_mono_ns + 5000000000LL)
        ts = now_mono_ns;
    e->t_ns = ts - run_start_mono_ns;
    e->kind = PM_EV_OOM_KILL;
    e->pid = killed->pid;
    e->signal = SIGKILL;
    int n = snprintf(e->detail, sizeof(e->detail), "kernel OOM killer (kmsg%s); victim %.31s anon-rss %lld kB total-vm %lld kB",
                     killed->memcg_oom ? ", memory cgroup limit" : "", killed->comm,
                     (long long)killed->anon_rss_kb, (long long)killed->total_vm_kb);
    if (memcg && *memcg && n > 0 && (size_t)n < sizeof(e->detail))
        snprintf(e->detail + n, sizeof(e->detail) - (size_t)n, "; cgroup %s", memcg);
}

/* ---- live source ------------------------------------------------------------ */

struct pm_kmsg {
    int fd;
    int64_t lost;
    /* The constraint record precedes its "Killed process": keep the last one. */
    pid_t last_pid;
    char last_memcg[96];
    char buf[8192]; /* a kmsg record is at most ~1 KiB plus dictionary */
};

struct pm_kmsg *pm_kmsg_open(char *why, size_t whylen)
{
    int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        char restrict_note[64] = "";
        FILE *f = fopen("/proc/sys/kernel/dmesg_restrict", "re");
        if (f) {
            int v;
            if (e == EPERM && fscanf(f, "%d", &v) == 1 && v)
                snprintf(restrict_note, sizeof(restrict_note), " (kernel.dmesg_restrict=1 needs CAP_SYSLOG)");
            fclose(f);
        }
        snprintf(why, whylen, "/dev/kmsg: %s%s", strerror(e), restrict_note);
        return NULL;
    }
    /* Only what happens from now on: old OOM kills belong to other runs. */
    if (lseek(fd, 0, SEEK_END) < 0) {
        snprintf(why, whylen, "/dev/kmsg: seek to end: %s", strerror(errno));
        close(fd);
        return NULL;
    }
    struct pm_kmsg *k = calloc(1, sizeof(*k));
    if (!k) {
        close(fd);
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    k->fd = fd;
    return k;
}

int pm_kmsg_fd(const struct pm_kmsg *k)
{
    return k ? k->fd : -1;
}

int pm_kmsg_drain(struct pm_kmsg *k, int64_t run_start_mono_ns, struct pm_ring *out)
{
    int pushed = 0;
    for (;;) {
        ssize_t n = read(k->fd, k->buf, sizeof(k->buf));
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return pushed;
            if (errno == EPIPE) { /* overwritten before we read them: go on */
                k->lost++;
                continue;
            }
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            return pushed;
        struct pm_kmsg_rec r;
        if (pm_kmsg_parse(k->buf, (size_t)n, &r) != 1)
            continue;
        if (r.kind == PM_KMSG_OOM_CONSTRAINT) {
            k->last_pid = r.pid;
            pm_strlcpy(k->last_memcg, r.memcg, sizeof(k->last_memcg));
            continue;
        }
        struct pm_rec *rec = pm_ring_reserve(out);
        if (!rec)
            continue;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        pm_kmsg_to_rec(&r, r.pid == k->last_pid ? k->last_memcg : NULL, run_start_mono_ns, now, rec);
        pm_ring_commit(out);
        pushed++;
    }
}

int64_t pm_kmsg_lost(const struct pm_kmsg *k)
{
    return k ? k->lost : 0;
}

void pm_kmsg_close(struct pm_kmsg *k)
{
    if (!k)
        return;
    close(k->fd);
    free(k);
}
