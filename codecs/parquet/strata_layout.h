// strata's column layout inside a Parquet file (docs/format-parquet.md): what the writer records
// and the reader reads back, in one place so that neither needs the other.
#pragma once

#include <string_view>

#include "codecs/column_vector.h"

namespace strata::parquet {

// The key-value metadata key of strata's column layout, and its value for a list of leaves:
// "<column index>:<class>" per leaf, comma-separated, class one of integer, real, text, blob,
// null.
inline constexpr std::string_view kStorageClassesKey = "strata.storage_classes";
// The layout class of a leaf holding TEXT values that are not valid UTF-8, written as a plain
// BYTE_ARRAY (a STRING column with them would make other engines refuse the whole file).
inline constexpr std::string_view kRawTextClass = "text_bytes";

// The class names of that value: "integer", "real", "text", "blob", "null".
constexpr std::string_view storage_class_name(ValueType type) {
  switch (type) {
    case ValueType::kInteger: return "integer";
    case ValueType::kReal: return "real";
    case ValueType::kText: return "text";
    case ValueType::kBlob: return "blob";
    case ValueType::kNull: return "null";
  }
  return "?";
}

}  // namespace strata::parquet
