#!/usr/bin/env bash
# Install dependencies, build with warnings as errors, run the whole test
# suite, and print "N passed, N failed" from meson's own results.
#
# Stages (each prints its duration):
#   main      gcc -Werror build, every test (style checks included)
#   clang     clang -Werror build, the unit tests
#   sanitize  ASan + UBSan build (leaks detected), every test
#   fuzz      libFuzzer targets, LSL_FUZZ_SECONDS each (default 20; 0 skips)
#   valgrind  memcheck over the unit tests and two end-to-end pipe tests
# LSL_STAGES (default "main clang sanitize fuzz valgrind") picks stages. The
# closing line sums every stage's results (testlog*.json; fuzz targets
# count one each).
set -euo pipefail
cd "$(dirname "$0")"
. .ci/deps.sh
lsl_install "${LSL_BUILD_PKGS[@]}" "${LSL_TEST_PKGS[@]}"
lsl_install_node

dir=${LSL_BUILD_DIR:-build-check}
stages=${LSL_STAGES:-main clang sanitize fuzz valgrind}
status=0
logs=()

stage_time() {
    echo "== stage $1: $2 s" >&2
}

run_main() {
    [ -d "$dir" ] || meson setup "$dir" -Dwerror=true >/dev/null
    ninja -C "$dir"
    meson test -C "$dir" --print-errorlogs --num-processes 2 || status=1
    logs+=("$dir/meson-logs/testlog.json")
}

run_clang() {
    local d=$dir-clang
    # -Dbench=true: the benchmark helpers are built here too, so a change
    # of an internal interface they call cannot break bench/run unseen.
    [ -d "$d" ] || CC=clang meson setup "$d" -Dwerror=true -Dbench=true \
        >/dev/null
    ninja -C "$d"
    meson test -C "$d" --print-errorlogs --num-processes 2 --suite unit ||
        status=1
    logs+=("$d/meson-logs/testlog.json")
}

run_sanitize() {
    local d=$dir-asan
    [ -d "$d" ] || meson setup "$d" -Dwerror=true \
        -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
    ninja -C "$d"
    ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:print_summary=1 \
    UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1:print_summary=1 \
    LSL_TEST_SANITIZED=1 LSL_HOSTILE_BIG_MB=${LSL_HOSTILE_BIG_MB:-30} \
        meson test -C "$d" --print-errorlogs --num-processes 2 \
        --timeout-multiplier 3 || status=1
    logs+=("$d/meson-logs/testlog.json")
}

run_fuzz() {
    local secs=${LSL_FUZZ_SECONDS:-20}
    [ "$secs" -gt 0 ] || return 0
    LSL_FUZZ_BUILD_DIR=$dir-fuzz tests/fuzz/run-fuzzers "$secs" || status=1
    logs+=("$dir-fuzz/findings/results.json")
}

run_valgrind() {
    local vg='valgrind -q --error-exitcode=99 --leak-check=full'
    vg+=' --errors-for-leak-kinds=definite'
    [ -d "$dir" ] || run_main
    meson test -C "$dir" --print-errorlogs --num-processes 2 \
        --suite unit --wrap="$vg" --timeout-multiplier 10 \
        --logbase testlog-valgrind-unit || status=1
    LSL_TEST_WRAP=$vg meson test -C "$dir" --print-errorlogs \
        --num-processes 2 --timeout-multiplier 3 \
        --logbase testlog-valgrind-e2e keys bad_input || status=1
    # meson names a wrapped run's log after the wrapper too
    logs+=("$dir/meson-logs/testlog-valgrind-unit*.json"
        "$dir/meson-logs/testlog-valgrind-e2e.json")
}

for s in $stages; do
    start=$SECONDS
    "run_$s"
    stage_time "$s" $((SECONDS - start))
done

python3 - "${logs[@]}" <<'PY'
import glob, json, sys
passed = failed = skipped = 0
for pattern in sys.argv[1:]:
    paths = glob.glob(pattern)
    if not paths:
        failed += 1  # a stage that left no results did not pass
    for line in (ln for p in paths for ln in open(p)):
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
