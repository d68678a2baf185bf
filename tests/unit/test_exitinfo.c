/*
 * Tests for sampler/exitinfo.c: wait statuses, macOS NOTE_EXIT data with
 * NOTE_EXIT_DETAIL bits, and exit-reason namespaces -> kill classification.
 * Inputs are built from the documented encodings (wait(2): exit code in
 * bits 8..15, signal in bits 0..6, core 0x80; xnu sys/event.h for the
 * detail bits; sys/reason.h for namespaces), not from the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>

#include "sampler/exitinfo.h"
#include "sampler/record.h"

#define W_EXIT(code) ((code) << 8)
#define W_SIG(sig) (sig)
#define W_CORE 0x80

static void test_status_exit(void **state)
{
    (void)state;
    struct pm_exit_info e;
    pm_exit_from_status(W_EXIT(0), &e);
    assert_true(e.known && e.exited);
    assert_int_equal(e.exit_code, 0);
    assert_string_equal(e.cause, "");
    assert_int_equal(e.ev_kind, 0);
    pm_exit_from_status(W_EXIT(3), &e);
    assert_int_equal(e.exit_code, 3);
    assert_int_equal(e.signal, 0);
    pm_exit_from_status(W_EXIT(255), &e);
    assert_int_equal(e.exit_code, 255);
}

static void test_status_signal(void **state)
{
    (void)state;
    struct pm_exit_info e;
    pm_exit_from_status(W_SIG(SIGKILL), &e);
    assert_false(e.exited);
    assert_int_equal(e.signal, SIGKILL);
    assert_int_equal(e.core, 0);
    assert_string_equal(e.cause, "signal");
    assert_int_equal(e.ev_kind, PM_EV_SIGNAL);
    pm_exit_from_status(W_SIG(SIGABRT) | W_CORE, &e);
    assert_int_equal(e.signal, SIGABRT);
    assert_int_equal(e.core, 1);
    /* A "stopped" status is not an exit: never reported as signal 127. */
    pm_exit_from_status(0x7f | (SIGSTOP << 8), &e);
    assert_false(e.known);
    assert_int_equal(e.signal, 0);
    assert_string_equal(e.cause, "unknown");
}

static void test_kevent_memory(void **state)
{
    (void)state;
    struct pm_exit_info e;
    uint32_t data = W_SIG(SIGKILL) | PM_NOTE_EXIT_MEMORY | PM_NOTE_EXIT_MEMORY_VMPAGESHORTAGE;
    pm_exit_from_kevent(data, 1, 1, &e);
    assert_int_equal(e.signal, SIGKILL);
    assert_string_equal(e.cause, "memory");
    assert_int_equal(e.ev_kind, PM_EV_MEMORY_KILL);
    assert_string_equal(e.detail, "jetsam vm-pageshortage");

    pm_exit_from_kevent(W_SIG(SIGKILL) | PM_NOTE_EXIT_MEMORY | PM_NOTE_EXIT_MEMORY_HIWAT, 1, 1, &e);
    assert_string_equal(e.detail, "jetsam highwater");
    pm_exit_from_kevent(W_SIG(SIGKILL) | PM_NOTE_EXIT_MEMORY, 1, 1, &e);
    assert_string_equal(e.cause, "memory");
    assert_string_equal(e.detail, "jetsam");
}

static void test_kevent_codesign(void **state)
{
    (void)state;
    struct pm_exit_info e;
    pm_exit_from_kevent(W_SIG(SIGKILL) | PM_NOTE_EXIT_CSERROR, 1, 1, &e);
    assert_int_equal(e.signal, SIGKILL);
    assert_string_equal(e.cause, "codesign");
    assert_int_equal(e.ev_kind, PM_EV_CODESIGN_KILL);
    pm_exit_from_kevent(W_SIG(SIGKILL) | PM_NOTE_EXIT_DECRYPTFAIL, 1, 1, &e);
    assert_string_equal(e.cause, "codesign");
    assert_string_equal(e.detail, "decryption failure");
}

static void test_kevent_flags_missing(void **state)
{
    (void)state;
    struct pm_exit_info e;
    /* Without NOTE_EXITSTATUS (not our child, not signalable) the low bits
     * are not a status. */
    pm_exit_from_kevent(W_EXIT(3), 0, 0, &e);
    assert_false(e.known);
    assert_int_equal(e.exit_code, 0);
    assert_string_equal(e.cause, "unknown");
    /* Detail bits are ignored when NOTE_EXIT_DETAIL was not granted. */
    pm_exit_from_kevent(W_SIG(SIGKILL) | PM_NOTE_EXIT_MEMORY, 1, 0, &e);
    assert_string_equal(e.cause, "signal");
    /* Detail bits never leak into the exit code. */
    pm_exit_from_kevent(W_EXIT(3) | PM_NOTE_EXIT_CSERROR, 1, 0, &e);
    assert_true(e.exited);
    assert_int_equal(e.exit_code, 3);
    /* A plain exit with all flags: nothing killed it. */
    pm_exit_from_kevent(W_EXIT(0), 1, 1, &e);
    assert_true(e.exited);
    assert_string_equal(e.cause, "");
}

