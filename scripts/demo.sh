#!/usr/bin/env bash
# The README's first command: install what is missing, build, and run sql/demo.sql through the
# sqlite3 shell on a fresh database (build/demo/demo.db), with the local directory
# build/demo/objects as the object store (the embedded default).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build -DCMAKE_BUILD_TYPE=Release
rm -rf build/demo
mkdir -p build/demo/objects
sqlite3 -bail build/demo/demo.db < sql/demo.sql
