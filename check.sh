#!/usr/bin/env bash
# Install dependencies, build with warnings as errors, run the whole test
# suite, and print "N passed, N failed" from meson's own results.
set -euo pipefail
cd "$(dirname "$0")"
. .ci/deps.sh
lsl_install "${LSL_BUILD_PKGS[@]}" "${LSL_TEST_PKGS[@]}"

dir=${LSL_BUILD_DIR:-build-check}
[ -d "$dir" ] || meson setup "$dir" -Dwerror=true >/dev/null
ninja -C "$dir"
status=0
meson test -C "$dir" --print-errorlogs --num-processes 2 || status=$?
python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
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
