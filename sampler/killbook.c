/*
 * The killbook (see killbook.h): tree membership as the writer sees it,
 * held kill events and exits, and the decision of who killed whom.
 *
 * Membership is a pid-keyed open-addressing table of the latest incarnation
 * of each pid; a member covers [start - START_SLACK, exit + EXIT_SLACK] so
 * that a pid reused by a process outside the tree after the member's exit
 * is not mistaken for it.  Exited members older than FORGET_NS are dropped
 * when the table grows, so a long run with millions of short processes
 * stays bounded.
 */
#include "killbook.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A process may be signalled before pressmon sees it start (the /proc scan
 * fallback finds it up to one proc interval late), and the kernel stamps a
 * signal before the exit that pressmon observes. */
#define START_SLACK_NS (200LL * 1000 * 1000)
#define EXIT_SLACK_NS (50LL * 1000 * 1000)
#define FORGET_NS (30LL * 1000 * 1000 * 1000)
/* How close a rise of /proc/vmstat oom_kill must be to an unexplained
 * SIGKILL exit to call it "oom (vmstat)": one sample interval is 10 ms, but
 * the exit may be seen up to a writer batch later. */
#define OOM_COUNT_WINDOW_NS (1000LL * 1000 * 1000)
#define MAX_SIGS 4
#define OOM_TIMES 16
#define CG_RISES 16
/* A forward of pressmon's (cli/record.c) explains the kill events it sent
 * from its note's time until this much later (tracefs stamps the kill
 * microseconds after the note; a loaded machine may take longer). */
#define FWD_WINDOW_NS (1000LL * 1000 * 1000)
#define FWD_NOTES 8

struct sig_seen {
    int sig, code;
    int64_t t;
    pid_t sender;
    int sender_in_tree;
    char sender_comm[PM_COMM_MAX];
    pid_t forwarded_by;
};

/* pressmon forwarded `sig` at t, first sent by `sender` with si_code
 * `code`; the kill events it made name `by` as their sender. */
struct fwd_note {
    int64_t t;
    int sig, code;
    pid_t sender, by;
    char sender_comm[PM_COMM_MAX];
};

struct member {
    pid_t pid;                /* 0: empty slot */
    int64_t start_t, exit_t;  /* exit_t INT64_MAX while alive */
    int nsig;
    struct sig_seen sigs[MAX_SIGS];
    int has_oom;
    int64_t oom_t;
};

struct held {
    struct pm_rec rec;
    int64_t deadline;
    int attached;  /* an OOM event already counted, waiting for its victim's cgroup */
};

struct queue {
    struct held *v;
    size_t head, len, cap;
};

/* A rise of the run's cgroup oom_kill counter (an OOM_KILL event with no
 * pid, sampler/linux/cgoom.c): it names no victim; each unit explains one
 * SIGKILL exit of the tree near it in time. */
struct cg_rise {
    int64_t t;
    int64_t left;             /* kills not yet tied to a victim */
    char detail[PM_DETAIL_MAX];
};

struct pm_killbook {
    int64_t hold_ns;
    struct member *tab;
    size_t cap, used;         /* cap: power of two */
    struct queue held, ready;
    int64_t oom_t[OOM_TIMES]; /* recent times the oom_kill counter rose */
    int noom;
    struct cg_rise cg[CG_RISES];
    int ncg;
    struct fwd_note fwd[FWD_NOTES];
    int nfwd;
    /* Signals the kernel saw sent to pressmon itself (its tracefs events):
     * the sender's name when pressmon's own read of it came too late. */
    struct fwd_note to_self[FWD_NOTES];
    int nself;
    struct pm_killbook_stats st;
};

/* ---- queues -------------------------------------------------------------- */

static int q_push_a(struct queue *q, const struct pm_rec *r, int64_t deadline, int attached);

static int q_push(struct queue *q, const struct pm_rec *r, int64_t deadline)
{
    return q_push_a(q, r, deadline, 0);
}

