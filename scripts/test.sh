#!/usr/bin/env bash
# The README's second command (and what .ci/run runs): install what is missing, build, and run
# every test with CTest; then build again with AddressSanitizer + UndefinedBehaviorSanitizer and
# run the same tests there.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/install-test-peers.sh

echo "== release build: build/"
scripts/build.sh build -DCMAKE_BUILD_TYPE=Release
ctest --test-dir build --output-on-failure -j2

echo "== sanitizer build (ASan + UBSan): build-asan/"
scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRATA_SANITIZE=ON
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j2
