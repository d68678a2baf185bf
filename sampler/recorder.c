/*
 * The recorder's threads (see recorder.h).
 */
#include "recorder.h"

#include "killbook.h"
#include "../analysis/stats.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Ring sizes: the writer may stall for seconds when 8-10 recorders share a
 * database (busy waits, checkpoints); 16k records hold 16 s at 1 kHz. */
#define RING_SAMPLER 16384
#define RING_EVENT 8192
#define RING_MAIN 1024

/* Lateness histogram: exact microseconds below 1024 µs, then 64 steps per
 * power of two (<1.6% error) up to ~1 s; p50/p99 come from it. */
#define LAT_LINEAR 1024
#define LAT_BUCKETS (LAT_LINEAR + 64 * 11)

/* An exit whose process row is not written yet waits this many commits
 * (its start may still be in another ring). */
#define PENDING_MAX 1024
#define PENDING_TRIES 4

struct pending_exit {
    struct pm_proc_exit_rec rec;
    int tries;
};

struct pm_recorder {
    struct pm_recorder_opts o;
    struct pm_ring ring_sampler, ring_event, ring_main;
    struct pm_timer *timer;
    pthread_t th_sampler, th_event, th_writer;
    int started_sampler, started_event, started_writer;
    _Atomic int stop_sampler, stop_event, stop_writer;

    /* live status, written by the sampler thread */
    _Atomic int64_t st_samples, st_t_ns, st_avail, st_level, st_psi, st_missed;
    _Atomic int64_t gaps;

    /* writer state */
    int64_t samples, proc_samples;   /* system/process samples received from the rings */
    int64_t samples_stored;          /* system samples committed */
    int64_t tx_samples, tx_recs;     /* put in the open transaction: lost if it rolls back */
    struct pm_rate_win psi_win;      /* memory PSI over >= 100 ms windows (stats.h) */
    uint32_t lat_hist[LAT_BUCKETS];
    int64_t late_max;
    int db_failed;
    char db_error[512];
    int64_t min_avail, min_level, max_psi;
    int64_t max_cg_cur, min_cg_max; /* cgroup memory peak and lowest limit, KiB */
    int64_t lost_writes;
    struct pending_exit pending[PENDING_MAX];
    int npending;
    int64_t prev_sys_t;
    pthread_mutex_t wlock;     /* with wcond: lets stop wake the writer at once */
    pthread_cond_t wcond;
    struct pm_killbook *kb;    /* kill attribution: holds exits and kill events */
};

/* ---- sampler thread --------------------------------------------------- */

static void push_gap(struct pm_recorder *r, int64_t t_ns, int64_t missed)
{
    struct pm_rec *rec = pm_ring_reserve(&r->ring_sampler);
    if (!rec)
        return;
    memset(&rec->u.ev, 0, sizeof(rec->u.ev));
    rec->type = PM_REC_EVENT;
    rec->u.ev.t_ns = t_ns;
    rec->u.ev.kind = PM_EV_SAMPLER_GAP;
    /* snprintf into a fixed buffer does not allocate for these formats */
    snprintf(rec->u.ev.detail, sizeof(rec->u.ev.detail), "missed %lld ticks (%.1f ms without a sample)",
             (long long)missed, (double)(missed * r->o.interval_ns) / 1e6);
    pm_ring_commit(&r->ring_sampler);
}

