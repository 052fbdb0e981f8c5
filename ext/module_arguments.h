// Parsing the arguments of `CREATE VIRTUAL TABLE t USING m(arg, arg, …)`.
//
// SQLite hands xCreate/xConnect the text of each top-level argument (argv[3..]), split at commas
// outside parentheses and quotes. An argument is an option when it reads `key=value` with a bare
// identifier before the '='; every other argument is a column definition (or a table
// constraint) and is kept verbatim, in order, for the module to interpret:
//
//   USING columnar(id INTEGER PRIMARY KEY, kind TEXT, chunk_rows=65536, bloom='kind')
//         -> columns: "id INTEGER PRIMARY KEY", "kind TEXT"
//         -> options: chunk_rows = "65536", bloom = "kind"
//
// Values may be bare words (`cosine`, `16`, `float[768]`), or quoted with '…' or "…" (doubled
// quotes inside, as in SQL). Option names match case-insensitively. Each module declares its
// options as OptionSpecs; unknown names, repeated names, missing values and values of the wrong
// kind are errors that name the module, the option, what was given and what is allowed:
//
//   columnar: unknown option 'chunk_row', expected one of: chunk_rows, partition_by, …
//   columnar: option 'chunk_rows' must be an integer from 1 to 1048576, got 'lots'
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ext/status.h"

namespace strata {

enum class OptionKind {
  kText,     // any non-empty text; the module validates its grammar itself
  kInteger,  // a base-10 integer within [min_integer, max_integer]
  kBoolean,  // true|false|on|off|yes|no|1|0
  kChoice,   // one of `choices`, matched case-insensitively; the value becomes the choice
};

struct OptionSpec {
  std::string_view name;
  OptionKind kind = OptionKind::kText;
  int64_t min_integer = INT64_MIN;
  int64_t max_integer = INT64_MAX;
  std::vector<std::string_view> choices = {};
};

struct ParsedOption {
  std::string name;   // the spec's spelling
  std::string value;  // unquoted text; for kChoice the choice's spelling, for kBoolean "1"/"0"
};

class ModuleArguments {
 public:
  // Column definitions and table constraints, verbatim (trimmed), in the order given.
  const std::vector<std::string>& column_definitions() const { return column_definitions_; }
  // Options in the order given.
  const std::vector<ParsedOption>& options() const { return options_; }

  bool has(std::string_view name) const { return find(name) != nullptr; }
  std::optional<std::string> text(std::string_view name) const;
  std::optional<int64_t> integer(std::string_view name) const;
  std::optional<bool> boolean(std::string_view name) const;

 private:
  friend Result<ModuleArguments> parse_module_arguments(std::string_view, std::span<const OptionSpec>,
                                                        std::span<const char* const>);
  const ParsedOption* find(std::string_view name) const;

  std::vector<std::string> column_definitions_;
  std::vector<ParsedOption> options_;
};

// `module` names the module in messages; `arguments` are argv[3..argc-1] of xCreate/xConnect.
Result<ModuleArguments> parse_module_arguments(std::string_view module,
                                               std::span<const OptionSpec> specs,
                                               std::span<const char* const> arguments);

// Splits one argument into key and raw value if it has the `identifier = value` shape.
struct KeyValueText {
  std::string_view key;
  std::string_view value;  // trimmed, still quoted if it was
};
std::optional<KeyValueText> split_key_value(std::string_view argument);

// The text of a bare or quoted ('…' / "…" with doubled quotes) option value, or an error
// message describing what is wrong with it.
Result<std::string> unquote_option_value(std::string_view raw);

// Parses a whole base-10 int64 ("+5", "-12"; no spaces, no hex, no overflow).
std::optional<int64_t> parse_int64(std::string_view text);

std::string_view trim_sql_space(std::string_view text);
bool equals_ignore_case(std::string_view a, std::string_view b);

}  // namespace strata
