#!/usr/bin/env bash
# Quick start: install dependencies, build, pseudonymize the bundled sample
# nginx log, and unseal one token as a demonstration.
set -euo pipefail
cd "$(dirname "$0")"
. .ci/deps.sh
lsl_install "${LSL_BUILD_PKGS[@]}"

[ -d build ] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null

out=demo-out
bin=build/src/cli/logseal
export LOGSEAL_RULES_DIR="$PWD/rules"
mkdir -p "$out"
[ -f "$out/keys/hash.key" ] || "$bin" keygen --dir "$out/keys"
rm -f "$out/nginx-access.log.gz"
"$bin" pipe --rule nginx-combined --keys "$out/keys" --vault "$out/vault" \
    --in tests/data/sample/nginx-access.log --out "$out/nginx-access.log.gz"

echo
echo "pseudonymized log: $out/nginx-access.log.gz (first lines below)"
# (head closes the pipe early: not an error)
zcat "$out/nginx-access.log.gz" | head -n 3 || true
echo "sealed vault:      $out/vault/"
ls -l "$out/vault"
# The first line's client address: written as an fd00::/8 address (the
# default ip mode), which unseal takes as the token it is.
token=$(zcat "$out/nginx-access.log.gz" | head -n 1 | cut -d' ' -f1 || true)
echo
echo "unsealing $token with the officer key (audited in $out/vault/audit.log):"
"$bin" unseal --keys "$out/keys" --vault "$out/vault" --case DEMO-1 "$token"
