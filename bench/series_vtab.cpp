#include "bench/series_vtab.h"

#include <sqlite3.h>

#include <cstdint>
#include <new>

namespace strata::bench {

namespace {

constexpr int kColumnValue = 0;
constexpr int kColumnStop = 1;

struct SeriesCursor {
  sqlite3_vtab_cursor base{};
  int64_t value = 1;
  int64_t stop = 0;
};

int series_connect(sqlite3* db, void*, int, const char* const*, sqlite3_vtab** out, char**) {
  int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(value INTEGER, stop HIDDEN)");
  if (rc != SQLITE_OK) return rc;
  auto* vtab = new (std::nothrow) sqlite3_vtab{};
  if (vtab == nullptr) return SQLITE_NOMEM;
  *out = vtab;
  sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
  return SQLITE_OK;
}

int series_disconnect(sqlite3_vtab* vtab) {
  delete vtab;
  return SQLITE_OK;
}

// idxNum 1: `stop` is bound (argv[0]); idxNum 0: no stop, the series is empty.
int series_best_index(sqlite3_vtab*, sqlite3_index_info* info) {
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& constraint = info->aConstraint[i];
    if (constraint.usable && constraint.iColumn == kColumnStop &&
        constraint.op == SQLITE_INDEX_CONSTRAINT_EQ) {
      info->aConstraintUsage[i].argvIndex = 1;
      info->aConstraintUsage[i].omit = 1;
      info->idxNum = 1;
      info->estimatedCost = 1000;
      return SQLITE_OK;
    }
  }
  info->idxNum = 0;
  info->estimatedCost = 1e12;
  return SQLITE_OK;
}

int series_open(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  auto* cursor = new (std::nothrow) SeriesCursor();
  if (cursor == nullptr) return SQLITE_NOMEM;
  *out = &cursor->base;
  return SQLITE_OK;
}

int series_close(sqlite3_vtab_cursor* base) {
  delete reinterpret_cast<SeriesCursor*>(base);
  return SQLITE_OK;
}

int series_filter(sqlite3_vtab_cursor* base, int idx_num, const char*, int argc,
                  sqlite3_value** argv) {
  auto* cursor = reinterpret_cast<SeriesCursor*>(base);
  cursor->value = 1;
  cursor->stop = (idx_num == 1 && argc == 1) ? sqlite3_value_int64(argv[0]) : 0;
  return SQLITE_OK;
}

int series_next(sqlite3_vtab_cursor* base) {
  ++reinterpret_cast<SeriesCursor*>(base)->value;
  return SQLITE_OK;
}

int series_eof(sqlite3_vtab_cursor* base) {
  auto* cursor = reinterpret_cast<SeriesCursor*>(base);
  return cursor->value > cursor->stop;
}

int series_column(sqlite3_vtab_cursor* base, sqlite3_context* context, int column) {
  auto* cursor = reinterpret_cast<SeriesCursor*>(base);
  sqlite3_result_int64(context, column == kColumnValue ? cursor->value : cursor->stop);
  return SQLITE_OK;
}

int series_rowid(sqlite3_vtab_cursor* base, sqlite3_int64* rowid) {
  *rowid = reinterpret_cast<SeriesCursor*>(base)->value;
  return SQLITE_OK;
}

sqlite3_module make_series_module() {
  sqlite3_module module{};
  module.iVersion = 0;
  module.xCreate = nullptr;  // eponymous-only: usable as bench_series(N) without CREATE
  module.xConnect = series_connect;
  module.xBestIndex = series_best_index;
  module.xDisconnect = series_disconnect;
  module.xOpen = series_open;
  module.xClose = series_close;
  module.xFilter = series_filter;
  module.xNext = series_next;
  module.xEof = series_eof;
  module.xColumn = series_column;
  module.xRowid = series_rowid;
  return module;
}

const sqlite3_module kSeriesModule = make_series_module();

}  // namespace

int register_series_module(sqlite3* db) {
  return sqlite3_create_module(db, "bench_series", &kSeriesModule, nullptr);
}

}  // namespace strata::bench
