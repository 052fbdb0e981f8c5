// things / relationships and the graph functions.
//
// The differential test runs the same random writes (inserts, deletes that cascade, type
// changes, savepoints and rollbacks) against the strata tables and against ordinary tables, and
// after each step compares graph_traverse, graph_shortest_path, graph_cycles and
// graph_neighbors with recursive CTEs over the ordinary tables — random graphs with cycles,
// self-loops and parallel edges of several types.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/test_database.h"
#include "vtab/graph/adjacency.h"
#include "vtab/graph/generated_id.h"
#include "vtab/graph/traversal.h"

namespace {

using strata::testing::TestDatabase;
using namespace strata::graph;

std::vector<std::string> sorted(std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  return values;
}

// ---- Adjacency and algorithms, without SQLite ----

TEST(GraphAdjacency, AddsAndRemovesLikeASetAcrossFolds) {
  std::mt19937 random(7);
  std::set<std::tuple<NodeId, NodeId, TypeCode>> reference;
  Adjacency adjacency;
  for (int step = 0; step < 40000; ++step) {
    Edge edge{static_cast<NodeId>(random() % 300), static_cast<NodeId>(random() % 300), static_cast<TypeCode>(random() % 3)};
    auto key = std::make_tuple(edge.from, edge.to, edge.type);
    if (reference.contains(key)) {
      adjacency.remove(edge);
      reference.erase(key);
    } else {
      adjacency.add(edge);
      reference.insert(key);
    }
    if (step % 5000 == 4999) adjacency = Adjacency([&] {
        std::vector<Edge> all;
        for (auto [from, to, type] : reference) all.push_back({from, to, type});
        return all;
      }());
    if (step % 997 == 0 || step == 39999) {
      ASSERT_EQ(adjacency.edge_count(), reference.size());
      std::set<std::tuple<NodeId, NodeId, TypeCode>> out, in;
      std::map<std::pair<NodeId, TypeCode>, size_t> typed_counts;
      for (auto [from, to, edge_type] : reference) ++typed_counts[{from, edge_type}];
      for (NodeId node = 0; node < 300; ++node) {
        adjacency.for_each(node, Direction::kOut, std::nullopt, [&](const Link& link) { out.emplace(node, link.neighbor, link.type); });
        adjacency.for_each(node, Direction::kIn, std::nullopt, [&](const Link& link) { in.emplace(link.neighbor, node, link.type); });
        TypeCode type = static_cast<TypeCode>(node % 3);
        size_t typed = 0;
        adjacency.for_each(node, Direction::kOut, type, [&](const Link& link) {
          EXPECT_EQ(link.type, type);
          ++typed;
        });
        ASSERT_EQ(typed, (typed_counts[{node, type}]));
      }
      ASSERT_EQ(out, reference);
      ASSERT_EQ(in, reference);
    }
  }
}

TEST(GraphTraversal, ShortestPathIsShortestAndConnected) {
  std::mt19937 random(11);
  for (int round = 0; round < 200; ++round) {
    const NodeId nodes = 2 + random() % 60;
    std::vector<Edge> edges;
    std::set<std::tuple<NodeId, NodeId, TypeCode>> seen;
    size_t count = random() % (nodes * 3);
    for (size_t i = 0; i < count; ++i) {
      Edge edge{static_cast<NodeId>(random() % nodes), static_cast<NodeId>(random() % nodes), static_cast<TypeCode>(random() % 2)};
      if (seen.emplace(edge.from, edge.to, edge.type).second) edges.push_back(edge);
    }
    Adjacency adjacency(edges);
    Traversal traversal;
    for (int query = 0; query < 20; ++query) {
      NodeId from = random() % nodes, to = random() % nodes;
      Direction direction = static_cast<Direction>(random() % 3);
      std::optional<TypeCode> type;
      if (random() % 2) type = static_cast<TypeCode>(random() % 2);
      std::vector<Reached> reached = traversal.breadth_first(adjacency, from, nodes, type, direction);
      std::optional<uint32_t> depth;
      for (const Reached& r : reached) {
        if (r.node == to) depth = r.depth;
      }
      std::vector<NodeId> path = traversal.shortest_path(adjacency, from, to, type, direction);
      if (!depth) {
        EXPECT_TRUE(path.empty());
        continue;
      }
      ASSERT_EQ(path.size(), *depth + 1) << "round " << round << " query " << query;
      EXPECT_EQ(path.front(), from);
      EXPECT_EQ(path.back(), to);
      for (size_t i = 0; i + 1 < path.size(); ++i) {
        bool linked = false;
        for (auto [a, b] : {std::pair{path[i], path[i + 1]}, std::pair{path[i + 1], path[i]}}) {
          bool forward = a == path[i];
          if ((direction == Direction::kOut && !forward) || (direction == Direction::kIn && forward)) continue;
          for (TypeCode t = 0; t < 2; ++t) {
            if (type && t != *type) continue;
            linked |= forward ? seen.contains({a, b, t}) : seen.contains({a, b, t});
          }
        }
        EXPECT_TRUE(linked) << "step " << i << " of the path is not an edge";
      }
    }
  }
}

TEST(GraphIds, GeneratedIdsSortInCreationOrderAndAreUnique) {
  EXPECT_EQ(format_generated_id(0, 0, 0), "00000000000000000000000000");
  EXPECT_EQ(format_generated_id(1, 0, 0).size(), 26u);
  std::string previous;
  std::set<std::string> all;
  for (int i = 0; i < 100000; ++i) {
    std::string id = next_generated_id();
    ASSERT_GT(id, previous);
    previous = id;
    all.insert(id);
  }
  EXPECT_EQ(all.size(), 100000u);
}

// ---- the tables against ordinary tables and recursive CTEs ----

const char* kDirections[] = {"out", "in", "both"};

std::string edges_for(const std::string& direction, const std::string& type_condition) {
  std::string out = "SELECT from_id AS node, to_id AS next FROM t_rel WHERE 1" + type_condition;
  std::string in = "SELECT to_id AS node, from_id AS next FROM t_rel WHERE 1" + type_condition;
  if (direction == "out") return out;
  if (direction == "in") return in;
  return out + " UNION ALL " + in;
}

std::string literal(const std::string& text) { return "'" + text + "'"; }

class GraphDifferential : public ::testing::TestWithParam<unsigned> {
 protected:
  void SetUp() override {
    db_.exec("CREATE VIRTUAL TABLE kb USING things; CREATE VIRTUAL TABLE kb_rel USING relationships(things=kb);"
             "CREATE TABLE t_things(id TEXT PRIMARY KEY, type TEXT NOT NULL, data);"
             "CREATE TABLE t_rel(from_id TEXT NOT NULL REFERENCES t_things(id) ON DELETE CASCADE,"
             " to_id TEXT NOT NULL REFERENCES t_things(id) ON DELETE CASCADE, type TEXT NOT NULL, UNIQUE (from_id, to_id, type));"
             "PRAGMA foreign_keys = ON;");
  }

