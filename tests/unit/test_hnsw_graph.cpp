// HnswGraph against exact search: recall after building, after deleting and re-inserting, with
// filters, and after restoring from its own levels and links; structure checks throughout.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <vector>

#include "tests/unit/clustered_vectors.h"
#include "vtab/hnsw/graph.h"
#include "vtab/hnsw/space.h"

namespace strata::hnsw {
namespace {

constexpr size_t kDimensions = 24;

std::vector<std::vector<float>> clustered(size_t count, uint32_t seed) {
  return strata::testing::clustered_vectors(count, kDimensions, seed, 20);
}

std::vector<NodeId> exact(const VectorSpace& space, const PreparedQuery& query, const std::vector<NodeId>& live,
                          size_t k) {
  std::vector<Neighbor> all;
  for (NodeId node : live) all.push_back({space.distance(query, node), node});
  std::sort(all.begin(), all.end());
  std::vector<NodeId> ids;
  for (size_t i = 0; i < k && i < all.size(); ++i) ids.push_back(all[i].node);
  return ids;
}

double recall(const HnswGraph& graph, const VectorSpace& space, const std::vector<std::vector<float>>& queries,
              const std::vector<NodeId>& live, size_t k, size_t ef,
              const std::function<bool(NodeId)>* allowed = nullptr) {
  size_t hits = 0, wanted = 0;
  std::vector<NodeId> candidates;
  for (NodeId node : live) {
    if (allowed == nullptr || (*allowed)(node)) candidates.push_back(node);
  }
  for (const auto& raw : queries) {
    PreparedQuery query = space.prepare(raw.data());
    std::vector<NodeId> truth = exact(space, query, candidates, k);
    std::vector<Neighbor> found = graph.search(query, k, ef, allowed);
    std::set<NodeId> truth_set(truth.begin(), truth.end());
    for (const Neighbor& n : found) {
      hits += truth_set.count(n.node);
      if (allowed != nullptr) {
        EXPECT_TRUE((*allowed)(n.node));
      }
    }
    wanted += truth.size();
  }
  return static_cast<double>(hits) / static_cast<double>(wanted);
}

class Graph : public ::testing::TestWithParam<Metric> {};

TEST_P(Graph, RecallStaysHighThroughDeletesFiltersAndRestore) {
  VectorSpace space(GetParam(), kDimensions);
  // Inner product walks over vectors with one extra element that make it a Euclidean search
  // (space.h); it meets the same bar.
  const double good_recall = 0.99;
  HnswGraph graph({.m = 12, .ef_construction = 100, .seed = 7}, &space);
  // Points, queries and later insertions from the same clusters.
  auto all_points = clustered(3000 + 60 + 900, 1);
  std::vector<std::vector<float>> points(all_points.begin(), all_points.begin() + 3000);
  std::vector<std::vector<float>> queries(all_points.begin() + 3000, all_points.begin() + 3060);
  std::vector<std::vector<float>> fresh(all_points.begin() + 3060, all_points.end());
  std::vector<NodeId> live;
  for (NodeId id = 0; id < points.size(); ++id) {
    space.set(id, points[id].data());
    graph.insert(id);
    live.push_back(id);
  }
  EXPECT_TRUE(graph.check().empty());
  EXPECT_GE(recall(graph, space, queries, live, 10, 200), good_recall);
  EXPECT_EQ(graph.take_dirty().size(), points.size());

  // Delete 30%, then insert new points under the freed ids.
  std::mt19937 random(3);
  std::shuffle(live.begin(), live.end(), random);
  std::vector<NodeId> removed(live.begin(), live.begin() + 900);
  live.erase(live.begin(), live.begin() + 900);
  for (NodeId id : removed) graph.remove(id);
  auto problems = graph.check();
  EXPECT_TRUE(problems.empty()) << problems.front();
  EXPECT_EQ(graph.size(), live.size());
  EXPECT_GE(recall(graph, space, queries, live, 10, 200), good_recall - 0.01);
  for (size_t i = 0; i < removed.size(); ++i) {
    space.set(removed[i], fresh[i].data());
    graph.insert(removed[i]);
    live.push_back(removed[i]);
  }
  EXPECT_TRUE(graph.check().empty());
  EXPECT_GE(recall(graph, space, queries, live, 10, 200), good_recall);

  // Filters: every result passes; recall among the allowed stays high. (Below about 5% the
  // table searches the allowed rows exactly instead: hnsw.cpp.)
  for (int modulus : {2, 10}) {
    std::function<bool(NodeId)> allowed = [modulus](NodeId id) { return id % static_cast<NodeId>(modulus) == 0; };
    double bar = good_recall - 0.04;
    EXPECT_GE(recall(graph, space, queries, live, 10, 200, &allowed), bar) << "1 in " << modulus;
  }

  // Restored from its levels and links, the graph answers exactly as before.
  HnswGraph copy({.m = 12, .ef_construction = 100, .seed = 7}, &space);
  for (NodeId id : live) {
    std::vector<std::vector<NodeId>> links;
    for (int l = 0; l <= graph.level(id); ++l) links.push_back(graph.links(id, l));
    copy.restore(id, graph.level(id), links);
  }
  ASSERT_TRUE(copy.finish_restore());
  EXPECT_TRUE(copy.check().empty());
  for (const auto& raw : queries) {
    PreparedQuery query = space.prepare(raw.data());
    auto a = graph.search(query, 10, 50);
    auto b = copy.search(query, 10, 50);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].node, b[i].node);
  }

