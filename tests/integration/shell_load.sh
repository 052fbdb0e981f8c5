#!/usr/bin/env bash
# The sqlite3 shell loads the extension by the name the README shows (no file suffix, entry
# point derived from the file name), twice, and strata_version() answers.
#   shell_load.sh SQLITE3_SHELL EXTENSION_FILE EXPECTED_VERSION
set -euo pipefail
shell=$1
extension=${2%.so}
expected=$3

got=$("$shell" -batch :memory: ".load $extension" ".load $extension" "SELECT strata_version();")
if [[ "$got" != "$expected" ]]; then
  echo "expected strata_version() = '$expected', got '$got'" >&2
  exit 1
fi

# And through the SQL function, the way bindings without a .load command do it.
got=$("$shell" -batch :memory: "SELECT load_extension('$extension');" \
      "SELECT load_extension('$extension');" "SELECT strata_version();" | tail -n 1)
if [[ "$got" != "$expected" ]]; then
  echo "after load_extension(): expected '$expected', got '$got'" >&2
  exit 1
fi
echo "shell loads $extension: strata_version() = $got"
