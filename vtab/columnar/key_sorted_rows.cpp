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

void KeySortedRows::add(uint64_t reference, std::span<const ValueView> values, bool copy_key_bytes) {
  Rows& rows = staged_;
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

void KeySortedRows::finish() {
  // Splitters: evenly spaced keys of the sorted sample; partition p holds the keys from
  // splitter p-1 (exclusive) up to splitter p (inclusive), so equal keys share a partition.
  std::sort(sample_.begin(), sample_.end(),
            [&](const auto& a, const auto& b) { return compare_keys(a.second, b.second, collation_) < 0; });
  std::vector<ValueView> splitters;
  for (size_t i = 1; i < kPartitions && !sample_.empty(); ++i) {
    const ValueView& candidate = sample_[i * sample_.size() / kPartitions].second;
    if (splitters.empty() || compare_keys(splitters.back(), candidate, collation_) < 0) splitters.push_back(candidate);
  }
  const size_t row_count = staged_.references.size();
  std::vector<uint8_t> partition_of(row_count);
  std::vector<size_t> sizes(splitters.size() + 1, 0);
  for (size_t row = 0; row < row_count; ++row) {
    ValueView key = key_of(staged_, row);
    size_t low = 0, high = splitters.size();  // the first splitter >= key
    while (low < high) {
      size_t middle = (low + high) / 2;
      if (compare_keys(splitters[middle], key, collation_) < 0) low = middle + 1; else high = middle;
    }
    partition_of[row] = static_cast<uint8_t>(low);
    ++sizes[low];
  }
  partitions_.assign(sizes.size(), Rows());
  for (size_t p = 0; p < sizes.size(); ++p) {
    partitions_[p].references.reserve(sizes[p]);
    partitions_[p].payloads.reserve(sizes[p] * slots_);
    partitions_[p].types.reserve(sizes[p] * slots_);
  }
  // Field by field, freeing each staged field once moved, to keep the peak low.
  for (size_t row = 0; row < row_count; ++row) partitions_[partition_of[row]].references.push_back(staged_.references[row]);
  std::vector<uint64_t>().swap(staged_.references);
  for (size_t row = 0; row < row_count; ++row) {
    auto& payloads = partitions_[partition_of[row]].payloads;
    payloads.insert(payloads.end(), staged_.payloads.begin() + static_cast<long>(row * slots_),
                    staged_.payloads.begin() + static_cast<long>((row + 1) * slots_));
  }
  std::vector<int64_t>().swap(staged_.payloads);
  for (size_t row = 0; row < row_count; ++row) {
    auto& types = partitions_[partition_of[row]].types;
    types.insert(types.end(), staged_.types.begin() + static_cast<long>(row * slots_),
                 staged_.types.begin() + static_cast<long>((row + 1) * slots_));
  }
  std::vector<uint8_t>().swap(staged_.types);
  if (!staged_.key_bytes.empty()) {
    staged_.key_bytes.resize(row_count);
    for (size_t row = 0; row < row_count; ++row) partitions_[partition_of[row]].key_bytes.push_back(staged_.key_bytes[row]);
    std::vector<std::string_view>().swap(staged_.key_bytes);
  }
  sample_.clear();
  for (Rows& rows : partitions_) {
    rows.order.resize(rows.references.size());
    for (uint32_t i = 0; i < rows.order.size(); ++i) rows.order[i] = i;
    // Stable: rows with equal keys keep their scan (rowid) order, as SQLite's sorter would not
    // promise but an ordinary table's index walk gives.
    std::stable_sort(rows.order.begin(), rows.order.end(), [&](uint32_t a, uint32_t b) {
      return compare_keys(key_of(rows, a), key_of(rows, b), collation_) < 0;
    });
  }
  partition_ = 0;
  position_ = 0;
  skip_empty();
}

void KeySortedRows::skip_empty() {
  while (partition_ < partitions_.size() && position_ >= partitions_[partition_].order.size()) {
    ++partition_;
    position_ = 0;
  }
}

void KeySortedRows::next() {
  ++position_;
  skip_empty();
}

std::optional<ValueView> KeySortedRows::value(size_t slot) const {
  const Rows& rows = current();
  size_t row = order_index();
  if (slot == 0) return key_of(rows, row);
  uint8_t type = rows.types[row * slots_ + slot];
  if (type == kByReference) return std::nullopt;
  ValueView value;
  value.type = static_cast<ValueType>(type);
  int64_t payload = rows.payloads[row * slots_ + slot];
  if (value.type == ValueType::kInteger) value.integer = payload;
  if (value.type == ValueType::kReal) value.real = std::bit_cast<double>(payload);
  return value;
}

}  // namespace strata::columnar
