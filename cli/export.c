/*
 * `pressmon export RUN --format csv|jsonl|openmetrics|influx`: one run to
 * stdout, with the same names, units and labels as `pressmon push`
 * (exporters/export.h, docs/EXPORT.md).  Counters are cumulative since the
 * run started, in base units, like the pushed series.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../exporters/export.h"
#include "cli.h"

enum fmt { F_CSV, F_JSONL, F_OPENMETRICS, F_INFLUX };

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pressmon export [options] RUN\n"
            "\n"
            "Write one run's system samples (and kill events, and for jsonl/openmetrics/influx\n"
            "the end-of-run summary) to stdout.\n"
            "RUN is a run id or unique prefix, last, last~N, or label:NAME.\n"
            "\n"
            "options:\n"
            "  -f, --format FMT     csv (default), jsonl, openmetrics, influx\n"
            "  -d, --db PATH        database (default $PRESSMON_DB, else ./pressmon.db)\n"
            "      --job NAME       job label (default pressmon)\n"
            "      --instance NAME  instance label (default: the run's host name)\n"
            "      --no-run-id      leave out the run_id label (see docs/EXPORT.md)\n"
            "  -h, --help           this text\n");
}

static int out(const struct pm_buf *b)
{
    if (b->len && fwrite(b->p, 1, b->len, stdout) != b->len)
        return -1;
    return 0;
}

static void csv_field(struct pm_buf *b, const char *s)
{
    if (strpbrk(s, ",\"\n\r") == NULL) {
        pm_buf_puts(b, s);
        return;
    }
    pm_buf_add(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"')
            pm_buf_add(b, "\"", 1);
        pm_buf_add(b, s, 1);
    }
    pm_buf_add(b, "\"", 1);
}

static int export_csv(sqlite3 *db, const struct pm_xrun *run, struct pm_batch *b, char *err,
                      size_t n)
{
    struct pm_buf o = {0};
    pm_buf_puts(&o, "run_id,time_ns");
    for (int i = 0; i < PM_SYS_N; i++)
        pm_buf_printf(&o, "," PM_X_PREFIX "%s", pm_sys_metrics[i].prom);
    pm_buf_puts(&o, "\n");
    struct pm_src *src = pm_src_open(db, run, err, n);
    int rc = src ? 0 : -1;
    long got;
    while (rc == 0 && (got = pm_src_next(src, b, 4096, err, n)) > 0) {
        for (size_t r = 0; r < b->nrows; r++) {
            csv_field(&o, run->uid);
            pm_buf_printf(&o, ",%lld", (long long)b->ts_ns[r]);
            for (int m = 0; m < PM_SYS_N; m++) {
                pm_buf_add(&o, ",", 1);
                if ((b->present[r] >> m) & 1)
                    pm_buf_double(&o, b->val[r * PM_SYS_N + (size_t)m]);
            }
            pm_buf_add(&o, "\n", 1);
        }
        pm_batch_clear(b);
        rc = out(&o);
        pm_buf_reset(&o);
    }
    if (got < 0)
        rc = -1;
    if (rc == 0)
        rc = out(&o);
    pm_src_close(src);
    pm_buf_free(&o);
    return rc;
}

static json_t *labels_json(const struct pm_xlabel *l, int nl)
{
    json_t *o = json_object();
    for (int i = 0; i < nl; i++)
        json_object_set_new(o, l[i].name, json_string(l[i].value));
    return o;
}

static int put_json_line(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(j);
    if (!s)
        return -1;
    int rc = (fputs(s, stdout) == EOF || fputc('\n', stdout) == EOF) ? -1 : 0;
    free(s);
    return rc;
}

static json_t *num(double v)
{
    /* Integral values as JSON integers: easier on jq and on people. */
    if (v == (double)(long long)v && v > -9e15 && v < 9e15)
        return json_integer((json_int_t)v);
    return json_real(v);
}

