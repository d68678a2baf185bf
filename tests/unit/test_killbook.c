/*
 * Tests of the killbook (sampler/killbook.c): which kill events are kept
 * for the tree, and the killer / cause of each exit by a signal, whatever
 * order the records arrive in.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sampler/killbook.h"

#define MS (1000LL * 1000)
#define HOLD (500 * MS)

static void start(struct pm_killbook *kb, pid_t pid, pid_t ppid, int64_t t)
{
    struct pm_proc_start_rec s;
    memset(&s, 0, sizeof(s));
    s.t_ns = t;
    s.pid = pid;
    s.ppid = ppid;
    s.start_ns = INT64_MIN;
    snprintf(s.comm, sizeof(s.comm), "p%d", (int)pid);
    pm_killbook_note_start(kb, &s);
}

/* Hand the killbook one event of `kind` about pid, stamped t, put at now. */
static void event(struct pm_killbook *kb, int64_t now, int64_t t, int kind, pid_t pid, int sig, pid_t sender,
                  const char *sender_comm, const char *detail)
{
    struct pm_rec r;
    memset(&r, 0, sizeof(r));
    r.type = PM_REC_EVENT;
    r.u.ev.t_ns = t;
    r.u.ev.kind = kind;
    r.u.ev.pid = pid;
    r.u.ev.signal = sig;
    r.u.ev.sender_pid = sender;
    snprintf(r.u.ev.sender_comm, sizeof(r.u.ev.sender_comm), "%s", sender_comm);
    snprintf(r.u.ev.detail, sizeof(r.u.ev.detail), "%s", detail);
    pm_killbook_put(kb, &r, now);
}

static void sigev(struct pm_killbook *kb, int64_t now, int64_t t, pid_t pid, int sig, int code, pid_t sender,
                  const char *comm)
{
    char detail[32];
    snprintf(detail, sizeof(detail), "code=%d test", code);
    event(kb, now, t, PM_EV_SIGNAL, pid, sig, sender, comm, detail);
}

static void oomev(struct pm_killbook *kb, int64_t now, int64_t t, pid_t pid)
{
    event(kb, now, t, PM_EV_OOM_KILL, pid, SIGKILL, 0, "", "kernel OOM killer");
}

/* The same OOM kill as /dev/kmsg reports it, with the victim's memcg. */
static void kmsgev(struct pm_killbook *kb, int64_t now, int64_t t, pid_t pid, const char *cgroup)
{
    char detail[128];
    snprintf(detail, sizeof(detail), "kernel OOM killer (kmsg); cgroup %s", cgroup);
    event(kb, now, t, PM_EV_OOM_KILL, pid, SIGKILL, 0, "", detail);
}

static void exitrec(struct pm_killbook *kb, int64_t now, int64_t t, pid_t pid, int sig, int code)
{
    struct pm_rec r;
    memset(&r, 0, sizeof(r));
    r.type = PM_REC_PROC_EXIT;
    r.u.exit.t_ns = t;
    r.u.exit.pid = pid;
    r.u.exit.signal = sig;
    r.u.exit.exit_code = code;
    r.u.exit.status_src = PM_STATUS_PROCCONN;
    pm_killbook_put(kb, &r, now);
}

/* Take everything ready: the exit of `pid` into *x (if released), count
 * of events into *nev, the last event into *ev. */
static int drain(struct pm_killbook *kb, int64_t now, int flush, pid_t pid, struct pm_proc_exit_rec *x,
                 int *nev, struct pm_event_rec *ev)
{
    struct pm_rec r;
    int got_exit = 0;
    *nev = 0;
    while (pm_killbook_take(kb, now, flush, &r)) {
        if (r.type == PM_REC_PROC_EXIT && r.u.exit.pid == pid) {
            *x = r.u.exit;
            got_exit = 1;
        } else if (r.type == PM_REC_EVENT) {
            (*nev)++;
            if (ev)
                *ev = r.u.ev;
        }
    }
    return got_exit;
}

