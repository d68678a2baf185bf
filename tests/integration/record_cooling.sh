# cooling_max_pct end to end, with the sampler pointed at the fake sysfs
# trees of tests/fixtures/sysfs/ (PRESSMON_SYSFS; this VM has no thermal
# files of its own): a Processor cooling device that goes from 1 of 3 to
# 3 of 3 during the run is recorded every 100 ms, shown in percent by
# show, exported, and compared by diff; without CPU cooling devices the
# column is NULL and the run is unaffected.  Then a database written by
# pressmon 0.1.0 at schema version 2 (tests/fixtures/db/) is read-only
# to an unprivileged user (read as if migrated, not changed), migrated by
# the first reader with write access, and recorded into.
FX=$(cd "$(dirname "$0")/../fixtures" && pwd)
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || fail "jq missing (make deps)"

# --- a laptop whose CPU gets throttled half-way through the run ---
cp -R "$FX/sysfs/laptop-intel" "$T/sys"
cur="$T/sys/class/thermal/cooling_device2/cur_state"
export PRESSMON_SYSFS="$T/sys"
pm record -q -i 10ms -l hot -- sh -c "sleep 0.6; echo 3 > '$cur'; sleep 0.6"
expect_eq "$RC" 0 "record with the laptop tree"
expect_contains "$(q "select sources from runs")" "thermal throttle cooling" "sources"
n=$(q "select count(*) from samples")
nc=$(q "select count(cooling_max_pct) from samples")
expect_ge "$n" 100 "samples in ~1.2 s at 10 ms"
# Every 10th tick, plus the first and the last sample.
[ $((nc * 100 / n)) -ge 8 ] && [ $((nc * 100 / n)) -le 13 ] || fail "cooling_max_pct on $nc of $n rows, want ~1/10"
expect_eq "$(q "select cooling_max_pct from samples order by t_ns limit 1")" 33 "first sample: Processor at 1 of 3"
expect_eq "$(q "select cooling_max_pct from samples order by t_ns desc limit 1")" 100 "last sample: 3 of 3"
expect_eq "$(q "select count(*) from samples where cooling_max_pct not in (33, 100)")" 0 \
    "values other than 33 and 100 (the fan at 100% and the backlight at 80% must not count)"
expect_eq "$(q "select count(temp_max_mc) = count(*) and max(temp_max_mc) = 71000 from samples")" 1 "temp_max_mc every tick"
expect_eq "$(q "select sum(throttle) from samples")" 0 "throttle counters that do not move"
expect_eq "$(q "select unit || ' ' || kind || ' ' || pressure from metrics where name = 'cooling_max_pct'")" \
    "percent gauge 1" "the catalog row"
expect_eq "$(q "select max(cpu_cooling_max_percent) from sample_rates")" 100.0 "sample_rates"

pm show last
expect_eq "$RC" 0 "show"
line=$(printf '%s\n' "$OUT" | grep '^cooling_max ')
[ -n "$line" ] || fail "show has no cooling_max line: $OUT"
set -- $line
expect_eq "$2 $5 $6" "33 100 percent" "show's cooling_max min, max, unit"
pm show --json last
expect_eq "$(printf '%s' "$OUT" | jq -c '.metrics[] | select(.name == "cooling_max_pct") | [.unit, .kind, .min, .max]')" \
    '["percent","gauge",33,100]' "show --json"

pm export last --format openmetrics
expect_eq "$RC" 0 "export openmetrics"
expect_contains "$OUT" "# UNIT pressmon_cpu_cooling_max_percent percent" "openmetrics unit"
expect_contains "$OUT" "# TYPE pressmon_cpu_cooling_max_percent gauge" "openmetrics type"
ne=$(printf '%s\n' "$OUT" | grep -c '^pressmon_cpu_cooling_max_percent{')
expect_eq "$ne" "$nc" "exported cooling points (one per non-NULL row)"
pm export last --format csv
col=$(printf '%s\n' "$OUT" | head -1 | tr ',' '\n' | grep -n '^pressmon_cpu_cooling_max_percent$' | cut -d: -f1)
[ -n "$col" ] || fail "csv header has no cooling column"
expect_eq "$(printf '%s\n' "$OUT" | tail -n 1 | cut -d, -f"$col")" 100 "csv: the last row"

# --- a calm run on the same laptop, and diff between the two ---
echo 1 > "$cur"
pm record -q -i 10ms -l calm -- sleep 1.2
expect_eq "$RC" 0 "the calm run"
pm diff --json label:hot label:calm
expect_eq "$RC" 0 "diff"
d=$(printf '%s' "$OUT" | jq -c '.metrics[] | select(.key == "cooling_max_pct") | [.unit, .a.max, .b.max, (.a.above_threshold_frac > 0)]')
expect_eq "$d" '["percent",100,33,true]' "diff of cooling_max_pct"

# --- no CPU cooling device, no sysfs at all: NULL, and the run is unaffected ---
for tree in "$FX/sysfs/fans-only" "$T/no-such-sysfs"; do
    PRESSMON_SYSFS=$tree pm record -q -i 10ms -- sh -c 'exit 4'
    expect_eq "$RC" 4 "record with $tree"
    case "$(q "select sources from runs order by id desc limit 1")" in
    *cooling*) fail "$tree: cooling listed as a source" ;;
    esac
    expect_eq "$(q "select count(cooling_max_pct), count(mem_available_kb) > 0 from samples where run_id = (select max(id) from runs)")" \
        "0|1" "$tree: cooling NULL, the rest recorded"