static int q_push_a(struct queue *q, const struct pm_rec *r, int64_t deadline, int attached)
{
    if (q->head > 0 && q->head == q->len) {
        q->head = q->len = 0;
    }
    if (q->len == q->cap) {
        if (q->head > q->cap / 2) { /* compact before growing */
            memmove(q->v, q->v + q->head, (q->len - q->head) * sizeof(*q->v));
            q->len -= q->head;
            q->head = 0;
        } else {
            size_t nc = q->cap ? q->cap * 2 : 64;
            struct held *nv = realloc(q->v, nc * sizeof(*nv));
            if (!nv)
                return -1;
            q->v = nv;
            q->cap = nc;
        }
    }
    q->v[q->len].rec = *r;
    q->v[q->len].deadline = deadline;
    q->v[q->len].attached = attached;
    q->len++;
    return 0;
}

static size_t q_size(const struct queue *q)
{
    return q->len - q->head;
}

/* ---- membership table ------------------------------------------------------ */

static size_t slot_of(const struct pm_killbook *kb, pid_t pid)
{
    size_t h = (size_t)(uint32_t)pid * 2654435761u;
    size_t i = h & (kb->cap - 1);
    while (kb->tab[i].pid && kb->tab[i].pid != pid)
        i = (i + 1) & (kb->cap - 1);
    return i;
}

static struct member *lookup(const struct pm_killbook *kb, pid_t pid)
{
    if (pid <= 0)
        return NULL;
    size_t i = slot_of(kb, pid);
    return kb->tab[i].pid ? &kb->tab[i] : NULL;
}

/* Was `pid` a member of the tree at run time t? */
static struct member *member_at(const struct pm_killbook *kb, pid_t pid, int64_t t)
{
    struct member *m = lookup(kb, pid);
    if (!m)
        return NULL;
    if (t < m->start_t - START_SLACK_NS)
        return NULL;
    if (m->exit_t != INT64_MAX && t > m->exit_t + EXIT_SLACK_NS)
        return NULL;
    return m;
}

/* Rebuild at `ncap`, forgetting members that exited long before `now`. */
static int rehash(struct pm_killbook *kb, size_t ncap, int64_t now)
{
    struct member *old = kb->tab;
    size_t ocap = kb->cap;
    struct member *nt = calloc(ncap, sizeof(*nt));
    if (!nt)
        return -1;
    kb->tab = nt;
    kb->cap = ncap;
    kb->used = 0;
    for (size_t i = 0; i < ocap; i++) {
        const struct member *m = &old[i];
        if (!m->pid)
            continue;
        if (m->exit_t != INT64_MAX && m->exit_t + FORGET_NS < now)
            continue;
        kb->tab[slot_of(kb, m->pid)] = *m;
        kb->used++;
    }
    free(old);
    return 0;
}

static struct member *insert(struct pm_killbook *kb, pid_t pid, int64_t now)
{
    if ((kb->used + 1) * 2 > kb->cap) {
        /* First try to make room by forgetting; grow only if that is not
         * enough. */
        if (rehash(kb, kb->cap, now) != 0)
            return NULL;
        if ((kb->used + 1) * 2 > kb->cap && rehash(kb, kb->cap * 2, now) != 0)
            return NULL;
    }
    size_t i = slot_of(kb, pid);
    if (!kb->tab[i].pid)
        kb->used++;
    memset(&kb->tab[i], 0, sizeof(kb->tab[i]));
    kb->tab[i].pid = pid;
    return &kb->tab[i];
}

/* ---- public ---------------------------------------------------------------- */

struct pm_killbook *pm_killbook_new(int64_t hold_ns)
{
    struct pm_killbook *kb = calloc(1, sizeof(*kb));
    if (!kb)
        return NULL;
    kb->hold_ns = hold_ns;
    kb->cap = 256;
    kb->tab = calloc(kb->cap, sizeof(*kb->tab));
    if (!kb->tab) {
        free(kb);
        return NULL;
    }
    return kb;
}

void pm_killbook_free(struct pm_killbook *kb)
{
    if (!kb)
        return;
    free(kb->tab);
    free(kb->held.v);
    free(kb->ready.v);
    free(kb);
}

int pm_killbook_wants(const struct pm_rec *r)
{
    if (r->type == PM_REC_PROC_EXIT)
        return 1;
    return r->type == PM_REC_EVENT && (r->u.ev.kind == PM_EV_SIGNAL || r->u.ev.kind == PM_EV_OOM_KILL ||
                                       r->u.ev.kind == PM_EV_FORWARD);
}

