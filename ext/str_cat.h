// str_cat("columnar: option '", name, "' …"): one allocation for a message built from pieces.
// (Also sidesteps GCC 12's false -Wrestrict warning on `"literal" + std::string` chains.)
#pragma once

#include <string>
#include <string_view>

namespace strata {

template <class... Parts>
std::string str_cat(const Parts&... parts) {
  std::string out;
  out.reserve((std::string_view(parts).size() + ... + 0));
  (out.append(std::string_view(parts)), ...);
  return out;
}

}  // namespace strata
