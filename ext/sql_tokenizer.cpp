#include "ext/sql_tokenizer.h"

#include "ext/module_arguments.h"
#include "ext/str_cat.h"

namespace strata {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool is_word_char(char c) { return is_word_start(c) || is_digit(c) || c == '$'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

}  // namespace

bool SqlToken::is_keyword(std::string_view keyword) const {
  return kind == SqlTokenKind::kWord && equals_ignore_case(text, keyword);
}

std::string SqlToken::identifier() const {
  if (kind == SqlTokenKind::kWord || text.size() < 2) return std::string(text);
  char close = text.front() == '[' ? ']' : text.front();
  std::string name;
  for (size_t i = 1; i + 1 < text.size(); ++i) {
    name += text[i];
    if (close != ']' && text[i] == close) ++i;  // a doubled quote stands for one
  }
  return name;
}

Result<std::vector<SqlToken>> tokenize_sql(std::string_view sql, size_t max_tokens) {
  std::vector<SqlToken> tokens;
  size_t i = 0;
  auto unterminated = [&](std::string_view what, size_t at) {
    return Status::error(str_cat("unterminated ", what, " in: ", sql.substr(at, 40)));
  };
  while (i < sql.size() && tokens.size() < max_tokens) {
    char c = sql[i];
    size_t start = i;
    if (is_space(c)) {
      ++i;
      continue;
    }
    if (sql.substr(i, 2) == "--") {
      size_t end = sql.find('\n', i);
      i = end == std::string_view::npos ? sql.size() : end + 1;
      continue;
    }
    if (sql.substr(i, 2) == "/*") {
      size_t end = sql.find("*/", i + 2);
      if (end == std::string_view::npos) return unterminated("comment", start);
      i = end + 2;
      continue;
    }
    SqlTokenKind kind;
    if ((c == 'x' || c == 'X') && i + 1 < sql.size() && sql[i + 1] == '\'') {
      size_t end = sql.find('\'', i + 2);
      if (end == std::string_view::npos) return unterminated("blob literal", start);
      for (size_t k = i + 2; k < end; ++k) {
        if (!is_hex(sql[k])) return Status::error(str_cat("malformed blob literal: ", sql.substr(start, end + 1 - start)));
      }
      i = end + 1;
      kind = SqlTokenKind::kBlob;
    } else if (c == '\'' || c == '"' || c == '`') {
      ++i;
      while (true) {
        if (i >= sql.size()) return unterminated(c == '\'' ? "string" : "quoted name", start);
        if (sql[i] == c) {
          if (i + 1 < sql.size() && sql[i + 1] == c) {
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        ++i;
      }
      kind = c == '\'' ? SqlTokenKind::kString : SqlTokenKind::kQuotedName;
    } else if (c == '[') {
      size_t end = sql.find(']', i);
      if (end == std::string_view::npos) return unterminated("[name]", start);
      i = end + 1;
      kind = SqlTokenKind::kQuotedName;
    } else if (is_digit(c) || (c == '.' && i + 1 < sql.size() && is_digit(sql[i + 1]))) {
      if (c == '0' && i + 1 < sql.size() && (sql[i + 1] == 'x' || sql[i + 1] == 'X')) {
        i += 2;
        while (i < sql.size() && is_hex(sql[i])) ++i;
      } else {
        while (i < sql.size() && (is_digit(sql[i]) || sql[i] == '.')) ++i;
        if (i < sql.size() && (sql[i] == 'e' || sql[i] == 'E')) {
          ++i;
          if (i < sql.size() && (sql[i] == '+' || sql[i] == '-')) ++i;
          while (i < sql.size() && is_digit(sql[i])) ++i;
        }
      }
      kind = SqlTokenKind::kNumber;
    } else if (is_word_start(c)) {
      while (i < sql.size() && is_word_char(sql[i])) ++i;
      kind = SqlTokenKind::kWord;
    } else if (c == '(') {
      ++i;
      kind = SqlTokenKind::kLeftParen;
    } else if (c == ')') {
      ++i;
      kind = SqlTokenKind::kRightParen;
    } else if (c == ',') {
      ++i;
      kind = SqlTokenKind::kComma;
    } else {
      ++i;
      kind = SqlTokenKind::kOperator;
    }
    tokens.push_back(SqlToken{kind, sql.substr(start, i - start), start});
  }
  return tokens;
}

}  // namespace strata
