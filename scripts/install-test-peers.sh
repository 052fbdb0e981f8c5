#!/usr/bin/env bash
# Installs the npm packages the tests talk to (tests/peers/package-lock.json: s3rver) into
# tests/peers/node_modules, from the npm registry; skipped when the lock file has not changed
# since the last install.
set -euo pipefail
cd "$(dirname "$0")/../tests/peers"
if [[ -f node_modules/.package-lock.json && ! package-lock.json -nt node_modules/.package-lock.json ]]; then
  exit 0
fi
echo "strata: installing test peers (npm ci in tests/peers)"
npm ci --no-audit --no-fund --loglevel=error
