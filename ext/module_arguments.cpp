#include "ext/module_arguments.h"

#include <charconv>

#include "ext/str_cat.h"

namespace strata {

namespace {

bool is_sql_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_identifier_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_identifier_char(char c) { return is_identifier_start(c) || (c >= '0' && c <= '9'); }

char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowercase(std::string_view text) {
  std::string lowered(text);
  for (char& c : lowered) c = lower_ascii(c);
  return lowered;
}

std::string join_names(std::span<const std::string_view> names) {
  std::string joined;
  for (std::string_view name : names) {
    if (!joined.empty()) joined += ", ";
    joined += name;
  }
  return joined;
}

std::string spec_names(std::span<const OptionSpec> specs) {
  std::vector<std::string_view> names;
  names.reserve(specs.size());
  for (const OptionSpec& spec : specs) names.push_back(spec.name);
  return join_names(names);
}

const OptionSpec* find_spec(std::span<const OptionSpec> specs, std::string_view key) {
  for (const OptionSpec& spec : specs) {
    if (equals_ignore_case(spec.name, key)) return &spec;
  }
  return nullptr;
}

std::optional<bool> parse_boolean(std::string_view text) {
  std::string lowered = lowercase(text);
  if (lowered == "1" || lowered == "true" || lowered == "on" || lowered == "yes") return true;
  if (lowered == "0" || lowered == "false" || lowered == "off" || lowered == "no") return false;
  return std::nullopt;
}

// Checks `value` against `spec` and returns its canonical form.
Result<std::string> validate_value(std::string_view module, const OptionSpec& spec,
                                   const std::string& value) {
  auto prefix = [&] { return str_cat(module, ": option '", spec.name, "'"); };
  switch (spec.kind) {
    case OptionKind::kText:
      return value;
    case OptionKind::kInteger: {
      std::optional<int64_t> number = parse_int64(value);
      if (!number || *number < spec.min_integer || *number > spec.max_integer) {
        return Status::error(str_cat(prefix(), " must be an integer from ",
                                     std::to_string(spec.min_integer), " to ",
                                     std::to_string(spec.max_integer), ", got '", value, "'"));
      }
      return std::to_string(*number);
    }
    case OptionKind::kBoolean: {
      std::optional<bool> flag = parse_boolean(value);
      if (!flag) {
        return Status::error(str_cat(
            prefix(), " must be true or false (also on/off, yes/no, 1/0), got '", value, "'"));
      }
      return std::string(*flag ? "1" : "0");
    }
    case OptionKind::kChoice: {
      for (std::string_view choice : spec.choices) {
        if (equals_ignore_case(choice, value)) return std::string(choice);
      }
      return Status::error(
          str_cat(prefix(), " must be one of: ", join_names(spec.choices), ", got '", value, "'"));
    }
  }
  return Status::internal("unhandled option kind");
}

}  // namespace

std::string_view trim_sql_space(std::string_view text) {
  while (!text.empty() && is_sql_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_sql_space(text.back())) text.remove_suffix(1);
  return text;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower_ascii(a[i]) != lower_ascii(b[i])) return false;
  }
  return true;
}

std::optional<int64_t> parse_int64(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<KeyValueText> split_key_value(std::string_view argument) {
  std::string_view text = trim_sql_space(argument);
  if (text.empty() || !is_identifier_start(text.front())) return std::nullopt;
  size_t key_end = 1;
  while (key_end < text.size() && is_identifier_char(text[key_end])) ++key_end;
  size_t equals = key_end;
  while (equals < text.size() && is_sql_space(text[equals])) ++equals;
  if (equals >= text.size() || text[equals] != '=') return std::nullopt;
  return KeyValueText{text.substr(0, key_end), trim_sql_space(text.substr(equals + 1))};
}

Result<std::string> unquote_option_value(std::string_view raw) {
  if (raw.empty()) return Status::error("an empty value");
  char quote = raw.front();
  if (quote != '\'' && quote != '"') {
    for (char c : raw) {
      if (is_sql_space(c) || c == '\'' || c == '"') {
        return Status::error(
            str_cat("'", raw, "': a value with spaces or quotes must be written in '…' quotes"));
      }
    }
    return std::string(raw);
  }
  std::string value;
  size_t i = 1;
  while (i < raw.size()) {
    if (raw[i] == quote) {
      if (i + 1 < raw.size() && raw[i + 1] == quote) {
        value += quote;
        i += 2;
        continue;
      }
      if (i + 1 != raw.size()) {
        return Status::error(str_cat(raw, ": unexpected text after the closing quote"));
      }
      return value;
    }
    value += raw[i++];
  }
  return Status::error(str_cat(raw, ": missing closing quote"));
}

std::optional<std::string> ModuleArguments::text(std::string_view name) const {
  const ParsedOption* option = find(name);
  if (option == nullptr) return std::nullopt;
  return option->value;
}

std::optional<int64_t> ModuleArguments::integer(std::string_view name) const {
  const ParsedOption* option = find(name);
  if (option == nullptr) return std::nullopt;
  return parse_int64(option->value);
}

std::optional<bool> ModuleArguments::boolean(std::string_view name) const {
  const ParsedOption* option = find(name);
  if (option == nullptr) return std::nullopt;
  return option->value == "1";
}

const ParsedOption* ModuleArguments::find(std::string_view name) const {
  for (const ParsedOption& option : options_) {
    if (equals_ignore_case(option.name, name)) return &option;
  }
  return nullptr;
}

Result<ModuleArguments> parse_module_arguments(std::string_view module,
                                               std::span<const OptionSpec> specs,
                                               std::span<const char* const> arguments) {
  ModuleArguments parsed;
  for (const char* argument_text : arguments) {
    std::string_view argument = trim_sql_space(argument_text ? argument_text : "");
    if (argument.empty()) {
      return Status::error(str_cat(module, ": empty argument (two commas in a row?)"));
    }
    std::optional<KeyValueText> key_value = split_key_value(argument);
    if (!key_value) {
      parsed.column_definitions_.emplace_back(argument);
      continue;
    }
    const OptionSpec* spec = find_spec(specs, key_value->key);
    if (spec == nullptr) {
      if (specs.empty()) {
        return Status::error(str_cat(module, ": unknown option '", key_value->key,
                                     "', this module takes no options"));
      }
      return Status::error(str_cat(module, ": unknown option '", key_value->key,
                                   "', expected one of: ", spec_names(specs)));
    }
    if (parsed.has(spec->name)) {
      return Status::error(str_cat(module, ": option '", spec->name, "' given more than once"));
    }
    if (key_value->value.empty()) {
      return Status::error(str_cat(module, ": option '", spec->name, "' needs a value after '='"));
    }
    Result<std::string> value = unquote_option_value(key_value->value);
    if (!value.is_ok()) {
      return Status::error(str_cat(module, ": option '", spec->name, "': ", value.status().message()));
    }
    STRATA_ASSIGN_OR_RETURN(std::string canonical, validate_value(module, *spec, *value));
    parsed.options_.push_back(ParsedOption{std::string(spec->name), std::move(canonical)});
  }
  return parsed;
}

}  // namespace strata
