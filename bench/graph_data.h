// The graph bench's data, shared by bench/graph_bench and bench/things_tier_bench: a deterministic
// scale-free graph, the things' ids and JSON data, and loading both into a things and a
// relationships table (or ordinary tables of the same columns).
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/bench_database.h"

namespace strata::bench::graph {

struct Edge {
  uint32_t from, to, type;
};

inline const char* const kTypes[] = {"follows", "likes", "mentions"};

// Preferential attachment: `targets` holds both ends of every edge so far, so a uniform pick
// from it chooses a node with probability proportional to its degree.
inline std::vector<Edge> scale_free_graph(size_t things, size_t per_thing, uint32_t seed) {
  std::mt19937_64 random(seed);
  std::vector<Edge> edges;
  edges.reserve(things * per_thing);
  std::vector<uint32_t> targets;
  targets.reserve(things * per_thing * 2);
  const size_t seed_nodes = per_thing + 1;
  for (uint32_t i = 1; i < seed_nodes && i < things; ++i) {
    for (uint32_t j = 0; j < i; ++j) {
      edges.push_back({i, j, static_cast<uint32_t>(random() % 3)});
      targets.push_back(i);
      targets.push_back(j);
    }
  }
  std::set<std::pair<uint32_t, uint32_t>> chosen;
  for (uint32_t i = static_cast<uint32_t>(seed_nodes); i < things; ++i) {
    chosen.clear();
    while (chosen.size() < per_thing) {
      uint32_t to = targets[random() % targets.size()];
      uint32_t type = static_cast<uint32_t>(random() % 3);
      if (!chosen.emplace(to, type).second) continue;
      edges.push_back({i, to, type});
    }
    for (const auto& [to, type] : chosen) {
      targets.push_back(i);
      targets.push_back(to);
    }
  }
  return edges;
}

// Built by appending: GCC 12 warns falsely (-Wrestrict) about "literal" + std::string.
inline std::string numbered(std::string_view prefix, uint64_t number, std::string_view suffix = {}) {
  std::string text(prefix);
  text += std::to_string(number);
  text += suffix;
  return text;
}
inline std::string thing_id(uint32_t i) { return numbered("u", i); }
inline std::string thing_data(uint32_t i) {
  return "{\"email\":\"user" + std::to_string(i) + "@example.com\",\"age\":" + std::to_string(18 + i % 60) + ",\"city\":\"c" +
         std::to_string(i % 1000) + "\"}";
}

inline void bind_text(sqlite3_stmt* stmt, int index, const std::string& text) {
  sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

inline void step_done(sqlite3* db, sqlite3_stmt* stmt) {
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) die(std::string("step: ") + sqlite3_errmsg(db));
  sqlite3_reset(stmt);
}

// Seconds to insert every thing, then every relationship (one transaction each).
inline std::pair<double, double> load_graph(const BenchDatabase& db, const std::string& things_table, const std::string& relationships_table,
                                            size_t things, const std::vector<Edge>& edges, const std::function<int64_t(uint32_t)>& created_at) {
  sqlite3_stmt* insert_thing = db.prepare("INSERT INTO " + things_table + "(id, type, data, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)");
  auto start = std::chrono::steady_clock::now();
  db.exec("BEGIN");
  for (uint32_t i = 0; i < things; ++i) {
    bind_text(insert_thing, 1, thing_id(i));
    sqlite3_bind_text(insert_thing, 2, i % 7 == 0 ? "Org" : "User", -1, SQLITE_STATIC);
    bind_text(insert_thing, 3, thing_data(i));
    sqlite3_bind_int64(insert_thing, 4, created_at(i));
    step_done(db.get(), insert_thing);
  }
  db.exec("COMMIT");
  double things_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  sqlite3_finalize(insert_thing);
  sqlite3_stmt* insert_edge =
      db.prepare("INSERT INTO " + relationships_table + "(id, from_id, to_id, type, created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
  start = std::chrono::steady_clock::now();
  db.exec("BEGIN");
  for (size_t i = 0; i < edges.size(); ++i) {
    bind_text(insert_edge, 1, numbered("r", i));
    bind_text(insert_edge, 2, thing_id(edges[i].from));
    bind_text(insert_edge, 3, thing_id(edges[i].to));
    sqlite3_bind_text(insert_edge, 4, kTypes[edges[i].type], -1, SQLITE_STATIC);
    sqlite3_bind_int64(insert_edge, 5, 1700000000000 + static_cast<int64_t>(i));
    step_done(db.get(), insert_edge);
  }
  db.exec("COMMIT");
  double edges_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  sqlite3_finalize(insert_edge);
  return {things_seconds, edges_seconds};
}

}  // namespace strata::bench::graph
