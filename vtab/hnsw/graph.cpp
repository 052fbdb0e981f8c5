#include "vtab/hnsw/graph.h"

#include <algorithm>
#include <cmath>
#include <queue>
#include <utility>

#include "ext/str_cat.h"

namespace strata::hnsw {

namespace {

// Nearest on top (a min-heap by distance).
struct FartherFirst {
  bool operator()(const Neighbor& a, const Neighbor& b) const { return b < a; }
};
using NearestQueue = std::priority_queue<Neighbor, std::vector<Neighbor>, FartherFirst>;
// Farthest on top.
using FarthestQueue = std::priority_queue<Neighbor>;

void erase_value(std::vector<NodeId>& values, NodeId value) {
  auto found = std::find(values.begin(), values.end(), value);
  if (found != values.end()) {
    *found = values.back();
    values.pop_back();
  }
}

}  // namespace

HnswGraph::HnswGraph(GraphParameters parameters, const VectorSpace* space)
    : parameters_(parameters),
      space_(space),
      level_multiplier_(1.0 / std::log(std::max<double>(2, parameters.m))),
      random_(parameters.seed) {}

int HnswGraph::random_level() {
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  double u = uniform(random_);
  if (u <= 0) u = 1e-300;
  return std::min(31, static_cast<int>(-std::log(u) * level_multiplier_));
}

void HnswGraph::mark_dirty(NodeId node) {
  if (is_dirty_.size() <= node) is_dirty_.resize(static_cast<size_t>(node) + 1, false);
  if (!is_dirty_[node]) {
    is_dirty_[node] = true;
    dirty_.push_back(node);
  }
}

std::vector<NodeId> HnswGraph::take_dirty() {
  for (NodeId node : dirty_) is_dirty_[node] = false;
  return std::exchange(dirty_, {});
}

void HnswGraph::set_links(NodeId node, int level, std::vector<NodeId> links) {
  std::vector<NodeId>& current = nodes_[node].links[level];
  if (tracking_incoming_) {
    for (NodeId old : current) {
      if (nodes_[old].level < level) continue;
      std::vector<NodeId>& incoming = nodes_[old].incoming[level];
      erase_value(incoming, node);
      // Its last way in: relinked once the operation is done (relink_orphans).
      if (incoming.empty() && std::find(links.begin(), links.end(), old) == links.end()) orphans_.push_back({old, level});
    }
    for (NodeId fresh : links) nodes_[fresh].incoming[level].push_back(node);
  }
  current = std::move(links);
  mark_dirty(node);
}

void HnswGraph::track_incoming() {
  if (tracking_incoming_) return;
  for (Node& node : nodes_) {
    for (auto& incoming : node.incoming) incoming.clear();
  }
  for (NodeId id = 0; id < nodes_.size(); ++id) {
    const Node& node = nodes_[id];
    for (int l = 0; l <= node.level; ++l) {
      for (NodeId target : node.links[l]) nodes_[target].incoming[l].push_back(id);
    }
  }
  tracking_incoming_ = true;
}

NodeId HnswGraph::closest_on_level(const PreparedQuery& query, NodeId entry, int level) const {
  NodeId best = entry;
  float best_distance = space_->distance_fast(query, entry);
  for (bool improved = true; improved;) {
    improved = false;
    for (NodeId next : nodes_[best].links[level]) {
      float d = space_->distance_fast(query, next);
      if (d < best_distance) {
        best_distance = d;
        best = next;
        improved = true;
      }
    }
  }
  return best;
}

std::vector<Neighbor> HnswGraph::search_level(const PreparedQuery& query, const std::vector<NodeId>& entries, size_t ef, int level,
                                              const std::function<bool(NodeId)>* allowed) const {
  if (marks_.size() < nodes_.size()) marks_.resize(nodes_.size(), 0);
  if (++epoch_ == 0) {  // wrapped: clear the marks once every 4 billion searches
    std::fill(marks_.begin(), marks_.end(), 0);
    epoch_ = 1;
  }
  // With a filter (as hnswlib does it), rejected nodes are walked through but never become
  // results, and the walk goes on until ef accepted nodes bound it: so a filter narrows what is
  // returned, not how many.
  NearestQueue candidates;
  FarthestQueue results;  // the ef best accepted so far
  for (NodeId entry : entries) {
    marks_[entry] = epoch_;
    Neighbor start{space_->distance_fast(query, entry), entry};
    candidates.push(start);
    if (allowed == nullptr || (*allowed)(entry)) results.push(start);
  }
  while (!candidates.empty()) {
    Neighbor current = candidates.top();
    if (results.size() >= ef && current.distance > results.top().distance) break;
    candidates.pop();
    const std::vector<NodeId>& links = nodes_[current.node].links[level];
    // The vectors are far apart in memory: ask for the next one while measuring this one.
    if (!links.empty()) __builtin_prefetch(space_->traversal_data(links[0]));
    for (size_t i = 0; i < links.size(); ++i) {
      if (i + 1 < links.size()) __builtin_prefetch(space_->traversal_data(links[i + 1]));
      NodeId next = links[i];
      if (marks_[next] == epoch_) continue;
      marks_[next] = epoch_;
      float d = space_->distance_fast(query, next);
      if (results.size() >= ef && d >= results.top().distance) continue;
      candidates.push({d, next});
      if (allowed == nullptr || (*allowed)(next)) {
        results.push({d, next});
        if (results.size() > ef) results.pop();
      }
    }
  }
  std::vector<Neighbor> found;
  found.reserve(results.size());
  while (!results.empty()) {
    found.push_back(results.top());
    results.pop();
  }
  return found;
}

std::vector<NodeId> HnswGraph::select_neighbors(std::vector<Neighbor> candidates, size_t limit) const {
  std::sort(candidates.begin(), candidates.end());
  std::vector<NodeId> kept;
  kept.reserve(limit);
  for (const Neighbor& candidate : candidates) {
    if (kept.size() >= limit) break;
    bool diverse = true;
    for (NodeId chosen : kept) {
      if (space_->distance(candidate.node, chosen) < candidate.distance) {
        diverse = false;
        break;
      }
    }
    if (diverse) kept.push_back(candidate.node);
  }
  return kept;
}

void HnswGraph::add_link(NodeId from, NodeId to, int level) {
  std::vector<NodeId>& current = nodes_[from].links[level];
  if (std::find(current.begin(), current.end(), to) != current.end()) return;
  if (current.size() < max_links(level)) {  // room left: no reselection
    current.push_back(to);
    if (tracking_incoming_) nodes_[to].incoming[level].push_back(from);
    mark_dirty(from);
    return;
  }
  // Full: keep the best max_links of the old links and the new one, chosen as when linking.
  std::vector<Neighbor> candidates;
  candidates.reserve(current.size() + 1);
  for (NodeId link : current) candidates.push_back({space_->distance(from, link), link});
  candidates.push_back({space_->distance(from, to), to});
  set_links(from, level, select_neighbors(std::move(candidates), max_links(level)));
}

void HnswGraph::insert(NodeId node) {
  if (nodes_.size() <= node) nodes_.resize(static_cast<size_t>(node) + 1);
  int level = random_level();
  Node& fresh = nodes_[node];
  fresh.level = level;
  fresh.links.assign(static_cast<size_t>(level) + 1, {});
  fresh.incoming.assign(static_cast<size_t>(level) + 1, {});
  ++size_;
  mark_dirty(node);
  if (!entry_) {
    entry_ = node;
    max_level_ = level;
    return;
  }
  PreparedQuery query = space_->query_for(node);
  NodeId entry = *entry_;
  for (int l = max_level_; l > level; --l) entry = closest_on_level(query, entry, l);
  std::vector<NodeId> entries{entry};
  for (int l = std::min(level, max_level_); l >= 0; --l) {
    std::vector<Neighbor> found = search_level(query, entries, parameters_.ef_construction, l, nullptr);
    std::erase_if(found, [&](const Neighbor& n) { return n.node == node; });
    std::vector<NodeId> chosen = select_neighbors(found, parameters_.m);
    set_links(node, l, chosen);
    for (NodeId neighbor : chosen) add_link(neighbor, node, l);
    entries.clear();
    for (const Neighbor& n : found) entries.push_back(n.node);
    if (entries.empty()) entries.push_back(entry);
  }
  if (level > max_level_) {
    entry_ = node;
    max_level_ = level;
  }
  relink_orphans();
}

void HnswGraph::remove(NodeId node) {
  if (!contains(node)) return;
  track_incoming();  // from the first removal on, each node knows who links to it
  Node& gone = nodes_[node];
  for (int l = gone.level; l >= 0; --l) {
    std::vector<NodeId> outgoing = gone.links[l];
    std::vector<NodeId> incoming = gone.incoming[l];
    set_links(node, l, {});
    // Each node that linked here picks its links again from what it had plus what the removed
    // node linked to, so the neighbourhood stays connected.
    for (NodeId referrer : incoming) {
      if (referrer == node) continue;
      std::vector<NodeId> candidates_ids = nodes_[referrer].links[l];
      erase_value(candidates_ids, node);
      for (NodeId other : outgoing) {
        if (other != referrer && other != node &&
            std::find(candidates_ids.begin(), candidates_ids.end(), other) == candidates_ids.end()) {
          candidates_ids.push_back(other);
        }
      }
      std::vector<Neighbor> candidates;
      candidates.reserve(candidates_ids.size());
      for (NodeId candidate : candidates_ids) candidates.push_back({space_->distance(referrer, candidate), candidate});
      set_links(referrer, l, select_neighbors(std::move(candidates), max_links(l)));
    }
  }
  gone.level = -1;
  gone.links.clear();
  gone.incoming.clear();
  --size_;
  mark_dirty(node);
  if (entry_ == node) choose_entry_point();
  relink_orphans();
}

void HnswGraph::relink_orphans() {
  std::vector<std::pair<NodeId, int>> orphans = std::exchange(orphans_, {});
  if (!entry_) return;  // the graph is empty
  for (auto [node, level] : orphans) {
    if (!contains(node) || nodes_[node].level < level || !nodes_[node].incoming[level].empty()) continue;
    // Candidates for a link to the orphan: the nodes nearest to it on its level, found from the
    // entry point as when inserting (its own links are among them as a rule).
    PreparedQuery query = space_->query_for(node);
    NodeId entry = *entry_;
    for (int l = max_level_; l > level; --l) entry = closest_on_level(query, entry, l);
    std::vector<Neighbor> nearest = search_level(query, {entry}, parameters_.ef_construction, level, nullptr);
    for (NodeId own : nodes_[node].links[level]) nearest.push_back({space_->distance(node, own), own});
    std::sort(nearest.begin(), nearest.end());
    for (const Neighbor& host : nearest) {
      if (host.node == node) continue;
      std::vector<NodeId>& host_links = nodes_[host.node].links[level];
      if (std::find(host_links.begin(), host_links.end(), node) != host_links.end()) continue;
      if (host_links.size() < max_links(level)) {
        add_link(host.node, node, level);
        break;
      }
      // Full: the orphan takes the place of the host's farthest link that has another way in,
      // so that no node is cut off in its turn.
      std::optional<Neighbor> replaced;
      for (NodeId link : host_links) {
        if (nodes_[link].incoming[level].size() < 2) continue;
        Neighbor candidate{space_->distance(host.node, link), link};
        if (!replaced || replaced->distance < candidate.distance) replaced = candidate;
      }
      if (!replaced) continue;
      std::vector<NodeId> links = host_links;
      *std::find(links.begin(), links.end(), replaced->node) = node;
      set_links(host.node, level, std::move(links));
      break;
    }
  }
  orphans_.clear();  // relinking never cuts a node off, so nothing new is listed
}

void HnswGraph::choose_entry_point() {
  entry_.reset();
  max_level_ = -1;
  for (NodeId id = 0; id < nodes_.size(); ++id) {
    if (nodes_[id].level > max_level_) {
      max_level_ = nodes_[id].level;
      entry_ = id;
    }
  }
}

void HnswGraph::restore(NodeId node, int level, std::vector<std::vector<NodeId>> links) {
  if (nodes_.size() <= node) nodes_.resize(static_cast<size_t>(node) + 1);
  Node& restored = nodes_[node];
  if (restored.level < 0) ++size_;
  restored.level = level;
  restored.links = std::move(links);
  restored.links.resize(static_cast<size_t>(level) + 1);
  restored.incoming.assign(static_cast<size_t>(level) + 1, {});
}

bool HnswGraph::finish_restore() {
  for (NodeId id = 0; id < nodes_.size(); ++id) {
    Node& node = nodes_[id];
    for (int l = 0; l <= node.level; ++l) {
      for (NodeId target : node.links[l]) {
        if (!contains(target) || nodes_[target].level < l) return false;
      }
    }
  }
  tracking_incoming_ = false;
  choose_entry_point();
  return true;
}

std::vector<Neighbor> HnswGraph::search(const PreparedQuery& query, size_t k, size_t ef,
                                        const std::function<bool(NodeId)>* allowed) const {
  if (!entry_ || k == 0) return {};
  ef = std::max(ef, k);
  NodeId entry = *entry_;
  for (int l = max_level_; l > 0; --l) entry = closest_on_level(query, entry, l);
  std::vector<Neighbor> found = search_level(query, {entry}, ef, 0, allowed);
  std::sort(found.begin(), found.end());
  if (found.size() > k) found.resize(k);
  return found;
}

std::vector<std::string> HnswGraph::check() const {
  std::vector<std::string> problems;
  int top = -1;
  for (NodeId id = 0; id < nodes_.size(); ++id) {
    const Node& node = nodes_[id];
    if (node.level < 0) continue;
    top = std::max(top, node.level);
    for (int l = 0; l <= node.level; ++l) {
      if (node.links[l].size() > max_links(l)) {
        problems.push_back(str_cat("node ", std::to_string(id), " has ", std::to_string(node.links[l].size()),
                                   " links on level ", std::to_string(l)));
      }
      for (NodeId target : node.links[l]) {
        if (target == id || !contains(target) || nodes_[target].level < l) {
          problems.push_back(str_cat("node ", std::to_string(id), " links to a missing node on level ", std::to_string(l)));
        } else if (tracking_incoming_ &&
                   std::count(nodes_[target].incoming[l].begin(), nodes_[target].incoming[l].end(), id) != 1) {
          problems.push_back(str_cat("node ", std::to_string(target), " does not know node ", std::to_string(id),
                                     " links to it"));
        }
      }
    }
  }
  if (size_ > 0 && (!entry_ || nodes_[*entry_].level != top)) problems.push_back("the entry point is not on the top level");
  return problems;
}

}  // namespace strata::hnsw
