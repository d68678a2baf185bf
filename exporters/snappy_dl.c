/*
 * libsnappy through dlopen: see snappy_dl.h for why, dl.h for how.
 */
#include "snappy_dl.h"

#include "dl.h"

static const struct pm_dl_sym syms[] = {
    PM_DL_SYM(struct pm_snappy, compress, "snappy_compress"),
    PM_DL_SYM(struct pm_snappy, max_compressed_length, "snappy_max_compressed_length"),
};

#ifdef __APPLE__
/* Homebrew links its libraries into /opt/homebrew/lib on Apple Silicon and
 * /usr/local/lib on Intel.  dyld's default fallback path for a bare name
 * (man dlopen) has /usr/local/lib but not /opt/homebrew/lib, so both are
 * tried by path first; the bare name then lets DYLD_* paths find another. */
static const char *const names[] = {"/opt/homebrew/lib/libsnappy.1.dylib",
                                    "/usr/local/lib/libsnappy.1.dylib", "libsnappy.1.dylib"};
#define HOW_TO_GET "brew install snappy"
#else
static const char *const names[] = {"libsnappy.so.1"};
#define HOW_TO_GET "Debian/Ubuntu: apt-get install libsnappy1v5"
#endif

static const struct pm_dl_lib libsnappy = {
    .what = "libsnappy",
    .needed_for = "needed for Prometheus remote write",
    .env = "PRESSMON_LIBSNAPPY",
    .names = names,
    .nnames = sizeof names / sizeof names[0],
    .how_to_get = HOW_TO_GET,
    .syms = syms,
    .nsyms = sizeof syms / sizeof syms[0],
};

/* Written once by pm_dl_get, read-only after. */
static struct pm_snappy snappy;
static struct pm_dl_once once = PM_DL_ONCE_INIT;

const struct pm_snappy *pm_snappy_load(char *err, size_t n)
{
    return pm_dl_get(&libsnappy, &once, &snappy, sizeof snappy, NULL, err, n);
}
