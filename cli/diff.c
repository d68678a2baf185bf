/*
 * `pressmon diff A B`: what separates one run, or group of runs, from
 * another (DESIGN.md §7).  analysis/diff.c computes; this file selects the
 * runs, says what is unusual about them (different hosts, still recording)
 * and renders: an aligned table (sparklines and color on a TTY), --json, or
 * --markdown for a CI comment.
 *
 * --json keys (stable; also in docs/DIFF.md).  Sign convention: positive
 * change/effect = side A higher than side B.
 *   mode                "runs" (one run per side) | "groups"
 *   a, b                {selector, runs: [{uid, label, host, state, exit_code,
 *                        signal, outcome, duration_s, samples}]}
 *   warnings            [string]  different hosts, runs still recording
 *   span_s              common time axis of the sparkline points
 *   metrics             [ranked, best first] {
 *     key               "mem_available_kb", "tree.rss_kb" (process tree sum)
 *     name, unit, kind  "memory available", "bytes", "gauge" | "counter"
 *     stat              the ranked statistic: min p05 p50 mean p95 max
 *                       (counters: rates per second)
 *     a, b              {runs, n, min, p05, p50, mean, p95, max, value,
 *                        above_threshold_frac, above_threshold_s,
 *                        worst_window, worst_window_at_s, spark: [24 numbers|null]}
 *     threshold         number|null; threshold_below: true when low is bad
 *     change            a.value - b.value;  floor: noise floor of the change
 *     effect            runs: change / pooled within-run sigma (IQR/1.349, at
 *                       least the floor); groups: Cliff's delta in [-1, 1]
 *     effect_kind       "standardized" | "cliffs_delta";  auc: groups only
 *     score, significant, reading }
 *   events              [{kind, a_count, b_count, a_runs, b_runs, one_side}]
 *   processes           [ranked] {command, a: {runs, count, peak_rss_bytes,
 *                        cpu_s_per_run, nonzero_exits, signaled, signal,
 *                        killer}, b: {...}}
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../analysis/diff.h"
#include "cli.h"

#define DEFAULT_TOP 10

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pressmon diff [options] A B\n\n"
            "Compare two runs, or two groups of runs, and rank what differs most.\n\n"
            "A and B are runs: an id or unique prefix, last, last~N, label:NAME (newest);\n"
            "or groups: outcome:fail, outcome:pass, label:NAME (every run), ID,ID,...\n\n"
            "  pressmon diff last~1 last\n"
            "  pressmon diff outcome:fail outcome:pass\n"
            "  pressmon diff label:before label:after --markdown > comment.md\n\n"
            "options:\n"
            "  --json          machine-readable output (keys in docs/DIFF.md)\n"
            "  --markdown      a Markdown report for a CI comment\n"
            "  -n, --top N     show the N largest differences (default %d; 0 = all)\n"
            "      --db PATH   database (default $PRESSMON_DB, else ./pressmon.db)\n"
            "  -h, --help      this help\n\n"
            "Exit status: 0 compared, 1 a run could not be found or read, 2 usage error.\n",
            DEFAULT_TOP);
}

/* "the failing runs" reads better than "outcome:fail" in a sentence. */
static void side_name(const char *sel, const struct pm_diff_run *r, int n, char *buf, size_t len)
{
    if (!strcmp(sel, "outcome:fail"))
        snprintf(buf, len, "the failing runs");
    else if (!strcmp(sel, "outcome:pass"))
        snprintf(buf, len, "the passing runs");
    else if (n == 1)
        snprintf(buf, len, "run %.10s", r[0].uid);
    else
        snprintf(buf, len, "%s", sel);
}

static const char *exit_text(const struct pm_diff_run *r, char *buf, size_t len)
{
    if (!strcmp(r->state, "recording"))
        snprintf(buf, len, "still recording");
    else if (!r->has_status)
        snprintf(buf, len, "%s", r->state);
    else if (r->signal)
        snprintf(buf, len, "killed by %s", pm_signame(r->signal));
    else
        snprintf(buf, len, "exit %d", r->exit_code);
    return buf;
}

