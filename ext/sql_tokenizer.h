// A tokenizer for the pieces of SQL that modules parse themselves (column definitions in
// CREATE VIRTUAL TABLE arguments). It recognises SQLite's token classes — identifiers (bare,
// "quoted", [bracketed], `backticked`), string and blob literals, numbers, punctuation — and
// keeps each token's source text, so a definition can be re-emitted piece by piece.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ext/status.h"

namespace strata {

enum class SqlTokenKind {
  kWord,        // bare identifier or keyword
  kQuotedName,  // "x", [x], `x`
  kString,      // 'text'
  kBlob,        // x'00ff'
  kNumber,      // 12, 1.5e3, 0x1F
  kLeftParen,
  kRightParen,
  kComma,
  kOperator,    // any other punctuation: + - * / = < > . ; …
};

struct SqlToken {
  SqlTokenKind kind;
  std::string_view text;  // source text, quotes included
  size_t offset = 0;      // in the tokenized string

  // Case-insensitive keyword test for kWord tokens.
  bool is_keyword(std::string_view keyword) const;
  // The identifier a word, quoted name or string names (quotes removed, doubled quotes undone).
  std::string identifier() const;
  bool is_name() const {
    return kind == SqlTokenKind::kWord || kind == SqlTokenKind::kQuotedName ||
           kind == SqlTokenKind::kString;
  }
};

// Tokenizes `sql`, skipping whitespace and comments. Unterminated quotes or comments are errors.
// Stops after `max_tokens` tokens (for reading just the head of a long statement).
Result<std::vector<SqlToken>> tokenize_sql(std::string_view sql, size_t max_tokens = SIZE_MAX);

}  // namespace strata
