// The columnar-mode rewrite of the sqllogictest runner:
//
//   CREATE TABLE t1(a INTEGER, b TEXT)        -> CREATE VIRTUAL TABLE t1 USING columnar(a INTEGER, b TEXT)
//   CREATE TEMP TABLE IF NOT EXISTS "x y"(a)  -> CREATE VIRTUAL TABLE IF NOT EXISTS temp."x y" USING columnar(a)
//
// so that SQLite's own scripts check a strata module with unchanged expected results. Statements
// that are not a plain `CREATE [TEMP] TABLE name (…)` — CREATE TABLE … AS SELECT, WITHOUT ROWID
// or STRICT tables, anything else — come back as std::nullopt and run unchanged.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace strata::slt {

std::optional<std::string> rewrite_create_table(std::string_view statement,
                                                std::string_view module);

// The first two keywords of a statement, upper-cased ("CREATE INDEX", "REINDEX", …), skipping
// comments and the words UNIQUE / TEMP / TEMPORARY; used to recognise statements SQLite refuses
// on every virtual table.
std::string statement_kind(std::string_view statement);

// The (unqualified, lower-case) name of the index or trigger a CREATE INDEX, CREATE TRIGGER,
// DROP INDEX, DROP TRIGGER or REINDEX statement names; empty for anything else.
std::string named_object(std::string_view statement);

}  // namespace strata::slt
