// Breadth-first traversal, shortest paths and elementary cycles over an Adjacency.
//
// A Traversal keeps per-node scratch arrays between queries (stamped with a query number, so
// starting a query never clears a million entries), which makes a one-hop query cost what its
// edges cost. Nothing here knows SQLite.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ext/large_array_allocator.h"
#include "vtab/graph/adjacency.h"

namespace strata::graph {

struct Reached {
  NodeId node = 0;
  uint32_t depth = 0;
  uint32_t parent = 0;  // index (in the result) of the node it was reached from; itself for the start
};

class Traversal {
 public:
  // Every node within `max_depth` steps of `start`, each once, in breadth-first order, with its
  // depth and the node it was first reached from. The start comes first, at depth 0.
  std::vector<Reached> breadth_first(const Adjacency& adjacency, NodeId start, uint32_t max_depth,
                                     std::optional<TypeCode> type, Direction direction);

  // The nodes of one shortest path from `from` to `to` (both included); empty when `to` cannot
  // be reached. Searches from both ends at once, a level at a time from the smaller frontier.
  std::vector<NodeId> shortest_path(const Adjacency& adjacency, NodeId from, NodeId to,
                                    std::optional<TypeCode> type, Direction direction);

 private:
  // Starts a query over nodes below `limit`: a fresh stamp for both sides.
  void begin(NodeId limit);
  bool seen(int side, NodeId node) const { return stamp_[side][node] == query_; }

  LargeVector<uint32_t> stamp_[2];   // == query_: reached in this query (side 0 forward, 1 backward)
  LargeVector<uint32_t> depth_[2];   // valid where stamped
  LargeVector<NodeId> parent_[2];    // valid where stamped
  uint32_t query_ = 0;
  std::vector<NodeId> neighbor_scratch_;  // one node's neighbours, gathered before they are tested
};

// Enumerates the elementary directed cycles (following edges out) of at most `max_length` nodes,
// one at a time, each once: a cycle is reported starting from its smallest node, and edges of
// several types between the same two nodes count once. A self-loop is a cycle of one node.
// The work is exponential in `max_length` on dense graphs, which is why the length is bounded
// and why cycles come one at a time (a LIMIT stops the search).
class CycleFinder {
 public:
  CycleFinder(std::optional<TypeCode> type, uint32_t max_length) : type_(type), max_length_(max_length) {}

  // The next cycle, or false when there are no more. The adjacency may change between calls
  // (cycles found after a change reflect it).
  bool next(const Adjacency& adjacency, std::vector<NodeId>* cycle);

 private:
  struct Frame {
    NodeId node;
    std::vector<NodeId> next;  // distinct out-neighbours, ascending
    size_t position = 0;
  };
  Frame frame_for(const Adjacency& adjacency, NodeId node) const;

  std::optional<TypeCode> type_;
  uint32_t max_length_;
  NodeId start_ = 0;
  bool started_ = false;
  std::vector<Frame> path_;
  std::vector<bool> on_path_;
};

}  // namespace strata::graph
