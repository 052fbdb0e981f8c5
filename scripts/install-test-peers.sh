#!/usr/bin/env bash
# Installs the npm packages the tests talk to (tests/peers/package-lock.json: s3rver,
# @duckdb/node-api and sqlite-vec-linux-x64, whose vec0.so the vec_* functions are compared with) into
# tests/peers/node_modules, from the npm registry; skipped when the lock file has not changed
# since the last install.
set -euo pipefail
cd "$(dirname "$0")/../tests/peers"
if [[ -f node_modules/.package-lock.json && ! package-lock.json -nt node_modules/.package-lock.json ]]; then
  exit 0
fi
echo "strata: installing test peers (npm install in tests/peers)"
# Not `npm ci`: npm 11 leaves DuckDB's platform-specific optional packages for other platforms
# out of the lock file and then refuses `npm ci` as "out of sync". `npm install --no-save`
# installs the locked versions and never rewrites the lock.
npm install --no-audit --no-fund --no-save --loglevel=error