  // Removing everything leaves an empty graph that still answers.
  for (NodeId id : live) graph.remove(id);
  EXPECT_EQ(graph.size(), 0u);
  EXPECT_FALSE(graph.entry_point().has_value());
  EXPECT_TRUE(graph.search(space.prepare(queries[0].data()), 10, 50).empty());
}

INSTANTIATE_TEST_SUITE_P(Metrics, Graph, ::testing::Values(Metric::kL2, Metric::kCosine, Metric::kInnerProduct),
                         [](const auto& info) { return std::string(metric_name(info.param)); });

// Nodes of `level` that no walk from the entry point reaches on that level (every node of the
// level should be reachable: otherwise no search finds it, not even with its own vector).
size_t unreachable_on_level(const HnswGraph& graph, const std::vector<NodeId>& live, int level) {
  std::set<NodeId> seen;
  std::vector<NodeId> pending{*graph.entry_point()};
  seen.insert(pending.back());
  while (!pending.empty()) {
    NodeId node = pending.back();
    pending.pop_back();
    for (NodeId next : graph.links(node, level)) {
      if (seen.insert(next).second) pending.push_back(next);
    }
  }
  return static_cast<size_t>(std::count_if(live.begin(), live.end(), [&](NodeId node) {
    return graph.level(node) >= level && !seen.contains(node);
  }));
}

// Updates and deletions relink the neighbours of what they remove; a neighbour that loses its
// last incoming link gets a new one, so every node stays reachable however long the churn.
TEST(GraphChurn, EveryNodeStaysReachableThroughUpdatesAndDeletes) {
  constexpr size_t kSmallDimensions = 8;
  VectorSpace space(Metric::kL2, kSmallDimensions);
  HnswGraph graph({.m = 8, .ef_construction = 64, .seed = 11}, &space);
  std::mt19937 random(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  auto set_random_vector = [&](NodeId id) {
    std::vector<float> vector(kSmallDimensions);
    for (float& x : vector) x = normal(random);
    space.set(id, vector.data());
  };
  std::vector<NodeId> live;
  NodeId next_id = 0;
  size_t worst = 0;
  for (int round = 0; round < 60; ++round) {
    for (int i = 0; i < 60; ++i) {  // insert
      set_random_vector(next_id);
      graph.insert(next_id);
      live.push_back(next_id++);
    }
    std::shuffle(live.begin(), live.end(), random);
    for (size_t i = 0; i < live.size() / 12; ++i) {  // update: remove, then insert with a new vector
      graph.remove(live[i]);
      set_random_vector(live[i]);
      graph.insert(live[i]);
    }
    for (int i = 0; i < 50 && !live.empty(); ++i) {  // delete
      graph.remove(live.back());
      live.pop_back();
    }
    for (int level = 0; level <= graph.level(*graph.entry_point()); ++level) {
      worst = std::max(worst, unreachable_on_level(graph, live, level));
    }
    auto problems = graph.check();
    ASSERT_TRUE(problems.empty()) << problems.front();
  }
  EXPECT_EQ(worst, 0u);
  for (NodeId node : live) {  // each found first by its own vector
    auto found = graph.search(space.query_for(node), 1, 32);
    ASSERT_FALSE(found.empty());
    EXPECT_EQ(found[0].node, node);
  }
}

TEST(GraphRestore, RefusesLinksToMissingNodes) {
  VectorSpace space(Metric::kL2, 2);
  HnswGraph graph({}, &space);
  graph.restore(0, 0, {{1}});
  EXPECT_FALSE(graph.finish_restore());
}

}  // namespace
}  // namespace strata::hnsw