static void take_sample(struct pm_recorder *r, int64_t now, int64_t deadline, int with_tree, int last)
{
    int64_t t_ns = now - r->o.t0;
    struct pm_rec *rec = pm_ring_reserve(&r->ring_sampler);
    if (rec) {
        rec->type = PM_REC_SYS;
        struct pm_sys_rec *s = &rec->u.sys;
        /* The deadline paces the slow sources (platform.h); the last
         * sample reads them all so the run's totals reach its end. */
        pm_sys_read(r->o.sys, deadline - r->o.t0, last, s);
        s->t_ns = t_ns;
        s->late_ns = now > deadline ? now - deadline : 0;
        int64_t avail = (s->present >> PM_M_MEM_AVAILABLE) & 1 ? s->v[PM_M_MEM_AVAILABLE] : -1;
        int64_t level = (s->present >> PM_M_MEM_LEVEL) & 1 ? s->v[PM_M_MEM_LEVEL] : -1;
        int64_t psi = -1;
        int64_t prev_t = atomic_load_explicit(&r->st_t_ns, memory_order_relaxed);
        if (((s->present >> PM_M_PSI_MEM_SOME) & 1) && t_ns > prev_t)
            psi = s->v[PM_M_PSI_MEM_SOME] * 1000 * 1000 / (t_ns - prev_t);
        pm_ring_commit(&r->ring_sampler);
        atomic_store_explicit(&r->st_avail, avail, memory_order_relaxed);
        atomic_store_explicit(&r->st_level, level, memory_order_relaxed);
        atomic_store_explicit(&r->st_psi, psi, memory_order_relaxed);
    }
    atomic_store_explicit(&r->st_t_ns, t_ns, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->st_samples, 1, memory_order_relaxed);
    if (with_tree && r->o.tree)
        pm_tree_sample(r->o.tree, t_ns, &r->ring_sampler);
}

static void *sampler_main(void *arg)
{
    struct pm_recorder *r = arg;
    int64_t ratio = r->o.proc_interval_ns / r->o.interval_ns;
    if (ratio < 1)
        ratio = 1;
    int64_t k = -1; /* index of the tick just taken, 0 = the deadline t0 */
    while (!atomic_load(&r->stop_sampler)) {
        int64_t exp = pm_timer_wait(r->timer);
        if (exp < 0)
            break;
        if (exp == 0)
            continue; /* woken: the loop condition decides */
        int64_t now = pm_mono_ns();
        k += exp;
        if (exp > 1) {
            atomic_fetch_add(&r->st_missed, exp - 1);
            if (exp - 1 >= r->o.gap_ticks) {
                atomic_fetch_add(&r->gaps, 1);
                push_gap(r, now - r->o.t0, exp - 1);
            }
        }
        int64_t deadline = r->o.t0 + k * r->o.interval_ns;
        /* The tree is sampled on the ticks that cross a proc interval. */
        int tree_tick = (k % ratio) == 0 || exp > ratio;
        take_sample(r, now, deadline, tree_tick, 0);
    }
    /* The last sample, at exit (DESIGN: first sample at t=0, last at exit). */
    int64_t now = pm_mono_ns();
    take_sample(r, now, now, 1, 1);
    return NULL;
}

/* ---- event thread ------------------------------------------------------ */

static void *event_main(void *arg)
{
    struct pm_recorder *r = arg;
    while (!atomic_load(&r->stop_event))
        pm_tree_events(r->o.tree, &r->ring_event, 250);
    /* Exits that happened just before the stop are still in the socket:
     * the kernel queues a process's exit message (and any signal or OOM
     * line about it) before its parent can reap it, and the stop comes
     * after the root was reaped, so one pass that does not wait reads
     * them all (each source is read until EAGAIN). */
    pm_tree_events(r->o.tree, &r->ring_event, 0);
    return NULL;
}

/* ---- writer thread ----------------------------------------------------- */

static int lat_bucket(int64_t us)
{
    if (us < 0)
        us = 0;
    if (us < LAT_LINEAR)
        return (int)us;
    int lg = 63 - __builtin_clzll((unsigned long long)us); /* >= 10 */
    if (lg > 20)
        return LAT_BUCKETS - 1;
    int sub = (int)((us >> (lg - 6)) & 63);
    return LAT_LINEAR + (lg - 10) * 64 + sub;
}

static int64_t lat_bucket_value(int b)
{
    if (b < LAT_LINEAR)
        return b;
    int lg = (b - LAT_LINEAR) / 64 + 10, sub = (b - LAT_LINEAR) % 64;
    return ((int64_t)1 << lg) + ((int64_t)sub << (lg - 6));
}

static int64_t lat_quantile(const struct pm_recorder *r, double q)
{
    uint64_t total = 0;
    for (int i = 0; i < LAT_BUCKETS; i++)
        total += r->lat_hist[i];
    if (total == 0)
        return 0;
    uint64_t want = (uint64_t)(q * (double)(total - 1)) + 1, seen = 0;
    for (int i = 0; i < LAT_BUCKETS; i++) {
        seen += r->lat_hist[i];
        if (seen >= want)
            return lat_bucket_value(i) * 1000;
    }
    return r->late_max;
}

