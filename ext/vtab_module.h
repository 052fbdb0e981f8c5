// The sqlite3_module methods every writable strata table implements the same way: disconnect,
// destroy, update, the transaction methods and rename, each a shim (sqlite_shim.h) over a method
// of the module's table class. A module builds its sqlite3_module with table_module<Table>(),
// naming only what is its own (create/connect, xBestIndex, the cursor, shadow names):
//
//   const sqlite3_module kModule = table_module<HnswTable>({.create = x_create, .connect = x_connect, …});
//
// create_table<open> / connect_table<open> are xCreate / xConnect over the module's opener,
//   Result<std::unique_ptr<Table>> open(sqlite3*, void* aux, int argc, const char* const* argv, bool create)
// (aux: the module's client data), whose error becomes SQLite's message.
//
// open_cursor<Cursor> / close_cursor<Cursor> are xOpen / xClose for a cursor struct whose first
// member is its sqlite3_vtab_cursor `base`.
//
// read_only_table_module<Table>() builds a module for a table that cannot be written: the same
// callbacks, disconnect/destroy/rename as above, and xUpdate answering with `read_only_error`.
//
// Table must have: static Table* from(sqlite3_vtab*); Status destroy(); Status update(int,
// sqlite3_value**, sqlite3_int64*); Status on_begin(), on_sync(), on_commit(), on_rollback(),
// on_savepoint(), on_rollback_to(); Status rename(const std::string&). A table that tracks
// savepoint levels declares on_savepoint(int), on_release(int) and on_rollback_to(int) instead.
#pragma once

#include <new>
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

// A table module's own callbacks (designated initializers keep same-typed ones from swapping).
struct TableModuleCallbacks {
  int (*create)(sqlite3*, void*, int, const char* const*, sqlite3_vtab**, char**) = nullptr;
  int (*connect)(sqlite3*, void*, int, const char* const*, sqlite3_vtab**, char**) = nullptr;
  int (*best_index)(sqlite3_vtab*, sqlite3_index_info*) = nullptr;
  int (*open)(sqlite3_vtab*, sqlite3_vtab_cursor**) = nullptr;
  int (*close)(sqlite3_vtab_cursor*) = nullptr;
  int (*filter)(sqlite3_vtab_cursor*, int, const char*, int, sqlite3_value**) = nullptr;
  int (*next)(sqlite3_vtab_cursor*) = nullptr;
  int (*eof)(sqlite3_vtab_cursor*) = nullptr;
  int (*column)(sqlite3_vtab_cursor*, sqlite3_context*, int) = nullptr;
  int (*rowid)(sqlite3_vtab_cursor*, sqlite3_int64*) = nullptr;
  int (*shadow_name)(const char*) = nullptr;
};

template <class Open>
int open_vtab(Open open, sqlite3* db, void* aux, int argc, const char* const* argv, sqlite3_vtab** out,
              char** error_out, bool create) noexcept {
  return error_out_call(error_out, [&]() -> Status {
    STRATA_ASSIGN_OR_RETURN(auto table, open(db, aux, argc, argv, create));
    *out = &table.release()->base;
    return Status::ok();
  });
}

template <auto open>
int create_table(sqlite3* db, void* aux, int argc, const char* const* argv, sqlite3_vtab** out, char** error_out) {
  return open_vtab(open, db, aux, argc, argv, out, error_out, true);
}

template <auto open>
int connect_table(sqlite3* db, void* aux, int argc, const char* const* argv, sqlite3_vtab** out, char** error_out) {
  return open_vtab(open, db, aux, argc, argv, out, error_out, false);
}

// The callbacks every module names itself (iVersion 3: savepoints and shadow-table names). An
// eponymous-only module (a table-valued function) names no create and adds its xDisconnect.
inline sqlite3_module module_with(const TableModuleCallbacks& callbacks) {
  sqlite3_module module{};
  module.iVersion = 3;
  module.xCreate = callbacks.create;
  module.xConnect = callbacks.connect;
  module.xBestIndex = callbacks.best_index;
  module.xOpen = callbacks.open;
  module.xClose = callbacks.close;
  module.xFilter = callbacks.filter;
  module.xNext = callbacks.next;
  module.xEof = callbacks.eof;
  module.xColumn = callbacks.column;
  module.xRowid = callbacks.rowid;
  module.xShadowName = callbacks.shadow_name;
  return module;
}

// A writable table module.
template <class Table>
sqlite3_module table_module(const TableModuleCallbacks& callbacks) {
  sqlite3_module module = module_with(callbacks);
  add_table_methods<Table>(module);
  return module;
}

// A read-only table module: INSERT, UPDATE and DELETE fail with `read_only_error` (which names
// the module); no transaction methods.
template <class Table, const char* read_only_error>
sqlite3_module read_only_table_module(const TableModuleCallbacks& callbacks) {
  using Methods = TableMethods<Table>;
  sqlite3_module module = module_with(callbacks);
  module.xDisconnect = Methods::disconnect;
  module.xDestroy = Methods::destroy;
  module.xRename = Methods::rename;
  module.xUpdate = [](sqlite3_vtab* vtab, int, sqlite3_value**, sqlite3_int64*) {
    return vtab_call(vtab, [] { return Status::error(read_only_error); });
  };
  return module;
}

// An eponymous-only module (a table-valued function, no xCreate) whose table is a `Table`
// allocated with new: xDisconnect and xDestroy delete it.
template <class Table>
sqlite3_module eponymous_module(const TableModuleCallbacks& callbacks) {
  sqlite3_module module = module_with(callbacks);
  module.xDisconnect = module.xDestroy = [](sqlite3_vtab* vtab) {
    sqlite3_free(vtab->zErrMsg);
    delete reinterpret_cast<Table*>(vtab);
    return SQLITE_OK;
  };
  return module;
}

template <class Cursor>
int open_cursor(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  auto* cursor = new (std::nothrow) Cursor();
  if (cursor == nullptr) return SQLITE_NOMEM;
  *out = &cursor->base;
  return SQLITE_OK;
}

template <class Cursor>
int close_cursor(sqlite3_vtab_cursor* cursor) {
  delete reinterpret_cast<Cursor*>(cursor);
  return SQLITE_OK;
}

}  // namespace strata
