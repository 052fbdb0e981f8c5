// Adjacency: every edge of one relationships table, per node and direction, for traversal.
//
// Two packed arrays (compressed sparse rows), one per direction: a node's outgoing (or incoming)
// edges are one contiguous run, sorted by (type, neighbour), so a typed step is a binary search
// and a scan of one sub-run. Edges added or removed since the arrays were built live beside
// them (`added` per node, a `removed` set) until they are many enough to be folded in, which
// rebuilds the arrays in memory without reading SQLite.
//
// Nothing here knows SQLite: the relationships table feeds it what its shadow table holds and
// mirrors each write (and undoes writes on rollback) through add() and remove().
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ext/large_array_allocator.h"

namespace strata::graph {

using NodeId = uint32_t;    // a thing's node number (the rowid of its shadow row)
using TypeCode = uint32_t;  // a relationship type's number in the types shadow table

enum class Direction { kOut, kIn, kBoth };

struct Edge {
  NodeId from = 0;
  NodeId to = 0;
  TypeCode type = 0;
  bool operator==(const Edge&) const = default;
};

struct EdgeHash {
  size_t operator()(const Edge& edge) const {
    uint64_t key = (static_cast<uint64_t>(edge.from) << 32) ^ edge.to;
    key ^= static_cast<uint64_t>(edge.type) * 0x9e3779b97f4a7c15ULL;
    key ^= key >> 29;
    key *= 0xbf58476d1ce4e5b9ULL;
    return static_cast<size_t>(key ^ (key >> 32));
  }
};

// One end of an edge as seen from a node: the node at the other end and the edge's type.
struct Link {
  NodeId neighbor = 0;
  TypeCode type = 0;
  bool operator<(const Link& other) const {
    return type != other.type ? type < other.type : neighbor < other.neighbor;
  }
  bool operator==(const Link&) const = default;
};

class Adjacency {
 public:
  Adjacency() = default;
  // From every edge (each at most once).
  explicit Adjacency(std::vector<Edge> edges);

  // The edge must not be present / must be present; the relationships table guarantees it.
  void add(const Edge& edge);
  void remove(const Edge& edge);

  // Calls visit(Link) for each edge of `node` in `direction` (kOut or kIn), only those of
  // `type` when given. Packed edges come first in (type, neighbour) order, then added ones.
  template <class Visit>
  void for_each(NodeId node, Direction direction, std::optional<TypeCode> type, Visit&& visit) const;

  // Hints that `node`'s packed run in `direction` will be read soon: with `runs` false, where
  // the run starts (its offsets); with true, the run itself (whose offsets should be in cache by
  // then). A breadth-first step otherwise waits on a cache miss for each of these.
  void prefetch(NodeId node, Direction direction, bool runs) const {
    const Packed& packed = direction == Direction::kOut ? out_ : in_;
    if (node >= packed.node_count()) return;
    if (runs) {
      __builtin_prefetch(packed.links.data() + packed.offsets[node]);
    } else {
      __builtin_prefetch(packed.offsets.data() + node);
    }
  }

  size_t edge_count() const { return edge_count_; }
  // One past the largest node any edge touches (node arrays of a traversal are this long).
  NodeId node_limit() const { return node_limit_; }
  size_t memory_bytes() const;

 private:
  struct Packed {
    LargeVector<uint64_t> offsets;  // node n's links are links[offsets[n], offsets[n + 1])
    LargeVector<Link> links;
    size_t node_count() const { return offsets.empty() ? 0 : offsets.size() - 1; }
  };
  static Packed pack(const std::vector<Edge>& edges, bool outgoing, NodeId node_limit);
  std::vector<Edge> all_edges() const;
  void fold_in_if_large();
  bool in_packed(const Edge& edge) const;
  // Removes one link from `added`; false when it was not there.
  static bool erase_link(std::unordered_map<NodeId, std::vector<Link>>& added, NodeId node, Link link);

  Packed out_;
  Packed in_;
  std::unordered_map<NodeId, std::vector<Link>> added_out_;
  std::unordered_map<NodeId, std::vector<Link>> added_in_;
  size_t added_count_ = 0;
  std::unordered_set<Edge, EdgeHash> removed_;  // packed edges that are gone
  size_t edge_count_ = 0;
  NodeId node_limit_ = 0;
};

template <class Visit>
void Adjacency::for_each(NodeId node, Direction direction, std::optional<TypeCode> type, Visit&& visit) const {
  const bool outgoing = direction == Direction::kOut;
  const Packed& packed = outgoing ? out_ : in_;
  if (node < packed.node_count()) {
    const Link* begin = packed.links.data() + packed.offsets[node];
    const Link* end = packed.links.data() + packed.offsets[node + 1];
    if (type) {
      // The run is sorted by type first: find the sub-run of this type.
      const Link* low = begin;
      const Link* high = end;
      while (low < high) {
        const Link* middle = low + (high - low) / 2;
        if (middle->type < *type) {
          low = middle + 1;
        } else {
          high = middle;
        }
      }
      begin = low;
    }
    for (const Link* link = begin; link < end; ++link) {
      if (type && link->type != *type) break;
      if (!removed_.empty()) {
        Edge edge = outgoing ? Edge{node, link->neighbor, link->type} : Edge{link->neighbor, node, link->type};
        if (removed_.contains(edge)) continue;
      }
      visit(*link);
    }
  }
  if (added_count_ == 0) return;
  const auto& added = outgoing ? added_out_ : added_in_;
  auto found = added.find(node);
  if (found == added.end()) return;
  for (const Link& link : found->second) {
    if (!type || link.type == *type) visit(link);
  }
}

}  // namespace strata::graph
