/*
 * The member table of a process tree (see members.h).
 */
#include "members.h"

#include <stdlib.h>

int pm_members_init(struct pm_members *t, int cap)
{
    /* calloc: every slot starts FREE, and pages of slots a run never
     * reaches are never touched. */
    t->slot = calloc((size_t)cap, sizeof(*t->slot));
    t->cap = cap;
    atomic_init(&t->used, 0);
    if (!t->slot || pm_pidmap_init(&t->map, 2 * (uint32_t)cap) != 0) {
        free(t->slot);
        t->slot = NULL;
        return -1;
    }
    return 0;
}

void pm_members_free(struct pm_members *t)
{
    if (!t->slot)
        return;
    free(t->slot);
    t->slot = NULL;
    pm_pidmap_free(&t->map);
}

int pm_members_find(const struct pm_members *t, pid_t pid)
{
    return pm_pidmap_find(&t->map, pid);
}

int pm_members_claim(struct pm_members *t, pid_t pid, pid_t ppid, int64_t start_ns, int *fresh)
{
    if (pm_pidmap_find(&t->map, pid) >= 0)
        return -1;
    int used = atomic_load_explicit(&t->used, memory_order_relaxed);
    for (int i = 0; i < t->cap; i++) {
        struct pm_member_slot *m = &t->slot[i];
        if (atomic_load_explicit(&m->state, memory_order_acquire) != PM_SLOT_FREE)
            continue;
        m->pid = pid;
        m->ppid = ppid;
        m->start_ns = start_ns;
        *fresh = i >= used;
        return i;
    }
    return -2;
}

void pm_members_publish(struct pm_members *t, int slot)
{
    pm_pidmap_put(&t->map, t->slot[slot].pid, slot);
    if (slot >= atomic_load_explicit(&t->used, memory_order_relaxed))
        atomic_store_explicit(&t->used, slot + 1, memory_order_release);
    atomic_store_explicit(&t->slot[slot].state, PM_SLOT_NEW, memory_order_release);
}

int pm_members_retire(struct pm_members *t, int slot)
{
    struct pm_member_slot *m = &t->slot[slot];
    int s = atomic_load_explicit(&m->state, memory_order_acquire);
    for (;;) {
        if (s != PM_SLOT_NEW && s != PM_SLOT_LIVE)
            return 0;
        /* The sampler may promote NEW -> LIVE meanwhile: s is reloaded. */
        if (atomic_compare_exchange_weak_explicit(&m->state, &s, PM_SLOT_DEAD, memory_order_acq_rel,
                                                  memory_order_acquire))
            break;
    }
    /* Only this member's entry: the pid may be claimed again already if
     * retire is called twice. */
    if (pm_pidmap_find(&t->map, m->pid) == slot)
        pm_pidmap_del(&t->map, m->pid);
    return 1;
}

int pm_members_used(const struct pm_members *t)
{
    return atomic_load_explicit(&t->used, memory_order_acquire);
}

int pm_members_state(const struct pm_members *t, int slot)
{
    return atomic_load_explicit(&t->slot[slot].state, memory_order_acquire);
}

int pm_members_promote(struct pm_members *t, int slot)
{
    int s = PM_SLOT_NEW;
    if (atomic_compare_exchange_strong_explicit(&t->slot[slot].state, &s, PM_SLOT_LIVE, memory_order_acq_rel,
                                                memory_order_acquire))
        return PM_SLOT_LIVE;
    return s;
}

void pm_members_release(struct pm_members *t, int slot)
{
    atomic_store_explicit(&t->slot[slot].state, PM_SLOT_FREE, memory_order_release);
}
