/*
 * Runs fuzz_parsers.c's target without libFuzzer, so that `make test` (and
 * its sanitizer and valgrind runs) replays, deterministically:
 *  - every file of tests/fuzz/corpus/ as it is (first byte = the parser);
 *  - every captured fixture (tests/fixtures/...) through every parser,
 *    whole and cut at a few lengths (a read that stopped early).
 *
 *   fuzz_replay               the above, from the repository root
 *   fuzz_replay FILE...       only these inputs (a crash libFuzzer found)
 *
 * Exit 0 when every input passed; a broken promise aborts, an ASan or
 * UBSan report exits non-zero.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const unsigned pm_fuzz_ntargets; /* fuzz_parsers.c */

static long inputs;

static int slurp(const char *path, uint8_t **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 4096, n = 0;
    uint8_t *b = malloc(cap);
    size_t got;
    while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    int err = ferror(f);
    fclose(f);
    if (!b || err) {
        free(b);
        return -1;
    }
    *buf = b;
    *len = n;
    return 0;
}

static void run(const uint8_t *data, size_t size)
{
    LLVMFuzzerTestOneInput(data, size);
    inputs++;
}

/* A fixture through every parser: whole, and cut after 1, 7 and half of
 * its bytes and one byte short of whole. */
static void replay_fixture(const uint8_t *b, size_t n)
{
    uint8_t *in = malloc(n + 1);
    if (!in)
        return;
    memcpy(in + 1, b, n);
    size_t cuts[] = {n, 1, 7, n / 2, n ? n - 1 : 0};
    for (unsigned t = 0; t < pm_fuzz_ntargets; t++) {
        in[0] = (uint8_t)t;
        for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++)
            if (cuts[c] <= n)
                run(in, cuts[c] + 1);
    }
    free(in);
}

static int walk(const char *dir, int fixture)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "fuzz_replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            rc |= walk(path, fixture);
            continue;
        }
        /* Databases and large recordings are not parser input. */
        if (!S_ISREG(st.st_mode) || st.st_size > 256 * 1024 || strstr(e->d_name, ".db"))
            continue;
        uint8_t *b;
        size_t n;
        if (slurp(path, &b, &n) != 0) {
            fprintf(stderr, "fuzz_replay: %s: cannot read\n", path);
            rc = -1;
            continue;
        }
        if (fixture)
            replay_fixture(b, n);
        else
            run(b, n);
        free(b);
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            uint8_t *b;
            size_t n;
            if (slurp(argv[i], &b, &n) != 0) {
                fprintf(stderr, "fuzz_replay: %s: cannot read\n", argv[i]);
                return 1;
            }
            run(b, n);
            free(b);
        }
        printf("fuzz_replay: %ld inputs passed\n", inputs);
        return 0;
    }
    int rc = walk("tests/fuzz/corpus", 0);
    long corpus = inputs;
    rc |= walk("tests/fixtures", 1);
    printf("fuzz_replay: %ld corpus inputs and %ld fixture cuts passed\n", corpus, inputs - corpus);
    /* An empty walk would pass without testing anything. */
    if (corpus == 0 || inputs - corpus < 1000) {
        fprintf(stderr, "fuzz_replay: too few inputs (corpus %ld, fixtures %ld): run from the repository root\n",
                corpus, inputs - corpus);
        return 1;
    }
    return rc ? 1 : 0;
}
