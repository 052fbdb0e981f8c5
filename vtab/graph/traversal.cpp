#include "vtab/graph/traversal.h"

#include <algorithm>
#include <limits>

namespace strata::graph {

namespace {

Direction reverse(Direction direction) {
  switch (direction) {
    case Direction::kOut: return Direction::kIn;
    case Direction::kIn: return Direction::kOut;
    case Direction::kBoth: return Direction::kBoth;
  }
  return direction;
}

// Calls visit(neighbour) for each edge of `node` in `direction` (both: out, then in).
template <class Visit>
void for_each_neighbor(const Adjacency& adjacency, NodeId node, Direction direction, std::optional<TypeCode> type,
                       Visit&& visit) {
  if (direction != Direction::kIn) {
    adjacency.for_each(node, Direction::kOut, type, [&](const Link& link) { visit(link.neighbor); });
  }
  if (direction != Direction::kOut) {
    adjacency.for_each(node, Direction::kIn, type, [&](const Link& link) { visit(link.neighbor); });
  }
}

}  // namespace

void Traversal::begin(NodeId limit) {
  for (int side = 0; side < 2; ++side) {
    if (stamp_[side].size() < limit) {
      stamp_[side].resize(limit, 0);
      depth_[side].resize(limit, 0);
      parent_[side].resize(limit, 0);
    }
  }
  if (query_ == std::numeric_limits<uint32_t>::max()) {
    for (auto& stamps : stamp_) std::fill(stamps.begin(), stamps.end(), 0);
    query_ = 0;
  }
  ++query_;
}

std::vector<Reached> Traversal::breadth_first(const Adjacency& adjacency, NodeId start, uint32_t max_depth,
                                              std::optional<TypeCode> type, Direction direction) {
  // The graph is far larger than the CPU's caches and every step lands somewhere random in it,
  // so the loop asks for memory before it needs it: the runs of nodes a few places ahead in
  // the queue, and the stamps of a node's neighbours before testing them one by one.
  constexpr size_t kOffsetsAhead = 8;
  constexpr size_t kRunsAhead = 3;
  auto prefetch = [&](NodeId node, bool runs) {
    if (direction != Direction::kIn) adjacency.prefetch(node, Direction::kOut, runs);
    if (direction != Direction::kOut) adjacency.prefetch(node, Direction::kIn, runs);
  };
  begin(std::max(adjacency.node_limit(), start + 1));
  std::vector<Reached> reached;
  reached.reserve(64);
  reached.push_back(Reached{start, 0, 0});
  stamp_[0][start] = query_;
  std::vector<NodeId>& neighbors = neighbor_scratch_;
  for (size_t index = 0; index < reached.size(); ++index) {
    const Reached current = reached[index];
    if (current.depth >= max_depth) break;  // breadth-first: every later node is at least as deep
    if (index + kOffsetsAhead < reached.size()) prefetch(reached[index + kOffsetsAhead].node, false);
    if (index + kRunsAhead < reached.size()) prefetch(reached[index + kRunsAhead].node, true);
    neighbors.clear();
    for_each_neighbor(adjacency, current.node, direction, type, [&](NodeId neighbor) {
      __builtin_prefetch(stamp_[0].data() + neighbor);
      neighbors.push_back(neighbor);
    });
    for (NodeId neighbor : neighbors) {
      if (seen(0, neighbor)) continue;
      stamp_[0][neighbor] = query_;
      reached.push_back(Reached{neighbor, current.depth + 1, static_cast<uint32_t>(index)});
    }
  }
  return reached;
}

std::vector<NodeId> Traversal::shortest_path(const Adjacency& adjacency, NodeId from, NodeId to,
                                             std::optional<TypeCode> type, Direction direction) {
  if (from == to) return {from};
  begin(std::max({adjacency.node_limit(), from + 1, to + 1}));
  std::vector<NodeId> frontier[2] = {{from}, {to}};
  const Direction step_direction[2] = {direction, reverse(direction)};
  stamp_[0][from] = query_;
  depth_[0][from] = 0;
  parent_[0][from] = from;
  stamp_[1][to] = query_;
  depth_[1][to] = 0;
  parent_[1][to] = to;

  std::optional<NodeId> meeting;
  uint32_t best = std::numeric_limits<uint32_t>::max();
  while (!frontier[0].empty() && !frontier[1].empty()) {
    // Expand the smaller frontier by one whole level; the first level that meets the other
    // side holds a shortest path (the shortest over that level's meetings).
    int side = frontier[0].size() <= frontier[1].size() ? 0 : 1;
    std::vector<NodeId> next;
    for (NodeId node : frontier[side]) {
      uint32_t depth = depth_[side][node] + 1;
      for_each_neighbor(adjacency, node, step_direction[side], type, [&](NodeId neighbor) {
        if (seen(side, neighbor)) return;
        stamp_[side][neighbor] = query_;
        depth_[side][neighbor] = depth;
        parent_[side][neighbor] = node;
        next.push_back(neighbor);
        if (seen(1 - side, neighbor) && depth + depth_[1 - side][neighbor] < best) {
          best = depth + depth_[1 - side][neighbor];
          meeting = neighbor;
        }
      });
    }
    if (meeting) break;
    frontier[side] = std::move(next);
  }
  if (!meeting) return {};
  std::vector<NodeId> path;
  for (NodeId node = *meeting; node != from; node = parent_[0][node]) path.push_back(node);
  path.push_back(from);
  std::reverse(path.begin(), path.end());
  for (NodeId node = *meeting; node != to;) {
    node = parent_[1][node];
    path.push_back(node);
  }
  return path;
}

CycleFinder::Frame CycleFinder::frame_for(const Adjacency& adjacency, NodeId node) const {
  Frame frame{node, {}, 0};
  adjacency.for_each(node, Direction::kOut, type_, [&](const Link& link) {
    if (link.neighbor >= start_) frame.next.push_back(link.neighbor);
  });
  std::sort(frame.next.begin(), frame.next.end());
  frame.next.erase(std::unique(frame.next.begin(), frame.next.end()), frame.next.end());
  return frame;
}

bool CycleFinder::next(const Adjacency& adjacency, std::vector<NodeId>* cycle) {
  if (max_length_ == 0) return false;
  while (true) {
    if (path_.empty()) {
      if (started_) ++start_;
      started_ = true;
      if (start_ >= adjacency.node_limit()) return false;
      if (on_path_.size() < adjacency.node_limit()) on_path_.resize(adjacency.node_limit(), false);
      path_.push_back(frame_for(adjacency, start_));
      on_path_[start_] = true;
    }
    Frame& frame = path_.back();
    if (frame.position < frame.next.size()) {
      NodeId neighbor = frame.next[frame.position++];
      if (neighbor == start_) {
        cycle->clear();
        for (const Frame& on_path : path_) cycle->push_back(on_path.node);
        return true;
      }
      if (neighbor >= on_path_.size()) on_path_.resize(static_cast<size_t>(neighbor) + 1, false);
      if (path_.size() < max_length_ && !on_path_[neighbor]) {
        on_path_[neighbor] = true;
        path_.push_back(frame_for(adjacency, neighbor));
      }
      continue;
    }
    on_path_[frame.node] = false;
    path_.pop_back();
  }
}

}  // namespace strata::graph
