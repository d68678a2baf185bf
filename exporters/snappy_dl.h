/*
 * libsnappy, loaded with dlopen on first use instead of linked (dl.h).
 *
 * Only remote write compresses with snappy, but libsnappy is C++: a binary
 * linked with libsnappy.so.1 loads it, libstdc++ and libgcc_s at every
 * start (with libprotobuf-c, which encode_rw.c replaced, they cost
 * `pressmon --version` 0.8-1.0 ms: docs/BENCHMARKS.md).  So encode_rw.c
 * calls the two functions of snappy's C API it needs through the pointers
 * below, resolved once by pm_snappy_load.  <snappy-c.h> still gives the
 * types: the build needs the header, not the library.
 *
 * Which library: $PRESSMON_LIBSNAPPY if set (a path or a name for dlopen),
 * else libsnappy.so.1 on Linux (Debian: libsnappy1v5); on macOS Homebrew's
 * /opt/homebrew/lib (Apple Silicon), then /usr/local/lib (Intel), then
 * libsnappy.1.dylib from the search path.
 */
#ifndef PM_SNAPPY_DL_H
#define PM_SNAPPY_DL_H

#include <stddef.h>

#include <snappy-c.h>

struct pm_snappy {
    snappy_status (*compress)(const char *input, size_t input_length, char *compressed,
                              size_t *compressed_length);
    size_t (*max_compressed_length)(size_t source_length);
};

/* Loads libsnappy once per process (pm_dl_get: any thread may call
 * it).  NULL with a message naming the library and how to install it when
 * it cannot be loaded or is not libsnappy; every later call gives the same
 * answer. */
const struct pm_snappy *pm_snappy_load(char *err, size_t n);

#endif