static void test_sibling_sigkill_in_tree(void **state)
{
    (void)state;
    struct pm_killbook *kb = pm_killbook_new(HOLD);
    start(kb, 100, 1, 0);
    start(kb, 101, 100, 10 * MS);
    start(kb, 102, 100, 12 * MS);
    sigev(kb, 900 * MS, 800 * MS, 102, SIGKILL, 0, 101, "timeout");
    exitrec(kb, 900 * MS, 801 * MS, 102, SIGKILL, 0);
    struct pm_proc_exit_rec x;
    struct pm_event_rec ev;
    int nev;
    assert_true(drain(kb, 900 * MS, 0, 102, &x, &nev, &ev));
    assert_int_equal(nev, 1);
    assert_int_equal(ev.pid, 102);
    assert_int_equal(ev.sender_pid, 101);
    assert_string_equal(ev.detail, "code=0 test; sender in tree");
    assert_int_equal(x.killer_pid, 101);
    assert_string_equal(x.killer_comm, "timeout");
    assert_string_equal(x.kill_cause, "signal in-tree");
    struct pm_killbook_stats st;
    pm_killbook_stats(kb, &st);
    assert_int_equal(st.kills, 1);
    assert_int_equal(st.attributed, 1);
    assert_int_equal(st.events_stored, 1);
    pm_killbook_free(kb);
}

/* The exit reaches the writer before the signal event (another ring): it
 * is held, then explained when the event comes. */
static void test_exit_before_event_sigterm_outside(void **state)
{
    (void)state;
    struct pm_killbook *kb = pm_killbook_new(HOLD);
    start(kb, 200, 1, 0);
    exitrec(kb, 100 * MS, 90 * MS, 200, SIGTERM, 0);
    struct pm_proc_exit_rec x;
    int nev;
    assert_false(drain(kb, 100 * MS, 0, 200, &x, &nev, NULL));
    sigev(kb, 150 * MS, 89 * MS, 200, SIGTERM, 0, 4242, "systemd");
    struct pm_event_rec ev;
    assert_true(drain(kb, 150 * MS, 0, 200, &x, &nev, &ev));
    assert_int_equal(nev, 1);
    assert_string_equal(ev.detail, "code=0 test; sender outside tree");
    assert_string_equal(x.kill_cause, "signal outside-tree");
    assert_int_equal(x.killer_pid, 4242);
    assert_string_equal(x.killer_comm, "systemd");
    pm_killbook_free(kb);
}

static void test_unexplained_expires_unknown(void **state)
{
    (void)state;
    struct pm_killbook *kb = pm_killbook_new(HOLD);
    start(kb, 300, 1, 0);
    exitrec(kb, 100 * MS, 100 * MS, 300, SIGKILL, 0);
    struct pm_proc_exit_rec x;
    int nev;
    assert_false(drain(kb, 599 * MS, 0, 300, &x, &nev, NULL));
    assert_true(drain(kb, 600 * MS, 0, 300, &x, &nev, NULL));
    assert_string_equal(x.kill_cause, "unknown");
    assert_int_equal(x.killer_pid, 0);
    struct pm_killbook_stats st;
    pm_killbook_stats(kb, &st);
    assert_int_equal(st.kills, 1);
    assert_int_equal(st.attributed, 0);
    pm_killbook_free(kb);
}

