#!/usr/bin/env python3
"""Run every query of every pressmon dashboard against a real server.

    dashboards.py SERVER_URL START_S END_S RUN_A RUN_B DASHBOARD.json...

For each dashboard: checks its shape (current schemaVersion, a `datasource`
variable, run variables from label_values, kill annotations), resolves its
variables in order through the server's label-values API (a run variable
must list RUN_A and RUN_B; "All" variables use their allValue, as Grafana
sends it), substitutes them and Grafana's $__ variables into every panel
target and annotation, runs each one (query_range or instant query) and
fails unless each returns data.
"""
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def api(url, path, params):
    q = urllib.parse.urlencode(params, doseq=True)
    try:
        with urllib.request.urlopen(url + path + "?" + q, timeout=30) as r:
            body = json.loads(r.read().decode())
    except urllib.error.HTTPError as e:
        fail("%s %r: HTTP %d %s" % (path, params, e.code, e.read().decode()[:300]))
    if body.get("status") != "success":
        fail("%s %r: %r" % (path, params, body))
    return body["data"]


def subst(expr, values):
    for name in sorted(values, key=len, reverse=True):
        expr = expr.replace("${%s}" % name, values[name]).replace("$" + name, values[name])
    if "$" in expr:
        fail("unsubstituted variable in %r" % expr)
    return expr


def main():
    url, start, end, run_a, run_b = sys.argv[1:6]
    start, end = int(start), int(end)
    total = 0
    for path in sys.argv[6:]:
        d = json.load(open(path))
        name = d["title"]
        if d.get("schemaVersion", 0) < 39:
            fail("%s: schemaVersion %s is not current" % (name, d.get("schemaVersion")))
        tvars = d["templating"]["list"]
        if not any(v["type"] == "datasource" and v["name"] == "datasource" for v in tvars):
            fail("%s: no datasource variable" % name)
        grafana = {"__rate_interval": "1m", "__interval": "1m", "__range": "1d", "__range_s": "86400"}
        values = dict(grafana)
        run_vars = 0
        for v in tvars:
            if v["type"] == "datasource":
                values[v["name"]] = "prometheus"
                continue
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", q)
            if not m:
                fail("%s: variable %s is not a label_values query: %r" % (name, v["name"], q))
            sel, label = subst(m.group(1), values), m.group(2)
            got = api(url, "/api/v1/label/%s/values" % label,
                      {"match[]": sel, "start": start - 86400, "end": end})
            total += 1
            if not got:
                fail("%s: variable %s (%s) returned nothing" % (name, v["name"], q))
            if label == "run_id":
                run_vars += 1
                for r in (run_a, run_b):
                    if r not in got:
                        fail("%s: variable %s does not list run %s (%r)" % (name, v["name"], r, got))
                values[v["name"]] = run_b if v["name"] == "run_b" else run_a
            elif v.get("includeAll"):
                values[v["name"]] = v.get("allValue", ".*")
            else:
                values[v["name"]] = got[0]
            print("%s: variable %s = %s (%d values)" % (name, v["name"], values[v["name"]], len(got)))
        if "run" in d["uid"] and run_vars == 0:
            fail("%s: no run_id variable" % name)
        anns = [a for a in d["annotations"]["list"] if a.get("expr")]
        if not any("kill" in a["expr"] for a in anns):
            fail("%s: no kill annotation" % name)
        queries = []
        for a in anns:
            queries.append(("annotation " + a["name"], a["expr"], False))
        for p in d["panels"]:
            for t in p.get("targets", []):
                queries.append(("panel '%s' %s" % (p["title"], t["refId"]), t["expr"], t.get("instant", False)))
        for what, expr, instant in queries:
            e = subst(expr, values)
            if instant:
                data = api(url, "/api/v1/query", {"query": e, "time": end})
            else:
                data = api(url, "/api/v1/query_range", {"query": e, "start": start, "end": end, "step": "1s"})
            res = data["result"]
            if not res or not any(s.get("values") or s.get("value") for s in res):
                fail("%s: %s returned no data: %s" % (name, what, e))
            total += 1
            print("%s: %s: %d series" % (name, what, len(res)))
    print("dashboards: all %d queries returned data" % total)


if __name__ == "__main__":
    main()