void pm_killbook_note_start(struct pm_killbook *kb, const struct pm_proc_start_rec *s)
{
    struct member *m = lookup(kb, s->pid);
    int64_t t = s->t_ns;
    /* start_ns is when the process really began, if the platform knows;
     * INT64_MIN (or 0 from a zeroed record) means it does not. */
    if (s->start_ns != INT64_MIN && s->start_ns != 0 && s->start_ns < t)
        t = s->start_ns;
    if (m && (s->is_exec || m->exit_t == INT64_MAX))
        return; /* exec or a repeated report: same incarnation */
    m = insert(kb, s->pid, s->t_ns);
    if (!m)
        return;
    m->start_t = t;
    m->exit_t = INT64_MAX;
}

void pm_killbook_note_oom_count(struct pm_killbook *kb, int64_t t_ns, int64_t delta)
{
    if (delta <= 0)
        return;
    kb->oom_t[kb->noom % OOM_TIMES] = t_ns;
    kb->noom++;
}

void pm_killbook_put(struct pm_killbook *kb, const struct pm_rec *r, int64_t now_ns)
{
    if (!pm_killbook_wants(r))
        return;
    if (r->type == PM_REC_EVENT && r->u.ev.kind == PM_EV_SIGNAL && r->u.ev.pid == getpid() &&
        r->u.ev.sender_comm[0]) {
        /* To pressmon, not to the tree: kept for who sent it (kill(1) is
         * often gone before pressmon can read its name), then handled as
         * any other signal event. */
        struct fwd_note *f = &kb->to_self[kb->nself++ % FWD_NOTES];
        f->t = r->u.ev.t_ns;
        f->sig = r->u.ev.signal;
        f->sender = r->u.ev.sender_pid;
        pm_strlcpy(f->sender_comm, r->u.ev.sender_comm, sizeof(f->sender_comm));
    }
    if (r->type == PM_REC_EVENT && r->u.ev.kind == PM_EV_FORWARD) {
        /* A note, not an event: kept for attach, never stored. */
        struct fwd_note *f = &kb->fwd[kb->nfwd++ % FWD_NOTES];
        f->t = r->u.ev.t_ns;
        f->sig = r->u.ev.signal;
        f->code = 0;
        sscanf(r->u.ev.detail, "code=%d", &f->code);
        f->sender = r->u.ev.sender_pid;
        f->by = r->u.ev.forwarded_by;
        pm_strlcpy(f->sender_comm, r->u.ev.sender_comm, sizeof(f->sender_comm));
        return;
    }
    if (r->type == PM_REC_PROC_EXIT) {
        struct member *m = lookup(kb, r->u.exit.pid);
        if (m && m->exit_t == INT64_MAX)
            m->exit_t = r->u.exit.t_ns;
    } else if (r->u.ev.kind == PM_EV_OOM_KILL && r->u.ev.pid <= 0) {
        /* A counter rise: kept aside until an exit claims it (decide). */
        kb->st.events_in++;
        struct cg_rise *c = &kb->cg[kb->ncg++ % CG_RISES];
        if (kb->ncg > CG_RISES && c->left > 0)
            kb->st.events_dropped++;
        c->t = r->u.ev.t_ns;
        int64_t n = 1;
        const char *plus = strchr(r->u.ev.detail, '+');
        if (plus && sscanf(plus + 1, "%" SCNd64, &n) != 1)
            n = 1;
        c->left = n > 0 ? n : 1;
        pm_strlcpy(c->detail, r->u.ev.detail, sizeof(c->detail));
        return;
    } else {
        kb->st.events_in++;
    }
    q_push(&kb->held, r, now_ns + kb->hold_ns);
}

/* "code=N ..." at the start of a signal event's detail (tracefs.c). */
static int detail_code(const char *d, int *code)
{
    return sscanf(d, "code=%d", code) == 1 ? 0 : -1;
}

static const struct sig_seen *sig_for(const struct member *m, int sig)
{
    for (int i = 0; m && i < m->nsig; i++)
        if (m->sigs[i].sig == sig)
            return &m->sigs[i];
    return NULL;
}

/* The forward of pressmon's that sent this kill event, or NULL: the latest
 * note of its signal, from its sender, in the window. */
