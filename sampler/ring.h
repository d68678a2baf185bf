/*
 * A single-producer single-consumer ring of struct pm_rec.
 *
 * The storage is allocated once by pm_ring_init before any sampling thread
 * starts; pushing and popping never allocate and never block.  When the
 * ring is full a push fails and the record is counted in `dropped`: the
 * sampler must never wait for the writer (DESIGN §5).
 */
#ifndef PM_RING_H
#define PM_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct pm_ring {
    struct pm_rec *slots;
    size_t mask;               /* capacity - 1; capacity is a power of two */
    _Atomic size_t head;       /* next slot the producer writes */
    _Atomic size_t tail;       /* next slot the consumer reads */
    _Atomic uint64_t dropped;  /* pushes that found the ring full */
};

/* capacity is rounded up to a power of two.  Returns 0 or -1 (ENOMEM). */
int pm_ring_init(struct pm_ring *r, size_t capacity);
void pm_ring_free(struct pm_ring *r);

/* Producer side.  Returns 0, or -1 when full (the record is dropped and
 * counted). */
int pm_ring_push(struct pm_ring *r, const struct pm_rec *rec);

/* Producer side, zero-copy: reserve the next slot, fill it, commit it. */
struct pm_rec *pm_ring_reserve(struct pm_ring *r);
void pm_ring_commit(struct pm_ring *r);

/* Consumer side.  Returns 1 and copies a record out, or 0 when empty. */
int pm_ring_pop(struct pm_ring *r, struct pm_rec *out);

#endif
