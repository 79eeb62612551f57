#!/usr/bin/env bash
# Install what logseal needs to build and test on Debian 12. Idempotent:
# does nothing when every package is already installed.
set -euo pipefail

LSL_BUILD_PKGS=(meson ninja-build gcc clang pkg-config libpcre2-dev
    zlib1g-dev libdeflate-dev libsodium-dev libuv1-dev libcmocka-dev python3
    librdkafka-dev
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

# The DuckDB tests (test_duckdb.py: nginx and W3C JSON lines in one query;
# test_fleet_hive.py: the hive layout) read the output with DuckDB's Node
# client from npm (@duckdb/node-api, pinned in lslib.py, installed by the
# tests into the build directory, never the source tree): they need
# Node.js and npm. The machine's own Node.js is kept when there is one (a
# Debian npm would replace it); Debian's otherwise.
lsl_install_node() {
    command -v node >/dev/null && command -v npm >/dev/null && return 0
    lsl_install nodejs npm
}
