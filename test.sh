#!/bin/sh
# Every test, as root on a Debian 12 machine: installs missing packages,
# builds, runs each fuzz target briefly (FUZZ_SECONDS, default 20), then the
# unit tests (cmocka) and the end-to-end tests (pytest, real eBPF).  The last
# line is "N passed, N failed, N skipped".
set -e
cd "$(dirname "$0")"
sh tests/install-deps.sh
make -j"$(nproc)"
make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
exec make check
