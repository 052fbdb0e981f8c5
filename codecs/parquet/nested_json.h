// Nested Parquet columns (LIST, MAP, STRUCT and bare repeated fields) as JSON text, one value per
// row, assembled from the repetition and definition levels of their leaves (Dremel's record
// assembly). The JSON has the shape DuckDB's to_json gives the same column: LIST and repeated
// fields are arrays, MAP is an object keyed by the keys' text, STRUCT is an object with the
// fields in schema order; a NULL top-level value is SQL NULL (docs/format-parquet.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "codecs/column_vector.h"
#include "codecs/parquet/parquet_format.h"
#include "ext/status.h"

namespace strata::parquet {

// The schema as a tree, for assembling: one node per SchemaElement (same index).
struct SchemaNode {
  std::vector<size_t> children;
  int definition = 0;   // definition level at which this node is present
  int repetition = 0;   // repetition level of the innermost repeated node at or above it
  bool repeated = false;
  bool optional = false;
  int leaf = -1;        // index among the leaves, for a primitive node
};

// A leaf chunk decoded with its levels: one entry per level pair; `values` holds the value of
// entries whose definition level is the leaf's maximum, NULL for the others.
struct LeveledValues {
  std::vector<uint8_t> repetition;
  std::vector<uint8_t> definition;
  ColumnVector values;
};

// A DATE, TIME or TIMESTAMP leaf's value (as the reader gives it: days, or units since midnight
// or 1970) as JSON text the way DuckDB writes it ("2021-02-03 04:05:06.5", "+00" when adjusted
// to UTC, " (BC)" before year 1); nullopt for a leaf of another type.
std::optional<std::string> time_json(const SchemaElement& element, int64_t value);

// The JSON text of each of `rows` rows (NULL where the column's value is NULL) of the nested
// column rooted at schema[root]. `leaves[i]` are the decoded chunks of the column's leaves in
// schema order.
Result<ColumnVector> assemble_json(const std::vector<SchemaElement>& schema, const std::vector<SchemaNode>& nodes,
                                   size_t root, const std::vector<LeveledValues>& leaves, int64_t rows);

}  // namespace strata::parquet
