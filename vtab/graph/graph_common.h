// Small pieces the things and relationships tables and the graph functions share.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "ext/sqlite_api.h"
#include "ext/status.h"

namespace strata::graph {

inline constexpr int kFormatVersion = 1;

inline int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// `"schema"."table_suffix"`: a shadow table's quoted name.
std::string shadow_name(std::string_view schema, std::string_view table, std::string_view suffix);

// Appends `text` as a JSON string (quoted, escaped) to `out`.
void append_json_string(std::string& out, std::string_view text);

// A value given for an id column (id, from_id, …) as text: TEXT as is, integers and reals
// rendered as SQLite renders them (TEXT affinity); NULL and BLOB are errors naming `what`.
Result<std::string_view> id_text(std::string_view module, std::string_view what, sqlite3_value* value);

// The format_version and module stored in a config shadow table, checked: an error names the
// table when it is not one of `module`'s, or was written by a newer strata.
Status check_stored_format(sqlite3* db, std::string_view schema, std::string_view table, std::string_view module);

}  // namespace strata::graph
