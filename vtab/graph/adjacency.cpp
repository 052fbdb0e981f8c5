#include "vtab/graph/adjacency.h"

#include <algorithm>

namespace strata::graph {

namespace {

// Edges added or removed since the arrays were packed are folded in once they are this many, or
// an eighth of all edges if that is more: each fold is linear in the edge count, so a long run of
// writes costs a constant per write.
constexpr size_t kMinimumFoldThreshold = 4096;

}  // namespace

Adjacency::Adjacency(std::vector<Edge> edges) {
  NodeId limit = 0;
  for (const Edge& edge : edges) limit = std::max({limit, edge.from + 1, edge.to + 1});
  out_ = pack(edges, true, limit);
  in_ = pack(edges, false, limit);
  edge_count_ = edges.size();
  node_limit_ = limit;
}

Adjacency::Packed Adjacency::pack(const std::vector<Edge>& edges, bool outgoing, NodeId node_limit) {
  // A counting sort by node, then each node's run sorted by (type, neighbour).
  Packed packed;
  packed.offsets.assign(static_cast<size_t>(node_limit) + 1, 0);
  for (const Edge& edge : edges) ++packed.offsets[(outgoing ? edge.from : edge.to) + 1];
  for (size_t node = 0; node < node_limit; ++node) packed.offsets[node + 1] += packed.offsets[node];
  packed.links.resize(edges.size());
  std::vector<uint64_t> next(packed.offsets.begin(), packed.offsets.end() - (node_limit > 0 ? 1 : 0));
  for (const Edge& edge : edges) {
    NodeId node = outgoing ? edge.from : edge.to;
    packed.links[next[node]++] = Link{outgoing ? edge.to : edge.from, edge.type};
  }
  for (size_t node = 0; node < node_limit; ++node) {
    auto begin = packed.links.begin() + static_cast<ptrdiff_t>(packed.offsets[node]);
    auto end = packed.links.begin() + static_cast<ptrdiff_t>(packed.offsets[node + 1]);
    if (end - begin > 1) std::sort(begin, end);
  }
  return packed;
}

bool Adjacency::in_packed(const Edge& edge) const {
  if (edge.from >= out_.node_count()) return false;
  auto begin = out_.links.begin() + static_cast<ptrdiff_t>(out_.offsets[edge.from]);
  auto end = out_.links.begin() + static_cast<ptrdiff_t>(out_.offsets[edge.from + 1]);
  return std::binary_search(begin, end, Link{edge.to, edge.type});
}

bool Adjacency::erase_link(std::unordered_map<NodeId, std::vector<Link>>& added, NodeId node, Link link) {
  auto found = added.find(node);
  if (found == added.end()) return false;
  auto& links = found->second;
  auto position = std::find(links.begin(), links.end(), link);
  if (position == links.end()) return false;
  *position = links.back();
  links.pop_back();
  if (links.empty()) added.erase(found);
  return true;
}

void Adjacency::add(const Edge& edge) {
  ++edge_count_;
  node_limit_ = std::max({node_limit_, edge.from + 1, edge.to + 1});
  // Adding back a packed edge that was removed only forgets the removal.
  if (!removed_.empty() && removed_.erase(edge) > 0) return;
  added_out_[edge.from].push_back(Link{edge.to, edge.type});
  added_in_[edge.to].push_back(Link{edge.from, edge.type});
  ++added_count_;
  fold_in_if_large();
}

void Adjacency::remove(const Edge& edge) {
  --edge_count_;
  if (added_count_ > 0 && erase_link(added_out_, edge.from, Link{edge.to, edge.type})) {
    erase_link(added_in_, edge.to, Link{edge.from, edge.type});
    --added_count_;
    return;
  }
  if (in_packed(edge)) {
    removed_.insert(edge);
    fold_in_if_large();
  }
}

std::vector<Edge> Adjacency::all_edges() const {
  std::vector<Edge> edges;
  edges.reserve(edge_count_);
  for (NodeId node = 0; node < out_.node_count(); ++node) {
    for (uint64_t i = out_.offsets[node]; i < out_.offsets[node + 1]; ++i) {
      Edge edge{node, out_.links[i].neighbor, out_.links[i].type};
      if (removed_.empty() || !removed_.contains(edge)) edges.push_back(edge);
    }
  }
  for (const auto& [node, links] : added_out_) {
    for (const Link& link : links) edges.push_back(Edge{node, link.neighbor, link.type});
  }
  return edges;
}

void Adjacency::fold_in_if_large() {
  size_t pending = added_count_ + removed_.size();
  if (pending < std::max(kMinimumFoldThreshold, edge_count_ / 8)) return;
  *this = Adjacency(all_edges());
}

size_t Adjacency::memory_bytes() const {
  auto packed_bytes = [](const Packed& packed) {
    return packed.offsets.capacity() * sizeof(uint64_t) + packed.links.capacity() * sizeof(Link);
  };
  return packed_bytes(out_) + packed_bytes(in_) + added_count_ * 2 * (sizeof(Link) + 16) +
         removed_.size() * (sizeof(Edge) + 16);
}

}  // namespace strata::graph