static void test_self_and_kernel_fault(void **state)
{
    (void)state;
    struct pm_killbook *kb = pm_killbook_new(HOLD);
    start(kb, 400, 1, 0);
    start(kb, 401, 1, 0);
    sigev(kb, MS, MS, 400, SIGABRT, -6, 400, "p400"); /* abort() */
    exitrec(kb, MS, MS, 400, SIGABRT, 0);
    sigev(kb, MS, MS, 401, SIGSEGV, 1, 401, "p401"); /* SEGV_MAPERR */
    exitrec(kb, MS, MS, 401, SIGSEGV, 0);
    struct pm_proc_exit_rec x;
    int nev;
    struct pm_rec r;
    int seen = 0;
    while (pm_killbook_take(kb, MS, 0, &r)) {
        if (r.type != PM_REC_PROC_EXIT)
            continue;
        seen++;
        if (r.u.exit.pid == 400) {
            assert_string_equal(r.u.exit.kill_cause, "self");
            assert_int_equal(r.u.exit.killer_pid, 400);
        } else {
            assert_string_equal(r.u.exit.kill_cause, "kernel");
            assert_int_equal(r.u.exit.killer_pid, 0);
        }
    }
    assert_int_equal(seen, 2);
    (void)x;
    (void)nev;
    pm_killbook_free(kb);
}

/* The OOM killer: SI_KERNEL SIGKILL first, mark_victim later (maybe in a
 * later batch); the exit waits for it. */
static void test_oom(void **state)
{
    (void)state;
    struct pm_killbook *kb = pm_killbook_new(HOLD);
    start(kb, 500, 1, 0);
    sigev(kb, 10 * MS, 5 * MS, 500, SIGKILL, 128, 500, "hog");
    exitrec(kb, 10 * MS, 6 * MS, 500, SIGKILL, 0);
    struct pm_proc_exit_rec x;
    int nev;
    assert_false(drain(kb, 10 * MS, 0, 500, &x, &nev, NULL));
    assert_int_equal(nev, 1); /* the signal event is stored at once */
    oomev(kb, 20 * MS, 5 * MS, 500);
    assert_true(drain(kb, 20 * MS, 0, 500, &x, &nev, NULL));
    assert_int_equal(nev, 0); /* the OOM event waits for a cgroup (test_oom_cgroup_arrives_late) */
    assert_string_equal(x.kill_cause, "oom");
    drain(kb, 20 * MS, 1, 500, &x, &nev, NULL);
    assert_int_equal(nev, 1);
    pm_killbook_free(kb);

    /* A SI_KERNEL SIGKILL with no victim line is a kernel kill. */
    kb = pm_killbook_new(HOLD);
    start(kb, 501, 1, 0);
    sigev(kb, 10 * MS, 5 * MS, 501, SIGKILL, 128, 77, "kworker");
    exitrec(kb, 10 * MS, 6 * MS, 501, SIGKILL, 0);
    assert_false(drain(kb, 10 * MS, 0, 501, &x, &nev, NULL));
    assert_true(drain(kb, 10 * MS, 1, 501, &x, &nev, NULL)); /* end of run */
    assert_string_equal(x.kill_cause, "kernel");
    pm_killbook_free(kb);
}

static void test_oom_from_vmstat(void **state)
{
    (void)state;
    struct pm_killbook *kb = pm_killbook_new(HOLD);
    start(kb, 600, 1, 0);
    start(kb, 601, 1, 0);
    pm_killbook_note_oom_count(kb, 3000 * MS, 1);
    exitrec(kb, 3100 * MS, 3050 * MS, 600, SIGKILL, 0);
    exitrec(kb, 3100 * MS, 3050 * MS, 601, SIGTERM, 0); /* not a SIGKILL: not the OOM killer */
    struct pm_rec r;
    int seen = 0;
    while (pm_killbook_take(kb, 9000 * MS, 0, &r)) {
        assert_int_equal(r.type, PM_REC_PROC_EXIT);
        seen++;
        assert_string_equal(r.u.exit.kill_cause, r.u.exit.pid == 600 ? "oom (vmstat)" : "unknown");
    }
    assert_int_equal(seen, 2);
    pm_killbook_free(kb);
}

/* A rise of the cgroup oom_kill counter names no pid: the SIGKILL exit of
 * a member near it takes it (one victim per unit of the rise) and gets an
 * oom_kill event of its own pid; a second SIGKILL is left unknown. */