static int pick_top(const struct pm_diff *d, int top)
{
    int n = 0;
    for (int i = 0; i < d->nmetrics; i++)
        if (d->metrics[i].significant)
            n++;
    /* Show every significant difference up to --top, and at least a few of
     * the rest so "nothing differs" is visible as such. */
    if (n < 5)
        n = 5;
    if (top > 0 && n > top)
        n = top;
    return n > d->nmetrics ? d->nmetrics : n;
}

/* ---- JSON --------------------------------------------------------------- */

static json_t *num(double v)
{
    return isnan(v) || isinf(v) ? json_null() : json_real(v);
}

static json_t *json_side(const struct pm_diff_side *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "runs", json_integer(s->runs));
    json_object_set_new(o, "n", json_integer((json_int_t)s->s.n));
    json_object_set_new(o, "min", num(s->s.min));
    json_object_set_new(o, "p05", num(s->s.p05));
    json_object_set_new(o, "p50", num(s->s.p50));
    json_object_set_new(o, "mean", num(s->s.mean));
    json_object_set_new(o, "p95", num(s->s.p95));
    json_object_set_new(o, "max", num(s->s.max));
    json_object_set_new(o, "value", num(s->headline));
    json_object_set_new(o, "above_threshold_frac", s->has_threshold ? num(s->above_frac) : json_null());
    json_object_set_new(o, "above_threshold_s", s->has_threshold ? num(s->above_s) : json_null());
    json_object_set_new(o, "worst_window", num(s->worst));
    json_object_set_new(o, "worst_window_at_s", s->runs ? num(s->worst_at_s) : json_null());
    json_t *sp = json_array();
    for (int k = 0; k < PM_DIFF_SPARK; k++)
        json_array_append_new(sp, num(s->spark[k]));
    json_object_set_new(o, "spark", sp);
    return o;
}

static json_t *json_runs(const char *sel, const struct pm_diff_run *r, int n)
{
    json_t *o = json_object(), *a = json_array();
    json_object_set_new(o, "selector", json_string(sel));
    for (int i = 0; i < n; i++) {
        json_t *x = json_object();
        json_object_set_new(x, "uid", json_string(r[i].uid));
        json_object_set_new(x, "label", r[i].label[0] ? json_string(r[i].label) : json_null());
        json_object_set_new(x, "host", json_string(r[i].host));
        json_object_set_new(x, "state", json_string(r[i].state));
        json_object_set_new(x, "exit_code", r[i].has_status && !r[i].signal ? json_integer(r[i].exit_code)
                                                                            : json_null());
        json_object_set_new(x, "signal", r[i].signal ? json_integer(r[i].signal) : json_null());
        json_object_set_new(x, "outcome", r[i].outcome[0] ? json_string(r[i].outcome) : json_null());
        json_object_set_new(x, "duration_s", json_real((double)r[i].duration_ns / 1e9));
        json_object_set_new(x, "samples", json_integer(r[i].samples));
        json_array_append_new(a, x);
    }
    json_object_set_new(o, "runs", a);
    return o;
}

static json_t *json_proc_side(const struct pm_diff_proc *p, int b)
{
    json_t *o = json_object();
    json_object_set_new(o, "runs", json_integer(b ? p->runs_b : p->runs_a));
    json_object_set_new(o, "count", json_integer(b ? p->count_b : p->count_a));
    json_object_set_new(o, "peak_rss_bytes", num(b ? p->peak_rss_b : p->peak_rss_a));
    /* "kernel": wait4's high-water mark; "sampled": the largest 40 ms sample */
    json_object_set_new(o, "peak_rss_source", json_string((b ? p->peak_kernel_b : p->peak_kernel_a) ? "kernel"
                                                                                                    : "sampled"));
    json_object_set_new(o, "cpu_s_per_run", num(b ? p->cpu_b : p->cpu_a));
    json_object_set_new(o, "nonzero_exits", json_integer(b ? p->failed_b : p->failed_a));
    json_object_set_new(o, "signaled", json_integer(b ? p->signaled_b : p->signaled_a));
    int sig = b ? p->sig_b : p->sig_a;
    json_object_set_new(o, "signal", sig ? json_string(pm_signame(sig)) : json_null());
    const char *k = b ? p->killer_b : p->killer_a;
    json_object_set_new(o, "killer", *k ? json_string(k) : json_null());
    return o;
}

