/*
 * pid -> member slot: a fixed-size open-addressing hash map for the
 * process-tree member tables of both platforms.
 *
 * One thread writes it (the tree's "adder"); nothing allocates after
 * pm_pidmap_init.  Deleted entries leave tombstones; when they reach a
 * quarter of the table the map rebuilds itself in place (into a scratch
 * array allocated at init), so a run that sees hundreds of thousands of
 * short-lived processes never degrades into full-table probes.
 */
#ifndef PM_PIDMAP_H
#define PM_PIDMAP_H

#include <stdint.h>
#include <sys/types.h>

struct pm_pidmap_entry {
    pid_t pid;
    int32_t slot; /* -1 empty, -2 deleted */
};

struct pm_pidmap {
    struct pm_pidmap_entry *e, *scratch;
    uint32_t mask;      /* capacity - 1 */
    uint32_t used, dead;
};

/* capacity: at least twice the number of live entries, rounded up to a
 * power of two.  Returns 0, or -1 when out of memory. */
int pm_pidmap_init(struct pm_pidmap *m, uint32_t capacity);
void pm_pidmap_free(struct pm_pidmap *m);

/* The slot of pid, or -1. */
int pm_pidmap_find(const struct pm_pidmap *m, pid_t pid);
/* Insert or replace.  Returns 0, or -1 when the map is full. */
int pm_pidmap_put(struct pm_pidmap *m, pid_t pid, int slot);
void pm_pidmap_del(struct pm_pidmap *m, pid_t pid);

#endif