struct reason_case {
    uint32_t ns;
    uint64_t code;
    const char *cause;
    int ev;
    const char *detail;
};

static void test_reasons(void **state)
{
    (void)state;
    static const struct reason_case cases[] = {
        {PM_OSR_JETSAM, 7, "memory", PM_EV_MEMORY_KILL, "jetsam per-process-limit"},
        {PM_OSR_JETSAM, 4, "memory", PM_EV_MEMORY_KILL, "jetsam vm-pageshortage"},
        {PM_OSR_JETSAM, 9, "memory", PM_EV_MEMORY_KILL, "jetsam idle-exit"},
        {PM_OSR_JETSAM, 12, "memory", PM_EV_MEMORY_KILL, "jetsam vm-compressor-space-shortage"},
        {PM_OSR_JETSAM, 77, "memory", PM_EV_MEMORY_KILL, "jetsam code 77"},
        {PM_OSR_CODESIGNING, 2, "codesign", PM_EV_CODESIGN_KILL, "code signing: invalid page"},
        {PM_OSR_CODESIGNING, 1, "codesign", PM_EV_CODESIGN_KILL, "code signing: invalid signature (taskgated)"},
        {PM_OSR_SIGNAL, 9, "signal", PM_EV_SIGNAL, "reason SIGNAL 9"},
        {PM_OSR_EXEC, PM_EXEC_REASON_SECURITY_POLICY, "codesign", PM_EV_CODESIGN_KILL, NULL},
        {PM_OSR_EXEC, 1, "kernel", 0, "exec failed (EXEC code 1)"},
        {PM_OSR_LIBSYSTEM, 1, "self", 0, "reason LIBSYSTEM code 1"},
        {PM_OSR_DYLD, 4, "self", 0, "reason DYLD code 4"},
        {PM_OSR_GUARD, 3, "kernel", 0, "reason GUARD code 3"},
        {PM_OSR_SECURITY, 1, "codesign", PM_EV_CODESIGN_KILL, NULL},
        {999, 5, "kernel", 0, "reason namespace 999 code 5"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pm_exit_info e;
        pm_exit_from_status(W_SIG(SIGKILL), &e);
        pm_exit_apply_reason(&e, cases[i].ns, cases[i].code);
        assert_string_equal(e.cause, cases[i].cause);
        assert_int_equal(e.ev_kind, cases[i].ev);
        if (cases[i].detail)
            assert_string_equal(e.detail, cases[i].detail);
        assert_int_equal(e.signal, SIGKILL); /* a reason never changes the status */
    }
}

static void test_reason_invalid_keeps_status(void **state)
{
    (void)state;
    struct pm_exit_info e;
    pm_exit_from_kevent(W_SIG(SIGKILL) | PM_NOTE_EXIT_CSERROR, 1, 1, &e);
    pm_exit_apply_reason(&e, PM_OSR_INVALID, 0);
    assert_string_equal(e.cause, "codesign");
    /* A SIGNAL reason must not erase a more specific detail-bit cause. */
    pm_exit_apply_reason(&e, PM_OSR_SIGNAL, 9);
    assert_string_equal(e.cause, "codesign");
    /* SIGNAL reason fills in the signal when no status was granted. */
    pm_exit_from_kevent(0, 0, 0, &e);
    pm_exit_apply_reason(&e, PM_OSR_SIGNAL, 15);
    assert_int_equal(e.signal, 15);
    assert_string_equal(e.cause, "signal");
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(pm_exit_reason_ns_name(1), "JETSAM");
    assert_string_equal(pm_exit_reason_ns_name(3), "CODESIGNING");
    assert_null(pm_exit_reason_ns_name(4000));
    assert_string_equal(pm_jetsam_cause_name(7), "per-process-limit");
    assert_string_equal(pm_jetsam_cause_name(100), "cpu-limit");
    assert_null(pm_jetsam_cause_name(99));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_exit),       cmocka_unit_test(test_status_signal),
        cmocka_unit_test(test_kevent_memory),     cmocka_unit_test(test_kevent_codesign),
        cmocka_unit_test(test_kevent_flags_missing), cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_reason_invalid_keeps_status), cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
