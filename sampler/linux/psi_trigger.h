/*
 * PSI triggers: the kernel wakes the event thread when memory stall time
 * crosses a threshold within a window (Documentation/accounting/psi.rst),
 * and each wake-up becomes a `pressure` event.
 *
 * A trigger is the string "some|full STALL_US WINDOW_US" written to an
 * O_RDWR fd of /proc/pressure/memory; poll() then reports POLLPRI at most
 * once per window while the stall threshold is exceeded.  The window must
 * be 500 ms..10 s; since Linux 6.5 unprivileged users may create triggers
 * whose window is a multiple of 2 s (shorter ones need CAP_SYS_RESOURCE).
 * The default, "some 150000 2000000" (7.5% of 2 s), works for everyone;
 * PRESSMON_PSI_TRIGGER overrides it ("off" disables).  The per-tick total=
 * counters in the samples give the finer detail; the events mark when.
 */
#ifndef PM_PSI_TRIGGER_H
#define PM_PSI_TRIGGER_H

#include <stddef.h>
#include <stdint.h>

#include "../record.h"
#include "../ring.h"
#include "procfs.h"

#define PM_PSI_TRIGGER_DEFAULT "some 150000 2000000"

struct pm_psi_spec {
    int full;              /* 0: "some", 1: "full" */
    int64_t stall_us, window_us;
};

/* Pure: parse and check a trigger spec.  Returns 0, or -1 with a reason. */
int pm_psi_spec_parse(const char *s, struct pm_psi_spec *out, char *why, size_t whylen);

/* Pure: the detail of a pressure event, from the memory PSI file read when
 * the trigger fired and the one read at the previous event (or at open):
 * "memory some stall >= 150 ms in 2.0 s; avg10 12.34%; +812 ms since last". */
void pm_psi_event_detail(const struct pm_psi_spec *sp, const struct pm_psi *now, const struct pm_psi *prev,
                         char *out, size_t cap);

struct pm_psi_trig;

/* NULL with a reason (e.g. "/proc/pressure/memory trigger: permission
 * denied (windows that are not a multiple of 2 s need CAP_SYS_RESOURCE)"). */
struct pm_psi_trig *pm_psi_trig_open(const char *spec, char *why, size_t whylen);

/* Poll for POLLPRI. */
int pm_psi_trig_fd(const struct pm_psi_trig *p);

/* The fd reported POLLPRI: push one PM_EV_PRESSURE event (t = now).
 * Returns 1 if pushed. */
int pm_psi_trig_fire(struct pm_psi_trig *p, int64_t run_start_mono_ns, struct pm_ring *out);

void pm_psi_trig_close(struct pm_psi_trig *p);

/* Free everything but the trigger fd, and return it (-1 for NULL): closing
 * a trigger waits for an RCU grace period (8.6 ms measured), which the
 * caller may do elsewhere (pm_tree_close hands it to a detached process). */
int pm_psi_trig_release(struct pm_psi_trig *p);

#endif