static void render_json(const struct pm_diff *d, const char *sa, const char *sb, const char *na,
                        const char *nb, json_t *warnings, int top)
{
    json_t *o = json_object();
    json_object_set_new(o, "mode", json_string(d->group_mode ? "groups" : "runs"));
    json_object_set_new(o, "a", json_runs(sa, d->ra, d->na));
    json_object_set_new(o, "b", json_runs(sb, d->rb, d->nb));
    json_object_set(o, "warnings", warnings);
    json_object_set_new(o, "span_s", json_real(d->span_s));
    json_t *ms = json_array();
    int n = top > 0 && top < d->nmetrics ? top : d->nmetrics;
    for (int i = 0; i < n; i++) {
        const struct pm_diff_metric *m = &d->metrics[i];
        char reading[256];
        json_t *x = json_object();
        json_object_set_new(x, "key", json_string(m->key));
        json_object_set_new(x, "name", json_string(m->name));
        json_object_set_new(x, "unit", json_string(m->m->unit));
        json_object_set_new(x, "kind", json_string(m->m->kind == PM_COUNTER ? "counter" : "gauge"));
        json_object_set_new(x, "stat", json_string(pm_diff_stat_name(m->stat)));
        json_object_set_new(x, "a", json_side(&m->a));
        json_object_set_new(x, "b", json_side(&m->b));
        json_object_set_new(x, "threshold", num(m->threshold));
        json_object_set_new(x, "threshold_below", json_boolean(m->threshold_below));
        json_object_set_new(x, "change", num(m->change));
        json_object_set_new(x, "floor", num(m->floor));
        json_object_set_new(x, "effect", num(m->effect));
        json_object_set_new(x, "effect_kind", json_string(d->group_mode ? "cliffs_delta" : "standardized"));
        json_object_set_new(x, "auc", d->group_mode ? num((m->effect + 1) / 2) : json_null());
        json_object_set_new(x, "score", num(m->score));
        json_object_set_new(x, "significant", json_boolean(m->significant));
        json_object_set_new(x, "reading", json_string(pm_diff_reading(m, na, nb, reading, sizeof reading)));
        json_array_append_new(ms, x);
    }
    json_object_set_new(o, "metrics", ms);
    json_t *ev = json_array();
    for (int i = 0; i < d->nevents; i++) {
        const struct pm_diff_event *e = &d->events[i];
        json_t *x = json_object();
        json_object_set_new(x, "kind", json_string(e->kind));
        json_object_set_new(x, "a_count", json_integer(e->count_a));
        json_object_set_new(x, "b_count", json_integer(e->count_b));
        json_object_set_new(x, "a_runs", json_integer(e->runs_a));
        json_object_set_new(x, "b_runs", json_integer(e->runs_b));
        json_object_set_new(x, "one_side", json_boolean((e->runs_a > 0) != (e->runs_b > 0)));
        json_array_append_new(ev, x);
    }
    json_object_set_new(o, "events", ev);
    json_t *ps = json_array();
    for (int i = 0; i < d->nprocs; i++) {
        json_t *x = json_object();
        json_object_set_new(x, "command", json_string(d->procs[i].key));
        json_object_set_new(x, "a", json_proc_side(&d->procs[i], 0));
        json_object_set_new(x, "b", json_proc_side(&d->procs[i], 1));
        json_array_append_new(ps, x);
    }
    json_object_set_new(o, "processes", ps);
    json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    fputc('\n', stdout);
    json_decref(o);
}