static void db_fail(struct pm_recorder *r)
{
    if (!r->db_failed) {
        snprintf(r->db_error, sizeof(r->db_error), "%s", pm_store_errmsg(r->o.store));
        if (!r->o.quiet)
            fprintf(stderr,
                    "pressmon: cannot write to the database: %s; the command keeps running and its "
                    "exit status is kept, but samples from now on may be lost\n",
                    r->db_error);
    }
    r->db_failed = 1;
}

static void note_extremes(struct pm_recorder *r, const struct pm_sys_rec *s, int64_t prev_t)
{
    if ((s->present >> PM_M_MEM_AVAILABLE) & 1)
        if (r->min_avail < 0 || s->v[PM_M_MEM_AVAILABLE] < r->min_avail)
            r->min_avail = s->v[PM_M_MEM_AVAILABLE];
    if ((s->present >> PM_M_MEM_LEVEL) & 1)
        if (r->min_level < 0 || s->v[PM_M_MEM_LEVEL] < r->min_level)
            r->min_level = s->v[PM_M_MEM_LEVEL];
    if ((s->present >> PM_M_CG_MEM_CURRENT) & 1)
        if (s->v[PM_M_CG_MEM_CURRENT] > r->max_cg_cur)
            r->max_cg_cur = s->v[PM_M_CG_MEM_CURRENT];
    if ((s->present >> PM_M_CG_MEM_MAX) & 1)
        if (r->min_cg_max < 0 || s->v[PM_M_CG_MEM_MAX] < r->min_cg_max)
            r->min_cg_max = s->v[PM_M_CG_MEM_MAX];
    double rate;
    if (((s->present >> PM_M_PSI_MEM_SOME) & 1) &&
        pm_rate_win_add(&r->psi_win, prev_t, s->t_ns, (double)s->v[PM_M_PSI_MEM_SOME], &rate) &&
        (int64_t)(rate / 1000.0) > r->max_psi)
        r->max_psi = (int64_t)(rate / 1000.0); /* µs per s -> per mille */
}

/* Store one record; returns -1 on a database error. */
static int store_rec(struct pm_recorder *r, const struct pm_rec *rec, int64_t *prev_sys_t)
{
    struct pm_store *st = r->o.store;
    switch (rec->type) {
    case PM_REC_SYS:
        note_extremes(r, &rec->u.sys, *prev_sys_t);
        *prev_sys_t = rec->u.sys.t_ns;
        r->lat_hist[lat_bucket(rec->u.sys.late_ns / 1000)]++;
        if (rec->u.sys.late_ns > r->late_max)
            r->late_max = rec->u.sys.late_ns;
        r->samples++;
        if (r->o.on_sample)
            r->o.on_sample(r->o.on_sample_ctx, &rec->u.sys);
        if (pm_store_put_sys(st, r->o.run_id, &rec->u.sys) < 0)
            return -1;
        r->tx_samples++;
        return 0;
    case PM_REC_PROC_START:
        return pm_store_put_proc_start(st, r->o.run_id, &rec->u.start);
    case PM_REC_PROC_SAMPLE:
        r->proc_samples++;
        return pm_store_put_proc_sample(st, r->o.run_id, &rec->u.ps);
    case PM_REC_PROC_EXIT: {
        int changed = 0;
        if (pm_store_put_proc_exit(st, r->o.run_id, &rec->u.exit, &changed) < 0)
            return -1;
        if (!changed && r->npending < PENDING_MAX)
            r->pending[r->npending++] = (struct pending_exit){rec->u.exit, 0};
        return 0;
    }
    case PM_REC_EVENT:
        if (rec->u.ev.kind == PM_EV_FORWARD)
            return 0; /* the killbook's note (without a killbook: nothing to note) */
        if (pm_store_put_event(st, r->o.run_id, &rec->u.ev) < 0)
            return -1;
        if (r->o.on_kill && pm_event_is_kill(rec->u.ev.kind)) {
            char comm[PM_COMM_MAX] = "";
            pm_store_proc_comm(st, r->o.run_id, rec->u.ev.pid, comm, sizeof(comm));
            r->o.on_kill(r->o.on_kill_ctx, &rec->u.ev, comm);
        }
        return 0;
    default:
        return 0;
    }
}

