// The partition a row belongs to, from the table's partition_by option
// (docs/format-columnar.md): the column's value itself, or the hour/day/month/year of a time
// held as unix seconds, unix milliseconds (the _ms variants) or ISO-8601 text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "codecs/column_vector.h"
#include "vtab/columnar/schema.h"

namespace strata::columnar {

// For kValue the value itself; otherwise 'YYYY-MM-DDTHH', 'YYYY-MM-DD', 'YYYY-MM' or 'YYYY',
// or NULL when the value is NULL or not a time.
Value partition_key(const PartitionSpec& spec, const ValueView& value);

// The unix seconds [first, end) the time partition `partition` (as partition_key writes it)
// covers; nullopt for a value partition, NULL or anything else.
std::optional<std::pair<int64_t, int64_t>> partition_range(const PartitionSpec& spec, const Value& partition);
// Its end alone: the first unix second after it.
std::optional<int64_t> partition_end(const PartitionSpec& spec, const Value& partition);

// Unix seconds `now` minus `retention`: whole hours or days, or calendar months or years (the
// day of the month clamped to the month's length).
int64_t retention_cutoff(const Retention& retention, int64_t now);

// A partition value as an ordered map key: the type, then the value's bytes.
std::string partition_map_key(const Value& value);

// A partition value as a user writes it: 2026-01-02, 5, 1.5 (shortest round trip), NULL; text
// and blob bytes as they are.
std::string partition_text(const Value& value);
// The same in a message: text in quotes ('2026-01-02').
std::string partition_in_message(const Value& value);

}  // namespace strata::columnar
