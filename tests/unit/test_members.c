/*
 * The member table shared by a tree's adder and sampler threads
 * (sampler/members.h), used by both the Linux and the macOS tree: the
 * protocol one step at a time, then both threads at full speed.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sampler/members.h"

static void test_protocol(void **state)
{
    (void)state;
    struct pm_members t;
    assert_int_equal(pm_members_init(&t, 4), 0);
    int fresh = -1;
    assert_int_equal(pm_members_used(&t), 0);

    /* Claimed but not published: the sampler does not see it. */
    int a = pm_members_claim(&t, 100, 1, 5, &fresh);
    assert_int_equal(a, 0);
    assert_true(fresh);
    assert_int_equal(pm_members_used(&t), 0);
    assert_int_equal(pm_members_find(&t, 100), -1);
    pm_members_publish(&t, a);
    assert_int_equal(pm_members_used(&t), 1);
    assert_int_equal(pm_members_state(&t, a), PM_SLOT_NEW);
    assert_int_equal(pm_members_find(&t, 100), a);
    assert_int_equal(t.slot[a].ppid, 1);
    assert_int_equal(t.slot[a].start_ns, 5);
    assert_int_equal(pm_members_claim(&t, 100, 1, 6, &fresh), -1); /* a member already */

    int b = pm_members_claim(&t, 200, 100, 7, &fresh);
    pm_members_publish(&t, b);
    assert_int_equal(b, 1);
    assert_int_equal(pm_members_promote(&t, a), PM_SLOT_LIVE);
    assert_int_equal(pm_members_promote(&t, a), PM_SLOT_LIVE); /* not NEW any more: unchanged */

    /* Retired before the sampler promoted it: promote says DEAD. */
    assert_int_equal(pm_members_retire(&t, b), 1);
    assert_int_equal(pm_members_retire(&t, b), 0);
    assert_int_equal(pm_members_promote(&t, b), PM_SLOT_DEAD);
    assert_int_equal(pm_members_find(&t, 200), -1);

    /* A retired pid may come back (reused) while its old slot waits for
     * the sampler: it gets another slot. */
    int c = pm_members_claim(&t, 200, 100, 8, &fresh);
    assert_int_equal(c, 2);
    assert_true(fresh);
    pm_members_publish(&t, c);
    assert_int_equal(pm_members_find(&t, 200), c);

    /* The sampler releases the old slot: it is handed out again, lowest
     * first, and is not fresh. */
    pm_members_release(&t, b);
    int d = pm_members_claim(&t, 300, 100, 9, &fresh);
    assert_int_equal(d, b);
    assert_false(fresh);
    pm_members_publish(&t, d);
    assert_int_equal(pm_members_used(&t), 3);
    int e = pm_members_claim(&t, 400, 100, 9, &fresh);
    pm_members_publish(&t, e);
    assert_int_equal(pm_members_claim(&t, 500, 100, 9, &fresh), -2); /* full */

    /* Retiring a LIVE member. */
    assert_int_equal(pm_members_retire(&t, a), 1);
    assert_int_equal(pm_members_state(&t, a), PM_SLOT_DEAD);
    assert_int_equal(pm_members_find(&t, 100), -1);
    pm_members_free(&t);
    pm_members_free(&t); /* twice is harmless */
}

/* ---- both threads at once -------------------------------------------- */

#define CAP 64
#define ROUNDS 100000

struct race {
    struct pm_members t;
    _Atomic int done, running;
    /* sampler's view per slot: the pid it promoted, 0 if none */
    pid_t seen[CAP];
    long promoted, released, bad;
};

