#!/usr/bin/env python3
"""Start-up wall time of pressmon: `--version` and `record -q -- /bin/true`.

    bench/startup.py [-n RUNS] PRESSMON [OTHER_PRESSMON]

Each round runs /bin/true, `PRESSMON --version` and
`PRESSMON_ATTRIBUTION=off PRESSMON record -q --db DB -- /bin/true` (a fresh
database per binary in a temporary directory).  With two binaries (e.g.
main's build and a branch's) they are alternated within each round, which
one goes first switching every round, because the machine is noisy and
only figures taken side by side compare; the paired differences
(first - second) are printed too.  One warm-up round is discarded.
"""
import argparse
import os
import statistics
import subprocess
import tempfile
import time


def quartiles(v):
    v = sorted(v)
    return statistics.median(v), v[len(v) // 4], v[3 * len(v) // 4], v[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=30, help="rounds (default 30)")
    ap.add_argument("bins", nargs="+", metavar="PRESSMON")
    a = ap.parse_args()
    if len(a.bins) > 2:
        ap.error("one or two binaries")
    env = dict(os.environ, PRESSMON_ATTRIBUTION="off")
    tmp = tempfile.mkdtemp(prefix="pm-startup-")
    cases = {"/bin/true": ["/bin/true"]}
    names = []
    for i, b in enumerate(a.bins):
        tag = f"[{i + 1}] " if len(a.bins) > 1 else ""
        db = os.path.join(tmp, f"x{i + 1}.db")
        cases[tag + "--version"] = [b, "--version"]
        cases[tag + "record"] = [b, "record", "-q", "--db", db, "--", "/bin/true"]
        names.append(tag)
    t = {k: [] for k in cases}

    def run(k):
        t0 = time.perf_counter_ns()
        subprocess.run(cases[k], env=env, stdout=subprocess.DEVNULL, check=True)
        return (time.perf_counter_ns() - t0) / 1e6

    for k in cases:  # warm-up: page cache, database creation
        run(k)
    for r in range(a.n):
        order = names if r % 2 == 0 else names[::-1]
        t["/bin/true"].append(run("/bin/true"))
        for w in ("--version", "record"):
            for tag in order:
                t[tag + w].append(run(tag + w))
    for i, b in enumerate(a.bins):
        print(f"[{i + 1}] {b}" if len(a.bins) > 1 else b)
    print(f"{a.n} rounds, load average {os.getloadavg()[0]:.2f}; wall time in ms")
    print(f"{'':18s} {'median':>8s} {'p25':>8s} {'p75':>8s} {'min':>8s}")
    for k, v in t.items():
        print(f"{k:18s} " + " ".join(f"{x:8.2f}" for x in quartiles(v)))
    if len(a.bins) == 2:
        for w in ("--version", "record"):
            d = [x - y for x, y in zip(t["[1] " + w], t["[2] " + w])]
            m, p25, p75, _ = quartiles(d)
            print(f"[1] - [2] {w:8s} median {m:.2f}, p25 {p25:.2f}, p75 {p75:.2f}")
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)


if __name__ == "__main__":
    main()