done
unset PRESSMON_SYSFS

# --- a database from pressmon 0.1.0 (schema version 2) ---
OLD=$T/old/pm.db
mkdir -p "$T/old"
cp "$FX/db/schema2.db" "$OLD"
expect_eq "$(sqlite3 "$OLD" "pragma user_version")" 2 "the fixture's schema version"
old_uid=$(sqlite3 "$OLD" "select uid from runs")
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    # Read-only to nobody: read as if migrated, and left untouched.
    chmod 755 "$T" "$T/old"; chmod 644 "$OLD"
    sum0=$(cksum < "$OLD")
    out=$(cd / && setpriv --reuid=nobody --regid=nogroup --clear-groups "$PRESSMON" show --db "$OLD" last 2>&1) ||
        fail "show of a read-only schema-2 database: $out"
    expect_contains "$out" "$old_uid" "show of the read-only old run"
    expect_contains "$out" "mem_available " "show's metrics of the read-only old run"
    expect_contains "$out" "top procs" "show's processes of the read-only old run (procs.maxrss_kb read as NULL)"
    out=$(cd / && setpriv --reuid=nobody --regid=nogroup --clear-groups "$PRESSMON" runs --db "$OLD" 2>&1) ||
        fail "runs of a read-only schema-2 database (runs.samples_stored read as NULL): $out"
    expect_contains "$out" "$old_uid" "runs of the read-only old run"
    out=$(cd / && setpriv --reuid=nobody --regid=nogroup --clear-groups "$PRESSMON" diff --db "$OLD" last last 2>&1) ||
        fail "diff of a read-only schema-2 database: $out"
    case "$out" in *cooling_max*) fail "show lists cooling_max, NULL in every old row: $out" ;; esac
    out=$(cd / && setpriv --reuid=nobody --regid=nogroup --clear-groups "$PRESSMON" export --db "$OLD" last 2>&1) ||
        fail "export of a read-only schema-2 database: $out"
    expect_eq "$(printf '%s\n' "$out" | grep -c "^$old_uid,")" 8 "exported rows of the read-only old run"
    c=$(printf '%s\n' "$out" | head -1 | tr ',' '\n' | grep -n '^pressmon_cpu_cooling_max_percent$' | cut -d: -f1)
    expect_eq "$(printf '%s\n' "$out" | grep "^$old_uid," | cut -d, -f"$c" | sort -u)" "" \
        "the cooling column of the old rows (NULL: empty, never 0)"
    # events and the kill summary read procs/events.forwarded_by (004): NULL here
    out=$(cd / && setpriv --reuid=nobody --regid=nogroup --clear-groups "$PRESSMON" events --db "$OLD" --json last 2>&1) ||
        fail "events of a read-only schema-2 database: $out"
    expect_contains "$out" '"kind": "exec"' "events of the read-only old run"
    expect_eq "$(sqlite3 "$OLD" "pragma user_version")" 2 "the read-only database's version"
    expect_eq "$(cksum < "$OLD")" "$sum0" "the read-only database's bytes"
else
    echo "not root or no setpriv: the read-only case is not exercised" >&2
fi
# The first reader that may write migrates it, catalog and view included.
pm runs --db "$OLD"
expect_eq "$RC" 0 "runs on the schema-2 database"
latest=$(ls "$FX/../../schema" | sed -n 's/^0*\([0-9][0-9]*\)_.*\.sql$/\1/p' | sort -n | tail -1)
expect_eq "$(sqlite3 "$OLD" "pragma user_version")" "$latest" "migrated version (the newest schema)"
expect_eq "$(sqlite3 "$OLD" "select count(*) from pragma_table_info('samples') where name = 'cooling_max_pct'")" 1 \
    "the new column"
expect_eq "$(sqlite3 "$OLD" "select count(*) from metrics where name = 'cooling_max_pct'")" 1 "the new catalog row"
expect_eq "$(sqlite3 "$OLD" "select count(cpu_cooling_max_percent), count(*) > 0 from sample_rates")" "0|1" \
    "the rate view names the column, NULL in the old rows"
PRESSMON_SYSFS="$FX/sysfs/arm-board" pm record -q --db "$OLD" -i 10ms -l after -- sleep 0.3
expect_eq "$RC" 0 "record into the migrated database"
new_run="run_id = (select id from runs where label = 'after')"
expect_ge "$(sqlite3 "$OLD" "select count(cooling_max_pct) from samples where $new_run")" 3 "cooling reads in the new run"
expect_eq "$(sqlite3 "$OLD" "select count(*) from samples where $new_run and cooling_max_pct != 43")" 0 \
    "the new run's cooling values (cpufreq-cpu4 at 3 of 7)"
expect_eq "$(sqlite3 "$OLD" "select count(cooling_max_pct) from samples where run_id = (select id from runs where label = 'before')")" 0 \
    "the old run's rows stay NULL"
pm diff --db "$OLD" label:before label:after
expect_eq "$RC" 0 "diff of the old run against the new one"
pm show --db "$OLD" "$old_uid"
expect_eq "$RC" 0 "show of the old run"
expect_contains "$OUT" "exit 3" "the old run's exit code"
echo ok
