#include "tests/slt/create_table_rewrite.h"

#include <cctype>
#include <vector>

namespace strata::slt {

namespace {

// A minimal SQL lexer: enough to read the head of a CREATE TABLE and find its parentheses.
class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  size_t position() const { return pos_; }
  bool at_end() {
    skip_space_and_comments();
    return pos_ >= text_.size();
  }

  // Consumes `word` (case-insensitive, whole word) if it is next.
  bool accept_keyword(std::string_view word) {
    skip_space_and_comments();
    if (pos_ + word.size() > text_.size()) return false;
    for (size_t i = 0; i < word.size(); ++i) {
      if (std::toupper(static_cast<unsigned char>(text_[pos_ + i])) != word[i]) return false;
    }
    size_t end = pos_ + word.size();
    if (end < text_.size() && is_word_char(text_[end])) return false;
    pos_ = end;
    return true;
  }

  bool accept_char(char c) {
    skip_space_and_comments();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  // An identifier: bare word, "quoted", [bracketed] or `backticked`. Returns its source text.
  std::optional<std::string_view> identifier() {
    skip_space_and_comments();
    if (pos_ >= text_.size()) return std::nullopt;
    size_t start = pos_;
    char c = text_[pos_];
    if (c == '"' || c == '`') {
      if (!skip_quoted(c)) return std::nullopt;
    } else if (c == '[') {
      size_t end = text_.find(']', pos_);
      if (end == std::string_view::npos) return std::nullopt;
      pos_ = end + 1;
    } else if (is_word_char(c) && !std::isdigit(static_cast<unsigned char>(c))) {
      while (pos_ < text_.size() && is_word_char(text_[pos_])) ++pos_;
    } else {
      return std::nullopt;
    }
    return text_.substr(start, pos_ - start);
  }

  // With the lexer just past '(', moves past the matching ')' and returns the text between.
  std::optional<std::string_view> balanced_body() {
    size_t start = pos_;
    int depth = 1;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '\'' || c == '"' || c == '`') {
        if (!skip_quoted(c)) return std::nullopt;
        continue;
      }
      if (c == '[') {
        size_t end = text_.find(']', pos_);
        if (end == std::string_view::npos) return std::nullopt;
        pos_ = end + 1;
        continue;
      }
      if (starts_comment()) {
        skip_space_and_comments();
        continue;
      }
      ++pos_;
      if (c == '(') ++depth;
      if (c == ')' && --depth == 0) return text_.substr(start, pos_ - 1 - start);
    }
    return std::nullopt;
  }

  void skip_space_and_comments() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos_;
      } else if (text_.substr(pos_, 2) == "--") {
        size_t end = text_.find('\n', pos_);
        pos_ = end == std::string_view::npos ? text_.size() : end + 1;
      } else if (text_.substr(pos_, 2) == "/*") {
        size_t end = text_.find("*/", pos_ + 2);
        pos_ = end == std::string_view::npos ? text_.size() : end + 2;
      } else {
        return;
      }
    }
  }

  std::string upper_word() {
    skip_space_and_comments();
    std::string word;
    while (pos_ < text_.size() && is_word_char(text_[pos_])) {
      word += static_cast<char>(std::toupper(static_cast<unsigned char>(text_[pos_++])));
    }
    return word;
  }

 private:
  static bool is_word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
           (static_cast<unsigned char>(c) >= 0x80);
  }

  bool starts_comment() const {
    return text_.substr(pos_, 2) == "--" || text_.substr(pos_, 2) == "/*";
  }

  // Moves past a quoted token starting at pos_ (doubled quotes are part of the token).
  bool skip_quoted(char quote) {
    ++pos_;
    while (pos_ < text_.size()) {
      if (text_[pos_] == quote) {
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == quote) {
          pos_ += 2;
          continue;
        }
        ++pos_;
        return true;
      }
      ++pos_;
    }
    return false;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<std::string> rewrite_create_table(std::string_view statement,
                                                std::string_view module) {
  Lexer lexer(statement);
  if (!lexer.accept_keyword("CREATE")) return std::nullopt;
  bool temporary = lexer.accept_keyword("TEMP") || lexer.accept_keyword("TEMPORARY");
  if (!lexer.accept_keyword("TABLE")) return std::nullopt;
  bool if_not_exists = false;
  if (lexer.accept_keyword("IF")) {
    if (!lexer.accept_keyword("NOT") || !lexer.accept_keyword("EXISTS")) return std::nullopt;
    if_not_exists = true;
  }
  std::optional<std::string_view> first = lexer.identifier();
  if (!first) return std::nullopt;
  std::string name(*first);
  if (lexer.accept_char('.')) {
    std::optional<std::string_view> second = lexer.identifier();
    if (!second) return std::nullopt;
    if (temporary) return std::nullopt;  // TEMP with a schema name is an SQLite error anyway
    name += '.';
    name += *second;
  } else if (temporary) {
    name = "temp." + name;
  }
  if (!lexer.accept_char('(')) return std::nullopt;  // CREATE TABLE … AS SELECT
  std::optional<std::string_view> body = lexer.balanced_body();
  if (!body) return std::nullopt;
  lexer.accept_char(';');
  if (!lexer.at_end()) return std::nullopt;  // WITHOUT ROWID, STRICT: not expressible as vtab

  std::string rewritten = "CREATE VIRTUAL TABLE ";
  if (if_not_exists) rewritten += "IF NOT EXISTS ";
  rewritten += name;
  rewritten += " USING ";
  rewritten += module;
  rewritten += '(';
  rewritten += *body;
  rewritten += ')';
  return rewritten;
}

std::string statement_kind(std::string_view statement) {
  Lexer lexer(statement);
  std::string first = lexer.upper_word();
  if (first != "CREATE" && first != "DROP") return first;
  std::string second = lexer.upper_word();
  while (second == "UNIQUE" || second == "TEMP" || second == "TEMPORARY") {
    second = lexer.upper_word();
  }
  return first + " " + second;
}

std::string named_object(std::string_view statement) {
  Lexer lexer(statement);
  std::string first = lexer.upper_word();
  if (first == "CREATE" || first == "DROP") {
    std::string second = lexer.upper_word();
    while (second == "UNIQUE" || second == "TEMP" || second == "TEMPORARY") second = lexer.upper_word();
    if (second != "INDEX" && second != "TRIGGER") return "";
    if (lexer.accept_keyword("IF")) {
      lexer.accept_keyword("NOT");
      if (!lexer.accept_keyword("EXISTS")) return "";
    }
  } else if (first != "REINDEX") {
    return "";
  }
  std::optional<std::string_view> name = lexer.identifier();
  if (!name) return "";
  if (lexer.accept_char('.')) {
    name = lexer.identifier();
    if (!name) return "";
  }
  std::string result(*name);
  if (result.size() >= 2 && (result.front() == '"' || result.front() == '[' || result.front() == '`')) {
    result = result.substr(1, result.size() - 2);
  }
  for (char& c : result) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return result;
}

}  // namespace strata::slt
