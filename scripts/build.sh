#!/usr/bin/env bash
# Configures (once) and builds one build tree.
#   scripts/build.sh BUILD_DIR [extra cmake -D options…]
# Incremental: when nothing changed, ninja has nothing to do.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=$1
shift
# Configure only a new tree: an existing one re-runs CMake by itself when CMakeLists change, and
# may use another generator (the README's plain cmake command makes Makefiles).
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  cmake -S . -B "$build_dir" -G Ninja "$@"
fi
cmake --build "$build_dir" -j2