static const struct fwd_note *forward_of(const struct pm_killbook *kb, const struct pm_event_rec *e)
{
    const struct fwd_note *best = NULL;
    for (int i = 0; i < kb->nfwd && i < FWD_NOTES; i++) {
        const struct fwd_note *f = &kb->fwd[i];
        if (f->by > 0 && f->by == e->sender_pid && f->sig == e->signal && e->t_ns >= f->t - EXIT_SLACK_NS &&
            e->t_ns <= f->t + FWD_WINDOW_NS && (!best || f->t > best->t))
            best = f;
    }
    return best;
}

/* Linux si_code names, as tracefs and pressmon's own handler see them. */
static const char *code_name(int code)
{
    switch (code) {
    case 0: return "userspace kill";
    case PM_SI_KERNEL: return "kernel";
    case -1: return "userspace sigqueue";
    case -6: return "userspace tgkill";
    default: return code > 0 ? "kernel fault" : "userspace";
    }
}

/* Record an event against its member, and say in its detail whether the
 * sender belongs to the tree.  A kill pressmon forwarded is put on the
 * first sender's account ("forwarded by pressmon[PID]" in its detail);
 * a terminal's signal on the terminal's, not on the kworker it ran on. */
static void attach(struct pm_killbook *kb, struct member *m, struct pm_event_rec *e)
{
    if (e->kind == PM_EV_OOM_KILL) {
        if (!m->has_oom) {
            m->has_oom = 1;
            m->oom_t = e->t_ns;
        }
        return;
    }
    int code = 0;
    detail_code(e->detail, &code);
    const struct fwd_note *f = forward_of(kb, e);
    if (f) {
        code = f->code;
        e->forwarded_by = f->by;
        e->sender_pid = f->sender;
        pm_strlcpy(e->sender_comm, f->sender_comm, sizeof(e->sender_comm));
        for (int i = 0; !e->sender_comm[0] && f->sender > 0 && i < kb->nself && i < FWD_NOTES; i++)
            if (kb->to_self[i].sender == f->sender && kb->to_self[i].sig == f->sig)
                pm_strlcpy(e->sender_comm, kb->to_self[i].sender_comm, sizeof(e->sender_comm));
        const char *term = pm_sig_terminal(e->signal, code);
        snprintf(e->detail, sizeof(e->detail), "code=%d %s, forwarded by pressmon[%d]", code,
                 term ? term : f->sender > 0 ? code_name(code) : "sender unknown", (int)f->by);
    } else if (pm_sig_terminal(e->signal, code)) {
        snprintf(e->detail, sizeof(e->detail), "code=%d %s", code, pm_sig_terminal(e->signal, code));
    }
    int in_tree = 0;
    if (!pm_sig_terminal(e->signal, code)) {
        in_tree = member_at(kb, e->sender_pid, e->t_ns) != NULL;
        size_t used = strnlen(e->detail, sizeof(e->detail));
        snprintf(e->detail + used, sizeof(e->detail) - used, "; sender %s tree", in_tree ? "in" : "outside");
    }
    /* The first of several identical signals is the one that acted: later
     * ones find it already pending. */
    if (sig_for(m, e->signal) || m->nsig == MAX_SIGS)
        return;
    struct sig_seen *s = &m->sigs[m->nsig++];
    s->sig = e->signal;
    s->code = code;
    s->t = e->t_ns;
    s->sender = e->sender_pid;
    s->sender_in_tree = in_tree;
    s->forwarded_by = e->forwarded_by;
    pm_strlcpy(s->sender_comm, e->sender_comm, sizeof(s->sender_comm));
}

/* Does the member hold what explains an exit by `sig`?  A SI_KERNEL
 * SIGKILL is not enough on its own: the OOM killer's mark_victim follows it
 * by microseconds and may still be on its way. */
static int explained(const struct member *m, int sig)
{
    if (!m)
        return 0;
    if (m->has_oom && sig == SIGKILL)
        return 1;
    const struct sig_seen *s = sig_for(m, sig);
    return s && !(s->code == 0x80 && sig == SIGKILL);
}

