#!/usr/bin/env python3
"""Generate pressmon's Grafana dashboards (dashboards/*.json).

    python3 dashboards/generate.py        # rewrites the JSON files beside it

The JSON files are committed (import them as they are); edit this script and
re-run it rather than editing the JSON by hand, so the three dashboards keep
the same variables, datasource handling and kill annotations.  Every query
below is executed against a real Prometheus and VictoriaMetrics holding a
pushed run by tests/e2e/test_dashboards.sh.  Metric names are those of
`pressmon push` (docs/EXPORT.md): "pressmon_" + the catalog's prom name.
"""
import json
import os

DS = {"type": "prometheus", "uid": "${datasource}"}
SCHEMA_VERSION = 39  # Grafana 10.4 / 11


def datasource_var():
    return {"name": "datasource", "label": "Data source", "type": "datasource",
            "query": "prometheus", "current": {}, "hide": 0, "refresh": 1,
            "options": [], "regex": "", "includeAll": False, "multi": False}


def query_var(name, label, query, include_all=False, all_value=None, sort=0):
    v = {"name": name, "label": label, "type": "query", "datasource": DS,
         "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
         "definition": query, "refresh": 2, "current": {}, "options": [], "hide": 0,
         "includeAll": include_all, "multi": False, "sort": sort, "regex": ""}
    if all_value is not None:
        v["allValue"] = all_value
    return v


def job_var():
    return query_var("job", "Job", "label_values(pressmon_run_info, job)", True, ".*", 1)


def run_var(name="run_id", label="Run"):
    # Run ids are time-sortable: sort 2 (alphabetical desc) puts the newest first.
    return query_var(name, label, 'label_values(pressmon_run_info{job=~"$job"}, run_id)', sort=2)


def kill_annotation(selector):
    return {
        "name": "Kills", "datasource": DS, "enable": True, "iconColor": "red",
        # The series' value is the kill's unix time: exact placement at any step.
        "expr": "pressmon_kill_event_timestamp_seconds{%s} * 1000" % selector,
        "useValueForTime": True, "step": "1s",
        "titleFormat": "{{kind}} {{signal}}",
        "textFormat": "run {{run_id}}: {{target}} killed by {{sender}}",
        "tagKeys": "kind,signal",
    }


def builtin_annotation():
    return {"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts", "type": "dashboard"}


class Panels:
    def __init__(self):
        self.items, self.y, self.next_id = [], 0, 1

    def add(self, title, targets, kind="timeseries", unit="short", w=12, h=8, x=None, desc="",
            extra=None):
        if x is None:
            x = 0 if not self.items or self.items[-1]["gridPos"]["x"] + self.items[-1]["gridPos"]["w"] + w > 24 \
                else self.items[-1]["gridPos"]["x"] + self.items[-1]["gridPos"]["w"]
        if x == 0 and self.items:
            last = self.items[-1]["gridPos"]
            self.y = last["y"] + last["h"]
        p = {"id": self.next_id, "type": kind, "title": title, "description": desc,
             "datasource": DS, "gridPos": {"x": x, "y": self.y, "w": w, "h": h},
             "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
             "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                         "tooltip": {"mode": "multi", "sort": "none"}},
             "targets": []}
        for i, t in enumerate(targets):
            expr, legend = t[0], t[1]
            tgt = {"refId": chr(65 + i), "datasource": DS, "expr": expr, "legendFormat": legend,
                   "range": True, "instant": False, "editorMode": "code"}
            if len(t) > 2:
                tgt.update(t[2])
            p["targets"].append(tgt)
        if extra:
            p.update(extra)
        self.next_id += 1
        self.items.append(p)
        return p


def dashboard(uid, title, desc, variables, annotations, panels, time_from="now-6h"):
    return {
        "__inputs": [],
        "uid": uid, "title": title, "description": desc, "tags": ["pressmon"],
        "schemaVersion": SCHEMA_VERSION, "version": 1, "editable": True,
        "graphTooltip": 1, "timezone": "", "refresh": "",
        "time": {"from": time_from, "to": "now"},
        "templating": {"list": variables},
        "annotations": {"list": [builtin_annotation()] + annotations},
        "panels": panels.items,
        "links": [{"title": "pressmon", "type": "dashboards", "tags": ["pressmon"], "asDropdown": True}],
    }


