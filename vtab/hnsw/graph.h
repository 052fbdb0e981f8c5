// HnswGraph: a hierarchical navigable small world graph (Malkov & Yashunin, 2018) over vectors
// held by a VectorSpace, in memory. No SQLite here: the hnsw table (hnsw.cpp) loads it from and
// writes it to shadow tables, node by node.
//
// Nodes are dense ids (NodeId) that the table maps to rowids. Links are directed per level; from
// the first deletion on, each node also knows who links to it (incoming), so that a deletion
// can repair exactly the nodes that lost a neighbour instead of leaving holes that make recall
// decay. Every node whose links
// change is remembered as dirty until the table takes the list to write those nodes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "vtab/hnsw/space.h"

namespace strata::hnsw {

struct GraphParameters {
  uint32_t m = 16;                 // links per node above level 0; 2m at level 0
  uint32_t ef_construction = 200;  // candidates considered when linking a new node
  uint64_t seed = 0x5eed;          // for the random levels
};

struct Neighbor {
  float distance;  // the space's traversal distance
  NodeId node;
  bool operator<(const Neighbor& other) const {
    return distance < other.distance || (distance == other.distance && node < other.node);
  }
};

class HnswGraph {
 public:
  HnswGraph(GraphParameters parameters, const VectorSpace* space);

  // Links `node` (whose vector the space already holds) into the graph at a random level.
  void insert(NodeId node);
  // Removes `node` and relinks every node that linked to it.
  void remove(NodeId node);
  // Puts a node back as stored (loading): its level and links, which may name nodes not yet
  // restored. Call finish_restore() after the last one.
  void restore(NodeId node, int level, std::vector<std::vector<NodeId>> links);
  // Rebuilds the incoming links and picks the entry point after restore() calls; false when a
  // link names a node that was not restored.
  bool finish_restore();

  // The k nearest nodes to `query` (prepared by the space) by traversal distance, nearest first, searching
  // with a candidate list of max(ef, k). With `allowed`, only nodes it accepts are returned
  // (the walk still passes through the others).
  std::vector<Neighbor> search(const PreparedQuery& query, size_t k, size_t ef,
                               const std::function<bool(NodeId)>* allowed = nullptr) const;

  bool contains(NodeId node) const { return node < nodes_.size() && nodes_[node].level >= 0; }
  size_t size() const { return size_; }
  int level(NodeId node) const { return nodes_[node].level; }
  const std::vector<NodeId>& links(NodeId node, int level) const { return nodes_[node].links[level]; }
  std::optional<NodeId> entry_point() const { return entry_; }
  uint32_t max_links(int level) const { return level == 0 ? 2 * parameters_.m : parameters_.m; }

  // Nodes whose level or links changed (removed nodes included) since the last call.
  std::vector<NodeId> take_dirty();
  // Structural checks (for hnsw_check): links within bounds, to live nodes, incoming lists
  // consistent, entry point on the top level. Empty when all is well.
  std::vector<std::string> check() const;

 private:
  struct Node {
    int level = -1;  // -1: no such node
    std::vector<std::vector<NodeId>> links;     // per level
    std::vector<std::vector<NodeId>> incoming;  // per level: nodes linking here
  };

  int random_level();
  // Greedy descent on one level with a single candidate.
  NodeId closest_on_level(const PreparedQuery& query, NodeId entry, int level) const;
  // The ef nearest nodes found on `level` starting from `entries`, in no particular order.
  std::vector<Neighbor> search_level(const PreparedQuery& query, const std::vector<NodeId>& entries, size_t ef, int level,
                                     const std::function<bool(NodeId)>* allowed) const;
  // Malkov's heuristic: keeps a candidate only if it is closer to the base than to every
  // candidate already kept, up to `limit`.
  std::vector<NodeId> select_neighbors(std::vector<Neighbor> candidates, size_t limit) const;
  void set_links(NodeId node, int level, std::vector<NodeId> links);
  // Builds the incoming lists and keeps them from now on. Inserting alone never needs them, so a
  // graph that is only built (or loaded) does without.
  void track_incoming();
  void add_link(NodeId from, NodeId to, int level);
  // Gives every node that lost its last incoming link on a level (listed in orphans_ by
  // set_links) a link from one of its nearest nodes: otherwise no search could reach it, and a
  // query with its own vector would not find it.
  void relink_orphans();
  void mark_dirty(NodeId node);
  void choose_entry_point();

  GraphParameters parameters_;
  const VectorSpace* space_;
  std::vector<Node> nodes_;
  size_t size_ = 0;
  std::optional<NodeId> entry_;
  int max_level_ = -1;
  double level_multiplier_;
  std::mt19937_64 random_;
  bool tracking_incoming_ = false;
  std::vector<NodeId> dirty_;
  std::vector<std::pair<NodeId, int>> orphans_;  // (node, level) that lost their last incoming link
  std::vector<bool> is_dirty_;
  // Visited marks for searches: a node is visited when its mark equals the current epoch.
  mutable std::vector<uint32_t> marks_;
  mutable uint32_t epoch_ = 0;
};

}  // namespace strata::hnsw