/* ---- text and Markdown --------------------------------------------------- */

static void spark_pair(const struct pm_diff_metric *m, char *a, char *b, size_t len)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < PM_DIFF_SPARK; k++) {
        const double v[2] = {m->a.spark[k], m->b.spark[k]};
        for (int j = 0; j < 2; j++)
            if (!isnan(v[j])) {
                lo = fmin(lo, v[j]);
                hi = fmax(hi, v[j]);
            }
    }
    /* One scale for both sides, so the eye compares levels, not shapes. */
    pm_sparkline(m->a.spark, PM_DIFF_SPARK, lo, hi, a, len);
    pm_sparkline(m->b.spark, PM_DIFF_SPARK, lo, hi, b, len);
}

static void effect_text(const struct pm_diff *d, const struct pm_diff_metric *m, char *buf, size_t len)
{
    if (d->group_mode)
        snprintf(buf, len, "d=%+.2f", m->effect);
    else
        snprintf(buf, len, "%+.1fx", fmax(-999, fmin(999, m->effect))); /* x the spread, not seconds */
}

static void header(FILE *f, const char *tag, const char *sel, const struct pm_diff_run *r, int n, int md)
{
    char ex[48], dur[32];
    if (n == 1) {
        pm_fmt_duration(r->duration_ns, dur, sizeof dur);
        fprintf(f, "%s%s = run %s%s%s%s, %s, %s, host %s%s\n", md ? "- **" : "", tag, r->uid,
                r->label[0] ? " (label " : "", r->label, r->label[0] ? ")" : "", exit_text(r, ex, sizeof ex),
                dur, r->host, md ? "" : "");
    } else {
        int fail = 0;
        for (int i = 0; i < n; i++)
            fail += !strcmp(r[i].outcome, "fail");
        fprintf(f, "%s%s = %s: %d runs (%d failed)\n", md ? "- **" : "", tag, sel, n, fail);
    }
}