/* Exits whose process row had not been written: retry, and after a few
 * commits (or at the end) write the row from the exit alone. */
static void retry_pending(struct pm_recorder *r, int final)
{
    int kept = 0;
    for (int i = 0; i < r->npending; i++) {
        struct pending_exit *p = &r->pending[i];
        int changed = 0;
        if (pm_store_put_proc_exit(r->o.store, r->o.run_id, &p->rec, &changed) < 0)
            continue;
        if (changed)
            continue;
        if (final || ++p->tries >= PENDING_TRIES) {
            struct pm_proc_start_rec s = {.t_ns = p->rec.t_ns, .pid = p->rec.pid, .start_ns = INT64_MIN};
            if (pm_store_put_proc_start(r->o.store, r->o.run_id, &s) == 0)
                pm_store_put_proc_exit(r->o.store, r->o.run_id, &p->rec, &changed);
            continue;
        }
        r->pending[kept++] = *p;
    }
    r->npending = kept;
}

/* Records lost so far: dropped by a full ring, or not committed. */
static int64_t dropped_so_far(struct pm_recorder *r)
{
    return (int64_t)(atomic_load(&r->ring_sampler.dropped) + atomic_load(&r->ring_event.dropped) +
                     atomic_load(&r->ring_main.dropped)) +
           r->lost_writes;
}

/* One writer cycle: everything in the rings, in one transaction. */
static void drain(struct pm_recorder *r, int final)
{
    struct pm_rec rec;
    /* Without a run row nothing can be stored (pm_recorder_set_run). */
    int have_run = r->o.run_id > 0;
    if (!have_run && !r->db_failed) {
        r->db_failed = 1;
        snprintf(r->db_error, sizeof(r->db_error), "the run's row was not written");
    }
    int in_tx = have_run && (!r->db_failed || final) ? pm_store_begin(r->o.store) == 0 : 0;
    if (!in_tx && !r->db_failed)
        db_fail(r);
    int ok = in_tx;
    /* Event ring first: it holds process starts that samples and exits of
     * the other rings refer to. */
    struct pm_ring *rings[] = {&r->ring_event, &r->ring_sampler, &r->ring_main};
    for (size_t i = 0; i < sizeof(rings) / sizeof(rings[0]); i++) {
        while (pm_ring_pop(rings[i], &rec)) {
            if (!ok) {
                r->lost_writes++;
                if (rec.type == PM_REC_SYS)
                    r->samples++;
                continue;
            }
            /* Kill events and exits go through the killbook, which keeps
             * the tree's and fills in who killed whom (killbook.h). */
            if (r->kb && rec.type == PM_REC_PROC_START)
                pm_killbook_note_start(r->kb, &rec.u.start);
            if (r->kb && rec.type == PM_REC_SYS && ((rec.u.sys.present >> PM_M_VM_OOM_KILL) & 1))
                pm_killbook_note_oom_count(r->kb, rec.u.sys.t_ns, rec.u.sys.v[PM_M_VM_OOM_KILL]);
            if (r->kb && pm_killbook_wants(&rec)) {
                pm_killbook_put(r->kb, &rec, pm_mono_ns() - r->o.t0);
                continue;
            }
            if (store_rec(r, &rec, &r->prev_sys_t) < 0) {
                db_fail(r);
                ok = 0;
                r->lost_writes++;
            } else {
                r->tx_recs++;
            }
        }
    }
    while (r->kb && pm_killbook_take(r->kb, pm_mono_ns() - r->o.t0, final, &rec)) {
        if (ok && store_rec(r, &rec, &r->prev_sys_t) < 0) {
            db_fail(r);
            ok = 0;
        } else if (ok) {
            r->tx_recs++;
        }
        if (!ok)
            r->lost_writes++;
    }
    if (ok)
        retry_pending(r, final);
    /* The run's counts go in the transaction of the rows they count,
     * committed with them or not at all: runs.samples_stored is the rows
     * of `samples` even when the disk fills and the run's last update
     * (pm_store_run_end) cannot be written (the counts of a progress
     * update every 2 s lagged the rows committed after it: 2,228 samples
     * "taken" for 2,477 rows).  An aborted run still shows its counts. */
    if (ok && pm_store_run_progress(r->o.store, r->o.run_id, r->samples, r->samples_stored + r->tx_samples,
                                    r->proc_samples, atomic_load(&r->st_missed), dropped_so_far(r)) < 0) {
        db_fail(r);
        ok = 0;
    }
    if (in_tx) {
        if (ok && pm_store_commit(r->o.store) == 0) {
            /* recovered after a failure: say nothing more, count what was lost */
            r->samples_stored += r->tx_samples;
        } else {
            if (ok)
                db_fail(r);
            pm_store_rollback(r->o.store);
            /* What this transaction had put is gone with it: counted as
             * lost, so that samples - samples_stored is what `samples`
             * lacks (a full disk lost whole 250 ms batches, counted as
             * one record each before). */
            r->lost_writes += r->tx_recs;
        }
    }
    r->tx_samples = r->tx_recs = 0;
}

