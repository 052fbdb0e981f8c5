#include "vtab/columnar/key_sorted_rows.h"

#include <algorithm>
#include <bit>

namespace strata::columnar {

namespace {

// compare_values with a shortcut for the common integer keys.
int compare_keys(const ValueView& a, const ValueView& b, Collation collation) {
  if (a.type == ValueType::kInteger && b.type == ValueType::kInteger) return a.integer < b.integer ? -1 : a.integer > b.integer;
  return compare_values(a, b, collation);
}

}  // namespace

KeySortedRows::KeySortedRows(Collation collation, size_t slots) : collation_(collation), slots_(slots) {}

void KeySortedRows::reserve(size_t rows) {
  rows_.references.reserve(rows);
  rows_.payloads.reserve(rows * slots_);
  rows_.types.reserve(rows * slots_);
  sample_.reserve(rows / kSampleEvery + 1);
}

void KeySortedRows::add(uint64_t reference, std::span<const ValueView> values, bool copy_key_bytes) {
  Rows& rows = rows_;
  size_t row = rows.references.size();
  rows.references.push_back(reference);
  for (size_t slot = 0; slot < slots_; ++slot) {
    const ValueView& value = values[slot];
    switch (value.type) {
      case ValueType::kNull:
      case ValueType::kInteger:
        rows.payloads.push_back(value.integer);
        rows.types.push_back(static_cast<uint8_t>(value.type));
        break;
      case ValueType::kReal:
        rows.payloads.push_back(std::bit_cast<int64_t>(value.real));
        rows.types.push_back(static_cast<uint8_t>(ValueType::kReal));
        break;
      case ValueType::kText:
      case ValueType::kBlob:
        rows.payloads.push_back(0);
        // The key's bytes are needed to sort; other columns' are read later, by reference.
        rows.types.push_back(slot == 0 ? static_cast<uint8_t>(value.type) : kByReference);
        break;
    }
  }
  const ValueView& key = values[0];
  integer_keys_ = integer_keys_ && key.type == ValueType::kInteger;
  if (key.type == ValueType::kText || key.type == ValueType::kBlob) {
    // Numeric keys need no bytes: the list starts with the first text or blob key.
    rows.key_bytes.resize(row + 1);
    rows.key_bytes[row] = copy_key_bytes ? std::string_view(copied_keys_.emplace_back(key.bytes)) : key.bytes;
  }
  if (row % kSampleEvery == 0) sample_.emplace_back(row, key_of(rows, row));
}

ValueView KeySortedRows::key_of(const Rows& rows, size_t row) const {
  ValueView key;
  key.type = static_cast<ValueType>(rows.types[row * slots_]);
  int64_t payload = rows.payloads[row * slots_];
  switch (key.type) {
    case ValueType::kInteger: key.integer = payload; break;
    case ValueType::kReal: key.real = std::bit_cast<double>(payload); break;
    case ValueType::kText:
    case ValueType::kBlob: key.bytes = rows.key_bytes[row]; break;
    case ValueType::kNull: break;
  }
  return key;
}

std::vector<uint32_t> KeySortedRows::sorted_order(size_t begin, size_t end) const {
  const size_t count = end - begin;
  std::vector<uint32_t> order(count);
  if (count == 0) return order;
  if (integer_keys_) {
    int64_t low = INT64_MAX, high = INT64_MIN;
    for (size_t row = begin; row < end; ++row) {
      low = std::min(low, rows_.payloads[row * slots_]);
      high = std::max(high, rows_.payloads[row * slots_]);
    }
    uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
    if (range < 4 * count + 1024) {
      // Few distinct keys for the rows (a range partition of a GROUP BY column): counting sort,
      // which keeps rows with equal keys in row order.
      std::vector<uint32_t> starts(range + 2, 0);
      for (size_t row = begin; row < end; ++row) {
        ++starts[static_cast<uint64_t>(rows_.payloads[row * slots_]) - static_cast<uint64_t>(low) + 1];
      }
      for (size_t i = 1; i < starts.size(); ++i) starts[i] += starts[i - 1];
      for (size_t row = begin; row < end; ++row) {
        uint64_t slot = static_cast<uint64_t>(rows_.payloads[row * slots_]) - static_cast<uint64_t>(low);
        order[starts[slot]++] = static_cast<uint32_t>(row - begin);
      }
      return order;
    }
    std::vector<std::pair<int64_t, uint32_t>> keyed(count);
    for (size_t i = 0; i < count; ++i) keyed[i] = {rows_.payloads[(begin + i) * slots_], static_cast<uint32_t>(i)};
    std::sort(keyed.begin(), keyed.end());
    for (size_t i = 0; i < count; ++i) order[i] = keyed[i].second;
    return order;
  }
  for (uint32_t i = 0; i < count; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return compare_keys(key_of(rows_, begin + a), key_of(rows_, begin + b), collation_) < 0;
  });
  return order;
}