  // The same statement on both sides (with kb/kb_rel or t_things/t_rel).
  void both(const std::string& strata_sql, const std::string& plain_sql) {
    std::string strata_error = db_.error_of(strata_sql);
    std::string plain_error = db_.error_of(plain_sql);
    ASSERT_EQ(strata_error.empty(), plain_error.empty()) << strata_sql << " -> " << strata_error << " / " << plain_sql << " -> "
                                                         << plain_error;
  }

  std::string random_id() { return "n" + std::to_string(random_() % (nodes_ + 5)); }
  std::string random_type() { return "t" + std::to_string(random_() % 3); }

  void random_write() {
    switch (random_() % 10) {
      case 0:
      case 1: {
        std::string id = random_id();
        std::string type = random_() % 2 ? "'A'" : "'B'";
        both("INSERT OR IGNORE INTO kb(id, type, data) VALUES (" + literal(id) + ", " + type + ", json_object('k', 1))",
             "INSERT OR IGNORE INTO t_things(id, type, data) VALUES (" + literal(id) + ", " + type + ", json_object('k', 1))");
        break;
      }
      case 2: {
        std::string id = random_id();
        both("DELETE FROM kb WHERE id = " + literal(id), "DELETE FROM t_things WHERE id = " + literal(id));
        break;
      }
      case 3: {
        std::string from = random_id(), to = random_id(), type = random_type();
        both("DELETE FROM kb_rel WHERE from_id = " + literal(from) + " AND type = " + literal(type),
             "DELETE FROM t_rel WHERE from_id = " + literal(from) + " AND type = " + literal(type));
        break;
      }
      case 4: {
        std::string from = random_id(), type = random_type(), to = random_type();
        both("UPDATE OR IGNORE kb_rel SET type = " + literal(to) + " WHERE from_id = " + literal(from) + " AND type = " + literal(type),
             "UPDATE OR IGNORE t_rel SET type = " + literal(to) + " WHERE from_id = " + literal(from) + " AND type = " + literal(type));
        break;
      }
      default: {
        std::string from = random_id(), to = random_() % 8 == 0 ? from : random_id(), type = random_type();
        // Only between existing things (a missing end is an error on both sides, but the
        // ordinary table reports it at a different moment under deferred checking).
        if (db_.scalar("SELECT count(*) FROM t_things WHERE id IN (" + literal(from) + ", " + literal(to) + ")") !=
            (from == to ? "1" : "2")) {
          break;
        }
        both("INSERT OR IGNORE INTO kb_rel(from_id, to_id, type) VALUES (" + literal(from) + ", " + literal(to) + ", " + literal(type) + ")",
             "INSERT OR IGNORE INTO t_rel(from_id, to_id, type) VALUES (" + literal(from) + ", " + literal(to) + ", " + literal(type) + ")");
      }
    }
  }