static void test_oom_from_cgroup(void **state)
{
    (void)state;
    struct pm_killbook *kb = pm_killbook_new(HOLD);
    start(kb, 700, 1, 0);
    start(kb, 701, 1, 0);
    event(kb, 3100 * MS, 3080 * MS, PM_EV_OOM_KILL, 0, SIGKILL, 0, "", "cgroup oom_kill +1 (/cg/memory.oom_control)");
    struct pm_rec r;
    exitrec(kb, 3100 * MS, 3050 * MS, 700, SIGKILL, 0);
    exitrec(kb, 3100 * MS, 3060 * MS, 701, SIGKILL, 0);
    int exits = 0, events = 0;
    while (pm_killbook_take(kb, 9000 * MS, 0, &r)) {
        if (r.type == PM_REC_EVENT) {
            events++;
            assert_int_equal(r.u.ev.kind, PM_EV_OOM_KILL);
            assert_int_equal(r.u.ev.pid, 700);
            assert_int_equal(r.u.ev.t_ns, 3050 * MS);
            assert_non_null(strstr(r.u.ev.detail, "cgroup oom_kill +1 (/cg/memory.oom_control)"));
            continue;
        }
        exits++;
        assert_string_equal(r.u.exit.kill_cause, r.u.exit.pid == 700 ? "oom (cgroup)" : "unknown");
    }
    assert_int_equal(exits, 2);
    assert_int_equal(events, 1);
    pm_killbook_free(kb);

    /* too far in time: not the OOM killer */
    kb = pm_killbook_new(HOLD);
    start(kb, 702, 1, 0);
    r.type = PM_REC_EVENT;
    r.u.ev.t_ns = 1000 * MS;
    pm_killbook_put(kb, &r, 1000 * MS);
    exitrec(kb, 5000 * MS, 5000 * MS, 702, SIGKILL, 0);
    assert_true(pm_killbook_take(kb, 9000 * MS, 0, &r));
    assert_int_equal(r.type, PM_REC_PROC_EXIT);
    assert_string_equal(r.u.exit.kill_cause, "unknown");
    assert_false(pm_killbook_take(kb, 9000 * MS, 1, &r));
    pm_killbook_free(kb);
}

/* tracefs and /dev/kmsg both report the same OOM kill: one event stored. */
static void test_oom_two_sources(void **state)
{
    (void)state;
    struct pm_killbook *kb = pm_killbook_new(HOLD);
    start(kb, 800, 1, 0);
    oomev(kb, 10 * MS, 5 * MS, 800);
    kmsgev(kb, 12 * MS, 6 * MS, 800, "/job-3");
    exitrec(kb, 12 * MS, 7 * MS, 800, SIGKILL, 0);
    struct pm_proc_exit_rec x;
    struct pm_event_rec ev;
    int nev;
    assert_true(drain(kb, 12 * MS, 0, 800, &x, &nev, &ev));
    assert_int_equal(nev, 1);
    /* the first event is kept, with the cgroup only the second one knew */
    assert_string_equal(ev.detail, "kernel OOM killer; cgroup /job-3");
    assert_string_equal(x.kill_cause, "oom");
    struct pm_killbook_stats st;
    pm_killbook_stats(kb, &st);
    assert_int_equal(st.events_dropped, 1);
    pm_killbook_free(kb);
}

/* The /dev/kmsg line with the victim's cgroup comes a writer cycle after
 * the tracefs event (kill_oom.sh flaked on this): the exit is decided at
 * once, the event waits for the cgroup within its hold and is stored with
 * it; without a second source it is stored when the hold is over. */