static void render_text(const struct pm_diff *d, const char *sa, const char *sb, const char *na,
                        const char *nb, json_t *warnings, int top, int md)
{
    FILE *f = stdout;
    int tty = !md && pm_use_color(f);
    const char *bold = tty ? "\033[1m" : "", *dim = tty ? "\033[2m" : "", *red = tty ? "\033[31m" : "",
               *rst = tty ? "\033[0m" : "";
    if (md) {
        fprintf(f, "### pressmon diff\n\n");
        header(f, "A**", sa, d->ra, d->na, 1);
        header(f, "B**", sb, d->rb, d->nb, 1);
    } else {
        header(f, "A", sa, d->ra, d->na, 0);
        header(f, "B", sb, d->rb, d->nb, 0);
    }
    size_t wi;
    json_t *w;
    json_array_foreach(warnings, wi, w) fprintf(f, "%s%snote: %s%s\n", md ? "> " : "", red,
                                                 json_string_value(w), rst);
    fputc('\n', f);

    int n = pick_top(d, top);
    int sig = 0;
    for (int i = 0; i < d->nmetrics; i++)
        sig += d->metrics[i].significant;
    if (md) {
        fprintf(f, "#### Top differences (%d above the noise floor)\n\n", sig);
        fprintf(f, "| # | metric | stat | A | B | effect | reading |\n|---|---|---|---:|---:|---:|---|\n");
    } else {
        fprintf(f, "%sTop differences%s (%d above the noise floor; effect: %s)\n", bold, rst, sig,
                d->group_mode ? "Cliff's delta over runs, +1 = A always higher"
                              : "change in multiples (x) of the runs' own variability");
        fprintf(f, "%s%3s  %-38s %-4s %11s %11s %8s%s%s\n", dim, "#", "metric", "stat", "A", "B", "effect",
                tty ? "  A over time / B over time" : "", rst);
    }
    for (int i = 0; i < n; i++) {
        const struct pm_diff_metric *m = &d->metrics[i];
        char va[32], vb[32], ef[24], rd[256];
        pm_diff_fmt(m->m, m->a.headline, va, sizeof va);
        pm_diff_fmt(m->m, m->b.headline, vb, sizeof vb);
        effect_text(d, m, ef, sizeof ef);
        pm_diff_reading(m, na, nb, rd, sizeof rd);
        if (md) {
            fprintf(f, "| %d | %s%s%s | %s | %s | %s | %s | %s |\n", i + 1, m->significant ? "**" : "", m->name,
                    m->significant ? "**" : "", pm_diff_stat_name(m->stat), va, vb, ef, rd);
            continue;
        }
        fprintf(f, "%s%3d  %-38.38s %-4s %11s %11s %8s%s", m->significant ? "" : dim, i + 1, m->name,
                pm_diff_stat_name(m->stat), va, vb, ef, m->significant ? "" : rst);
        if (tty) {
            char a[PM_SPARK_BYTES(PM_DIFF_SPARK)], b[PM_SPARK_BYTES(PM_DIFF_SPARK)];
            spark_pair(m, a, b, sizeof a);
            fprintf(f, "  %s / %s", a, b);
        }
        fprintf(f, "\n       %s%s%s\n", m->significant ? "" : dim, rd, rst);
    }
    if (sig == 0)
        fprintf(f, "%sno metric differs above its noise floor%s\n", md ? "\n" : "", "");

    /* Pressure: time beyond thresholds and the worst 1 s window. */
    int shown = 0;
    for (int i = 0; i < d->nmetrics; i++) {
        const struct pm_diff_metric *m = &d->metrics[i];
        if (isnan(m->threshold) || (m->a.above_frac == 0 && m->b.above_frac == 0))
            continue;
        if (!shown++) {
            if (md)
                fprintf(f, "\n#### Pressure: time beyond threshold, worst 1 s window\n\n"
                           "| metric | threshold | A time | B time | A worst | B worst |\n"
                           "|---|---|---:|---:|---:|---:|\n");
            else
                fprintf(f, "\n%sPressure%s: time beyond threshold (share of run), worst 1 s window\n%s%-38s "
                           "%12s %9s %9s %11s %11s%s\n",
                        bold, rst, dim, "metric", "threshold", "A", "B", "A worst", "B worst", rst);
        }
        char th[40], t[32], wa[32], wb[32];
        pm_diff_fmt(m->m, m->threshold, t, sizeof t);
        snprintf(th, sizeof th, "%s %s", m->threshold_below ? "<" : ">", t);
        pm_diff_fmt(m->m, m->a.worst, wa, sizeof wa);
        pm_diff_fmt(m->m, m->b.worst, wb, sizeof wb);
        if (md)
            fprintf(f, "| %s | %s | %.1f%% | %.1f%% | %s | %s |\n", m->name, th, m->a.above_frac * 100,
                    m->b.above_frac * 100, wa, wb);
        else
            fprintf(f, "%-38.38s %12s %8.1f%% %8.1f%% %11s %11s\n", m->name, th, m->a.above_frac * 100,
                    m->b.above_frac * 100, wa, wb);
    }

    if (d->nevents) {
        if (md)
            fprintf(f, "\n#### Events\n\n| event | A (runs) | B (runs) | |\n|---|---:|---:|---|\n");
        else
            fprintf(f, "\n%sEvents%s (count, and runs with any)\n", bold, rst);
        for (int i = 0; i < d->nevents; i++) {
            const struct pm_diff_event *e = &d->events[i];
            int one = (e->runs_a > 0) != (e->runs_b > 0);
            const char *only = one ? (e->runs_a ? "only in A" : "only in B") : "";
            if (md)
                fprintf(f, "| %s | %lld (%d/%d) | %lld (%d/%d) | %s |\n", e->kind, (long long)e->count_a, e->runs_a,
                        d->na, (long long)e->count_b, e->runs_b, d->nb, only);
            else
                fprintf(f, "  %-20s A %6lld (%d/%d runs)   B %6lld (%d/%d runs)  %s%s%s\n", e->kind,
                        (long long)e->count_a, e->runs_a, d->na, (long long)e->count_b, e->runs_b, d->nb,
                        one ? red : "", only, one ? rst : "");
        }
    }

    int np = d->nprocs < 10 ? d->nprocs : 10, sampled_peaks = 0;
    if (np) {
        if (md)
            fprintf(f, "\n#### Processes (matched by command)\n\n"
                       "| command | A count | B count | A peak RSS | B peak RSS | A CPU/run | B CPU/run | A killed "
                       "| B killed |\n|---|---:|---:|---:|---:|---:|---:|---|---|\n");
        else
            fprintf(f, "\n%sProcesses%s (matched by command, not pid)\n%s  %-34s %7s %7s %10s %10s %8s %8s  %s%s\n",
                    bold, rst, dim, "command", "A count", "B count", "A peak", "B peak", "A cpu", "B cpu",
                    "kills / failures", rst);
        for (int i = 0; i < np; i++) {
            const struct pm_diff_proc *p = &d->procs[i];
            char ra[24], rb[24], ka[80], kb[80];
            pm_fmt_bytes(p->peak_rss_a, ra, sizeof ra);
            pm_fmt_bytes(p->peak_rss_b, rb, sizeof rb);
            /* "*": a max of 40 ms samples, not the kernel's peak (footnote below) */
            const char *mark = md ? "\\*" : "*";
            if (!p->peak_kernel_a && p->peak_rss_a > 0) {
                strncat(ra, mark, sizeof ra - strlen(ra) - 1);
                sampled_peaks = 1;
            }
            if (!p->peak_kernel_b && p->peak_rss_b > 0) {
                strncat(rb, mark, sizeof rb - strlen(rb) - 1);
                sampled_peaks = 1;
            }
            snprintf(ka, sizeof ka, "%lld%s%s%s%s", (long long)p->signaled_a, p->sig_a ? " " : "",
                     p->sig_a ? pm_signame(p->sig_a) : "", p->killer_a[0] ? " by " : "", p->killer_a);
            snprintf(kb, sizeof kb, "%lld%s%s%s%s", (long long)p->signaled_b, p->sig_b ? " " : "",
                     p->sig_b ? pm_signame(p->sig_b) : "", p->killer_b[0] ? " by " : "", p->killer_b);
            if (md) {
                fprintf(f, "| `%s` | %lld | %lld | %s | %s | %.2f s | %.2f s | %s | %s |\n", p->key,
                        (long long)p->count_a, (long long)p->count_b, ra, rb, p->cpu_a, p->cpu_b, ka, kb);
            } else {
                fprintf(f, "  %-34.34s %7lld %7lld %10s %10s %7.2fs %7.2fs  A: %s killed, %lld failed; B: %s "
                           "killed, %lld failed\n",
                        p->key, (long long)p->count_a, (long long)p->count_b, ra, rb, p->cpu_a, p->cpu_b, ka,
                        (long long)p->failed_a, kb, (long long)p->failed_b);
            }
        }
        if (sampled_peaks)
            fprintf(f, "%s%s* the largest 40 ms sample, not the kernel's peak (pressmon did not reap the "
                       "process): a shorter spike is missed%s\n",
                    md ? "\n" : "", md ? "" : "  ", md ? "" : "");
    }
}

