// The tier_* functions and tier_partitions are registered once (by columnar, vtab/columnar/
// columnar.cpp) and serve every module whose tables tier. A module other than columnar (things)
// answers for its own tables through OtherTieredTables.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "codecs/column_vector.h"
#include "ext/sqlite_api.h"
#include "ext/status.h"
#include "ext/table_registry.h"
#include "tiering/read_cache.h"

namespace strata {

// One partition of a tiered table, as tier_partitions lists it.
struct TierPartitionRow {
  Value partition;
  std::string tier;  // hot, cold or mixed
  int64_t rows = 0;
  int64_t hot_bytes = 0;
  int64_t cold_bytes = 0;
  std::string object_keys;  // of its live objects, ", "-separated
  std::string etags;
  std::optional<int64_t> flushed_at;
  tiering::ReadCounters counters;
};

class OtherTieredTables {
 public:
  virtual ~OtherTieredTables() = default;
  // tier_flush / tier_restore / tier_expire / tier_gc (`function`) on the table `name` with the
  // function's arguments after the name; nullopt when `name` is not one of this module's tables.
  virtual Result<std::optional<int64_t>> call(sqlite3* db, std::string_view function, const QualifiedName& name,
                                              std::span<sqlite3_value* const> arguments) = 0;
  // The partitions of this module's tiered tables (only of `only` when given), with each table's
  // name; nullopt when `only` is not one of this module's tables.
  using PartitionList = std::vector<std::pair<std::string, TierPartitionRow>>;
  virtual Result<std::optional<PartitionList>> partitions(sqlite3* db, const std::optional<QualifiedName>& only) = 0;
};

}  // namespace strata
