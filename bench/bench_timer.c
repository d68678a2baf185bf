/*
 * The floor under pressmon's own CPU: what a thread costs that only wakes
 * from a periodic timerfd, as the sampler does, and reads nothing.  On a
 * VM the wakeup itself (timer interrupt, scheduler, return to user space,
 * the hypervisor's share of all that) is most of a 100 Hz tick's cost, so
 * bench/record.sh prints this next to pressmon's figures, measured in the
 * same run (docs/BENCHMARKS.md).
 *
 *   bench_timer HZ SECONDS [FILE...]
 *
 * prints "HZ hz: N.N us of CPU per tick, P.PP% of one core".  With FILEs,
 * each is pread in full on every tick (a probe of what a source costs
 * read cold, right after the wakeup).
 */
#ifndef __linux__
#include <stdio.h>
int main(void)
{
    puts("bench_timer: timerfd is Linux only");
    return 0;
}
#else
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static int64_t ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_timer HZ SECONDS [FILE...]\n");
        return 2;
    }
    long hz = strtol(argv[1], NULL, 10), secs = strtol(argv[2], NULL, 10);
    if (hz < 1 || hz > 100000 || secs < 1) {
        fprintf(stderr, "bench_timer: HZ must be 1..100000 and SECONDS >= 1\n");
        return 2;
    }
    int nf = argc - 3, fds[64];
    if (nf > 64)
        nf = 64;
    static char buf[256 * 1024];
    for (int i = 0; i < nf; i++) {
        fds[i] = open(argv[3 + i], O_RDONLY | O_CLOEXEC);
        if (fds[i] < 0) {
            perror(argv[3 + i]);
            return 1;
        }
    }
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    int64_t period = 1000000000 / hz, first = ns(CLOCK_MONOTONIC) + period;
    struct itimerspec its = {.it_interval = {period / 1000000000, period % 1000000000},
                             .it_value = {first / 1000000000, first % 1000000000}};
    if (tfd < 0 || timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0) {
        perror("timerfd");
        return 1;
    }
    int64_t ticks = hz * secs, cpu0 = ns(CLOCK_THREAD_CPUTIME_ID);
    for (int64_t t = 0; t < ticks;) {
        uint64_t exp;
        if (read(tfd, &exp, sizeof(exp)) != (ssize_t)sizeof(exp))
            return 1;
        t += (int64_t)exp;
        for (int i = 0; i < nf; i++)
            if (pread(fds[i], buf, sizeof(buf), 0) < 0)
                return 1;
    }
    double us = (double)(ns(CLOCK_THREAD_CPUTIME_ID) - cpu0) / 1e3 / (double)ticks;
    printf("%ld hz: %.1f us of CPU per tick, %.2f%% of one core\n", hz, us, us * (double)hz / 1e4);
    return 0;
}
#endif
