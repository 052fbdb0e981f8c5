#include "ext/extension.h"

#include <string>

#include "ext/sqlite_handles.h"
#include "ext/sqlite_shim.h"
#include "strata/version.h"
#include "vtab/columnar/columnar.h"
#include "vtab/graph/graph.h"
#include "vtab/hnsw/hnsw.h"
#include "vtab/parquet/parquet_sql.h"
#include "vtab/skip_index/bloom_functions.h"
#include "vtab/timeseries/rollup.h"
#include "vtab/timeseries/time_bucket.h"

namespace strata {

namespace {

// Flags for a function whose result depends only on its arguments and that is safe to call
// from triggers, views and schema expressions.
constexpr int kPureFunctionFlags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;

// strata_version() -> '0.x.y'
void strata_version_function(sqlite3_context* context, int, sqlite3_value**) {
  function_call(context, [&] {
    sqlite3_result_text(context, STRATA_VERSION, -1, SQLITE_STATIC);
    return Status::ok();
  });
}

// True when strata's functions are on this connection. Used before registering, because
// replacing them would fail with SQLITE_BUSY when the load itself runs inside a statement
// (SELECT load_extension(…)), and after, to verify the registration and to clear the error
// that the first, failed probe left in sqlite3_errcode(): sqlite3_open() reports that code as
// the result of automatic extensions.
bool strata_is_registered(sqlite3* db) {
  sqlite3_stmt* probe = nullptr;
  int rc = sqlite3_prepare_v2(db, "SELECT strata_version()", -1, &probe, nullptr);
  sqlite3_finalize(probe);
  return rc == SQLITE_OK;
}

Status register_core_functions(sqlite3* db) {
  int rc = sqlite3_create_function_v2(db, "strata_version", 0, kPureFunctionFlags, nullptr,
                                      strata_version_function, nullptr, nullptr, nullptr);
  return status_from_sqlite(db, rc, "strata: registering strata_version()");
}

}  // namespace

Status register_strata(sqlite3* db) {
  if (sqlite3_libversion_number() < kMinimumSqliteVersionNumber) {
    return Status::error(std::string("strata: needs SQLite 3.40.0 or newer, this host has ") +
                         sqlite3_libversion());
  }
  if (strata_is_registered(db)) return Status::ok();
  STRATA_RETURN_IF_ERROR(register_core_functions(db));
  std::shared_ptr<OtherTieredTables> tiered_things;
  STRATA_RETURN_IF_ERROR(graph::register_graph(db, &tiered_things));
  TableRegistry<columnar::ColumnarTable>* columnar_tables = nullptr;
  STRATA_RETURN_IF_ERROR(columnar::register_columnar(db, std::move(tiered_things), &columnar_tables));
  STRATA_RETURN_IF_ERROR(skip_index::register_bloom_functions(db));
  STRATA_RETURN_IF_ERROR(hnsw::register_hnsw(db));
  STRATA_RETURN_IF_ERROR(parquet_sql::register_parquet(db));
  STRATA_RETURN_IF_ERROR(timeseries::register_time_bucket(db));
  STRATA_RETURN_IF_ERROR(timeseries::register_rollup(db, columnar_tables));
  if (!strata_is_registered(db)) {
    return Status::internal("strata: registration did not take effect: " +
                            std::string(sqlite3_errmsg(db)));
  }
  return Status::ok();
}

}  // namespace strata