static void set_cause(struct pm_proc_exit_rec *x, const char *cause, pid_t killer, const char *comm)
{
    pm_strlcpy(x->kill_cause, cause, sizeof(x->kill_cause));
    x->killer_pid = killer;
    pm_strlcpy(x->killer_comm, comm ? comm : "", sizeof(x->killer_comm));
}

/* An unexplained SIGKILL exit near a rise of the cgroup oom_kill counter:
 * the OOM killer took it.  Ties the rise to the victim with an oom_kill
 * event of its pid (ready before the exit). */
static int claim_cg_rise(struct pm_killbook *kb, struct pm_proc_exit_rec *x)
{
    struct cg_rise *best = NULL;
    int64_t best_d = 0;
    for (int i = 0; i < kb->ncg && i < CG_RISES; i++) {
        struct cg_rise *c = &kb->cg[i];
        int64_t d = c->t - x->t_ns;
        if (d < 0)
            d = -d;
        if (c->left > 0 && d <= OOM_COUNT_WINDOW_NS && (!best || d < best_d)) {
            best = c;
            best_d = d;
        }
    }
    if (!best)
        return 0;
    best->left--;
    set_cause(x, "oom (cgroup)", 0, "oom-killer");
    struct pm_rec ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = PM_REC_EVENT;
    ev.u.ev.t_ns = best->t < x->t_ns ? best->t : x->t_ns;
    ev.u.ev.kind = PM_EV_OOM_KILL;
    ev.u.ev.pid = x->pid;
    ev.u.ev.signal = SIGKILL;
    snprintf(ev.u.ev.detail, sizeof(ev.u.ev.detail), "kernel OOM killer (inferred: SIGKILL while %.140s)",
             best->detail);
    q_push(&kb->ready, &ev, 0);
    kb->st.events_stored++;
    return 1;
}

static void decide(struct pm_killbook *kb, const struct member *m, struct pm_proc_exit_rec *x)
{
    if (x->signal == 0)
        return;
    kb->st.kills++;
    const struct sig_seen *s = sig_for(m, x->signal);
    if (s)
        x->forwarded_by = s->forwarded_by;
    if (m && m->has_oom && x->signal == SIGKILL) {
        set_cause(x, "oom", 0, "oom-killer");
    } else if (s && pm_sig_terminal(s->sig, s->code)) {
        set_cause(x, "terminal", 0, "");
    } else if (s && s->code > 0) {
        /* SI_KERNEL (0x80) or a fault code (SEGV_MAPERR, BUS_ADRERR...). */
        set_cause(x, "kernel", 0, "kernel");
    } else if (s && s->sender == x->pid) {
        set_cause(x, "self", s->sender, s->sender_comm);
    } else if (s) {
        set_cause(x, s->sender_in_tree ? "signal in-tree" : "signal outside-tree", s->sender, s->sender_comm);
    } else if (x->signal == SIGKILL && claim_cg_rise(kb, x)) {
        /* decided by claim_cg_rise */
    } else {
        int oom_near = 0;
        for (int i = 0; i < kb->noom && i < OOM_TIMES; i++) {
            int64_t d = kb->oom_t[i] - x->t_ns;
            if (d < 0)
                d = -d;
            if (d <= OOM_COUNT_WINDOW_NS)
                oom_near = 1;
        }
        if (oom_near && x->signal == SIGKILL)
            set_cause(x, "oom (vmstat)", 0, "oom-killer");
        else
            set_cause(x, "unknown", 0, "");
    }
    if (strcmp(x->kill_cause, "unknown"))
        kb->st.attributed++;
}

/* Copy "; cgroup X" of a duplicate OOM event into the first one, found in
 * queue q, if it does not have one.  Returns 1 if the first one is in q. */
static int merge_into(struct queue *q, const struct pm_event_rec *dup, const char *cg)
{
    for (size_t i = q->head; i < q->len; i++) {
        struct pm_event_rec *e = &q->v[i].rec.u.ev;
        if (q->v[i].rec.type != PM_REC_EVENT || e->kind != PM_EV_OOM_KILL || e->pid != dup->pid)
            continue;
        size_t used = strnlen(e->detail, sizeof(e->detail));
        if (!strstr(e->detail, "; cgroup ") && used + strlen(cg) < sizeof(e->detail))
            memcpy(e->detail + used, cg, strlen(cg) + 1);
        return 1;
    }
    return 0;
}

