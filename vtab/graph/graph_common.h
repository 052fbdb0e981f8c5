// Small pieces the things and relationships tables and the graph functions share.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/json_text.h"  // append_json_string, for the graph functions
#include "ext/sqlite_api.h"
#include "ext/sqlite_handles.h"
#include "ext/status.h"

namespace strata::graph {

// The newest format this strata reads; relationships tables and things tables without tier= are
// written as version 1, tiered things tables as version 2 (docs/format-graph.md).
inline constexpr int kFormatVersion = 2;
inline constexpr int kBaseFormatVersion = 1;
inline constexpr int kTieredThingsFormatVersion = 2;

inline int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// `"schema"."table_suffix"`: a shadow table's quoted name.
std::string shadow_name(std::string_view schema, std::string_view table, std::string_view suffix);

// A value given for an id column (id, from_id, …) as text: TEXT as is, integers and reals
// rendered as SQLite renders them (TEXT affinity); NULL and BLOB are errors naming `what`.
Result<std::string_view> id_text(std::string_view module, std::string_view what, sqlite3_value* value);

// A value given for created_at / updated_at: an integer (unix ms), or `now` for NULL; anything
// else is a constraint error naming `what`.
Result<int64_t> timestamp_or_now(std::string_view module, std::string_view what, sqlite3_value* value, int64_t now);

// A value given for a data column: JSON text is checked by the shadow table (json_valid); a
// BLOB is refused here, with a message naming `module`.
Status check_json_data(std::string_view module, sqlite3_value* data);

// The first column of every row `statement` returns, as text; the statement is reset after.
Result<std::vector<std::string>> first_column_texts(Statement& statement);

// The format_version and module stored in a config shadow table, checked: an error names the
// table when it is not one of `module`'s, or was written by a newer strata.
Status check_stored_format(sqlite3* db, std::string_view schema, std::string_view table, std::string_view module);

}  // namespace strata::graph
