// JSON text without a JSON library: a string literal with the escapes JSON requires.
#pragma once

#include <string>
#include <string_view>

namespace strata {

// Appends `text` as a JSON string: quotes, backslashes and control characters escaped (\b \f
// \n \r \t, others as \u00XX); everything else, UTF-8 included, as it is.
void append_json_string(std::string& out, std::string_view text);

}  // namespace strata
