/*
 * `pressmon push RUN --to URL`: send a recorded run to Prometheus remote
 * write, an Influx line-protocol endpoint or a Pushgateway (summary only),
 * with its original timestamps.  Credentials come from the environment
 * only (PRESSMON_PUSH_USER/PRESSMON_PUSH_PASSWORD or PRESSMON_PUSH_TOKEN).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../exporters/push.h"
#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pressmon push RUN --to URL [options]\n\n"
            "Send a recorded run to a metrics server, with its original timestamps.\n"
            "The protocol is taken from the URL's path when it is unambiguous:\n"
            "  .../api/v1/write, /api/prom/push, /api/v1/push  Prometheus remote write\n"
            "  .../write, /api/v1/push/influx/write             Influx line protocol\n"
            "  .../metrics/job/...                               Pushgateway (run summary)\n\n"
            "  -t, --to URL             where to send (required)\n"
            "  -p, --protocol P         remote-write, influx or pushgateway\n"
            "      --db PATH            database (default $PRESSMON_DB, else ./pressmon.db)\n"
            "      --job NAME           job label (default pressmon)\n"
            "      --instance NAME      instance label (default: the run's host name)\n"
            "      --no-run-id          leave out the run_id label (fewer series; docs/EXPORT.md)\n"
            "      --batch N            samples per request (default 10000)\n"
            "      --no-gzip            send Influx bodies uncompressed\n"
            "      --cacert FILE        trust this CA bundle for https (verification stays on)\n"
            "      --connect-timeout D  (default 5s; D has a unit: 500ms, 5s)\n"
            "      --timeout D          whole request (default 30s)\n"
            "      --retries N          retries of 5xx/429/network errors (default 5)\n"
            "      --json               print what was sent as JSON on stdout\n"
            "  -q, --quiet\n"
            "  -h, --help\n\n"
            "Authentication, from the environment only: PRESSMON_PUSH_USER and\n"
            "PRESSMON_PUSH_PASSWORD (basic, e.g. Grafana Cloud instance id + token), or\n"
            "PRESSMON_PUSH_TOKEN (bearer).\n");
}

int cmd_push(int argc, char **argv)
{
    static const struct option opts[] = {
        {"to", required_argument, NULL, 't'},
        {"protocol", required_argument, NULL, 'p'},
        {"db", required_argument, NULL, 'd'},
        {"job", required_argument, NULL, 'j'},
        {"instance", required_argument, NULL, 'i'},
        {"no-run-id", no_argument, NULL, 'R'},
        {"batch", required_argument, NULL, 'b'},
        {"no-gzip", no_argument, NULL, 'G'},
        {"cacert", required_argument, NULL, 'C'},
        {"connect-timeout", required_argument, NULL, 'c'},
        {"timeout", required_argument, NULL, 'T'},
        {"retries", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'J'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct pm_push_opts po;
    memset(&po, 0, sizeof po);
    const char *db_opt = NULL, *url = NULL;
    int json = 0, c;
    int64_t ns;
    char *end;
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:p:qh", opts, NULL)) != -1) {
        switch (c) {
        case 't': url = optarg; break;
        case 'p':
            if (pm_proto_parse(optarg, &po.proto) < 0) {
                pm_err("unknown protocol '%s' (use remote-write, influx or pushgateway)", optarg);
                return PM_EXIT_USAGE;
            }
            break;
        case 'd': db_opt = optarg; break;
        case 'j': po.job = optarg; break;
        case 'i': po.instance = optarg; break;
        case 'R': po.no_run_id = 1; break;
        case 'b':
            po.batch_samples = strtoul(optarg, &end, 10);
            if (*end || po.batch_samples == 0) {
                pm_err("--batch wants a positive number of samples, not '%s'", optarg);
                return PM_EXIT_USAGE;
            }
            break;
        case 'G': po.no_gzip = 1; break;
        case 'C': po.http.ca_file = optarg; break;
        case 'c':
        case 'T':
            if (pm_duration_arg("push", c == 'c' ? "--connect-timeout" : "--timeout", optarg, "5s or 500ms", &ns))
                return PM_EXIT_USAGE;
            if (ns < 1000000) {
                pm_err("push: bad --%s '%s': give 1ms or more, as in 5s or 500ms",
                       c == 'c' ? "connect-timeout" : "timeout", optarg);
                return PM_EXIT_USAGE;
            }
            if (c == 'c')
                po.http.connect_timeout_ms = (long)(ns / 1000000);
            else
                po.http.timeout_ms = (long)(ns / 1000000);
            break;
        case 'r': {
            long r = strtol(optarg, &end, 10);
            if (*end || r < 0 || r > 100) {
                pm_err("--retries wants 0..100, not '%s'", optarg);
                return PM_EXIT_USAGE;
            }
            po.http.max_attempts = (int)r + 1;
            break;
        }
        case 'J': json = 1; break;
        case 'q': po.quiet = 1; break;
        case 'h': usage(stdout); return PM_EXIT_OK;
        default: usage(stderr); return PM_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || !url) {
        if (!url)
            pm_err("push needs --to URL (see 'pressmon push --help')");
        usage(stderr);
        return PM_EXIT_USAGE;
    }
    char err[1024];
    if (pm_url_check(url, err, sizeof err) < 0) {
        pm_err("%s", err);
        return PM_EXIT_USAGE;
    }
    if (!po.proto && pm_proto_infer(url) == PM_PROTO_AUTO) {
        pm_err("cannot tell the protocol from %s: add --protocol remote-write, influx or "
               "pushgateway", url);
        return PM_EXIT_USAGE;
    }
    struct pm_store *st = pm_open_for_read(db_opt);
    if (!st)
        return PM_EXIT_FAIL;
    int64_t run_id;
    int rc = PM_EXIT_FAIL;
    int sel = pm_select_run(st, argv[optind], &run_id);
    if (sel < 0) {
        rc = pm_select_exit(sel);
        goto done;
    }
    struct pm_push_stats stats;
    char safe[512], uid[32] = "?";
    pm_url_safe(url, safe, sizeof safe);
    struct pm_xrun run;
    if (pm_src_run(pm_store_db(st), run_id, &run, err, sizeof err) == 0)
        pm_strlcpy(uid, run.uid, sizeof uid);
    enum pm_proto proto = po.proto ? po.proto : pm_proto_infer(url);
    if (pm_push_run(pm_store_db(st), run_id, url, &po, &stats, err, sizeof err) < 0) {
        pm_err("push of run %s failed (%llu requests accepted before): %s", uid,
               (unsigned long long)stats.requests, err);
        goto done;
    }
    if (json) {
        printf("{\"run_id\":\"%s\",\"protocol\":\"%s\",\"requests\":%llu,\"samples\":%llu,"
               "\"bytes\":%llu,\"retries\":%llu,\"seconds\":%.3f}\n",
               uid, pm_proto_name(proto), (unsigned long long)stats.requests,
               (unsigned long long)stats.samples, (unsigned long long)stats.bytes,
               (unsigned long long)stats.retries, stats.seconds);
    }
    if (!po.quiet)
        fprintf(stderr, "pressmon: pushed run %s to %s (%s): %llu samples in %llu requests, "
                        "%.1f KiB, %.2f s\n",
                uid, safe, pm_proto_name(proto), (unsigned long long)stats.samples,
                (unsigned long long)stats.requests, (double)stats.bytes / 1024.0, stats.seconds);
    rc = PM_EXIT_OK;
done:
    pm_store_close(st);
    return rc;
}
