#!/usr/bin/env python3
"""Read a pushed run back from a real server and compare it with SQLite.

    check.py prom|vm|influx|pgw SERVER_URL DB RUN_UID [--influx-vm]
    check.py csv|jsonl EXPORT_FILE DB RUN_UID

The expected values are computed here from the database alone (the
`metrics` catalog table and the `samples` rows), independently of the C
encoders: value = stored * (1024 for *_kb columns) / scale, counters summed
from the run's start (the first sample's NULL delta is not sent).  Every
sample the database has must come back with the same timestamp (ms; ns for
InfluxDB) and value, with the run's labels intact, plus the kill event and
the end-of-run summary.  Exits 1 with the first differences on failure.
"""
import json
import math
import sqlite3
import sys
import time
import urllib.parse
import urllib.request


class Failure(Exception):
    pass


def fail(msg):
    raise Failure(msg)


def get(url, params=None, data=None):
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, data=data, timeout=30) as r:
        return r.read().decode()


def expected(db, uid):
    c = sqlite3.connect(db)
    run = c.execute("SELECT r.id, r.started_at, r.label, h.hostname, r.outcome, r.exit_code, r.signal"
                    " FROM runs r JOIN hosts h ON h.id = r.host_id WHERE r.uid = ?", (uid,)).fetchone()
    if not run:
        fail("no run %s in %s" % (uid, db))
    rid, started, label, host, outcome, exit_code, sig = run
    cat = c.execute("SELECT name, prom_name, scale, kind FROM metrics WHERE scope = 'system'"
                    " ORDER BY position").fetchall()
    cols = ", ".join('"%s"' % m[0] for m in cat)
    rows = c.execute("SELECT t_ns, %s FROM samples WHERE run_id = ? ORDER BY t_ns" % cols, (rid,)).fetchall()
    exp = {}
    totals = [0.0] * len(cat)
    last_ms = None
    for row in rows:
        t = started + row[0]
        # At most one sample per millisecond is exported (servers keep ms);
        # a skipped row's counter deltas still count in the totals.
        skip = last_ms is not None and t // 10**6 <= last_ms
        if not skip:
            last_ms = t // 10**6
        for i, (name, prom, scale, kind) in enumerate(cat):
            v = row[i + 1]
            if v is None:
                continue
            v = v * (1024 if "_kb" in name else 1) / scale
            if kind == "counter":
                totals[i] += v
                v = totals[i]
            if not skip:
                exp[("pressmon_" + prom, t)] = v
    kills = c.execute("SELECT t_ns, signal, sender_comm FROM events WHERE run_id = ? AND kind IN"
                      " ('signal','oom_kill','memory_kill','codesign_kill')", (rid,)).fetchall()
    nrows = len({(started + r[0]) // 10**6 for r in rows})
    meta = dict(rid=rid, started=started, label=label, host=host, outcome=outcome,
                exit_code=exit_code, signal=sig, nrows=nrows, names={"pressmon_" + m[1] for m in cat},
                prom_order=[m[1] for m in cat],
                kills=[(started + k[0], k[1], k[2]) for k in kills])
    return exp, meta


def close(a, b):
    return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def compare(exp, got, ts_div, what):
    """exp: (name, ts_ns) -> v; got: (name, ts_in_server_unit) -> v."""
    want = {(n, t // ts_div): v for (n, t), v in exp.items()}
    missing = [k for k in want if k not in got]
    extra = [k for k in got if k not in want]
    wrong = [(k, want[k], got[k]) for k in want if k in got and not close(want[k], got[k])]
    if missing or extra or wrong:
        fail("%s: %d expected, %d read back; missing %d %s; unexpected %d %s; wrong %d %s" % (
            what, len(want), len(got), len(missing), sorted(missing)[:3], len(extra), sorted(extra)[:3],
            len(wrong), wrong[:3]))
    print("%s: all %d samples match (timestamps and values)" % (what, len(want)))


def check_labels(labels, meta, uid, what, newline_ok=True):
    want = {"job": "pressmon", "instance": meta["host"], "run_id": uid}
    if meta["label"]:
        want["label"] = meta["label"] if newline_ok else meta["label"].replace("\n", " ")
    for k, v in want.items():
        if labels.get(k) != v:
            fail("%s: label %s is %r, expected %r (labels %r)" % (what, k, labels.get(k), v, labels))


def check_points(points, meta, what):
    """points: list of (name, labels, ts_ms, value) for non-catalog series."""
    kills = [p for p in points if p[0] == "pressmon_kill_event_timestamp_seconds"]
    if len(kills) != len(meta["kills"]):
        fail("%s: %d kill series points, expected %d" % (what, len(kills), len(meta["kills"])))
    for (ts_ns, sig, sender), k in zip(sorted(meta["kills"]), sorted(kills, key=lambda p: p[2])):
        if k[2] != ts_ns // 1000000 or not close(k[3], (ts_ns // 1000000) / 1000.0):
            fail("%s: kill point %r, expected at %d" % (what, k, ts_ns))
        if sender and k[1].get("sender") != sender:
            fail("%s: kill sender %r, expected %r" % (what, k[1].get("sender"), sender))
    info = [p for p in points if p[0] == "pressmon_run_info"]
    if len(info) != 1 or info[0][1].get("outcome") != meta["outcome"]:
        fail("%s: pressmon_run_info %r, expected one with outcome=%s" % (what, info, meta["outcome"]))
    if meta["signal"] is None and meta["exit_code"] is not None:
        ec = [p for p in points if p[0] == "pressmon_run_exit_code"]
        if len(ec) != 1 or ec[0][3] != meta["exit_code"]:
            fail("%s: pressmon_run_exit_code %r, expected %r" % (what, ec, meta["exit_code"]))
    print("%s: %d kill event(s) and the run summary (outcome=%s) present" % (what, len(kills), meta["outcome"]))


def split(series, meta):
    got, points = {}, []
    for name, labels, ts, vals in series:
        for t, v in zip(ts, vals):
            if name in meta["names"]:
                if (name, t) in got:
                    fail("duplicate sample %s at %s" % (name, t))
                got[(name, t)] = v
            else:
                points.append((name, labels, t, v))
    return got, points


def main():
    # VictoriaMetrics makes freshly ingested rows searchable within a couple
    # of seconds even after /internal/force_flush: read again until it matches.
    tries = 15 if sys.argv[1] == "vm" else 1
    for attempt in range(tries):
        try:
            return check()
        except Failure as e:
            if attempt == tries - 1:
                print("FAIL: %s" % e, file=sys.stderr)
                sys.exit(1)
            time.sleep(1)


def check():
    kind, url, db, uid = sys.argv[1:5]
    exp, meta = expected(db, uid)
    if meta["nrows"] == 0:
        fail("run %s has no samples" % uid)
    if kind == "prom":
        # A range selector at an instant query returns the raw samples.
        end = (meta["started"] // 10**9) + 86400
        q = '{__name__=~"pressmon_.+",run_id="%s"}[30d]' % uid
        r = json.loads(get(url + "/api/v1/query", {"query": q, "time": end}))
        series = []
        for s in r["data"]["result"]:
            m = s["metric"]
            check_labels(m, meta, uid, "prometheus")
            series.append((m["__name__"], m, [int(round(float(t) * 1000)) for t, _ in s["values"]],
                           [float(v) for _, v in s["values"]]))
        got, points = split(series, meta)
        compare(exp, got, 10**6, "prometheus")
        check_points(points, meta, "prometheus")
    elif kind == "vm":
        get(url + "/internal/force_flush")
        body = get(url + "/api/v1/export", {"match[]": '{run_id="%s"}' % uid})
        series = []
        for line in body.splitlines():
            s = json.loads(line)
            m = s["metric"]
            check_labels(m, meta, uid, "victoria-metrics", newline_ok="--influx-vm" not in sys.argv)
            series.append((m["__name__"], m, s["timestamps"], [float(v) for v in s["values"]]))
        got, points = split(series, meta)
        compare(exp, got, 10**6, "victoria-metrics")
        check_points(points, meta, "victoria-metrics")
    elif kind == "influx":
        q = "SELECT * FROM pressmon WHERE run_id = '%s'" % uid.replace("'", "\\'")
        r = json.loads(get(url + "/query", {"db": "pressmon", "epoch": "ns", "q": q}))
        res = r["results"][0]
        if "series" not in res:
            fail("influx returned nothing for run %s: %r" % (uid, r))
        s = res["series"][0]
        cols = s["columns"]
        tagcols = {"instance", "job", "label", "run_id", "outcome", "kind", "signal", "sender",
                   "target", "metric"}
        series = []
        for row in s["values"]:
            rec = dict(zip(cols, row))
            labels = {k: rec[k] for k in tagcols if rec.get(k) is not None}
            check_labels(labels, meta, uid, "influxdb", newline_ok=False)
            for k, v in rec.items():
                if k == "time" or k in tagcols or v is None:
                    continue
                ts = rec["time"] if ("pressmon_" + k) in meta["names"] else rec["time"] // 10**6
                series.append(("pressmon_" + k, labels, [ts], [float(v)]))
        got, points = split(series, meta)
        compare(exp, got, 1, "influxdb (ns)")
        check_points(points, meta, "influxdb")
    elif kind == "pgw":
        body = get(url + "/api/v1/metrics")
        groups = json.loads(body)["data"]
        mine = [g for g in groups if g["labels"].get("run_id") == uid]
        if len(mine) != 1:
            fail("pushgateway: %d groups for run %s" % (len(mine), uid))
        g = mine[0]
        check_labels(g["labels"], meta, uid, "pushgateway")
        points = []
        for name, fam in g.items():
            if not isinstance(fam, dict) or "metrics" not in fam:
                continue
            for m in fam["metrics"]:
                points.append((name, m["labels"], 0, float(m["value"])))
        kills = [p for p in points if p[0] == "pressmon_run_kills"]
        if len(kills) != 1 or kills[0][3] != len(meta["kills"]):
            fail("pushgateway: pressmon_run_kills %r, expected %d" % (kills, len(meta["kills"])))
        meta["kills"] = []
        check_points(points, meta, "pushgateway")
    elif kind == "csv":
        import csv
        rows = list(csv.reader(open(url, newline="")))
        want_header = ["run_id", "time_ns"] + ["pressmon_" + m for m in meta["prom_order"]]
        if rows[0] != want_header:
            fail("csv header %r, expected %r" % (rows[0][:5], want_header[:5]))
        if len(rows) - 1 != meta["nrows"]:
            fail("csv has %d rows, the run %d samples" % (len(rows) - 1, meta["nrows"]))
        got = {}
        for r in rows[1:]:
            if r[0] != uid:
                fail("csv run_id %r" % r[0])
            for name, cell in zip(rows[0][2:], r[2:]):
                if cell != "":
                    got[(name, int(r[1]))] = float(cell)
        compare(exp, got, 1, "export csv (ns)")
    elif kind == "jsonl":
        got, points = {}, []
        for line in open(url):
            o = json.loads(line)
            if o["type"] == "sample":
                check_labels(o["labels"], meta, uid, "export jsonl")
                for k, v in o["metrics"].items():
                    got[("pressmon_" + k, o["time_ns"])] = float(v)
            else:
                points.append(("pressmon_" + o["name"], o["labels"], o["time_ns"] // 10**6, float(o["value"])))
        compare(exp, got, 1, "export jsonl (ns)")
        check_points(points, meta, "export jsonl")
    else:
        fail("unknown kind " + kind)


if __name__ == "__main__":
    main()
