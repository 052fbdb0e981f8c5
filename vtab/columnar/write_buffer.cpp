#include "vtab/columnar/write_buffer.h"

#include <algorithm>
#include <numeric>

namespace strata::columnar {

void WriteBuffer::append(int64_t rowid, const Row& values) {
  const auto position = static_cast<uint32_t>(rowids_.size());
  if (ascending_ && !rowids_.empty() && rowid <= rowids_.back()) {
    ascending_ = false;
    index_all();
  }
  rowids_.push_back(rowid);
  dead_since_.push_back(kLive);
  size_t row_bytes = 8;
  for (size_t c = 0; c < columns_.size(); ++c) {
    columns_[c].append(values[c].view());
    row_bytes += 9 + values[c].bytes.size();
  }
  bytes_ += row_bytes;
  ++live_rows_;
  if (!ascending_) index_[rowid] = position;
  rowid_order_.reset();
}

void WriteBuffer::index_all() {
  index_.clear();
  index_.reserve(rowids_.size() * 2);
  for (size_t position = 0; position < rowids_.size(); ++position) {
    if (dead_since_[position] == kLive) index_[rowids_[position]] = static_cast<uint32_t>(position);
  }
}

std::optional<uint32_t> WriteBuffer::find(int64_t rowid) const {
  if (ascending_) {
    if (rowids_.empty() || rowid > rowids_.back()) return std::nullopt;  // the next row of a bulk INSERT
    auto found = std::lower_bound(rowids_.begin(), rowids_.end(), rowid);
    if (found == rowids_.end() || *found != rowid) return std::nullopt;
    auto position = static_cast<uint32_t>(found - rowids_.begin());
    if (dead_since_[position] != kLive) return std::nullopt;
    return position;
  }
  auto found = index_.find(rowid);
  if (found == index_.end()) return std::nullopt;
  return found->second;
}

void WriteBuffer::erase(uint32_t position) {
  if (dead_since_[position] != kLive) return;
  dead_since_[position] = ++generation_;
  --live_rows_;
  if (!ascending_) index_.erase(rowids_[position]);
}

void WriteBuffer::reserve(size_t rows) {
  rowids_.reserve(rows);
  dead_since_.reserve(rows);
  for (ColumnVector& column : columns_) column.reserve(rows);
}

std::optional<int64_t> WriteBuffer::max_live_rowid() const {
  if (ascending_) {
    for (size_t position = rowids_.size(); position-- > 0;) {
      if (dead_since_[position] == kLive) return rowids_[position];
    }
    return std::nullopt;
  }
  std::optional<int64_t> best;
  for (const auto& [rowid, position] : index_) {
    if (!best || rowid > *best) best = rowid;
  }
  return best;
}

std::shared_ptr<const std::vector<uint32_t>> WriteBuffer::rowid_order() const {
  if (!rowid_order_) {
    std::vector<uint32_t> order(rowids_.size());
    std::iota(order.begin(), order.end(), 0u);
    if (!ascending_) {
      std::stable_sort(order.begin(), order.end(),
                       [&](uint32_t a, uint32_t b) { return rowids_[a] < rowids_[b]; });
    }
    rowid_order_ = std::make_shared<const std::vector<uint32_t>>(std::move(order));
  }
  return rowid_order_;
}

std::vector<uint32_t> WriteBuffer::live_positions_in_rowid_order() const {
  std::vector<uint32_t> positions;
  positions.reserve(live_rows_);
  if (ascending_) {
    for (size_t position = 0; position < rowids_.size(); ++position) {
      if (dead_since_[position] == kLive) positions.push_back(static_cast<uint32_t>(position));
    }
    return positions;
  }
  for (const auto& [rowid, position] : index_) positions.push_back(position);
  std::sort(positions.begin(), positions.end(),
            [&](uint32_t a, uint32_t b) { return rowids_[a] < rowids_[b]; });
  return positions;
}

}  // namespace strata::columnar
