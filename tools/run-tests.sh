#!/bin/sh
# Run test programs or scripts, print one line each and a closing count.
#   run-tests.sh KIND PROGRAM...
# Exit status 77 from a test means "skipped" (with its reason on stderr).
kind=$1; shift
pass=0; fail=0; skip=0; failed=""
for t in "$@"; do
    log=$(mktemp)
    case "$t" in *.sh) sh "$t" >"$log" 2>&1 ;; *) "$t" >"$log" 2>&1 ;; esac
    rc=$?
    name=$(basename "$t")
    if [ $rc -eq 0 ]; then
        pass=$((pass + 1)); echo "  ok    $kind/$name"
    elif [ $rc -eq 77 ]; then
        skip=$((skip + 1)); echo "  skip  $kind/$name: $(tail -n 1 "$log")"
    else
        fail=$((fail + 1)); failed="$failed $name"; echo "  FAIL  $kind/$name (exit $rc)"
        sed 's/^/        | /' "$log" | tail -n 40
    fi
    rm -f "$log"
done
echo "$kind: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