void KeySortedRows::finish(bool descending) {
  descending_ = descending;
  // Splitters: evenly spaced keys of the sorted sample; range p holds the keys above splitter
  // p-1 up to splitter p, so equal keys share a range.
  std::sort(sample_.begin(), sample_.end(),
            [&](const auto& a, const auto& b) { return compare_keys(a.second, b.second, collation_) < 0; });
  std::vector<ValueView> splitters;
  for (size_t i = 1; i < kPartitions && !sample_.empty(); ++i) {
    const ValueView& candidate = sample_[i * sample_.size() / kPartitions].second;
    if (splitters.empty() || compare_keys(splitters.back(), candidate, collation_) < 0) splitters.push_back(candidate);
  }
  const size_t row_count = rows_.references.size();
  ScratchVector<uint8_t> partition_of(row_count);
  std::vector<size_t> starts(splitters.size() + 2, 0);
  if (integer_keys_) {
    std::vector<int64_t> bounds;
    for (const ValueView& splitter : splitters) bounds.push_back(splitter.integer);
    for (size_t row = 0; row < row_count; ++row) {
      int64_t key = rows_.payloads[row * slots_];
      partition_of[row] = static_cast<uint8_t>(std::lower_bound(bounds.begin(), bounds.end(), key) - bounds.begin());
    }
  } else {
    for (size_t row = 0; row < row_count; ++row) {
      ValueView key = key_of(rows_, row);
      size_t low = 0, high = splitters.size();  // the first splitter >= key
      while (low < high) {
        size_t middle = (low + high) / 2;
        if (compare_keys(splitters[middle], key, collation_) < 0) low = middle + 1; else high = middle;
      }
      partition_of[row] = static_cast<uint8_t>(low);
    }
  }
  sample_.clear();
  for (size_t row = 0; row < row_count; ++row) ++starts[partition_of[row] + 1];
  for (size_t p = 1; p < starts.size(); ++p) starts[p] += starts[p - 1];

  // Rows move to their range (a counting sort by range), then each range is sorted in place,
  // small enough to stay in the CPU cache.
  Rows ranged;
  ranged.references.resize(row_count);
  ranged.payloads.resize(row_count * slots_);
  ranged.types.resize(row_count * slots_);
  if (!rows_.key_bytes.empty()) {
    rows_.key_bytes.resize(row_count);
    ranged.key_bytes.resize(row_count);
  }
  std::vector<size_t> next(starts.begin(), starts.end() - 1);
  for (size_t row = 0; row < row_count; ++row) {
    size_t to = next[partition_of[row]]++;
    ranged.references[to] = rows_.references[row];
    for (size_t slot = 0; slot < slots_; ++slot) {
      ranged.payloads[to * slots_ + slot] = rows_.payloads[row * slots_ + slot];
      ranged.types[to * slots_ + slot] = rows_.types[row * slots_ + slot];
    }
    if (!ranged.key_bytes.empty()) ranged.key_bytes[to] = rows_.key_bytes[row];
  }
  rows_ = std::move(ranged);
  ScratchVector<uint8_t>().swap(partition_of);

  Rows scratch;
  for (size_t p = 0; p + 1 < starts.size(); ++p) {
    size_t begin = starts[p], end = starts[p + 1];
    if (end - begin < 2) continue;
    std::vector<uint32_t> order = sorted_order(begin, end);
    scratch.references.assign(rows_.references.begin() + static_cast<long>(begin), rows_.references.begin() + static_cast<long>(end));
    scratch.payloads.assign(rows_.payloads.begin() + static_cast<long>(begin * slots_), rows_.payloads.begin() + static_cast<long>(end * slots_));
    scratch.types.assign(rows_.types.begin() + static_cast<long>(begin * slots_), rows_.types.begin() + static_cast<long>(end * slots_));
    if (!rows_.key_bytes.empty()) {
      scratch.key_bytes.assign(rows_.key_bytes.begin() + static_cast<long>(begin), rows_.key_bytes.begin() + static_cast<long>(end));
    }
    for (size_t i = 0; i < order.size(); ++i) {
      size_t from = order[i], to = begin + i;
      rows_.references[to] = scratch.references[from];
      for (size_t slot = 0; slot < slots_; ++slot) {
        rows_.payloads[to * slots_ + slot] = scratch.payloads[from * slots_ + slot];
        rows_.types[to * slots_ + slot] = scratch.types[from * slots_ + slot];
      }
      if (!rows_.key_bytes.empty()) rows_.key_bytes[to] = scratch.key_bytes[from];
    }
  }
  position_ = 0;
}

std::optional<ValueView> KeySortedRows::value(size_t slot) const {
  size_t row = row_at_position();
  if (slot == 0) return key_of(rows_, row);
  uint8_t type = rows_.types[row * slots_ + slot];
  if (type == kByReference) return std::nullopt;
  ValueView value;
  value.type = static_cast<ValueType>(type);
  int64_t payload = rows_.payloads[row * slots_ + slot];
  if (value.type == ValueType::kInteger) value.integer = payload;
  if (value.type == ValueType::kReal) value.real = std::bit_cast<double>(payload);
  return value;
}

}  // namespace strata::columnar