static void *writer_main(void *arg)
{
    struct pm_recorder *r = arg;
    pthread_mutex_lock(&r->wlock);
    while (!atomic_load(&r->stop_writer)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + r->o.commit_ns;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        /* woken early only by pm_recorder_stop */
        pthread_cond_timedwait(&r->wcond, &r->wlock, &ts);
        if (atomic_load(&r->stop_writer))
            break;
        if (r->o.run_id == 0)
            continue; /* the row is being written: the rings hold the records */
        pthread_mutex_unlock(&r->wlock);
        drain(r, 0);
        pthread_mutex_lock(&r->wlock);
    }
    pthread_mutex_unlock(&r->wlock);
    return NULL;
}

/* ---- lifecycle ---------------------------------------------------------- */

struct pm_recorder *pm_recorder_start(const struct pm_recorder_opts *o, char *err, size_t errlen)
{
    struct pm_recorder *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->o = *o;
    pthread_mutex_init(&r->wlock, NULL);
    pthread_cond_init(&r->wcond, NULL);
    if (r->o.commit_ns <= 0)
        r->o.commit_ns = 250000000;
    if (r->o.gap_ticks <= 0)
        r->o.gap_ticks = 5;
    r->min_avail = r->min_level = r->max_psi = -1;
    r->max_cg_cur = r->min_cg_max = -1;
    pm_rate_win_init(&r->psi_win, PM_RATE_WINDOW_NS);
    atomic_init(&r->st_avail, -1);
    atomic_init(&r->st_level, -1);
    atomic_init(&r->st_psi, -1);
    r->kb = pm_killbook_new(PM_KILLBOOK_HOLD_NS);
    if (r->kb && o->root_pid > 0) {
        /* record.c writes the root's row itself: tell the killbook. */
        struct pm_proc_start_rec root = {.pid = o->root_pid, .start_ns = 0};
        pm_killbook_note_start(r->kb, &root);
    }
    if (pm_ring_init(&r->ring_sampler, RING_SAMPLER) || pm_ring_init(&r->ring_event, RING_EVENT) ||
        pm_ring_init(&r->ring_main, RING_MAIN)) {
        snprintf(err, errlen, "out of memory for the sample queues");
        goto fail;
    }
    r->timer = pm_timer_open(o->t0, o->interval_ns);
    if (!r->timer) {
        snprintf(err, errlen, "cannot create the sampling timer: %s", strerror(errno));
        goto fail;
    }
    /* Threads inherit the caller's signal mask: the main thread blocks the
     * signals it handles before calling us. */
    if (pthread_create(&r->th_writer, NULL, writer_main, r) != 0)
        goto thread_fail;
    r->started_writer = 1;
    if (o->tree) {
        if (pthread_create(&r->th_event, NULL, event_main, r) != 0)
            goto thread_fail;
        r->started_event = 1;
    }
    if (pthread_create(&r->th_sampler, NULL, sampler_main, r) != 0)
        goto thread_fail;
    r->started_sampler = 1;
    return r;
thread_fail:
    snprintf(err, errlen, "cannot start the recorder threads: %s", strerror(errno));
    {
        struct pm_recorder_result ignored;
        pm_recorder_stop(r, &ignored);
    }
    return NULL;
fail:
    pm_timer_close(r->timer);
    pm_ring_free(&r->ring_sampler);
    pm_ring_free(&r->ring_event);
    pm_ring_free(&r->ring_main);
    pm_killbook_free(r->kb);
    free(r);
    return NULL;
}