static void *sampler(void *arg)
{
    struct race *r = arg;
    atomic_store(&r->running, 1);
    for (;;) {
        int finished = atomic_load(&r->done);
        int used = pm_members_used(&r->t);
        for (int i = 0; i < used; i++) {
            int s = pm_members_state(&r->t, i);
            if (s == PM_SLOT_FREE) {
                if (r->seen[i])
                    r->bad++; /* freed behind the sampler's back */
                continue;
            }
            pid_t pid = r->t.slot[i].pid;
            if (s == PM_SLOT_NEW) {
                if (r->seen[i])
                    r->bad++; /* reused before the sampler released it */
                r->seen[i] = pid;
                s = pm_members_promote(&r->t, i);
                if (s == PM_SLOT_LIVE)
                    r->promoted++;
            } else if (s == PM_SLOT_LIVE ? r->seen[i] != pid : r->seen[i] && r->seen[i] != pid) {
                /* LIVE under another pid than promoted; DEAD may also be a
                 * member retired before the sampler ever saw it NEW */
                r->bad++;
            }
            if (pm_members_state(&r->t, i) == PM_SLOT_DEAD) {
                r->seen[i] = 0;
                r->released++;
                pm_members_release(&r->t, i);
            }
        }
        if (finished)
            return NULL;
        /* Natively the threads run on two CPUs anyway; under valgrind,
         * which runs one thread at a time, this hands the turn over. */
        sched_yield();
    }
}

static void test_adder_and_sampler_race(void **state)
{
    (void)state;
    static struct race r;
    memset(&r, 0, sizeof(r));
    assert_int_equal(pm_members_init(&r.t, CAP), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, sampler, &r), 0);
    while (!atomic_load(&r.running))
        sched_yield();
    /* The adder: processes start and end, up to CAP/2 alive at once;
     * pids are reused as the kernel does (a small pid space). */
    int live[CAP / 2];
    int nlive = 0;
    long added = 0, retired = 0, full = 0;
    unsigned x = 12345;
    for (long k = 0; k < ROUNDS; k++) {
        x = x * 1103515245u + 12345u;
        if (nlive < CAP / 2 && (x >> 16) % 3 != 0) {
            pid_t pid = (pid_t)(1 + (x >> 8) % 1000);
            int fresh;
            int slot = pm_members_claim(&r.t, pid, 1, k, &fresh);
            if (slot == -2) { /* DEAD slots wait for the sampler */
                full++;
                sched_yield();
                continue;
            }
            if (slot < 0)
                continue; /* that pid is alive already */
            pm_members_publish(&r.t, slot);
            live[nlive++] = slot;
            added++;
        } else if (nlive > 0) {
            int j = (int)((x >> 4) % (unsigned)nlive);
            assert_int_equal(pm_members_retire(&r.t, live[j]), 1);
            live[j] = live[--nlive];
            retired++;
        }
    }
    while (nlive > 0)
        assert_int_equal(pm_members_retire(&r.t, live[--nlive]), 1), retired++;
    /* Let the sampler release the last DEAD slots, then stop it. */
    for (int spins = 0; spins < 1000000; spins++) {
        int busy = 0;
        for (int i = 0; i < pm_members_used(&r.t); i++)
            busy |= pm_members_state(&r.t, i) != PM_SLOT_FREE;
        if (!busy)
            break;
        sched_yield();
    }
    atomic_store(&r.done, 1);
    pthread_join(th, NULL);

    assert_int_equal(r.bad, 0);
    assert_int_equal(added, retired);
    assert_int_equal(r.released, added); /* every member came back to FREE once */
    assert_true(r.promoted > 0);
    assert_true(pm_members_used(&r.t) <= CAP);
    for (int i = 0; i < pm_members_used(&r.t); i++)
        assert_int_equal(pm_members_state(&r.t, i), PM_SLOT_FREE);
    for (pid_t p = 1; p <= 1000; p++)
        assert_int_equal(pm_members_find(&r.t, p), -1);
    print_message("%ld members added and retired, %ld promoted to LIVE by the sampler, table full %ld times\n",
                  added, r.promoted, full);
    pm_members_free(&r.t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_protocol),
        cmocka_unit_test(test_adder_and_sampler_race),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
