#!/bin/sh
# The man pages render without a warning: mandoc's lint (strict mdoc
# checks), man-db's own renderer with groff warnings on, and lexgrog
# (whatis/apropos must find each NAME). Exit 77 (skip) without mandoc or man.
set -u
command -v mandoc >/dev/null && command -v man >/dev/null || {
    echo "skip: mandoc or man not installed"; exit 77; }
status=0
for page in "$@"; do
    out=$(mandoc -T lint -W warning "$page" 2>&1) || status=1
    [ -z "$out" ] || { echo "$out"; status=1; }
    out=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
    [ -z "$out" ] || { echo "$page: man: $out"; status=1; }
    lexgrog "$page" >/dev/null || { echo "$page: lexgrog finds no NAME"; status=1; }
done
[ $status -eq 0 ] && echo "ok: $# man pages lint clean"
exit $status