void pm_recorder_set_run(struct pm_recorder *r, int64_t run_id, const char *why)
{
    pthread_mutex_lock(&r->wlock);
    if (run_id > 0) {
        r->o.run_id = run_id;
    } else {
        r->o.run_id = -1;
        r->db_failed = 1;
        snprintf(r->db_error, sizeof(r->db_error), "%s", why ? why : "the run's row was not written");
    }
    pthread_mutex_unlock(&r->wlock);
}

struct pm_ring *pm_recorder_main_ring(struct pm_recorder *r)
{
    return &r->ring_main;
}

void pm_recorder_status(struct pm_recorder *r, struct pm_live_status *s)
{
    s->samples = atomic_load_explicit(&r->st_samples, memory_order_relaxed);
    s->t_ns = atomic_load_explicit(&r->st_t_ns, memory_order_relaxed);
    s->mem_available_kb = atomic_load_explicit(&r->st_avail, memory_order_relaxed);
    s->mem_level_pct = atomic_load_explicit(&r->st_level, memory_order_relaxed);
    s->psi_mem_some_pm = atomic_load_explicit(&r->st_psi, memory_order_relaxed);
    s->missed_ticks = atomic_load_explicit(&r->st_missed, memory_order_relaxed);
}

void pm_recorder_stop(struct pm_recorder *r, struct pm_recorder_result *res)
{
    memset(res, 0, sizeof(*res));
    if (r->started_sampler) {
        atomic_store(&r->stop_sampler, 1);
        pm_timer_wake(r->timer);
        pthread_join(r->th_sampler, NULL);
    }
    if (r->started_event) {
        atomic_store(&r->stop_event, 1);
        pm_tree_wake(r->o.tree);
        pthread_join(r->th_event, NULL);
    }
    if (r->started_writer) {
        pthread_mutex_lock(&r->wlock);
        atomic_store(&r->stop_writer, 1);
        pthread_cond_signal(&r->wcond);
        pthread_mutex_unlock(&r->wlock);
        pthread_join(r->th_writer, NULL);
    }
    drain(r, 1);
    {
        double rate; /* a run shorter than one window: its one rate */
        if (pm_rate_win_finish(&r->psi_win, r->prev_sys_t, &rate) && (int64_t)(rate / 1000.0) > r->max_psi)
            r->max_psi = (int64_t)(rate / 1000.0);
    }
    /* Taken: every tick the sampler thread sampled (stopped and joined by
     * now), including those its full queue dropped before the writer saw
     * them. */
    res->samples = atomic_load(&r->st_samples);
    if (res->samples < r->samples)
        res->samples = r->samples;
    res->samples_stored = r->samples_stored;
    res->proc_samples = r->proc_samples;
    res->missed_ticks = atomic_load(&r->st_missed);
    res->gaps = atomic_load(&r->gaps);
    res->dropped = dropped_so_far(r);
    res->late_p50_ns = lat_quantile(r, 0.50);
    res->late_p99_ns = lat_quantile(r, 0.99);
    res->late_max_ns = r->late_max;
    res->last_t_ns = atomic_load(&r->st_t_ns);
    res->db_failed = r->db_failed;
    snprintf(res->db_error, sizeof(res->db_error), "%s", r->db_error);
    res->min_mem_available_kb = r->min_avail;
    res->min_mem_level_pct = r->min_level;
    res->max_psi_mem_some_pm = r->max_psi;
    res->max_cg_mem_current_kb = r->max_cg_cur;
    res->min_cg_mem_max_kb = r->min_cg_max;
    pm_timer_close(r->timer);
    pm_ring_free(&r->ring_sampler);
    pm_ring_free(&r->ring_event);
    pm_ring_free(&r->ring_main);
    pm_killbook_free(r->kb);
    free(r);
}