int cmd_diff(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},   {"markdown", no_argument, NULL, 'm'},
        {"top", required_argument, NULL, 'n'}, {"db", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},   {NULL, 0, NULL, 0},
    };
    int json = 0, md = 0, top = -1, c; /* -1: text shows DEFAULT_TOP, JSON all */
    const char *db = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'm': md = 1; break;
        case 'd': db = optarg; break;
        case 'n': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 0 || v > 100000) {
                pm_err("diff: --top takes a number >= 0, not '%s'", optarg);
                return PM_EXIT_USAGE;
            }
            top = (int)v;
            break;
        }
        case 'h': usage(stdout); return PM_EXIT_OK;
        default: usage(stderr); return PM_EXIT_USAGE;
        }
    }
    if (argc - optind != 2) {
        pm_err("diff takes two runs or groups (A and B), got %d", argc - optind);
        usage(stderr);
        return PM_EXIT_USAGE;
    }
    if (json && md) {
        pm_err("diff: choose one of --json and --markdown");
        return PM_EXIT_USAGE;
    }
    const char *sa = argv[optind], *sb = argv[optind + 1];
    struct pm_store *st = pm_open_for_read(db);
    if (!st)
        return PM_EXIT_FAIL;
    int64_t *ia = NULL, *ib = NULL;
    int ret = PM_EXIT_FAIL;
    int na = pm_select_group(st, sa, &ia);
    if (na < 0) {
        ret = pm_select_exit(na);
        goto out;
    }
    if (na == 0) {
        pm_err("group '%s' has no runs in %s (see 'pressmon runs')", sa, pm_store_path(st));
        goto out;
    }
    int nb = pm_select_group(st, sb, &ib);
    if (nb < 0) {
        ret = pm_select_exit(nb);
        goto out;
    }
    if (nb == 0) {
        pm_err("group '%s' has no runs in %s (see 'pressmon runs')", sb, pm_store_path(st));
        goto out;
    }
    if (na == 1 && nb == 1 && ia[0] == ib[0])
        pm_err("note: A and B are the same run: nothing can differ");

    struct pm_diff d;
    char err[512] = "";
    if (pm_diff_compute(pm_store_db(st), ia, na, ib, nb, &d, err, sizeof err) < 0) {
        pm_err("diff: %s", err);
        goto out;
    }
    /* Said on stderr for people, and in the output for scripts and CI. */
    json_t *warnings = json_array();
    char msg[512];
    if (d.different_hosts) {
        snprintf(msg, sizeof msg, "the runs were recorded on different hosts (%s, %s, ...): compared anyway, "
                                  "but machine differences will show up as run differences",
                 d.ra[0].host, d.rb[0].host);
        json_array_append_new(warnings, json_string(msg));
    }
    for (int s = 0; s < 2; s++) {
        const struct pm_diff_run *r = s ? d.rb : d.ra;
        for (int i = 0; i < (s ? d.nb : d.na); i++)
            if (!strcmp(r[i].state, "recording")) {
                char dur[32];
                snprintf(msg, sizeof msg, "run %s is still recording: comparing the %s written so far", r[i].uid,
                         pm_fmt_duration(r[i].duration_ns, dur, sizeof dur));
                json_array_append_new(warnings, json_string(msg));
            }
    }
    size_t wi;
    json_t *w;
    json_array_foreach(warnings, wi, w) pm_err("note: %s", json_string_value(w));

    char name_a[80], name_b[80];
    side_name(sa, d.ra, d.na, name_a, sizeof name_a);
    side_name(sb, d.rb, d.nb, name_b, sizeof name_b);
    if (json)
        render_json(&d, sa, sb, name_a, name_b, warnings, top < 0 ? 0 : top);
    else
        render_text(&d, sa, sb, name_a, name_b, warnings, top < 0 ? DEFAULT_TOP : top, md);
    json_decref(warnings);
    pm_diff_free(&d);
    ret = fflush(stdout) == 0 ? PM_EXIT_OK : PM_EXIT_FAIL;
out:
    free(ia);
    free(ib);
    pm_store_close(st);
    return ret;
}
