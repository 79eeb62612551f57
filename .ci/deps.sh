#!/usr/bin/env bash
# Install what logseal needs to build and test on Debian 12. Idempotent:
# does nothing when every package is already installed.
set -euo pipefail

LSL_BUILD_PKGS=(meson ninja-build gcc clang pkg-config libpcre2-dev
    zlib1g-dev libdeflate-dev libsodium-dev libuv1-dev libcmocka-dev python3
    gzip)
# libclang-rt-14-dev: libFuzzer and the sanitizer runtimes for clang.
# mandoc, man-db: the man pages' lint; bash-completion: the completion
# test; systemd: systemd-analyze verify/security; util-linux: unshare,
# setpriv and runuser for the install test.
LSL_TEST_PKGS=(nginx-light logrotate curl valgrind goaccess libclang-rt-14-dev
    clang-format mandoc man-db bash-completion systemd util-linux)
# bench/run: the peers it measures against and its timing tools;
# libdeflate-tools (libdeflate-gzip) and isal (igzip, and libisal-dev for
# bench/deflate_bench) for the compressor comparison.
LSL_BENCH_PKGS=(anonip pigz time valgrind util-linux libdeflate-tools isal
    libisal-dev)

lsl_install() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "installing: ${missing[*]}" >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
}

# The DuckDB test (tests/integration/test_duckdb.py) reads JSON lines with
# DuckDB's Node client from npm, pinned, cached in the build directory
# (never in the source tree): node and npm from Debian unless the machine
# already has them (a nodejs from elsewhere bundles its own npm).
LSL_DUCKDB_NPM="@duckdb/node-api@1.5.6-r.1"
lsl_install_duckdb() {
    local cache=$1
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        lsl_install nodejs npm
    fi
    [ -f "$cache/node_modules/@duckdb/node-api/lib/index.js" ] && return 0
    mkdir -p "$cache"
    npm install --no-audit --no-fund --prefix "$cache" "$LSL_DUCKDB_NPM" \
        >/dev/null
}
