# Finds the Debian packages strata builds against and fails with the package to install.
#
# Each dependency becomes an imported target (strata::zstd, …) so that the rest of the build
# never spells out include or library paths.

function(strata_missing what debian_package)
  message(FATAL_ERROR
    "strata: ${what} not found. Install the Debian package '${debian_package}' "
    "(apt-get install ${debian_package}), or run scripts/install-deps.sh.")
endfunction()

# A header-plus-library dependency found with plain find_path/find_library (no pkg-config needed).
function(strata_find_library target header library debian_package)
  string(MAKE_C_IDENTIFIER "${target}" var)
  find_path(STRATA_${var}_INCLUDE_DIR "${header}")
  find_library(STRATA_${var}_LIBRARY NAMES ${library})
  if(NOT STRATA_${var}_INCLUDE_DIR OR NOT STRATA_${var}_LIBRARY)
    strata_missing("${header} / lib${library}" "${debian_package}")
  endif()
  add_library(strata::${target} UNKNOWN IMPORTED GLOBAL)
  set_target_properties(strata::${target} PROPERTIES
    IMPORTED_LOCATION "${STRATA_${var}_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${STRATA_${var}_INCLUDE_DIR}")
endfunction()

# SQLite: the extension needs only sqlite3ext.h; test and benchmark programs link libsqlite3.
find_path(STRATA_SQLITE3EXT_INCLUDE_DIR sqlite3ext.h)
find_library(STRATA_SQLITE3_LIBRARY NAMES sqlite3)
if(NOT STRATA_SQLITE3EXT_INCLUDE_DIR OR NOT STRATA_SQLITE3_LIBRARY)
  strata_missing("sqlite3ext.h / libsqlite3" "libsqlite3-dev")
endif()
add_library(strata::sqlite3_ext_headers INTERFACE IMPORTED GLOBAL)
set_target_properties(strata::sqlite3_ext_headers PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${STRATA_SQLITE3EXT_INCLUDE_DIR}")
add_library(strata::sqlite3 UNKNOWN IMPORTED GLOBAL)
set_target_properties(strata::sqlite3 PROPERTIES
  IMPORTED_LOCATION "${STRATA_SQLITE3_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${STRATA_SQLITE3EXT_INCLUDE_DIR}")

strata_find_library(zstd zstd.h zstd libzstd-dev)
strata_find_library(xxhash xxhash.h xxhash libxxhash-dev)
# Parquet files from other writers: snappy (the default of Spark, pyarrow and DuckDB) and gzip.
strata_find_library(snappy snappy-c.h snappy libsnappy-dev)
strata_find_library(zlib zlib.h z zlib1g-dev)
# …and LZ4 (what DuckDB and pyarrow write for "lz4") and brotli.
strata_find_library(lz4 lz4.h lz4 liblz4-dev)
strata_find_library(brotlidec brotli/decode.h brotlidec libbrotli-dev)

find_path(STRATA_RAPIDJSON_INCLUDE_DIR rapidjson/document.h)
if(NOT STRATA_RAPIDJSON_INCLUDE_DIR)
  strata_missing("rapidjson/document.h" "rapidjson-dev")
endif()
add_library(strata::rapidjson INTERFACE IMPORTED GLOBAL)
set_target_properties(strata::rapidjson PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${STRATA_RAPIDJSON_INCLUDE_DIR}")

find_package(CURL QUIET)
if(NOT CURL_FOUND)
  strata_missing("libcurl (curl/curl.h)" "libcurl4-openssl-dev")
endif()
find_package(OpenSSL QUIET)
if(NOT OPENSSL_FOUND)
  strata_missing("OpenSSL (openssl/ssl.h)" "libssl-dev")
endif()

# Threads: chunk columns are encoded on helper threads (ext/parallel.h).
find_package(Threads REQUIRED)

if(STRATA_BUILD_TESTS)
  find_package(GTest QUIET)
  if(NOT GTest_FOUND)
    strata_missing("GoogleTest" "libgtest-dev")
  endif()
endif()
