// Telling, from code that waits on the network, whether the statement it works for has been
// interrupted (sqlite3_interrupt, Ctrl-C in the shell), so that the wait can end promptly.
//
// SQLite 3.40 has no sqlite3_is_interrupted() (3.41 added it). What it does have: while any
// statement of an interrupted connection is still running, every statement stepped on that
// connection fails at once with SQLITE_INTERRUPT. So a trivial prepared statement, stepped,
// tells; it is stepped at most every 50 ms, however often the question is asked.
#pragma once

#include <functional>

#include "ext/sqlite_api.h"

namespace strata {

// A check for tiering::ObjectStore::set_cancellation(): true once `db` is interrupted. Call it
// only on the connection's own thread, while one of its statements runs (from inside a virtual
// table method or an SQL function).
std::function<bool()> interrupt_check(sqlite3* db);

}  // namespace strata
