/*
 * pid -> slot map (see pidmap.h).  Linear probing; Knuth's multiplicative
 * hash spreads consecutive pids.
 */
#include "pidmap.h"

#include <stdlib.h>
#include <string.h>

#define EMPTY -1
#define DELETED -2

static uint32_t hash(const struct pm_pidmap *m, pid_t pid)
{
    return ((uint32_t)pid * 2654435761u) & m->mask;
}

static void clear(struct pm_pidmap_entry *e, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        e[i] = (struct pm_pidmap_entry){0, EMPTY};
}

int pm_pidmap_init(struct pm_pidmap *m, uint32_t capacity)
{
    uint32_t cap = 16;
    while (cap < capacity)
        cap <<= 1;
    memset(m, 0, sizeof(*m));
    m->e = malloc(cap * sizeof(*m->e));
    m->scratch = malloc(cap * sizeof(*m->scratch));
    if (!m->e || !m->scratch) {
        pm_pidmap_free(m);
        return -1;
    }
    m->mask = cap - 1;
    clear(m->e, cap);
    return 0;
}

void pm_pidmap_free(struct pm_pidmap *m)
{
    free(m->e);
    free(m->scratch);
    m->e = m->scratch = NULL;
}

int pm_pidmap_find(const struct pm_pidmap *m, pid_t pid)
{
    for (uint32_t h = hash(m, pid), n = 0; n <= m->mask; h = (h + 1) & m->mask, n++) {
        const struct pm_pidmap_entry *x = &m->e[h];
        if (x->slot == EMPTY)
            return -1;
        if (x->slot >= 0 && x->pid == pid)
            return x->slot;
    }
    return -1;
}

/* Drop the tombstones: live entries go to scratch, then back. */
static void rebuild(struct pm_pidmap *m)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i <= m->mask; i++)
        if (m->e[i].slot >= 0)
            m->scratch[n++] = m->e[i];
    clear(m->e, m->mask + 1);
    m->used = m->dead = 0;
    for (uint32_t i = 0; i < n; i++)
        pm_pidmap_put(m, m->scratch[i].pid, m->scratch[i].slot);
}

int pm_pidmap_put(struct pm_pidmap *m, pid_t pid, int slot)
{
    if (m->dead > (m->mask + 1) / 4)
        rebuild(m);
    int32_t reuse = -1;
    for (uint32_t h = hash(m, pid), n = 0; n <= m->mask; h = (h + 1) & m->mask, n++) {
        struct pm_pidmap_entry *x = &m->e[h];
        if (x->slot >= 0 && x->pid == pid) {
            x->slot = slot;
            return 0;
        }
        if (x->slot == DELETED && reuse < 0)
            reuse = (int32_t)h;
        if (x->slot == EMPTY) {
            if (reuse >= 0) {
                m->e[reuse] = (struct pm_pidmap_entry){pid, slot};
                m->dead--;
            } else {
                *x = (struct pm_pidmap_entry){pid, slot};
                m->used++;
            }
            return 0;
        }
    }
    if (reuse >= 0) {
        m->e[reuse] = (struct pm_pidmap_entry){pid, slot};
        m->dead--;
        return 0;
    }
    return -1;
}

void pm_pidmap_del(struct pm_pidmap *m, pid_t pid)
{
    for (uint32_t h = hash(m, pid), n = 0; n <= m->mask; h = (h + 1) & m->mask, n++) {
        struct pm_pidmap_entry *x = &m->e[h];
        if (x->slot == EMPTY)
            return;
        if (x->slot >= 0 && x->pid == pid) {
            x->slot = DELETED;
            m->used--;
            m->dead++;
            return;
        }
    }
}