/* The first OOM event of a victim is either waiting for its cgroup (keep:
 * held back in this pass) or ready to be stored. */
static void merge_cgroup(struct pm_killbook *kb, struct queue *keep, const struct pm_event_rec *dup)
{
    const char *cg = strstr(dup->detail, "; cgroup ");
    if (cg && !merge_into(keep, dup, cg))
        merge_into(&kb->ready, dup, cg);
}

/* Move what can be decided from held to ready.  Events first, so that an
 * exit held in the same pass sees the event that explains it. */
static void process(struct pm_killbook *kb, int64_t now, int flush)
{
    struct queue keep = {0};
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = kb->held.head; i < kb->held.len; i++) {
            struct held *h = &kb->held.v[i];
            int is_exit = h->rec.type == PM_REC_PROC_EXIT;
            if (is_exit != pass)
                continue;
            int expired = flush || now >= h->deadline;
            if (!is_exit) {
                struct pm_event_rec *e = &h->rec.u.ev;
                struct member *m = member_at(kb, e->pid, e->t_ns);
                int no_cgroup = e->kind == PM_EV_OOM_KILL && !strstr(e->detail, "; cgroup ");
                if (h->attached) {
                    /* Waiting for the cgroup: stored when it came or the
                     * hold is over. */
                    if (expired || !no_cgroup) {
                        q_push(&kb->ready, &h->rec, 0);
                        kb->st.events_stored++;
                    } else {
                        q_push_a(&keep, &h->rec, h->deadline, 1);
                    }
                } else if (m && e->kind == PM_EV_OOM_KILL && m->has_oom) {
                    /* The same OOM kill seen by a second source (tracefs
                     * mark_victim and /dev/kmsg): the first one is kept,
                     * with the victim's cgroup if only the second knows it
                     * (tracefs reads it from /proc, gone once reaped). */
                    merge_cgroup(kb, &keep, e);
                    kb->st.events_dropped++;
                } else if (m) {
                    attach(kb, m, e);
                    /* tracefs often reads the victim's cgroup too late (an
                     * exiting task sits in the root cgroup); /dev/kmsg's
                     * line, which names it, may come a writer cycle later:
                     * the event waits for it until its hold is over. */
                    if (no_cgroup && !expired) {
                        q_push_a(&keep, &h->rec, h->deadline, 1);
                    } else {
                        q_push(&kb->ready, &h->rec, 0);
                        kb->st.events_stored++;
                    }
                } else if (expired) {
                    kb->st.events_dropped++;
                } else {
                    q_push(&keep, &h->rec, h->deadline);
                }
            } else {
                struct pm_proc_exit_rec *x = &h->rec.u.exit;
                struct member *m = lookup(kb, x->pid);
                if (x->signal == 0 || expired || explained(m, x->signal)) {
                    if (!x->kill_cause[0]) /* a platform may know better (macOS) */
                        decide(kb, m, x);
                    q_push(&kb->ready, &h->rec, 0);
                } else {
                    q_push(&keep, &h->rec, h->deadline);
                }
            }
        }
    }
    /* An OOM event that got its cgroup from a duplicate in this pass goes
     * now, not a writer cycle later. */
    struct queue still = {0};
    for (size_t i = keep.head; i < keep.len; i++) {
        struct held *h = &keep.v[i];
        if (h->attached && strstr(h->rec.u.ev.detail, "; cgroup ")) {
            q_push(&kb->ready, &h->rec, 0);
            kb->st.events_stored++;
        } else {
            q_push_a(&still, &h->rec, h->deadline, h->attached);
        }
    }
    free(keep.v);
    free(kb->held.v);
    kb->held = still;
}

int pm_killbook_take(struct pm_killbook *kb, int64_t now_ns, int flush, struct pm_rec *out)
{
    if (q_size(&kb->ready) == 0 && q_size(&kb->held) > 0)
        process(kb, now_ns, flush);
    if (q_size(&kb->ready) == 0)
        return 0;
    *out = kb->ready.v[kb->ready.head++].rec;
    return 1;
}

void pm_killbook_stats(const struct pm_killbook *kb, struct pm_killbook_stats *st)
{
    *st = kb->st;
}