static void test_oom_cgroup_arrives_late(void **state)
{
    (void)state;
    struct pm_killbook *kb = pm_killbook_new(HOLD);
    start(kb, 810, 1, 0);
    start(kb, 811, 1, 0);
    oomev(kb, 10 * MS, 5 * MS, 810);
    exitrec(kb, 10 * MS, 7 * MS, 810, SIGKILL, 0);
    struct pm_proc_exit_rec x;
    struct pm_event_rec ev;
    int nev;
    /* writer cycle 1: the exit, explained; the event is held */
    assert_true(drain(kb, 12 * MS, 0, 810, &x, &nev, &ev));
    assert_string_equal(x.kill_cause, "oom");
    assert_int_equal(nev, 0);
    /* writer cycle 2: kmsg's duplicate names the cgroup */
    kmsgev(kb, 260 * MS, 6 * MS, 810, "/job-9");
    drain(kb, 260 * MS, 0, 0, &x, &nev, &ev);
    assert_int_equal(nev, 1);
    assert_string_equal(ev.detail, "kernel OOM killer; cgroup /job-9");
    /* no second source: stored without a cgroup once the hold is over */
    oomev(kb, 300 * MS, 290 * MS, 811);
    drain(kb, 300 * MS, 0, 0, &x, &nev, &ev);
    assert_int_equal(nev, 0);
    drain(kb, 300 * MS + HOLD, 0, 0, &x, &nev, &ev);
    assert_int_equal(nev, 1);
    assert_string_equal(ev.detail, "kernel OOM killer");
    assert_int_equal(ev.pid, 811);
    pm_killbook_free(kb);
}

/* Signals to processes that are not in the tree are dropped after the
 * hold; one whose start arrives within the hold is kept. */
static void test_non_members_dropped_late_start_kept(void **state)
{
    (void)state;
    struct pm_killbook *kb = pm_killbook_new(HOLD);
    start(kb, 700, 1, 0);
    sigev(kb, 100 * MS, 100 * MS, 9999, SIGKILL, 0, 1, "init");
    sigev(kb, 100 * MS, 100 * MS, 701, SIGTERM, 0, 700, "p700");
    struct pm_proc_exit_rec x;
    int nev;
    drain(kb, 100 * MS, 0, 0, &x, &nev, NULL);
    assert_int_equal(nev, 0);
    start(kb, 701, 700, 150 * MS); /* seen late by a /proc scan */
    struct pm_event_rec ev;
    drain(kb, 200 * MS, 0, 0, &x, &nev, &ev);
    assert_int_equal(nev, 1);
    assert_int_equal(ev.pid, 701);
    drain(kb, 700 * MS, 0, 0, &x, &nev, NULL);
    assert_int_equal(nev, 0);
    struct pm_killbook_stats st;
    pm_killbook_stats(kb, &st);
    assert_int_equal(st.events_in, 2);
    assert_int_equal(st.events_stored, 1);
    assert_int_equal(st.events_dropped, 1);
    pm_killbook_free(kb);
}

/* After a member exits, its pid may be reused outside the tree: signals to
 * the reused pid are not the tree's. */
static void test_pid_reuse(void **state)
{
    (void)state;
    struct pm_killbook *kb = pm_killbook_new(HOLD);
    start(kb, 800, 1, 0);
    exitrec(kb, 1000 * MS, 1000 * MS, 800, 0, 0);
    struct pm_proc_exit_rec x;
    int nev;
    assert_true(drain(kb, 1000 * MS, 0, 800, &x, &nev, NULL));
    assert_string_equal(x.kill_cause, ""); /* a normal exit: no cause */
    sigev(kb, 5000 * MS, 5000 * MS, 800, SIGKILL, 0, 1, "init");
    drain(kb, 6000 * MS, 0, 0, &x, &nev, NULL);
    assert_int_equal(nev, 0);
    /* the pid comes back into the tree: a new incarnation */
    start(kb, 800, 1, 7000 * MS);
    sigev(kb, 7100 * MS, 7050 * MS, 800, SIGINT, 0, 1, "init");
    exitrec(kb, 7100 * MS, 7060 * MS, 800, SIGINT, 0);
    assert_true(drain(kb, 7100 * MS, 0, 800, &x, &nev, NULL));
    assert_string_equal(x.kill_cause, "signal outside-tree");
    pm_killbook_free(kb);
}