static int export_jsonl(sqlite3 *db, const struct pm_xrun *run, struct pm_batch *b, char *err,
                        size_t n)
{
    struct pm_src *src = pm_src_open(db, run, err, n);
    if (!src)
        return -1;
    json_t *labels = labels_json(b->common, b->ncommon);
    long got;
    int rc = 0;
    while (rc == 0 && (got = pm_src_next(src, b, 4096, err, n)) > 0) {
        for (size_t r = 0; r < b->nrows && rc == 0; r++) {
            json_t *m = json_object();
            for (int i = 0; i < PM_SYS_N; i++)
                if ((b->present[r] >> i) & 1)
                    json_object_set_new(m, pm_sys_metrics[i].prom, num(b->val[r * PM_SYS_N + (size_t)i]));
            rc = put_json_line(json_pack("{s:s, s:I, s:O, s:o}", "type", "sample", "time_ns",
                                         (json_int_t)b->ts_ns[r], "labels", labels, "metrics", m));
        }
        pm_batch_clear(b);
    }
    if (got < 0)
        rc = -1;
    pm_src_close(src);
    if (rc == 0 && pm_src_event_points(db, run, b, err, n) < 0)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < b->npts; i++) {
        const struct pm_xpoint *p = &b->pts[i];
        json_t *l = labels_json(b->common, b->ncommon);
        json_object_update_new(l, labels_json(p->labels, p->nlabels));
        rc = put_json_line(json_pack("{s:s, s:s, s:I, s:o, s:o}", "type", "point", "name",
                                     p->name, "time_ns", (json_int_t)p->ts_ns, "labels", l,
                                     "value", num(p->v)));
    }
    json_decref(labels);
    return rc;
}

static void om_timestamp(struct pm_buf *o, int64_t ts_ns)
{
    /* OpenMetrics timestamps are seconds; ms precision is what Prometheus keeps. */
    int64_t ms = ts_ns / 1000000;
    pm_buf_printf(o, " %lld.%03lld\n", (long long)(ms / 1000), (long long)(ms % 1000));
}

static void om_family(struct pm_buf *o, const char *family, const char *type, const char *unit,
                      const char *help)
{
    pm_buf_printf(o, "# TYPE " PM_X_PREFIX "%s %s\n", family, type);
    size_t fl = strlen(family), ul = unit ? strlen(unit) : 0;
    /* # UNIT is only allowed when the name ends in _<unit>. */
    if (ul && fl > ul + 1 && family[fl - ul - 1] == '_' && !strcmp(family + fl - ul, unit))
        pm_buf_printf(o, "# UNIT " PM_X_PREFIX "%s %s\n", family, unit);
    if (help) {
        pm_buf_printf(o, "# HELP " PM_X_PREFIX "%s ", family);
        for (const char *c = help; *c; c++) {
            if (*c == '\\' || *c == '"')
                pm_buf_add(o, "\\", 1);
            if (*c == '\n')
                pm_buf_puts(o, "\\n");
            else
                pm_buf_add(o, c, 1);
        }
        pm_buf_add(o, "\n", 1);
    }
}

static int export_openmetrics(sqlite3 *db, const struct pm_xrun *run, struct pm_batch *b,
                              char *err, size_t n)
{
    /* A metric family's samples must be contiguous: hold the run in memory
     * (a one-hour 100 Hz run is about 140 MB) and write it metric by metric. */
    struct pm_src *src = pm_src_open(db, run, err, n);
    if (!src)
        return -1;
    long got;
    while ((got = pm_src_next(src, b, 65536, err, n)) > 0)
        ;
    pm_src_close(src);
    if (got < 0)
        return -1;
    struct pm_buf o = {0};
    int rc = 0;
    for (int m = 0; m < PM_SYS_N && rc == 0; m++) {
        const struct pm_metric *mt = &pm_sys_metrics[m];
        int any = 0;
        for (size_t r = 0; r < b->nrows && !any; r++)
            any = (b->present[r] >> m) & 1;
        if (!any)
            continue;
        char family[96];
        pm_strlcpy(family, mt->prom, sizeof family);
        size_t fl = strlen(family);
        if (mt->kind == PM_COUNTER && fl > 6 && !strcmp(family + fl - 6, "_total"))
            family[fl - 6] = '\0';
        om_family(&o, family, mt->kind == PM_COUNTER ? "counter" : "gauge", mt->unit, mt->help);
        for (size_t r = 0; r < b->nrows; r++) {
            if (!((b->present[r] >> m) & 1))
                continue;
            pm_buf_printf(&o, PM_X_PREFIX "%s", mt->prom);
            pm_prom_labels(&o, b->common, b->ncommon, NULL, 0);
            pm_buf_add(&o, " ", 1);
            pm_buf_double(&o, b->val[r * PM_SYS_N + (size_t)m]);
            om_timestamp(&o, b->ts_ns[r]);
            if (o.len > (1 << 20)) {
                rc = out(&o);
                pm_buf_reset(&o);
            }
        }
    }
    pm_batch_clear(b);
    if (rc == 0 && pm_src_event_points(db, run, b, err, n) < 0)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < b->npts; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strcmp(b->pts[j].name, b->pts[i].name);
        if (seen)
            continue;
        om_family(&o, b->pts[i].name, b->pts[i].type, NULL, b->pts[i].help);
        for (size_t j = i; j < b->npts; j++) {
            const struct pm_xpoint *p = &b->pts[j];
            if (strcmp(p->name, b->pts[i].name))
                continue;
            pm_buf_printf(&o, PM_X_PREFIX "%s", p->name);
            pm_prom_labels(&o, b->common, b->ncommon, p->labels, p->nlabels);
            pm_buf_add(&o, " ", 1);
            pm_buf_double(&o, p->v);
            om_timestamp(&o, p->ts_ns);
        }
    }
    pm_buf_puts(&o, "# EOF\n");
    if (rc == 0)
        rc = o.oom ? -1 : out(&o);
    pm_buf_free(&o);
    return rc;
}

