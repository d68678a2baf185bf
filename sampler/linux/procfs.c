/*
 * Parsers for the Linux /proc and /sys files pressmon samples (contract in
 * procfs.h).  They run on the sampling thread at up to 100 Hz, so each one
 * makes a single forward pass over the bytes: lines are found with memchr,
 * keys are told apart by length and first byte before any memcmp, and
 * nothing allocates, does I/O or consults the locale.
 *
 * Input is never assumed to be NUL-terminated; every read checks `end`.
 *
 * Truncation policy (a pread into a too-small buffer, or a test feeding a
 * cut file): a number is trusted only when a whitespace byte follows it
 * inside the buffer.  A number that runs into the end of the input may have
 * been cut ("1234" of "123456"), so the field it belongs to is treated as
 * missing; a record whose required numbers are cut (a PSI line, statm,
 * /proc/PID/stat before rss) is dropped as a whole.  Records with a
 * variable number of fields (/proc/stat cpu lines) and strings (the
 * cgroup path) need their '\n', since a cut right after a space or inside
 * a path looks complete.  Files whose whole
 * content is one value (pm_parse_int) are the exception: nothing can follow
 * the number, so the complete input is the complete value.  A final line
 * whose value is followed by a space or unit ("MemTotal: 12 kB" with no
 * newline) is accepted.
 *
 * Counters are unsigned in the kernel; a '-' or any other non-digit where a
 * counter should be makes that field missing rather than guessed.  Values
 * past INT64_MAX saturate at INT64_MAX (and sums saturate too), without
 * signed overflow.
 */
#include "sampler/linux/procfs.h"

#include <string.h>

/* Kernel output separates fields with spaces and ends lines with '\n'; '\t'
 * and '\r' are tolerated so hand-edited or CRLF-mangled input still parses. */
