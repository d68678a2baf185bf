/*
 * Per-process sample history (see prochist.h).
 */
#include "prochist.h"

#include <string.h>

void pm_proc_hist_reset(struct pm_proc_hist *h)
{
    memset(h, 0, sizeof(*h));
}

int pm_proc_hist_push(struct pm_proc_hist *h, int64_t t_ns, pid_t pid, char state, const int64_t *cur,
                      uint64_t present, struct pm_ring *out)
{
    struct pm_proc_sample_rec rec = {.t_ns = t_ns, .pid = pid, .state = state};
    int changed = !h->sampled || state != h->last_state;
    for (int i = 0; i < PM_PROC_N; i++) {
        uint64_t bit = UINT64_C(1) << i;
        if (!(present & bit))
            continue;
        if (pm_proc_metrics[i].kind == PM_COUNTER) {
            /* the first reading of a counter has no delta yet */
            if (h->sampled && (h->present & bit)) {
                int64_t d = cur[i] - h->prev[i];
                rec.v[i] = d < 0 ? 0 : d; /* a counter never runs backwards */
                rec.present |= bit;
                changed |= d != 0;
            }
        } else {
            rec.v[i] = cur[i];
            rec.present |= bit;
            changed |= !h->sampled || !(h->present & bit) || cur[i] != h->prev[i];
        }
    }
    for (int i = 0; i < PM_PROC_N; i++)
        if (present & (UINT64_C(1) << i))
            h->prev[i] = cur[i];
    h->present = present;
    h->last_state = state;
    h->sampled = 1;
    if (!changed)
        return 0;
    struct pm_rec *r = pm_ring_reserve(out);
    if (r) {
        r->type = PM_REC_PROC_SAMPLE;
        r->u.ps = rec;
        pm_ring_commit(out);
    }
    return 1;
}

int pm_proc_hist_idle(const struct pm_proc_hist *h, int64_t t_ns, int64_t run_ns)
{
    uint64_t threads = UINT64_C(1) << PM_M_P_THREADS;
    return h->sampled && run_ns > 0 && run_ns == h->run_ns && (h->present & threads) &&
           h->prev[PM_M_P_THREADS] == 1 && t_ns - h->full_at < PM_PROC_FULL_NS;
}

void pm_proc_hist_ran(struct pm_proc_hist *h, int64_t t_ns, int64_t run_ns)
{
    h->run_ns = run_ns > 0 ? run_ns : 0;
    h->full_at = t_ns;
}

int pm_proc_hist_push_idle(struct pm_proc_hist *h, int64_t t_ns, pid_t pid, int64_t rss_kb, struct pm_ring *out)
{
    int64_t cur[PM_PROC_N];
    memcpy(cur, h->prev, sizeof(cur));
    uint64_t present = h->present;
    if (rss_kb >= 0) {
        cur[PM_M_P_RSS] = rss_kb;
        present |= UINT64_C(1) << PM_M_P_RSS;
    }
    return pm_proc_hist_push(h, t_ns, pid, h->last_state, cur, present, out);
}
