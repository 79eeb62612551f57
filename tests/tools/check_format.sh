#!/bin/sh
# Every C file of the project is formatted as .clang-format says. Prints
# the files that differ (fix with: clang-format -i FILE).
# usage: check_format.sh SOURCE_ROOT [CLANG_FORMAT]
set -u
root=$1
cf=${2:-clang-format}
cd "$root" || exit 1
bad=0
for f in $(find src include tests bench -name '*.[ch]' | sort); do
    if ! "$cf" --dry-run --Werror "$f" >/dev/null 2>&1; then
        echo "not formatted: $f"
        bad=$((bad + 1))
    fi
done
echo "$bad file(s) not formatted"
[ "$bad" -eq 0 ]