static int export_influx(sqlite3 *db, const struct pm_xrun *run, struct pm_batch *b, char *err,
                         size_t n)
{
    struct pm_src *src = pm_src_open(db, run, err, n);
    if (!src)
        return -1;
    struct pm_buf o = {0};
    long got;
    int rc = 0;
    while (rc == 0 && (got = pm_src_next(src, b, 4096, err, n)) > 0) {
        rc = pm_enc_influx(b, &o) < 0 ? -1 : out(&o);
        pm_batch_clear(b);
    }
    if (got < 0)
        rc = -1;
    pm_src_close(src);
    if (rc == 0 && pm_src_event_points(db, run, b, err, n) < 0)
        rc = -1;
    if (rc == 0)
        rc = pm_enc_influx(b, &o) < 0 ? -1 : out(&o);
    pm_buf_free(&o);
    return rc;
}

int cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'}, {"db", required_argument, NULL, 'd'},
        {"job", required_argument, NULL, 'j'},    {"instance", required_argument, NULL, 'i'},
        {"no-run-id", no_argument, NULL, 'R'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db_opt = NULL, *job = NULL, *instance = NULL;
    enum fmt fmt = F_CSV;
    int no_run_id = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (!strcmp(optarg, "csv"))
                fmt = F_CSV;
            else if (!strcmp(optarg, "jsonl") || !strcmp(optarg, "json"))
                fmt = F_JSONL;
            else if (!strcmp(optarg, "openmetrics") || !strcmp(optarg, "om"))
                fmt = F_OPENMETRICS;
            else if (!strcmp(optarg, "influx"))
                fmt = F_INFLUX;
            else {
                pm_err("unknown export format '%s' (use csv, jsonl, openmetrics or influx)", optarg);
                return PM_EXIT_USAGE;
            }
            break;
        case 'd': db_opt = optarg; break;
        case 'j': job = optarg; break;
        case 'i': instance = optarg; break;
        case 'R': no_run_id = 1; break;
        case 'h': usage(stdout); return PM_EXIT_OK;
        default: usage(stderr); return PM_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return PM_EXIT_USAGE;
    }
    struct pm_store *st = pm_open_for_read(db_opt);
    if (!st)
        return PM_EXIT_FAIL;
    int64_t run_id;
    int rc = PM_EXIT_FAIL;
    char err[512];
    struct pm_batch b = {0};
    struct pm_xrun run;
    int sel = pm_select_run(st, argv[optind], &run_id);
    if (sel < 0) {
        rc = pm_select_exit(sel);
        goto done;
    }
    sqlite3 *db = pm_store_db(st);
    if (pm_src_run(db, run_id, &run, err, sizeof err) < 0) {
        pm_err("%s", err);
        goto done;
    }
    struct pm_xident id = {
        .job = job,
        .instance = instance && *instance ? instance : run.hostname,
        .label = run.label,
        .run_id = no_run_id ? NULL : run.uid,
    };
    pm_batch_labels(&b, &id);
    int r;
    err[0] = '\0';
    switch (fmt) {
    case F_CSV: r = export_csv(db, &run, &b, err, sizeof err); break;
    case F_JSONL: r = export_jsonl(db, &run, &b, err, sizeof err); break;
    case F_OPENMETRICS: r = export_openmetrics(db, &run, &b, err, sizeof err); break;
    default: r = export_influx(db, &run, &b, err, sizeof err); break;
    }
    if (fflush(stdout) != 0)
        r = -1;
    if (r < 0)
        pm_err("export of run %s failed: %s", run.uid, err[0] ? err : "cannot write to stdout");
    else
        rc = PM_EXIT_OK;
done:
    pm_batch_free(&b);
    pm_store_close(st);
    return rc;
}
