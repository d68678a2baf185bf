/*
 * The metric catalog (see catalog.h): the tables built from the X-macros.
 */
#include "catalog.h"

#include <string.h>

/* KiB columns carry unit "bytes": the stored value is multiplied by 1024. */
#define PM_IS_KIB(col) (strstr(col, "_kb") != NULL)

#define PM_X_ROW(ID, col, prom, unit, scale, kind, flags, help) \
    {col, prom, unit, scale, kind, flags, help},

const struct pm_metric pm_sys_metrics[PM_SYS_N] = {PM_SYS_METRICS(PM_X_ROW)};
const struct pm_metric pm_proc_metrics[PM_PROC_N] = {PM_PROC_METRICS(PM_X_ROW)};

#undef PM_X_ROW

_Static_assert(PM_SYS_N <= 64, "sample presence is a 64-bit mask");
_Static_assert(PM_PROC_N <= 64, "process sample presence is a 64-bit mask");

const struct pm_metric *pm_catalog(enum pm_scope scope, int *count)
{
    if (scope == PM_SCOPE_PROCESS) {
        *count = PM_PROC_N;
        return pm_proc_metrics;
    }
    *count = PM_SYS_N;
    return pm_sys_metrics;
}

double pm_metric_value(const struct pm_metric *m, int64_t stored)
{
    double v = (double)stored;
    if (PM_IS_KIB(m->column))
        v *= 1024.0;
    return v / (double)m->scale;
}

int pm_metric_find(enum pm_scope scope, const char *column)
{
    int n;
    const struct pm_metric *c = pm_catalog(scope, &n);
    for (int i = 0; i < n; i++)
        if (strcmp(c[i].column, column) == 0)
            return i;
    return -1;
}
