/*
 * Activity Monitor memory figures from VM page counts (formulas and their
 * sources in macos_mem.h).
 */
#include "macos_mem.h"

#include <string.h>

static int64_t pages(uint64_t n, uint64_t page_size)
{
    /* Saturate instead of overflowing on a garbage count. */
    if (n > (uint64_t)INT64_MAX / page_size)
        return INT64_MAX;
    return (int64_t)(n * page_size);
}

static uint64_t sub0(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

int pm_mac_mem_derive(const struct pm_mac_vmstat *v, uint64_t page_size, uint64_t mem_total,
                      struct pm_mac_mem *out)
{
    memset(out, 0, sizeof(*out));
    if (page_size == 0)
        return -1;
    out->total = mem_total > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)mem_total;
    uint64_t app = sub0(v->internal_page_count, v->purgeable_count);
    uint64_t cached = v->external_page_count + v->purgeable_count;
    out->free = pages(sub0(v->free_count, v->speculative_count), page_size);
    out->speculative = pages(v->speculative_count, page_size);
    out->app = pages(app, page_size);
    out->wired = pages(v->wire_count, page_size);
    out->compressed = pages(v->compressor_page_count, page_size);
    out->cached = pages(cached, page_size);
    out->used = pages(app + v->wire_count + v->compressor_page_count, page_size);
    out->available = pages(v->free_count + cached, page_size);
    return 0;
}

void pm_mac_vmstat_apply_sysctls(struct pm_mac_vmstat *v, int64_t page_free_count,
                                 int64_t page_speculative_count, int64_t pageable_internal_count,
                                 int64_t pageable_external_count, int64_t purgeable_count)
{
    if (page_speculative_count >= 0)
        v->speculative_count = (uint64_t)page_speculative_count;
    if (page_free_count >= 0)
        v->free_count = (uint64_t)page_free_count + v->speculative_count;
    if (pageable_internal_count >= 0)
        v->internal_page_count = (uint64_t)pageable_internal_count;
    if (pageable_external_count >= 0)
        v->external_page_count = (uint64_t)pageable_external_count;
    if (purgeable_count >= 0)
        v->purgeable_count = (uint64_t)purgeable_count;
}

const char *pm_mac_pressure_name(int64_t level)
{
    switch (level) {
    case 1: return "normal";
    case 2: return "warning";
    case 4: return "critical";
    default: return "unknown";
    }
}

const char *pm_mac_thermal_name(int64_t level)
{
    static const char *const names[] = {"nominal", "moderate", "heavy", "trapping", "sleeping"};
    if (level < 0 || level > 4)
        return "unknown";
    return names[level];
}
