// The sqlite3_module methods every writable strata table implements the same way: disconnect,
// destroy, update, the transaction methods and rename, each a shim (sqlite_shim.h) over a method
// of the module's table class. A module fills them with add_table_methods<Table>() and sets the
// rest (create/connect, xBestIndex, the cursor) itself.
//
// Table must have: static Table* from(sqlite3_vtab*); Status destroy(); Status update(int,
// sqlite3_value**, sqlite3_int64*); Status on_begin(), on_sync(), on_commit(), on_rollback(),
// on_savepoint(), on_rollback_to(); Status rename(const std::string&). A table that tracks
// savepoint levels declares on_savepoint(int), on_release(int) and on_rollback_to(int) instead.
#pragma once

#include <string>

#include "ext/sqlite_api.h"
#include "ext/sqlite_shim.h"

namespace strata {

template <class Table>
struct TableMethods {
  static int disconnect(sqlite3_vtab* vtab) {
    // A message SQLite never took (it does not read one after a failed xDestroy) is ours to free.
    sqlite3_free(vtab->zErrMsg);
    delete Table::from(vtab);
    return SQLITE_OK;
  }
  static int destroy(sqlite3_vtab* vtab) {
    int rc = vtab_call(vtab, [&] { return Table::from(vtab)->destroy(); });
    if (rc == SQLITE_OK) delete Table::from(vtab);
    return rc;
  }
  static int update(sqlite3_vtab* vtab, int argc, sqlite3_value** argv, sqlite3_int64* rowid) {
    return vtab_call(vtab, [&] { return Table::from(vtab)->update(argc, argv, rowid); });
  }
  static int begin(sqlite3_vtab* vtab) {
    return vtab_call(vtab, [&] { return Table::from(vtab)->on_begin(); });
  }
  static int sync(sqlite3_vtab* vtab) {
    return vtab_call(vtab, [&] { return Table::from(vtab)->on_sync(); });
  }
  static int commit(sqlite3_vtab* vtab) {
    return vtab_call(vtab, [&] { return Table::from(vtab)->on_commit(); });
  }
  static int rollback(sqlite3_vtab* vtab) {
    return vtab_call(vtab, [&] { return Table::from(vtab)->on_rollback(); });
  }
  static constexpr bool kTracksLevels = requires(Table& table) { table.on_savepoint(0); };
  static int savepoint(sqlite3_vtab* vtab, int level) {
    return vtab_call(vtab, [&] {
      if constexpr (kTracksLevels) {
        return Table::from(vtab)->on_savepoint(level);
      } else {
        return Table::from(vtab)->on_savepoint();
      }
    });
  }
  static int release(sqlite3_vtab* vtab, int level) {
    if constexpr (kTracksLevels) {
      return vtab_call(vtab, [&] { return Table::from(vtab)->on_release(level); });
    } else {
      return SQLITE_OK;
    }
  }
  static int rollback_to(sqlite3_vtab* vtab, int level) {
    return vtab_call(vtab, [&] {
      if constexpr (kTracksLevels) {
        return Table::from(vtab)->on_rollback_to(level);
      } else {
        return Table::from(vtab)->on_rollback_to();
      }
    });
  }
  static int rename(sqlite3_vtab* vtab, const char* new_name) {
    return vtab_call(vtab, [&] { return Table::from(vtab)->rename(new_name); });
  }
};

template <class Table>
void add_table_methods(sqlite3_module& module) {
  using Methods = TableMethods<Table>;
  module.xDisconnect = Methods::disconnect;
  module.xDestroy = Methods::destroy;
  module.xUpdate = Methods::update;
  module.xBegin = Methods::begin;
  module.xSync = Methods::sync;
  module.xCommit = Methods::commit;
  module.xRollback = Methods::rollback;
  module.xRename = Methods::rename;
  module.xSavepoint = Methods::savepoint;
  module.xRelease = Methods::release;
  module.xRollbackTo = Methods::rollback_to;
}

}  // namespace strata
