/*
 * SPSC ring (see ring.h).  Acquire/release pairs on head and tail are the
 * only synchronisation: the producer publishes a filled slot with a
 * release store of head, the consumer frees it with a release store of tail.
 */
#include "ring.h"

#include <stdlib.h>
#include <string.h>

int pm_ring_init(struct pm_ring *r, size_t capacity)
{
    size_t cap = 1;
    while (cap < capacity)
        cap <<= 1;
    r->slots = calloc(cap, sizeof(*r->slots));
    if (!r->slots)
        return -1;
    r->mask = cap - 1;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    atomic_init(&r->dropped, 0);
    return 0;
}

void pm_ring_free(struct pm_ring *r)
{
    free(r->slots);
    r->slots = NULL;
}

struct pm_rec *pm_ring_reserve(struct pm_ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (head - tail > r->mask) {
        atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
        return NULL;
    }
    return &r->slots[head & r->mask];
}

void pm_ring_commit(struct pm_ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
}

int pm_ring_push(struct pm_ring *r, const struct pm_rec *rec)
{
    struct pm_rec *slot = pm_ring_reserve(r);
    if (!slot)
        return -1;
    memcpy(slot, rec, sizeof(*slot));
    pm_ring_commit(r);
    return 0;
}

int pm_ring_pop(struct pm_ring *r, struct pm_rec *out)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    if (tail == head)
        return 0;
    memcpy(out, &r->slots[tail & r->mask], sizeof(*out));
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    return 1;
}