  void compare_tables() {
    ASSERT_EQ(db_.rows("SELECT id, type, data FROM kb ORDER BY id"), db_.rows("SELECT id, type, data FROM t_things ORDER BY id"));
    ASSERT_EQ(db_.rows("SELECT from_id, to_id, type FROM kb_rel ORDER BY 1, 2, 3"),
              db_.rows("SELECT from_id, to_id, type FROM t_rel ORDER BY 1, 2, 3"));
  }

  void compare_queries() {
    std::vector<std::string> ids = db_.rows("SELECT id FROM t_things ORDER BY id");
    if (ids.empty()) return;
    for (int query = 0; query < 6; ++query) {
      std::string start = ids[random_() % ids.size()];
      std::string direction = kDirections[random_() % 3];
      std::string type = random_() % 2 ? "NULL" : literal(random_type());
      std::string type_condition = type == "NULL" ? "" : " AND type = " + type;
      int max_depth = static_cast<int>(random_() % 5);
      std::string args = "'kb_rel', " + literal(start) + ", " + std::to_string(max_depth) + ", " + type + ", " + literal(direction);
      std::string cte = "WITH RECURSIVE e AS (" + edges_for(direction, type_condition) + "), r(node, depth) AS (SELECT " + literal(start) +
                        ", 0 UNION SELECT e.next, r.depth + 1 FROM r JOIN e ON e.node = r.node WHERE r.depth < " +
                        std::to_string(max_depth) + ") SELECT node, min(depth) FROM r GROUP BY node ORDER BY node";
      std::vector<std::string> traversed = db_.rows("SELECT node, depth FROM graph_traverse(" + args + ") ORDER BY node");
      ASSERT_EQ(traversed, db_.rows(cte)) << args;
      // BFS order, each path ends at its node, has depth + 1 entries and starts at the start.
      std::vector<std::string> checked = db_.rows("SELECT count(*), sum(json_array_length(path) = depth + 1), sum(path ->> '$[#-1]' = node),"
                                                         " sum(path ->> '$[0]' = " + literal(start) + ") FROM graph_traverse(" + args + ")");
      std::string n = std::to_string(traversed.size());
      ASSERT_EQ(checked, std::vector<std::string>{n + "|" + n + "|" + n + "|" + n}) << args;
      std::vector<std::string> depths = db_.rows("SELECT depth FROM graph_traverse(" + args + ")");
      ASSERT_TRUE(std::is_sorted(depths.begin(), depths.end())) << args;

      // Shortest path: the same length as the CTE's unbounded search, and made of edges.
      std::string target = ids[random_() % ids.size()];
      std::string path_args = "'kb_rel', " + literal(start) + ", " + literal(target) + ", " + type + ", " + literal(direction);
      std::string length_cte = "WITH RECURSIVE e AS (" + edges_for(direction, type_condition) + "), r(node, depth) AS (SELECT " +
                               literal(start) + ", 0 UNION SELECT e.next, r.depth + 1 FROM r JOIN e ON e.node = r.node WHERE r.depth < " +
                               std::to_string(ids.size()) + ") SELECT min(depth) FROM r WHERE node = " + literal(target);
      std::string expected = db_.scalar(length_cte);
      std::vector<std::string> path = db_.rows("SELECT node FROM graph_shortest_path(" + path_args + ") ORDER BY step");
      if (expected == "NULL") {
        ASSERT_TRUE(path.empty()) << path_args;
      } else {
        ASSERT_EQ(std::to_string(path.size() - 1), expected) << path_args;
        ASSERT_EQ(path.front(), start);
        ASSERT_EQ(path.back(), target);
        for (size_t i = 0; i + 1 < path.size(); ++i) {
          ASSERT_EQ(db_.scalar("SELECT count(*) > 0 FROM (" + edges_for(direction, type_condition) + ") WHERE node = " + literal(path[i]) +
                               " AND next = " + literal(path[i + 1])),
                    "1")
              << path_args << " step " << i;
        }
      }

      // Neighbours.
      std::string neighbor_args = "'kb_rel', " + literal(start) + ", " + type + ", " + literal(direction);
      std::string neighbor_sql = direction == "in"    ? "SELECT from_id, type, 'in' FROM t_rel WHERE to_id = "
                                 : direction == "out" ? "SELECT to_id, type, 'out' FROM t_rel WHERE from_id = "
                                                      : "";
      std::vector<std::string> expected_neighbors;
      if (direction == "both") {
        expected_neighbors = db_.rows("SELECT to_id, type, 'out' FROM t_rel WHERE from_id = " + literal(start) + type_condition +
                                                 " UNION ALL SELECT from_id, type, 'in' FROM t_rel WHERE to_id = " + literal(start) + type_condition);
      } else {
        expected_neighbors = db_.rows(neighbor_sql + literal(start) + type_condition);
      }
      ASSERT_EQ(sorted(db_.rows("SELECT node, type, direction FROM graph_neighbors(" + neighbor_args + ")")), sorted(expected_neighbors))
          << neighbor_args;
    }

    // Cycles (of up to 4 nodes), rotated to start at their smallest id, against a CTE that
    // enumerates simple paths from each id through larger ids back to it.
    std::string type = random_() % 2 ? "NULL" : literal(random_type());
    std::string type_condition = type == "NULL" ? "" : " WHERE type = " + type;
    std::string cte = "WITH RECURSIVE e AS (SELECT DISTINCT from_id, to_id FROM t_rel" + type_condition +
                      "), p(start, node, path, length) AS (SELECT id, id, json_array(id), 1 FROM t_things UNION ALL "
                      "SELECT p.start, e.to_id, json_insert(p.path, '$[#]', e.to_id), p.length + 1 FROM p JOIN e ON e.from_id = p.node "
                      "WHERE p.length < 4 AND e.to_id > p.start AND NOT EXISTS (SELECT 1 FROM json_each(p.path) WHERE value = e.to_id)) "
                      "SELECT p.path FROM p JOIN e ON e.from_id = p.node AND e.to_id = p.start";
    auto canonical = [](std::vector<std::string> cycles) {
      for (std::string& cycle : cycles) {
        // ["n1","n2"]: the ids are every other piece between quotes (ids here need no escaping).
        std::vector<std::string> names;
        size_t open = cycle.find('"');
        while (open != std::string::npos) {
          size_t close = cycle.find('"', open + 1);
          names.push_back(cycle.substr(open + 1, close - open - 1));
          open = cycle.find('"', close + 1);
        }
        std::rotate(names.begin(), std::min_element(names.begin(), names.end()), names.end());
        cycle.clear();
        for (const std::string& name : names) cycle += name + ",";
      }
      std::sort(cycles.begin(), cycles.end());
      return cycles;
    };
    ASSERT_EQ(canonical(db_.rows("SELECT cycle FROM graph_cycles('kb_rel', " + type + ", 4)")), canonical(db_.rows(cte)))
        << "type " << type;
  }

