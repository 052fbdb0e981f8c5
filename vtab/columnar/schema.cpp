#include "vtab/columnar/schema.h"

#include <zstd.h>

#include "ext/module_arguments.h"
#include "ext/sqlite_handles.h"
#include "ext/sql_tokenizer.h"
#include "ext/str_cat.h"
#include "tiering/store_url.h"

namespace strata::columnar {

namespace {

constexpr std::string_view kModule = "columnar";

const std::vector<OptionSpec>& option_specs() {
  static const std::vector<OptionSpec> specs = {
      {"chunk_rows", OptionKind::kInteger, 1, kMaxChunkRows},
      {"partition_by", OptionKind::kText},
      {"bloom", OptionKind::kText},
      {"index", OptionKind::kText},
      {"compression", OptionKind::kText},
      {"tier", OptionKind::kText},
      {"hot_partitions", OptionKind::kInteger, 0, 1000000},
      {"retention", OptionKind::kText},
  };
  return specs;
}

bool contains_ignore_case(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (equals_ignore_case(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

Status error(std::string_view message) { return Status::error(str_cat(kModule, ": ", message)); }

// '400 days', '36 hours', '1 month', '2 years' (any case, singular or plural).
Result<Retention> parse_retention(std::string_view text) {
  const auto fail = [&] {
    return error(str_cat("option 'retention' must be a whole number and a unit, e.g. '400 days' (units: hours, days,"
                         " months, years), got '", text, "'"));
  };
  size_t at = 0;
  auto skip_spaces = [&] {
    while (at < text.size() && (text[at] == ' ' || text[at] == '\t')) ++at;
  };
  skip_spaces();
  const size_t digits_start = at;
  int64_t count = 0;
  while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
    if (count > 1'000'000) return fail();
    count = count * 10 + (text[at++] - '0');
  }
  if (at == digits_start || count < 1 || count > 1'000'000) return fail();
  skip_spaces();
  size_t word_end = at;
  while (word_end < text.size() && text[word_end] != ' ' && text[word_end] != '\t') ++word_end;
  std::string_view word = text.substr(at, word_end - at);
  at = word_end;
  skip_spaces();
  if (at != text.size()) return fail();
  if (word.size() > 1 && (word.back() == 's' || word.back() == 'S')) word.remove_suffix(1);
  Retention retention;
  retention.count = count;
  retention.text = std::string(text);
  if (equals_ignore_case(word, "hour")) retention.unit = PartitionUnit::kHour;
  else if (equals_ignore_case(word, "day")) retention.unit = PartitionUnit::kDay;
  else if (equals_ignore_case(word, "month")) retention.unit = PartitionUnit::kMonth;
  else if (equals_ignore_case(word, "year")) retention.unit = PartitionUnit::kYear;
  else return fail();
  return retention;
}

// Walks the tokens of one argument (a column definition or a table constraint).
class DefinitionParser {
 public:
  DefinitionParser(std::string_view text, std::vector<SqlToken> tokens)
      : text_(text), tokens_(std::move(tokens)) {}

  bool at_end() const { return pos_ >= tokens_.size(); }
  const SqlToken* peek() const { return at_end() ? nullptr : &tokens_[pos_]; }
  bool peek_keyword(std::string_view keyword) const {
    return !at_end() && tokens_[pos_].is_keyword(keyword);
  }
  bool accept_keyword(std::string_view keyword) {
    if (!peek_keyword(keyword)) return false;
    ++pos_;
    return true;
  }
  const SqlToken& next() { return tokens_[pos_++]; }
  size_t position() const { return pos_; }

  // Source text from token `from` up to (not including) the current token.
  std::string_view source_since(size_t from) const {
    if (from >= tokens_.size()) return {};
    size_t begin = tokens_[from].offset;
    size_t end = at_end() ? text_.size() : tokens_[pos_].offset;
    return trim_sql_space(text_.substr(begin, end - begin));
  }

  // Skips a parenthesised group starting at the current '('; false when unbalanced.
  bool skip_parenthesised() {
    if (at_end() || tokens_[pos_].kind != SqlTokenKind::kLeftParen) return false;
    int depth = 0;
    while (!at_end()) {
      SqlTokenKind kind = tokens_[pos_++].kind;
      if (kind == SqlTokenKind::kLeftParen) ++depth;
      if (kind == SqlTokenKind::kRightParen && --depth == 0) return true;
    }
    return false;
  }

  Result<ConflictMode> optional_conflict_clause() {
    if (!peek_keyword("ON")) return ConflictMode::kDefault;
    ++pos_;
    if (!accept_keyword("CONFLICT")) return error("expected CONFLICT after ON");
    static const std::pair<std::string_view, ConflictMode> kModes[] = {
        {"ROLLBACK", ConflictMode::kRollback}, {"ABORT", ConflictMode::kAbort},
        {"FAIL", ConflictMode::kFail},         {"IGNORE", ConflictMode::kIgnore},
        {"REPLACE", ConflictMode::kReplace}};
    for (const auto& [word, mode] : kModes) {
      if (accept_keyword(word)) return mode;
    }
    return error("expected ROLLBACK, ABORT, FAIL, IGNORE or REPLACE after ON CONFLICT");
  }

 private:
  std::string_view text_;
  std::vector<SqlToken> tokens_;
  size_t pos_ = 0;
};

bool is_constraint_start(const SqlToken& token) {
  for (std::string_view keyword : {"CONSTRAINT", "PRIMARY", "NOT", "NULL", "UNIQUE", "CHECK",
                                   "DEFAULT", "COLLATE", "REFERENCES", "GENERATED", "AS"}) {
    if (token.is_keyword(keyword)) return true;
  }
  return false;
}

Status refuse(std::string_view kind, std::string_view source, std::string_view why) {
  return error(str_cat(kind, " \"", source, "\" is not supported: ", why));
}

// The DEFAULT value: a signed number, a literal or a word, or a parenthesised expression.
Result<std::string> parse_default(DefinitionParser& parser) {
  size_t start = parser.position();
  const SqlToken* token = parser.peek();
  if (token == nullptr) return error("DEFAULT needs a value");
  if (token->kind == SqlTokenKind::kLeftParen) {
    if (!parser.skip_parenthesised()) return error("unbalanced parentheses in DEFAULT");
  } else if (token->kind == SqlTokenKind::kOperator && (token->text == "-" || token->text == "+")) {
    parser.next();
    if (parser.at_end() || parser.peek()->kind != SqlTokenKind::kNumber) {
      return error("DEFAULT with a sign needs a number");
    }
    parser.next();
  } else if (token->kind == SqlTokenKind::kLeftParen || token->kind == SqlTokenKind::kRightParen ||
             token->kind == SqlTokenKind::kComma || token->kind == SqlTokenKind::kOperator) {
    return error(str_cat("malformed DEFAULT value near '", token->text, "'"));
  } else {
    parser.next();
  }
  return std::string(parser.source_since(start));
}

Status parse_column_definition(DefinitionParser& parser, TableSchema& schema,
                               std::string_view source) {
  const SqlToken& name_token = parser.next();
  if (!name_token.is_name()) return error(str_cat("expected a column name in \"", source, "\""));
  ColumnDefinition column;
  column.name = name_token.identifier();
  int index = static_cast<int>(schema.columns.size());
  if (schema.column_index(column.name) >= 0) {
    return error(str_cat("duplicate column name: ", column.name));
  }

  size_t type_start = parser.position();
  while (!parser.at_end() && !is_constraint_start(*parser.peek())) {
    const SqlToken& token = *parser.peek();
    if (token.kind == SqlTokenKind::kLeftParen) {
      if (!parser.skip_parenthesised()) return error(str_cat("unbalanced parentheses in \"", source, "\""));
      break;  // "(n)" or "(n, m)" ends the type name
    }
    if (!token.is_name()) return error(str_cat("unexpected '", token.text, "' in \"", source, "\""));
    parser.next();
  }
  column.declared_type = std::string(parser.source_since(type_start));
  column.affinity = affinity_of_declared_type(column.declared_type);

  bool primary_key = false;
  while (!parser.at_end()) {
    size_t constraint_start = parser.position();
    if (parser.accept_keyword("CONSTRAINT")) {
      if (parser.at_end() || !parser.peek()->is_name()) return error("CONSTRAINT needs a name");
      parser.next();
      continue;
    }
    if (parser.accept_keyword("PRIMARY")) {
      if (!parser.accept_keyword("KEY")) return error("expected KEY after PRIMARY");
      if (primary_key || schema.rowid_alias >= 0) {
        return error(str_cat("table has more than one primary key"));
      }
      bool descending = false;
      if (parser.accept_keyword("DESC")) descending = true;
      else parser.accept_keyword("ASC");
      STRATA_ASSIGN_OR_RETURN(ConflictMode conflict, parser.optional_conflict_clause());
      bool autoincrement = parser.accept_keyword("AUTOINCREMENT");
      primary_key = true;
      if (equals_ignore_case(column.declared_type, "INTEGER") && !descending) {
        schema.rowid_alias = index;
        schema.rowid_conflict = conflict;
        schema.autoincrement = autoincrement;
      } else {
        if (autoincrement) return error("AUTOINCREMENT is only allowed on an INTEGER PRIMARY KEY");
        schema.key_indexes.push_back(KeyIndex{{index}, {}, true, true, conflict});
      }
      continue;
    }
    if (parser.accept_keyword("NOT")) {
      if (!parser.accept_keyword("NULL")) return error("expected NULL after NOT");
      column.not_null = true;
      STRATA_ASSIGN_OR_RETURN(column.not_null_conflict, parser.optional_conflict_clause());
      continue;
    }
    if (parser.accept_keyword("NULL")) {
      STRATA_ASSIGN_OR_RETURN(ConflictMode ignored, parser.optional_conflict_clause());
      (void)ignored;
      continue;
    }
    if (parser.accept_keyword("UNIQUE")) {
      STRATA_ASSIGN_OR_RETURN(ConflictMode conflict, parser.optional_conflict_clause());
      schema.key_indexes.push_back(KeyIndex{{index}, {}, true, false, conflict});
      continue;
    }
    if (parser.accept_keyword("DEFAULT")) {
      STRATA_ASSIGN_OR_RETURN(column.default_sql, parse_default(parser));
      continue;
    }
    if (parser.accept_keyword("COLLATE")) {
      if (parser.at_end() || !parser.peek()->is_name()) return error("COLLATE needs a name");
      column.collation = parser.next().identifier();
      continue;
    }
    if (parser.accept_keyword("CHECK")) {
      parser.skip_parenthesised();
      return refuse("CHECK constraint", parser.source_since(constraint_start),
                    "a columnar table cannot enforce CHECK; enforce it in the application or with a view");
    }
    if (parser.accept_keyword("REFERENCES")) {
      while (!parser.at_end()) parser.next();
      return refuse("foreign key constraint", parser.source_since(constraint_start),
                    "a columnar table cannot enforce foreign keys");
    }
    if (parser.peek_keyword("GENERATED") || parser.peek_keyword("AS")) {
      while (!parser.at_end()) parser.next();
      return refuse("generated column", parser.source_since(constraint_start),
                    "virtual tables cannot have generated columns");
    }
    return error(str_cat("unexpected '", parser.peek()->text, "' in column definition \"", source, "\""));
  }
  schema.columns.push_back(std::move(column));
  return Status::ok();
}

// "(a, b COLLATE nocase DESC)" of a table-level PRIMARY KEY / UNIQUE.
Status parse_key_columns(DefinitionParser& parser, TableSchema& schema, KeyIndex& unique,
                         std::string_view source) {
  const SqlToken* open = parser.peek();
  if (open == nullptr || open->kind != SqlTokenKind::kLeftParen) {
    return error(str_cat("expected '(' in \"", source, "\""));
  }
  parser.next();
  while (true) {
    if (parser.at_end() || !parser.peek()->is_name()) {
      return error(str_cat("expected a column name in \"", source, "\""));
    }
    std::string name = parser.next().identifier();
    int index = schema.column_index(name);
    if (index < 0) return error(str_cat("no such column in key: ", name));
    std::string collation;
    if (parser.accept_keyword("COLLATE")) {
      if (parser.at_end() || !parser.peek()->is_name()) return error("COLLATE needs a name");
      collation = parser.next().identifier();
    }
    if (!parser.accept_keyword("ASC")) parser.accept_keyword("DESC");
    unique.columns.push_back(index);
    unique.collations.push_back(collation);
    const SqlToken* token = parser.at_end() ? nullptr : &parser.next();
    if (token == nullptr) return error(str_cat("expected ')' in \"", source, "\""));
    if (token->kind == SqlTokenKind::kRightParen) break;
    if (token->kind != SqlTokenKind::kComma) {
      return error(str_cat("unexpected '", token->text, "' in \"", source, "\""));
    }
  }
  STRATA_ASSIGN_OR_RETURN(unique.conflict, parser.optional_conflict_clause());
  return Status::ok();
}

Status parse_table_constraint(DefinitionParser& parser, TableSchema& schema,
                              std::string_view source) {
  size_t start = parser.position();
  if (parser.accept_keyword("CONSTRAINT")) {
    if (parser.at_end() || !parser.peek()->is_name()) return error("CONSTRAINT needs a name");
    parser.next();
  }
  KeyIndex unique;
  if (parser.accept_keyword("PRIMARY")) {
    if (!parser.accept_keyword("KEY")) return error("expected KEY after PRIMARY");
    unique.primary_key = true;
  } else if (parser.accept_keyword("UNIQUE")) {
  } else if (parser.accept_keyword("CHECK")) {
    parser.skip_parenthesised();
    return refuse("CHECK constraint", parser.source_since(start),
                  "a columnar table cannot enforce CHECK; enforce it in the application or with a view");
  } else if (parser.accept_keyword("FOREIGN")) {
    while (!parser.at_end()) parser.next();
    return refuse("foreign key constraint", parser.source_since(start),
                  "a columnar table cannot enforce foreign keys");
  } else {
    return error(str_cat("unexpected table constraint \"", source, "\""));
  }
  STRATA_RETURN_IF_ERROR(parse_key_columns(parser, schema, unique, source));
  if (!parser.at_end()) {
    return error(str_cat("unexpected '", parser.peek()->text, "' in \"", source, "\""));
  }
  if (unique.primary_key) {
    bool has_primary_key = schema.rowid_alias >= 0;
    for (const KeyIndex& other : schema.key_indexes) has_primary_key |= other.primary_key;
    if (has_primary_key) return error("table has more than one primary key");
    // PRIMARY KEY(x) on a single INTEGER column is the rowid alias, as in SQLite.
    if (unique.columns.size() == 1 &&
        equals_ignore_case(schema.columns[unique.columns[0]].declared_type, "INTEGER")) {
      schema.rowid_alias = unique.columns[0];
      schema.rowid_conflict = unique.conflict;
      return Status::ok();
    }
  }
  schema.key_indexes.push_back(std::move(unique));
  return Status::ok();
}

bool starts_table_constraint(const SqlToken& token) {
  for (std::string_view keyword : {"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"}) {
    if (token.is_keyword(keyword)) return true;
  }
  return false;
}

Result<std::vector<int>> parse_column_list(const TableSchema& schema, std::string_view option,
                                           std::string_view list) {
  std::vector<int> columns;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view name = trim_sql_space(list.substr(start, comma - start));
    if (name.empty()) {
      return error(str_cat("option '", option, "' must be a comma-separated list of column names, got '",
                           list, "'"));
    }
    int index = schema.column_index(name);
    if (index < 0) {
      return error(str_cat("option '", option, "' names no such column: ", name));
    }
    for (int seen : columns) {
      if (seen == index) return error(str_cat("option '", option, "' names column ", name, " twice"));
    }
    columns.push_back(index);
    start = comma + 1;
  }
  return columns;
}

Result<PartitionSpec> parse_partition(const TableSchema& schema, std::string_view text) {
  PartitionSpec spec;
  spec.text = std::string(text);
  std::string_view column_name = trim_sql_space(text);
  size_t open = column_name.find('(');
  if (open != std::string_view::npos) {
    if (column_name.back() != ')') {
      return error(str_cat("option 'partition_by' must be a column or hour|day|month|year(col) "
                           "(or hour_ms … year_ms), got '", text, "'"));
    }
    std::string_view function = trim_sql_space(column_name.substr(0, open));
    static const std::pair<std::string_view, PartitionUnit> kUnits[] = {
        {"hour", PartitionUnit::kHour}, {"day", PartitionUnit::kDay},
        {"month", PartitionUnit::kMonth}, {"year", PartitionUnit::kYear}};
    bool found = false;
    for (const auto& [name, unit] : kUnits) {
      if (equals_ignore_case(function, name)) {
        spec.unit = unit;
        found = true;
      } else if (equals_ignore_case(function, str_cat(name, "_ms"))) {
        spec.unit = unit;
        spec.milliseconds = true;
        found = true;
      }
    }
    if (!found) {
      return error(str_cat("option 'partition_by': unknown function '", function,
                           "', expected one of: hour, day, month, year, hour_ms, day_ms, month_ms, year_ms"));
    }
    column_name = trim_sql_space(column_name.substr(open + 1, column_name.size() - open - 2));
  }
  spec.column = schema.column_index(column_name);
  if (spec.column < 0) {
    return error(str_cat("option 'partition_by' names no such column: ", column_name));
  }
  return spec;
}

Result<Compression> parse_compression(std::string_view text) {
  if (equals_ignore_case(text, "none")) return Compression{false, 0};
  if (equals_ignore_case(text, "zstd")) return Compression{true, 3};
  if (text.size() > 5 && equals_ignore_case(text.substr(0, 5), "zstd:")) {
    std::optional<int64_t> level = parse_int64(text.substr(5));
    if (level && *level >= 1 && *level <= ZSTD_maxCLevel()) {
      return Compression{true, static_cast<int>(*level)};
    }
  }
  return error(str_cat("option 'compression' must be 'none', 'zstd' or 'zstd:N' with N from 1 to ",
                       std::to_string(ZSTD_maxCLevel()), ", got '", text, "'"));
}

Status validate_tier(std::string_view text) {
  if (tiering::is_tier_location(text)) return Status::ok();
  return error(str_cat("option 'tier' must be 'file:DIR' or 's3://bucket/prefix', got '", text, "'"));
}

}  // namespace

Affinity affinity_of_declared_type(std::string_view declared_type) {
  if (contains_ignore_case(declared_type, "INT")) return Affinity::kInteger;
  if (contains_ignore_case(declared_type, "CHAR") || contains_ignore_case(declared_type, "CLOB") ||
      contains_ignore_case(declared_type, "TEXT")) {
    return Affinity::kText;
  }
  if (declared_type.empty() || contains_ignore_case(declared_type, "BLOB")) return Affinity::kBlob;
  if (contains_ignore_case(declared_type, "REAL") || contains_ignore_case(declared_type, "FLOA") ||
      contains_ignore_case(declared_type, "DOUB")) {
    return Affinity::kReal;
  }
  return Affinity::kNumeric;
}

int TableSchema::column_index(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (equals_ignore_case(columns[i].name, name)) return static_cast<int>(i);
  }
  return -1;
}

std::string TableSchema::declaration_sql() const {
  std::string sql = "CREATE TABLE x(";
  for (size_t i = 0; i < columns.size(); ++i) {
    const ColumnDefinition& column = columns[i];
    if (i > 0) sql += ", ";
    sql += quote_identifier(column.name);
    if (!column.declared_type.empty()) sql += " " + column.declared_type;
    if (column.not_null) sql += " NOT NULL";
    if (!column.default_sql.empty()) sql += " DEFAULT " + column.default_sql;
    if (!column.collation.empty()) sql += " COLLATE " + quote_identifier(column.collation);
  }
  sql += ")";
  return sql;
}

std::optional<Collation> builtin_collation(std::string_view name) {
  if (name.empty() || equals_ignore_case(name, "BINARY")) return Collation::kBinary;
  if (equals_ignore_case(name, "NOCASE")) return Collation::kNoCase;
  if (equals_ignore_case(name, "RTRIM")) return Collation::kRtrim;
  return std::nullopt;
}

ValueType storage_class_of_declared_type(std::string_view declared_type) {
  if (declared_type.empty()) return ValueType::kNull;
  switch (affinity_of_declared_type(declared_type)) {
    case Affinity::kInteger: return ValueType::kInteger;
    case Affinity::kReal: return ValueType::kReal;
    case Affinity::kText: return ValueType::kText;
    case Affinity::kBlob: return ValueType::kBlob;
    case Affinity::kNumeric: break;
  }
  return ValueType::kNull;
}

Result<TableSchema> parse_table_schema(std::span<const char* const> arguments) {
  STRATA_ASSIGN_OR_RETURN(ModuleArguments parsed,
                          parse_module_arguments(kModule, option_specs(), arguments));
  TableSchema schema;
  for (const std::string& definition : parsed.column_definitions()) {
    Result<std::vector<SqlToken>> tokens = tokenize_sql(definition);
    if (!tokens.is_ok()) return error(tokens.status().message());
    if (tokens->empty()) return error("empty column definition");
    bool table_constraint = starts_table_constraint(tokens->front());
    DefinitionParser parser(definition, std::move(tokens).value());
    if (table_constraint) {
      STRATA_RETURN_IF_ERROR(parse_table_constraint(parser, schema, definition));
    } else {
      STRATA_RETURN_IF_ERROR(parse_column_definition(parser, schema, definition));
    }
  }
  if (schema.columns.empty()) {
    return error("a columnar table needs at least one column, e.g. USING columnar(id INTEGER PRIMARY KEY, v)");
  }
  // Key columns without their own COLLATE take the column's.
  for (KeyIndex& unique : schema.key_indexes) {
    unique.collations.resize(unique.columns.size());
    for (size_t k = 0; k < unique.columns.size(); ++k) {
      if (unique.collations[k].empty()) unique.collations[k] = schema.columns[unique.columns[k]].collation;
    }
  }

  if (std::optional<int64_t> rows = parsed.integer("chunk_rows")) schema.chunk_rows = *rows;
  if (std::optional<std::string> text = parsed.text("partition_by")) {
    STRATA_ASSIGN_OR_RETURN(schema.partition, parse_partition(schema, *text));
  }
  if (std::optional<std::string> text = parsed.text("bloom")) {
    STRATA_ASSIGN_OR_RETURN(schema.bloom_columns, parse_column_list(schema, "bloom", *text));
  }
  if (std::optional<std::string> text = parsed.text("index")) {
    STRATA_ASSIGN_OR_RETURN(schema.index_columns, parse_column_list(schema, "index", *text));
    for (int column : schema.index_columns) {
      if (column == schema.rowid_alias) {
        return error(str_cat("option 'index' names ", schema.columns[column].name,
                             ", the INTEGER PRIMARY KEY: it is the rowid, which needs no index"));
      }
      KeyIndex index;
      index.columns = {column};
      index.collations = {schema.columns[column].collation};
      index.unique = false;
      schema.key_indexes.push_back(std::move(index));
    }
  }
  if (std::optional<std::string> text = parsed.text("compression")) {
    STRATA_ASSIGN_OR_RETURN(schema.compression, parse_compression(*text));
    schema.compression_text = *text;
  }
  if (std::optional<std::string> text = parsed.text("tier")) {
    STRATA_RETURN_IF_ERROR(validate_tier(*text));
    schema.tier = *text;
  }
  if (std::optional<int64_t> count = parsed.integer("hot_partitions")) {
    if (schema.tier.empty() || !schema.partition) {
      return error("option 'hot_partitions' needs both 'partition_by' and 'tier' (it says how many of the newest partitions tier_flush keeps hot)");
    }
    schema.hot_partitions = *count;
  }
  if (std::optional<std::string> text = parsed.text("retention")) {
    if (!schema.partition || schema.partition->unit == PartitionUnit::kValue) {
      return error("option 'retention' needs partition_by on a time (hour(ts), day(ts), month(ts), year(ts) or their _ms"
                   " forms): it drops the partitions older than the retention");
    }
    STRATA_ASSIGN_OR_RETURN(schema.retention, parse_retention(*text));
  }
  return schema;
}

}  // namespace strata::columnar