/* A storm of short-lived members: the table forgets old exits and stays
 * correct for new ones. */
static void test_storm(void **state)
{
    (void)state;
    struct pm_killbook *kb = pm_killbook_new(HOLD);
    int64_t t = 0;
    int killed = 0;
    for (int i = 0; i < 200000; i++) {
        pid_t pid = 1000 + (i % 30000);
        t += MS / 2;
        start(kb, pid, 1, t);
        if (i % 100 == 0) {
            sigev(kb, t, t, pid, SIGKILL, 0, 1000 + ((i + 1) % 30000), "sib");
            exitrec(kb, t, t, pid, SIGKILL, 0);
        } else {
            exitrec(kb, t, t, pid, 0, 0);
        }
        struct pm_rec r;
        while (pm_killbook_take(kb, t, 0, &r))
            if (r.type == PM_REC_PROC_EXIT && r.u.exit.signal) {
                killed++;
                assert_string_equal(r.u.exit.kill_cause, "signal outside-tree");
            }
    }
    assert_int_equal(killed, 2000);
    pm_killbook_free(kb);
}

/* A platform that already knows the cause (macOS kqueue) keeps it; a full
 * detail is annotated without overflow. */
static void test_platform_cause_and_long_detail(void **state)
{
    (void)state;
    struct pm_killbook *kb = pm_killbook_new(HOLD);
    start(kb, 900, 1, 0);
    struct pm_rec r;
    memset(&r, 0, sizeof(r));
    r.type = PM_REC_EVENT;
    r.u.ev.kind = PM_EV_SIGNAL;
    r.u.ev.pid = 900;
    r.u.ev.signal = SIGKILL;
    memset(r.u.ev.detail, 'x', sizeof(r.u.ev.detail) - 1);
    memcpy(r.u.ev.detail, "code=0 ", 7);
    pm_killbook_put(kb, &r, 0);
    memset(&r, 0, sizeof(r));
    r.type = PM_REC_PROC_EXIT;
    r.u.exit.pid = 900;
    r.u.exit.signal = SIGKILL;
    snprintf(r.u.exit.kill_cause, sizeof(r.u.exit.kill_cause), "memory");
    pm_killbook_put(kb, &r, 0);
    int n = 0;
    while (pm_killbook_take(kb, 0, 1, &r)) {
        n++;
        if (r.type == PM_REC_PROC_EXIT)
            assert_string_equal(r.u.exit.kill_cause, "memory");
        else
            assert_int_equal(strlen(r.u.ev.detail), sizeof(r.u.ev.detail) - 1);
    }
    assert_int_equal(n, 2);
    /* records the killbook does not want */
    memset(&r, 0, sizeof(r));
    r.type = PM_REC_SYS;
    assert_false(pm_killbook_wants(&r));
    r.type = PM_REC_EVENT;
    r.u.ev.kind = PM_EV_EXEC;
    assert_false(pm_killbook_wants(&r));
    pm_killbook_put(kb, &r, 0);
    assert_false(pm_killbook_take(kb, 0, 1, &r));
    pm_killbook_free(kb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sibling_sigkill_in_tree),
        cmocka_unit_test(test_exit_before_event_sigterm_outside),
        cmocka_unit_test(test_unexplained_expires_unknown),
        cmocka_unit_test(test_self_and_kernel_fault),
        cmocka_unit_test(test_oom),
        cmocka_unit_test(test_oom_from_vmstat),
        cmocka_unit_test(test_oom_from_cgroup),
        cmocka_unit_test(test_oom_cgroup_arrives_late),
        cmocka_unit_test(test_oom_two_sources),
        cmocka_unit_test(test_non_members_dropped_late_start_kept),
        cmocka_unit_test(test_pid_reuse),
        cmocka_unit_test(test_storm),
        cmocka_unit_test(test_platform_cause_and_long_detail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