static int is_ws(char c)
{
    return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int64_t sat_add(int64_t a, int64_t b)
{
    /* Both operands are >= 0 here: everything summed is a parsed counter. */
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static const char *skip_blank(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static const char *line_end(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl : end;
}

/* Start of the next line; stays at `end` so no pointer goes past it. */
static const char *next_line(const char *le, const char *end)
{
    return le < end ? le + 1 : end;
}

/*
 * Unsigned decimal at *pp.  Returns 1 and advances *pp past the digits when
 * at least one digit is there AND a whitespace byte follows inside the
 * buffer (the truncation policy above); 0 otherwise.  Saturates.
 */
static int scan_u64(const char **pp, const char *end, int64_t *v)
{
    const char *p = *pp;
    uint64_t acc = 0;
    int sat = 0;
    if (p >= end || !is_digit(*p))
        return 0;
    while (p < end && is_digit(*p)) {
        unsigned d = (unsigned)(*p - '0');
        if (!sat) {
            if (acc > ((uint64_t)INT64_MAX - d) / 10)
                sat = 1;
            else
                acc = acc * 10 + d;
        }
        p++;
    }
    if (p >= end || !is_ws(*p))
        return 0;
    *pp = p;
    *v = sat ? INT64_MAX : (int64_t)acc;
    return 1;
}

/* Like scan_u64 but accepts a leading '-' (fields the kernel prints with
 * %d/%ld); saturates at INT64_MIN/INT64_MAX. */
static int scan_i64(const char **pp, const char *end, int64_t *v)
{
    const char *p = *pp;
    int neg = 0;
    int64_t u;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    if (!scan_u64(&p, end, &u))
        return 0;
    /* -INT64_MAX is representable; a saturated magnitude maps to INT64_MIN. */
    *v = neg ? (u == INT64_MAX ? INT64_MIN : -u) : u;
    *pp = p;
    return 1;
}

/*
 * Fixed-point "12.34" scaled by 10^scale (scale 2: 12.34 -> 1234).  The
 * kernel prints PSI averages and load averages as "%lu.%02lu"; extra
 * fraction digits are truncated, missing ones are zero.  Same termination
 * rule as scan_u64.
 */
static int scan_fixed(const char **pp, const char *end, int scale, int64_t *v)
{
    const char *p = *pp;
    int64_t ip = 0, frac = 0, mul = 1;
    int fd = 0, any = 0;
    uint64_t acc = 0;
    int sat = 0;
    for (int i = 0; i < scale; i++)
        mul *= 10;
    while (p < end && is_digit(*p)) {
        unsigned d = (unsigned)(*p - '0');
        if (!sat) {
            if (acc > ((uint64_t)INT64_MAX - d) / 10)
                sat = 1;
            else
                acc = acc * 10 + d;
        }
        p++;
        any = 1;
    }
    ip = sat ? INT64_MAX : (int64_t)acc;
    if (p < end && *p == '.') {
        p++;
        while (p < end && is_digit(*p)) {
            if (fd < scale) {
                frac = frac * 10 + (*p - '0');
                fd++;
            }
            p++;
            any = 1;
        }
    }
    if (!any || p >= end || !is_ws(*p))
        return 0;
    for (; fd < scale; fd++)
        frac *= 10;
    *v = ip > (INT64_MAX - frac) / mul ? INT64_MAX : ip * mul + frac;
    *pp = p;
    return 1;
}

static int key_is(const char *k, size_t klen, const char *lit, size_t litlen)
{
    return klen == litlen && memcmp(k, lit, litlen) == 0;
}
#define KEY_IS(k, klen, lit) key_is((k), (klen), (lit), sizeof(lit) - 1)

/* ------------------------------------------------------------------ meminfo */

struct mi_key {
    const char *name;
    unsigned char len, idx;
};
#define MI(n, i) { n, sizeof(n) - 1, i }
static const struct mi_key mi_keys[] = {
    MI("MemTotal", PM_MI_TOTAL),         MI("MemFree", PM_MI_FREE),
    MI("MemAvailable", PM_MI_AVAILABLE), MI("Buffers", PM_MI_BUFFERS),
    MI("Cached", PM_MI_CACHED),          MI("AnonPages", PM_MI_ANON),
    MI("Dirty", PM_MI_DIRTY),            MI("Unevictable", PM_MI_UNEVICTABLE),
    MI("Mlocked", PM_MI_MLOCKED),        MI("SwapTotal", PM_MI_SWAP_TOTAL),
    MI("SwapFree", PM_MI_SWAP_FREE),     MI("Zswap", PM_MI_ZSWAP),
    MI("Shmem", PM_MI_SHMEM),
};
#undef MI

int pm_parse_meminfo(const char *buf, size_t len, struct pm_meminfo *out)
{
    const char *p = buf, *end = buf + len;
    memset(out, 0, sizeof *out);
    while (p < end) {
        const char *le = line_end(p, end);
        const char *colon = memchr(p, ':', (size_t)(le - p));
        if (colon) {
            size_t klen = (size_t)(colon - p);
            for (size_t i = 0; i < sizeof mi_keys / sizeof mi_keys[0]; i++) {
                const struct mi_key *k = &mi_keys[i];
                if (k->len != klen || k->name[0] != p[0] || memcmp(k->name, p, klen) != 0)
                    continue;
                /* Scan to `end`, not `le`: the byte after the number may be
                 * the line's '\n', which is the terminator we want to see. */
                const char *q = skip_blank(colon + 1, le);
                int64_t v;
                if (scan_u64(&q, end, &v)) {
                    out->kb[k->idx] = v;
                    out->present |= 1u << k->idx;
                }
                break;
            }
        }
        p = next_line(le, end);
    }
    return (out->present & (1u << PM_MI_TOTAL)) ? 0 : -1;
}

/* ------------------------------------------------------------------- vmstat */

/*
 * Which summed counter a vmstat key feeds.  Reclaim names changed over time:
 *   <= 4.7  per-zone pgscan_kswapd_normal, pgsteal_direct_dma32, ...
 *   >= 4.8  node-wide pgscan_kswapd / pgscan_direct (+ _khugepaged in 6.x)
 *   allocstall: single `allocstall` until 4.7, allocstall_<zone> after
 *   workingset_refault: single until 5.8, _anon/_file from 5.9
 * Deliberately not summed: pgscan_direct_throttle (counts throttling events,
 * not pages), pgscan_anon/_file (the same pages split another way: double
 * counting) and pgscan/pgsteal_proactive (reclaim asked for by a userspace
 * agent through memory.reclaim, which is not memory pressure).
 */
static int reclaim_source(const char *k, size_t n)
{
    /* k starts after "pgscan_" or "pgsteal_". */
    if (n >= 6 && memcmp(k, "kswapd", 6) == 0)
        return n == 6 || k[6] == '_';
    if (n >= 6 && memcmp(k, "direct", 6) == 0) {
        if (KEY_IS(k, n, "direct_throttle"))
            return 0;
        return n == 6 || k[6] == '_';
    }
    return KEY_IS(k, n, "khugepaged");
}

static int vmstat_index(const char *k, size_t n, int *sum)
{
    *sum = 0;
    switch (k[0]) {
    case 'p':
        if (KEY_IS(k, n, "pgfault"))
            return PM_VM_PGFAULT;
        if (KEY_IS(k, n, "pgmajfault"))
            return PM_VM_PGMAJFAULT;
        if (KEY_IS(k, n, "pswpin"))
            return PM_VM_PSWPIN;
        if (KEY_IS(k, n, "pswpout"))
            return PM_VM_PSWPOUT;
        if (KEY_IS(k, n, "pgpgin"))
            return PM_VM_PGPGIN;
        if (KEY_IS(k, n, "pgpgout"))
            return PM_VM_PGPGOUT;
        if (n > 7 && memcmp(k, "pgscan_", 7) == 0 && reclaim_source(k + 7, n - 7)) {
            *sum = 1;
            return PM_VM_PGSCAN;
        }
        if (n > 8 && memcmp(k, "pgsteal_", 8) == 0 && reclaim_source(k + 8, n - 8)) {
            *sum = 1;
            return PM_VM_PGSTEAL;
        }
        return -1;
    case 'a':
        if (n >= 10 && memcmp(k, "allocstall", 10) == 0 && (n == 10 || k[10] == '_')) {
            *sum = 1;
            return PM_VM_ALLOCSTALL;
        }
        return -1;
    case 'w':
        if (KEY_IS(k, n, "workingset_refault") || KEY_IS(k, n, "workingset_refault_anon") ||
            KEY_IS(k, n, "workingset_refault_file")) {
            *sum = 1;
            return PM_VM_REFAULT;
        }
        return -1;
    case 'o':
        return KEY_IS(k, n, "oom_kill") ? PM_VM_OOM_KILL : -1;
    default:
        return -1; /* nr_*, numa_*, thp_*, ...: the bulk of the file */
    }
}

int pm_parse_vmstat(const char *buf, size_t len, struct pm_vmstat *out)
{
    const char *p = buf, *end = buf + len;
    memset(out, 0, sizeof *out);
    while (p < end) {
        const char *le = line_end(p, end);
        const char *sp = memchr(p, ' ', (size_t)(le - p));
        if (sp && sp > p) {
            int sum, idx = vmstat_index(p, (size_t)(sp - p), &sum);
            const char *q = skip_blank(sp, le);
            int64_t v;
            if (idx >= 0 && scan_u64(&q, end, &v)) {
                out->v[idx] = sum ? sat_add(out->v[idx], v) : v;
                out->present |= 1u << idx;
            }
        }
        p = next_line(le, end);
    }
    return out->present ? 0 : -1;
}

/* --------------------------------------------------------------------- stat */

/* Columns after "cpuN": user nice system idle [iowait irq softirq (2.6.0)]
 * [steal (2.6.11)] [guest (2.6.24)] [guest_nice (2.6.33)].  Fewer than the
 * four 2.4-era columns is not a cpu line. */
static int parse_cpu_cols(const char *p, const char *le, const char *end, struct pm_cpu_times *t)
{
    int64_t col[10] = {0};
    int n = 0;
    for (;;) {
        p = skip_blank(p, le);
        if (p >= le)
            break;
        if (n == 10) /* a future column: ignore the rest of the line */
            break;
        if (!scan_u64(&p, end, &col[n]))
            return -1;
        n++;
    }
    if (n < 4)
        return -1;
    t->user = col[0];
    t->nice = col[1];
    t->system = col[2];
    t->idle = col[3];
    t->iowait = col[4];
    t->irq = col[5];
    t->softirq = col[6];
    t->steal = col[7];
    t->guest = col[8];
    t->guest_nice = col[9];
    return 0;
}

int pm_parse_stat(const char *buf, size_t len, struct pm_stat *out, struct pm_cpu_times *cpus,
                  int cpus_cap)
{
    const char *p = buf, *end = buf + len;
    int have_total = 0;
    memset(out, 0, sizeof *out);
    while (p < end) {
        const char *le = line_end(p, end);
        size_t n = (size_t)(le - p);
        /* The column count varies by kernel, so only the '\n' proves a cpu
         * line complete: "cpu  1 2 3 4 " could be a 10-column line cut
         * after a space.  A cpu line at the end of the input is dropped. */
        if (n >= 4 && p[0] == 'c' && p[1] == 'p' && p[2] == 'u' && le < end) {
            if (p[3] == ' ') {
                if (parse_cpu_cols(p + 3, le, end, &out->total) == 0)
                    have_total = 1;
            } else if (is_digit(p[3])) {
                const char *q = p + 3;
                struct pm_cpu_times t;
                while (q < le && is_digit(*q))
                    q++;
                if (q < le && *q == ' ' && parse_cpu_cols(q, le, end, &t) == 0) {
                    if (cpus && out->ncpu < cpus_cap)
                        cpus[out->ncpu++] = t;
                    if (out->ncpu_seen < INT32_MAX)
                        out->ncpu_seen++;
                }
            }
        } else if (n > 5 && (p[0] == 'c' || p[0] == 'p')) {
            const char *sp = memchr(p, ' ', n);
            if (sp) {
                size_t kl = (size_t)(sp - p);
                int64_t *dst = NULL;
                uint32_t bit = 0;
                if (KEY_IS(p, kl, "ctxt"))
                    dst = &out->ctxt, bit = PM_ST_CTXT;
                else if (KEY_IS(p, kl, "processes"))
                    dst = &out->processes, bit = PM_ST_PROCESSES;
                else if (KEY_IS(p, kl, "procs_running"))
                    dst = &out->procs_running, bit = PM_ST_RUNNING;
                else if (KEY_IS(p, kl, "procs_blocked"))
                    dst = &out->procs_blocked, bit = PM_ST_BLOCKED;
                const char *q = skip_blank(sp, le);
                if (dst && scan_u64(&q, end, dst))
                    out->present |= bit;
            }
        }
        /* Everything else (intr with thousands of columns, softirq, btime)
         * is skipped by the memchr above without looking at its bytes. */
        p = next_line(le, end);
    }
    return have_total ? 0 : -1;
}

/* ------------------------------------------------------------------ loadavg */

int pm_parse_loadavg(const char *buf, size_t len, struct pm_loadavg *out)
{
    const char *p = buf, *end = buf + len;
    int64_t *loads[3] = {&out->load1_milli, &out->load5_milli, &out->load15_milli};
    memset(out, 0, sizeof *out);
    for (int i = 0; i < 3; i++) {
        p = skip_blank(p, end);
        if (!scan_fixed(&p, end, 3, loads[i])) {
            memset(out, 0, sizeof *out);
            return -1;
        }
    }
    /* "runnable/threads last_pid": kept when complete, 0 otherwise (the
     * three averages are what makes the line usable). */
    p = skip_blank(p, end);
    int64_t r = 0, t = 0;
    const char *q = p;
    uint64_t acc = 0;
    while (q < end && is_digit(*q) && acc < (uint64_t)INT64_MAX / 10)
        acc = acc * 10 + (uint64_t)(*q++ - '0');
    if (q > p && q < end && *q == '/') {
        r = (int64_t)acc;
        q++;
        if (scan_u64(&q, end, &t)) {
            out->runnable = r;
            out->threads = t;
            q = skip_blank(q, end);
            scan_u64(&q, end, &out->last_pid);
        }
    }
    return 0;
}

/* --------------------------------------------------------------------- PSI */

/* "some avg10=0.07 avg60=0.04 avg300=0.14 total=2609160": fields found by
 * name so a reordering would not misassign them; the line counts only when
 * all four are complete. */
static void parse_psi_line(const char *p, const char *le, const char *end, struct pm_psi_line *l)
{
    struct pm_psi_line t = {0};
    unsigned got = 0;
    while (p < le) {
        p = skip_blank(p, le);
        const char *eq = p;
        while (eq < le && *eq != '=' && *eq != ' ')
            eq++;
        if (eq >= le || *eq != '=') {
            p = eq;
            continue;
        }
        size_t kl = (size_t)(eq - p);
        const char *v = eq + 1;
        int ok = 0;
        if (KEY_IS(p, kl, "avg10"))
            ok = scan_fixed(&v, end, 2, &t.avg10_c), got |= ok ? 1 : 0;
        else if (KEY_IS(p, kl, "avg60"))
            ok = scan_fixed(&v, end, 2, &t.avg60_c), got |= ok ? 2 : 0;
        else if (KEY_IS(p, kl, "avg300"))
            ok = scan_fixed(&v, end, 2, &t.avg300_c), got |= ok ? 4 : 0;
        else if (KEY_IS(p, kl, "total"))
            ok = scan_u64(&v, end, &t.total_us), got |= ok ? 8 : 0;
        if (!ok) { /* skip the unknown or broken token */
            v = eq + 1;
            while (v < le && *v != ' ')
                v++;
        }
        p = v;
    }
    if (got == 15) {
        t.present = 1;
        *l = t;
    }
}

int pm_parse_psi(const char *buf, size_t len, struct pm_psi *out)
{
    const char *p = buf, *end = buf + len;
    memset(out, 0, sizeof *out);
    while (p < end) {
        const char *le = line_end(p, end);
        size_t n = (size_t)(le - p);
        if (n > 5 && p[4] == ' ') {
            if (memcmp(p, "some", 4) == 0)
                parse_psi_line(p + 5, le, end, &out->some);
            else if (memcmp(p, "full", 4) == 0)
                parse_psi_line(p + 5, le, end, &out->full);
        }
        p = next_line(le, end);
    }
    return out->some.present ? 0 : -1;
}

/* ------------------------------------------------------------ /proc/PID/... */

int pm_parse_pid_stat(const char *buf, size_t len, struct pm_pid_stat *out)
{
    const char *end = buf + len, *p = buf;
    const char *lp, *rp;
    memset(out, 0, sizeof *out);
    if (len == 0)
        return -1;

    /* comm is printed unescaped: it may hold spaces, '(' , ')' and even
     * newlines.  Nothing after it is a ')', so the last one closes it. */
    lp = memchr(buf, '(', len);
    if (!lp)
        return -1;
    for (rp = end; rp > lp && rp[-1] != ')'; rp--)
        ;
    if (rp == lp)
        return -1;
    rp--; /* at the ')' */

    if (!scan_u64(&p, end, &out->pid) || p + 1 != lp || *p != ' ')
        goto bad;
    size_t cl = (size_t)(rp - lp - 1);
    if (cl >= sizeof out->comm)
        cl = sizeof out->comm - 1;
    memcpy(out->comm, lp + 1, cl);
    out->comm[cl] = '\0';

    p = rp + 1;
    if (end - p < 3 || p[0] != ' ' || !((p[1] >= 'A' && p[1] <= 'Z') || (p[1] >= 'a' && p[1] <= 'z')) ||
        p[2] != ' ')
        goto bad;
    out->state = p[1];
    p += 2;

    /* Field numbers as in proc(5); the struct keeps these, the rest are
     * checked to be numbers and skipped.  Kept fields are non-negative in
     * the kernel; skipped ones may be signed (tpgid -1, nice, priority). */
    int64_t *keep[25] = {0};
    keep[4] = &out->ppid;
    keep[5] = &out->pgrp;
    keep[6] = &out->session;
    keep[10] = &out->minflt;
    keep[12] = &out->majflt;
    keep[14] = &out->utime;
    keep[15] = &out->stime;
    keep[20] = &out->num_threads;
    keep[22] = &out->starttime;
    keep[23] = &out->vsize;
    keep[24] = &out->rss;
    for (int f = 4; f <= 24; f++) {
        int64_t v;
        if (p >= end || *p != ' ')
            goto bad;
        p++;
        if (keep[f] ? !scan_u64(&p, end, keep[f]) : !scan_i64(&p, end, &v))
            goto bad;
    }
    return 0;
bad:
    memset(out, 0, sizeof *out);
    return -1;
}

int pm_parse_pid_statm(const char *buf, size_t len, struct pm_pid_statm *out)
{
    const char *p = buf, *end = buf + len;
    memset(out, 0, sizeof *out);
    if (scan_u64(&p, end, &out->size) && p < end && *p++ == ' ' &&
        scan_u64(&p, end, &out->resident) && p < end && *p++ == ' ' &&
        scan_u64(&p, end, &out->shared))
        return 0;
    memset(out, 0, sizeof *out);
    return -1;
}

int pm_parse_pid_schedstat(const char *buf, size_t len, int64_t *run_ns)
{
    const char *p = buf, *end = buf + len;
    int64_t wait, slices;
    if (scan_u64(&p, end, run_ns) && p < end && *p++ == ' ' && scan_u64(&p, end, &wait) && p < end &&
        *p++ == ' ' && scan_u64(&p, end, &slices) && *p == '\n')
        return 0;
    *run_ns = 0;
    return -1;
}

int pm_parse_pid_io(const char *buf, size_t len, struct pm_pid_io *out)
{
    const char *p = buf, *end = buf + len;
    memset(out, 0, sizeof *out);
    while (p < end) {
        const char *le = line_end(p, end);
        const char *colon = memchr(p, ':', (size_t)(le - p));
        if (colon) {
            size_t kl = (size_t)(colon - p);
            int64_t *dst = NULL;
            uint32_t bit = 0;
            if (KEY_IS(p, kl, "rchar"))
                dst = &out->rchar, bit = PM_IO_RCHAR;
            else if (KEY_IS(p, kl, "wchar"))
                dst = &out->wchar, bit = PM_IO_WCHAR;
            else if (KEY_IS(p, kl, "read_bytes"))
                dst = &out->read_bytes, bit = PM_IO_READ;
            else if (KEY_IS(p, kl, "write_bytes"))
                dst = &out->write_bytes, bit = PM_IO_WRITE;
            else if (KEY_IS(p, kl, "cancelled_write_bytes"))
                dst = &out->cancelled_write_bytes, bit = PM_IO_CANCELLED;
            const char *q = skip_blank(colon + 1, le);
            if (dst && scan_u64(&q, end, dst))
                out->present |= bit;
        }
        p = next_line(le, end);
    }
    return out->present ? 0 : -1;
}

size_t pm_parse_cmdline(const char *buf, size_t len, char *out, size_t cap)
{
    /* Trailing NULs are the terminator of the last argument, or padding
     * left by a process that rewrote its argv (setproctitle): drop them
     * all and add exactly one. */
    while (len > 0 && buf[len - 1] == '\0')
        len--;
    if (cap == 0)
        return 0;
    size_t k = len < cap - 1 ? len : cap - 1;
    memcpy(out, buf, k);
    while (k > 0 && out[k - 1] == '\0') /* the cap fell right after an argument */
        k--;
    out[k] = '\0';
    return k ? k + 1 : 0;
}

int pm_parse_cgroup_v2(const char *buf, size_t len, char *out, size_t cap)
{
    const char *p = buf, *end = buf + len;
    if (cap > 0)
        out[0] = '\0';
    while (p < end) {
        const char *le = line_end(p, end);
        size_t n = (size_t)(le - p);
        /* v2 is "0::PATH"; a path running into the end of the input may be
         * cut and would name some other cgroup, so it needs its '\n'.  A
         * path that does not fit `cap` is refused for the same reason. */
        if (n > 3 && p[0] == '0' && p[1] == ':' && p[2] == ':') {
            size_t pl = n - 3;
            if (le == end || pl >= cap)
                return -1;
            memcpy(out, p + 3, pl);
            out[pl] = '\0';
            return 0;
        }
        p = next_line(le, end);
    }
    return -1;
}

/* ----------------------------------------------------------- single values */

int pm_parse_int(const char *buf, size_t len, int64_t *v)
{
    const char *p = buf, *end = buf + len;
    int neg = 0;
    uint64_t acc = 0, lim;
    int sat = 0;
    while (p < end && is_ws(*p))
        p++;
    if (p < end && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    if (p >= end || !is_digit(*p))
        return -1;
    /* Thermal zones can read below zero, so a sign is allowed here. */
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    while (p < end && is_digit(*p)) {
        unsigned d = (unsigned)(*p - '0');
        if (!sat) {
            if (acc > (lim - d) / 10)
                sat = 1;
            else
                acc = acc * 10 + d;
        }
        p++;
    }
    while (p < end && is_ws(*p))
        p++;
    if (p != end) /* "max", "123abc", a second line: not one integer */
        return -1;
    if (sat)
        acc = lim;
    if (neg)
        *v = acc > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)acc;
    else
        *v = (int64_t)acc;
    return 0;
}

int pm_parse_cg_limit(const char *buf, size_t len, int64_t *bytes)
{
    const char *p = buf, *end = buf + len;
    while (p < end && is_ws(*p))
        p++;
    if (end - p >= 3 && !memcmp(p, "max", 3)) {
        p += 3;
        while (p < end && is_ws(*p))
            p++;
        return p == end ? 1 : -1;
    }
    int64_t v;
    if (pm_parse_int(buf, len, &v) != 0 || v < 0)
        return -1;
    if (v >= (INT64_C(1) << 62))
        return 1;
    *bytes = v;
    return 0;
}

int pm_parse_keyed(const char *buf, size_t len, const char *key, int64_t *v)
{
    const char *p = buf, *end = buf + len;
    size_t kl = strlen(key);
    if (kl == 0)
        return -1;
    while (p < end) {
        const char *le = line_end(p, end);
        if ((size_t)(le - p) > kl && p[kl] == ' ' && memcmp(p, key, kl) == 0) {
            const char *q = skip_blank(p + kl, le);
            int64_t t;
            if (scan_u64(&q, end, &t)) {
                *v = t;
                return 0;
            }
            return -1;
        }
        p = next_line(le, end);
    }
    return -1;
}

/* ---------------------------------------------------------- cooling devices */

int pm_cooling_type_is_cpu(const char *buf, size_t len)
{
    while (len > 0 && is_ws(buf[len - 1]))
        len--;
    static const char *const exact[] = {"Processor", "intel_powerclamp"};
    static const char *const prefix[] = {"cpufreq-", "thermal-cpufreq-", "idle-", "thermal-idle-"};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (len == strlen(exact[i]) && memcmp(buf, exact[i], len) == 0)
            return 1;
    for (size_t i = 0; i < sizeof prefix / sizeof prefix[0]; i++) {
        size_t pl = strlen(prefix[i]);
        if (len > pl && memcmp(buf, prefix[i], pl) == 0)
            return 1;
    }
    return 0;
}

int pm_parse_cooling_pct(const char *buf, size_t len, int64_t max_state, int64_t *pct)
{
    int64_t cur;
    if (max_state <= 0 || pm_parse_int(buf, len, &cur) != 0)
        return -1;
    if (cur <= 0)
        *pct = 0;
    else if (cur >= max_state)
        *pct = 100;
    else /* in double: cur * 100 could overflow for a huge max_state */
        *pct = (int64_t)((double)cur * 100.0 / (double)max_state + 0.5);
    return 0;
}