  TestDatabase db_;
  std::mt19937 random_{GetParam()};
  unsigned nodes_ = 6 + GetParam() % 30;
};

TEST_P(GraphDifferential, TraversalsMatchRecursiveCtesUnderRandomWrites) {
  for (unsigned i = 0; i < nodes_; ++i) {
    both("INSERT INTO kb(id, type) VALUES ('n" + std::to_string(i) + "', 'A')", "INSERT INTO t_things(id, type) VALUES ('n" + std::to_string(i) + "', 'A')");
  }
  for (int step = 0; step < 14; ++step) {
    const bool transaction = random_() % 2;
    if (transaction) db_.exec("BEGIN");
    int writes = 1 + random_() % 12;
    bool savepoint = false;
    for (int i = 0; i < writes; ++i) {
      random_write();
      if (HasFatalFailure()) return;
      if (transaction && !savepoint && random_() % 5 == 0) {
        db_.exec("SAVEPOINT s");
        savepoint = true;
      }
      if (random_() % 4 == 0) {
        compare_queries();  // builds the adjacency mid-transaction, too
        if (HasFatalFailure()) return;
      }
    }
    if (savepoint && random_() % 2) db_.exec("ROLLBACK TO s");
    if (transaction) db_.exec(random_() % 3 == 0 ? "ROLLBACK" : "COMMIT");
    compare_tables();
    if (HasFatalFailure()) return;
    compare_queries();
    if (HasFatalFailure()) return;
    ASSERT_EQ(db_.scalar("SELECT things_check('kb')"), "ok") << "step " << step;
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, GraphDifferential, ::testing::Range(1u, 41u));

// ---- behaviour ----

class GraphTables : public ::testing::Test {
 protected:
  void SetUp() override {
    db_.exec("CREATE VIRTUAL TABLE kb USING things; CREATE VIRTUAL TABLE kb_rel USING relationships(things=kb);"
             "INSERT INTO kb(id, type, data) VALUES ('u1', 'User', '{\"email\":\"a@x.io\",\"age\":30}'),"
             " ('u2', 'User', '{\"email\":\"b@x.io\",\"age\":40}'), ('d1', 'Doc', NULL);"
             "INSERT INTO kb_rel(from_id, to_id, type) VALUES ('u1', 'u2', 'follows'), ('u1', 'd1', 'wrote');");
  }
  TestDatabase db_;
};

TEST_F(GraphTables, BadInputIsAClearError) {
  struct Case {
    const char* sql;
    const char* message;
  } cases[] = {
      {"INSERT INTO kb(id, type, data) VALUES ('x', 'T', '{oops')", "things: data is not valid JSON (id 'x')"},
      {"INSERT INTO kb(id, type, data) VALUES ('x', 'T', x'00')", "things: data must be JSON text or NULL, got a BLOB"},
      {"INSERT INTO kb(id, type) VALUES ('x', NULL)", "things: NOT NULL constraint failed: kb.type"},
      {"INSERT INTO kb(id, type) VALUES (x'01', 'T')", "things: id must be TEXT, got a BLOB"},
      {"INSERT INTO kb(id, type) VALUES ('u1', 'T')", "things: UNIQUE constraint failed: kb.id ('u1' already exists)"},
      {"INSERT INTO kb(rowid, id, type) VALUES (99, 'x', 'T')", "things: the rowid is assigned by the table"},
      {"INSERT INTO kb(id, type, created_at) VALUES ('x', 'T', 'yesterday')", "things: created_at must be an integer"},
      {"UPDATE kb SET id = 'z' WHERE id = 'u1'", "things: id cannot be changed ('u1' to 'z')"},
      {"UPDATE kb SET data = '[1,' WHERE id = 'u1'", "things: data is not valid JSON (id 'u1')"},
      {"INSERT INTO kb_rel(from_id, to_id, type) VALUES ('u1', 'ghost', 'x')",
       "relationships: FOREIGN KEY constraint failed: to_id 'ghost' is not a thing in kb"},
      {"INSERT INTO kb_rel(from_id, to_id, type) VALUES ('ghost', 'u1', 'x')", "from_id 'ghost' is not a thing in kb"},
      {"INSERT INTO kb_rel(from_id, to_id, type) VALUES ('u1', 'u2', 'follows')",
       "relationships: UNIQUE constraint failed: kb_rel.from_id, kb_rel.to_id, kb_rel.type"},
      {"INSERT INTO kb_rel(from_id, to_id, type) VALUES ('u1', 'u2', NULL)", "relationships: type must not be NULL"},
      {"INSERT INTO kb_rel(from_id, to_id, type, data) VALUES ('u2', 'u1', 'x', 'nope')", "relationships: data is not valid JSON"},
      {"UPDATE kb_rel SET id = 'other' WHERE type = 'wrote'", "relationships: id cannot be changed"},
      {"UPDATE kb_rel SET to_id = 'ghost' WHERE type = 'wrote'", "to_id 'ghost' is not a thing in kb"},
      {"CREATE VIRTUAL TABLE r2 USING relationships", "relationships: needs things=<the things table its ends belong to>"},
      {"CREATE VIRTUAL TABLE r2 USING relationships(things=nope)", "relationships: things=nope must name a things table"},
      {"CREATE VIRTUAL TABLE r2 USING relationships(things=kb, colour=red)", "relationships: unknown option 'colour'"},
      {"CREATE VIRTUAL TABLE t2 USING things(name TEXT)", "things: takes no column definitions"},
      {"SELECT * FROM graph_traverse('kb_rel', 'ghost', 2)", "graph_traverse: no thing with id 'ghost' in kb"},
      {"SELECT * FROM graph_traverse('kb_rel', 'u1', -1)", "graph_traverse: max_depth must be an integer from 0"},
      {"SELECT * FROM graph_traverse('kb_rel', 'u1', 'deep')", "graph_traverse: max_depth must be an integer"},
      {"SELECT * FROM graph_traverse('kb_rel', 'u1', 2, NULL, 'up')", "graph_traverse: direction must be 'out', 'in' or 'both', got 'up'"},
      {"SELECT * FROM graph_traverse('kb', 'u1', 2)", "graph_traverse: 'kb' is not a relationships table"},
      {"SELECT * FROM graph_traverse('kb_rel', 'u1')", "graph_traverse: missing arguments; usage: graph_traverse("},
      {"SELECT * FROM graph_traverse(NULL, 'u1', 1)", "graph_traverse: the first argument must name a relationships table"},
      {"SELECT * FROM graph_shortest_path('kb_rel', 'u1', 'ghost')", "graph_shortest_path: no thing with id 'ghost' in kb"},
      {"SELECT * FROM graph_cycles('kb_rel', NULL, 0)", "graph_cycles: max_length must be an integer from 1 to 64"},
      {"SELECT * FROM graph_neighbors('kb_rel', NULL)", "graph_neighbors: id must be the id of a thing"},
      {"SELECT things_index('kb', 'email')", "things_index: 'email' is not a JSON path"},
      {"SELECT things_index('kb_rel', '$.a')", "things: 'kb_rel' is not a things table"},
      {"SELECT things_check('nope')", "things: 'nope' is not a things table"},
      {"INSERT INTO kb(id, type, json_path) VALUES ('x', 'T', '$.a')", "things: json_path and json_value are for queries only"},
  };
  for (const Case& c : cases) {
    std::string error = db_.error_of(c.sql);
    EXPECT_NE(error.find(c.message), std::string::npos) << c.sql << "\n  got: " << error;
  }
  // Nothing was half-written by the failed statements.
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM kb"), "3");
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM kb_rel"), "2");
  EXPECT_EQ(db_.scalar("SELECT things_check('kb')"), "ok");
  // Dropping the things table while relationships refer to it is refused.
  EXPECT_EQ(db_.result_code_of("DROP TABLE kb") & 0xff, SQLITE_CONSTRAINT);
}

TEST_F(GraphTables, ConflictClausesAndTimestamps) {
  db_.exec("INSERT OR IGNORE INTO kb(id, type) VALUES ('u1', 'Other')");
  EXPECT_EQ(db_.scalar("SELECT type FROM kb WHERE id = 'u1'"), "User");
  db_.exec("INSERT OR REPLACE INTO kb(id, type, data) VALUES ('u1', 'Admin', '{}')");
  EXPECT_EQ(db_.scalar("SELECT type || data FROM kb WHERE id = 'u1'"), "Admin{}");
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM kb_rel WHERE from_id = 'u1'"), "2") << "REPLACE keeps the thing's relationships";
  db_.exec("INSERT OR REPLACE INTO kb_rel(id, from_id, to_id, type, data) VALUES ('r9', 'u1', 'u2', 'follows', '{\"w\":2}')");
  EXPECT_EQ(db_.scalar("SELECT id || data FROM kb_rel WHERE from_id = 'u1' AND type = 'follows'"), "r9{\"w\":2}");
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM kb_rel"), "2");
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM graph_neighbors('kb_rel', 'u1', 'follows', 'out')"), "1");
  db_.exec("INSERT INTO kb(id, type, created_at) VALUES ('old', 'T', 1000)");
  EXPECT_EQ(db_.scalar("SELECT created_at || '|' || (updated_at = created_at) FROM kb WHERE id = 'old'"), "1000|0");
  db_.exec("UPDATE kb SET type = 'U' WHERE id = 'old'");
  EXPECT_EQ(db_.scalar("SELECT created_at || '|' || (updated_at > 1000) FROM kb WHERE id = 'old'"), "1000|1");
  // Generated ids: 26 characters, increasing.
  db_.exec("INSERT INTO kb(type) VALUES ('G'); INSERT INTO kb(type) VALUES ('G')");
  EXPECT_EQ(db_.scalar("SELECT count(DISTINCT id) || '|' || min(length(id)) FROM kb WHERE type = 'G'"), "2|26");
  EXPECT_EQ(db_.scalar("SELECT (SELECT id FROM kb WHERE type = 'G' ORDER BY rowid LIMIT 1) < (SELECT id FROM kb WHERE type = 'G' ORDER BY rowid DESC LIMIT 1)"), "1");
  db_.exec("INSERT INTO kb_rel(from_id, to_id, type) VALUES ('u2', 'u1', 'knows')");
  EXPECT_EQ(db_.scalar("SELECT length(id) FROM kb_rel WHERE type = 'knows'"), "26");
}

TEST_F(GraphTables, TraversalNamesSurviveARolledBackReuseOfANode) {
  EXPECT_EQ(db_.scalar("SELECT group_concat(node) FROM graph_traverse('kb_rel', 'u1', 1)"), "u1,u2,d1");
  // d1 has the largest node: deleting it and inserting another thing reuses its number.
  db_.exec("BEGIN; DELETE FROM kb WHERE id = 'd1'; INSERT INTO kb(id, type) VALUES ('x', 'T')");
  EXPECT_EQ(db_.scalar("SELECT group_concat(node) FROM graph_traverse('kb_rel', 'x', 1)"), "x");
  db_.exec("ROLLBACK");
  EXPECT_EQ(db_.scalar("SELECT group_concat(node) FROM graph_traverse('kb_rel', 'u1', 1)"), "u1,u2,d1");
  EXPECT_EQ(db_.scalar("SELECT things_check('kb')"), "ok");
}

TEST_F(GraphTables, FunctionsFollowTablesCreatedAndDroppedUnderTheSameName) {
  const std::string traverse = "SELECT group_concat(node) FROM graph_traverse('kb_rel', 'u1', 1)";
  EXPECT_EQ(db_.scalar(traverse), "u1,u2,d1");
  // A temp table of the same name comes first in SQLite's name lookup, so the functions must
  // find it, not the main table they found a moment ago; and main again once it is gone.
  db_.exec("CREATE VIRTUAL TABLE temp.tkb USING things; CREATE VIRTUAL TABLE temp.kb_rel USING relationships(things=tkb);"
           "INSERT INTO temp.tkb(id, type) VALUES ('u1', 'T'), ('z', 'T');"
           "INSERT INTO temp.kb_rel(from_id, to_id, type) VALUES ('u1', 'z', 'x')");
  EXPECT_EQ(db_.scalar(traverse), "u1,z");
  EXPECT_EQ(db_.scalar("SELECT group_concat(node) FROM graph_traverse('main.kb_rel', 'u1', 1)"), "u1,u2,d1");
  db_.exec("DROP TABLE temp.kb_rel; DROP TABLE temp.tkb");
  EXPECT_EQ(db_.scalar(traverse), "u1,u2,d1");
  db_.exec("DROP TABLE kb_rel; CREATE VIRTUAL TABLE kb_rel USING relationships(things=kb);"
           "INSERT INTO kb_rel(from_id, to_id, type) VALUES ('u1', 'u1', 'self')");
  EXPECT_EQ(db_.scalar(traverse), "u1");
}

TEST_F(GraphTables, NamesOutliveTheStatementsThatUseThem) {
  // Traversals hand node names to SQLite without a copy; these keep them in an aggregate while
  // the cursor moves on to another table's graph, and write to the graph being read.
  db_.exec("CREATE VIRTUAL TABLE other USING relationships(things=kb);"
           "INSERT INTO other(from_id, to_id, type) VALUES ('u1', 'd1', 'x'), ('d1', 'u2', 'x')");
  EXPECT_EQ(db_.scalar("SELECT max(g.node) || ',' || min(g.node) || ',' || count(*) FROM"
                       " (SELECT 'kb_rel' AS r UNION ALL SELECT 'other' UNION ALL SELECT 'kb_rel') AS t, graph_traverse(t.r, 'u1', 2) AS g"),
            "u2,d1,9");
  db_.exec("INSERT INTO kb(id, type) VALUES ('n1', 'T'), ('n2', 'T');"
           "INSERT INTO other(from_id, to_id, type) SELECT 'n1', node, 'copied' FROM graph_traverse('other', 'u1', 3);"
           "INSERT INTO other(from_id, to_id, type) SELECT node, 'n2', 'copied' FROM graph_traverse('other', 'n1', 3)");
  EXPECT_EQ(db_.scalar("SELECT group_concat(node) FROM (SELECT node FROM graph_traverse('other', 'n1', 1) ORDER BY node)"), "d1,n1,n2,u1,u2");
  EXPECT_EQ(db_.scalar("SELECT count(*) FROM other WHERE to_id = 'n2'"), "4");
  EXPECT_EQ(db_.scalar("SELECT things_check('kb')"), "ok");
}

TEST_F(GraphTables, LookupsAreIndexAssisted) {
  auto plan = [&](const std::string& sql) {
    std::string all;
    for (const std::string& row : db_.rows("EXPLAIN QUERY PLAN " + sql)) all += row + "\n";
    return all;
  };
  EXPECT_NE(plan("SELECT * FROM kb WHERE id = 'u1'").find("INDEX 1:id ="), std::string::npos);
  EXPECT_NE(plan("SELECT * FROM kb WHERE type = 'User'").find("INDEX 4:type ="), std::string::npos);
  EXPECT_NE(plan("SELECT * FROM kb_rel WHERE from_id = 'u1' AND type = 'x'").find("from_id ="), std::string::npos);
  EXPECT_NE(plan("SELECT * FROM kb_rel WHERE to_id = 'u1'").find("to_id ="), std::string::npos);
  std::string index = db_.scalar("SELECT things_index('kb', '$.email')");
  EXPECT_EQ(db_.scalar("SELECT things_index('kb', '$.email')"), index) << "indexing a path twice is one index";
  EXPECT_EQ(db_.scalar("SELECT id FROM kb WHERE json_path = '$.email' AND json_value = 'b@x.io'"), "u2");
  EXPECT_EQ(db_.scalar("SELECT id FROM kb('$.email', 'a@x.io')"), "u1");
  EXPECT_EQ(db_.scalar("SELECT group_concat(id) FROM kb WHERE json_path = '$.age' AND json_value > 35"), "u2");
  EXPECT_EQ(db_.scalar("SELECT id FROM kb WHERE json_extract(data, '$.email') = 'b@x.io'"), "u2");
  EXPECT_NE(plan("SELECT * FROM kb WHERE json_path = '$.email' AND json_value = ?").find("json_extract(data, json_path) = json_value"),
            std::string::npos);
  // The shadow query the plan runs uses the path's index.
  std::string shadow_plan;
  for (const std::string& row : db_.rows("EXPLAIN QUERY PLAN SELECT node FROM kb_things WHERE json_extract(data, '$.email') = 'x'")) {
    shadow_plan += row;
  }
  EXPECT_NE(shadow_plan.find(index), std::string::npos) << shadow_plan;
}

TEST_F(GraphTables, AdjacencyFollowsOtherConnectionsAndRenames) {
  strata::testing::ScratchDirectory directory("graph_connections");
  std::string path = directory.path("g.db");
  TestDatabase first(path);
  first.exec("PRAGMA journal_mode=WAL; CREATE VIRTUAL TABLE kb USING things; CREATE VIRTUAL TABLE kb_rel USING relationships(things=kb);"
             "INSERT INTO kb(id, type) VALUES ('a', 'T'), ('b', 'T'), ('c', 'T');"
             "INSERT INTO kb_rel(from_id, to_id, type) VALUES ('a', 'b', 'x');");
  EXPECT_EQ(first.scalar("SELECT group_concat(node) FROM graph_traverse('kb_rel', 'a', 5)"), "a,b");
  TestDatabase second(path);
  second.exec("INSERT INTO kb_rel(from_id, to_id, type) VALUES ('b', 'c', 'x')");
  EXPECT_EQ(first.scalar("SELECT group_concat(node) FROM graph_traverse('kb_rel', 'a', 5)"), "a,b,c");
  second.exec("DELETE FROM kb WHERE id = 'b'");
  EXPECT_EQ(first.scalar("SELECT group_concat(node) FROM graph_traverse('kb_rel', 'a', 5)"), "a");
  EXPECT_EQ(first.scalar("SELECT things_check('kb')"), "ok");
  first.exec("ALTER TABLE kb_rel RENAME TO links; ALTER TABLE kb RENAME TO items");
  first.exec("INSERT INTO items(id, type) VALUES ('d', 'T'); INSERT INTO links(from_id, to_id, type) VALUES ('a', 'd', 'x')");
  EXPECT_EQ(first.scalar("SELECT group_concat(node) FROM graph_traverse('links', 'a', 5)"), "a,d");
  EXPECT_EQ(second.scalar("SELECT group_concat(node) FROM graph_traverse('links', 'a', 5)"), "a,d");
  EXPECT_EQ(second.scalar("SELECT things_check('items')"), "ok");
  first.exec("DROP TABLE links; DROP TABLE items");
  EXPECT_EQ(first.scalar("SELECT count(*) FROM sqlite_schema"), "0");
}

}  // namespace