def rate(metric, sel):
    return "rate(pressmon_%s{%s}[$__rate_interval])" % (metric, sel)


def run_timeline():
    s = 'job=~"$job", run_id="$run_id"'
    p = Panels()
    p.add("Memory available", [("pressmon_memory_available_bytes{%s}" % s, "available"),
                               ("pressmon_memory_cached_bytes{%s}" % s, "page cache"),
                               ("pressmon_swap_used_bytes{%s}" % s, "swap used")], unit="bytes")
    p.add("Memory pressure (PSI)", [(rate("pressure_memory_waiting_seconds_total", s), "some"),
                                    (rate("pressure_memory_stalled_seconds_total", s), "full")],
          unit="percentunit", desc="Share of time tasks stalled on memory (Linux PSI)")
    p.add("CPU", [(rate("cpu_user_seconds_total", s), "user"),
                  (rate("cpu_system_seconds_total", s), "system"),
                  (rate("cpu_iowait_seconds_total", s), "iowait"),
                  (rate("cpu_steal_seconds_total", s), "steal")],
          unit="short", desc="CPU seconds per second, all CPUs")
    p.add("CPU and IO pressure (PSI)", [(rate("pressure_cpu_waiting_seconds_total", s), "cpu some"),
                                        (rate("pressure_io_waiting_seconds_total", s), "io some"),
                                        (rate("pressure_io_stalled_seconds_total", s), "io full")],
          unit="percentunit")
    p.add("Paging", [(rate("vm_major_page_faults_total", s), "major faults/s"),
                     (rate("vm_swapin_pages_total", s), "swap in pages/s"),
                     (rate("vm_swapout_pages_total", s), "swap out pages/s"),
                     (rate("vm_pages_scanned_total", s), "reclaim scans/s")], unit="short")
    p.add("Load", [("pressmon_load1{%s}" % s, "load1"),
                   ("pressmon_procs_running{%s}" % s, "running"),
                   ("pressmon_procs_blocked{%s}" % s, "blocked on IO")], unit="short")
    p.add("Run", [("pressmon_run_duration_seconds{%s}" % s, "duration", {"instant": True, "range": False}),
                  ("pressmon_run_kills{%s}" % s, "kills", {"instant": True, "range": False}),
                  ("pressmon_run_samples{%s}" % s, "samples", {"instant": True, "range": False}),
                  ("pressmon_run_info{%s}" % s, "outcome {{outcome}}", {"instant": True, "range": False})],
          kind="stat", unit="short", w=24, h=4,
          extra={"options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                             "textMode": "value_and_name", "colorMode": "none", "graphMode": "none"}})
    return dashboard("pressmon-run-timeline", "pressmon: run timeline",
                     "One recorded run: memory, pressure, CPU, paging and load at the sampling rate, "
                     "with kills as annotations.",
                     [datasource_var(), job_var(), run_var()], [kill_annotation(s)], p)


def run_vs_run():
    a = 'job=~"$job", run_id="$run_a"'
    b = 'job=~"$job", run_id="$run_b"'
    p = Panels()
    for title, metric, unit, is_rate in [
            ("Memory available", "memory_available_bytes", "bytes", False),
            ("Memory pressure, some (PSI)", "pressure_memory_waiting_seconds_total", "percentunit", True),
            ("CPU user", "cpu_user_seconds_total", "short", True),
            ("IO pressure, some (PSI)", "pressure_io_waiting_seconds_total", "percentunit", True)]:
        fa = rate(metric, a) if is_rate else "pressmon_%s{%s}" % (metric, a)
        fb = rate(metric, b) if is_rate else "pressmon_%s{%s}" % (metric, b)
        p.add(title, [(fa, "A $run_a"), (fb, "B $run_b")], unit=unit,
              desc="Runs are drawn at their own times: widen the time range to see both.")
    sel = 'job=~"$job", run_id=~"$run_a|$run_b"'
    p.add("Extremes per run (min / max of gauges)",
          [("pressmon_run_metric_max{%s}" % sel, "{{run_id}} max {{metric}}", {"instant": True, "range": False, "format": "table"}),
           ("pressmon_run_metric_min{%s}" % sel, "{{run_id}} min {{metric}}", {"instant": True, "range": False, "format": "table"})],
          kind="table", w=24, h=10)
    p.add("Counters over the run",
          [("pressmon_run_metric_increase{%s}" % sel, "{{run_id}} {{metric}}", {"instant": True, "range": False, "format": "table"})],
          kind="table", w=24, h=10)
    p.add("Outcome, duration, kills",
          [("pressmon_run_duration_seconds{%s}" % sel, "{{run_id}} duration ({{outcome}})", {"instant": True, "range": False}),
           ("pressmon_run_kills{%s}" % sel, "{{run_id}} kills", {"instant": True, "range": False})],
          kind="stat", w=24, h=4,
          extra={"options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                             "textMode": "value_and_name", "colorMode": "none", "graphMode": "none"}})
    return dashboard("pressmon-run-vs-run", "pressmon: run vs run",
                     "Two runs side by side: timelines, extremes, counters, outcome.",
                     [datasource_var(), job_var(), run_var("run_a", "Run A"), run_var("run_b", "Run B")],
                     [kill_annotation('job=~"$job", run_id=~"$run_a|$run_b"')], p, time_from="now-24h")


def ci_overview():
    s = 'job=~"$job", label=~"$label"'
    p = Panels()
    p.add("Runs by outcome", [("count by (outcome) (last_over_time(pressmon_run_info{%s}[$__range]))" % s,
                               "{{outcome}}", {"instant": True, "range": False})],
          kind="piechart", w=8, h=8,
          extra={"options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                             "pieType": "pie", "legend": {"displayMode": "table", "placement": "right",
                                                         "showLegend": True, "values": ["value"]}}})
    p.add("Runs over time by outcome",
          [("count by (outcome) (count_over_time(pressmon_run_info{%s}[$__interval]))" % s, "{{outcome}}")],
          kind="timeseries", w=16, h=8,
          extra={"fieldConfig": {"defaults": {"unit": "short", "custom": {"drawStyle": "bars", "stacking": {"mode": "normal"}}},
                                 "overrides": []}})
    p.add("Worst memory pressure per run (PSI full, seconds stalled)",
          [("sort_desc(max by (run_id, label, outcome) (last_over_time("
            "pressmon_run_metric_increase{%s, metric=\"pressure_memory_stalled_seconds_total\"}[$__range])))" % s,
            "{{run_id}}", {"instant": True, "range": False, "format": "table"})],
          kind="table", unit="s", w=12, h=10)
    p.add("Lowest memory available per run",
          [("sort(min by (run_id, label, outcome) (last_over_time("
            "pressmon_run_metric_min{%s, metric=\"memory_available_bytes\"}[$__range])))" % s,
            "{{run_id}}", {"instant": True, "range": False, "format": "table"})],
          kind="table", unit="bytes", w=12, h=10)
    p.add("Duration per run",
          [("max by (run_id, label, outcome) (last_over_time(pressmon_run_duration_seconds{%s}[$__range]))" % s,
            "{{run_id}}", {"instant": True, "range": False, "format": "table"})],
          kind="table", unit="s", w=12, h=10)
    p.add("Kills per run",
          [("max by (run_id, label, outcome) (last_over_time(pressmon_run_kills{%s}[$__range]))" % s,
            "{{run_id}}", {"instant": True, "range": False, "format": "table"})],
          kind="table", unit="short", w=12, h=10)
    label_var = query_var("label", "Label", 'label_values(pressmon_run_info{job=~"$job"}, label)',
                          True, ".*", 1)
    return dashboard("pressmon-ci-overview", "pressmon: CI overview",
                     "Every pushed run: outcomes, the worst pressure and lowest memory per run, "
                     "durations and kills.",
                     [datasource_var(), job_var(), label_var], [kill_annotation(s)], p, time_from="now-7d")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for name, d in [("run-timeline", run_timeline()), ("run-vs-run", run_vs_run()),
                    ("ci-overview", ci_overview())]:
        with open(os.path.join(here, name + ".json"), "w") as f:
            json.dump(d, f, indent=2, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main()
