#!/usr/bin/env bash
# Installs the Debian 12 packages strata needs to build, test and run its demo, if missing.
# Idempotent: when everything is installed it only asks dpkg and returns (well under a second).
# Runs as root, or through sudo when available.
set -euo pipefail

packages=(
  g++ make cmake ninja-build ccache # toolchain (ccache: repeat builds of unchanged sources)
  sqlite3 libsqlite3-dev            # the shell for the demo and scripted tests; sqlite3ext.h
  libzstd-dev libxxhash-dev         # codecs, bloom filter hashing
  libsnappy-dev zlib1g-dev          # reading Parquet files other writers compressed with snappy, gzip,
  liblz4-dev libbrotli-dev          #   lz4 or brotli
  libcurl4-openssl-dev libssl-dev   # S3 client (HTTP, SigV4)
  rapidjson-dev                     # JSON options, bloom_info(), benchmark output
  libgtest-dev libgmock-dev         # unit tests
  libhnswlib-dev                    # bench/ only: the reference the hnsw table is measured against
  python3-botocore                  # tests: an independent SigV4 signer to compare with
)

# Node.js runs the test peers (s3rver, DuckDB's Node API; tests/peers). A machine that already
# has node and npm (from NodeSource, say) keeps them: Debian's npm package would conflict.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "strata: installing missing Debian packages: ${missing[*]}"
as_root=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then
    as_root=(sudo)
  else
    echo "strata: not root and no sudo; install these packages first: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; an old list may name versions no longer served.
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
