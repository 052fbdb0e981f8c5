// The sqllogictest runner must fail when results differ; these tests feed it small scripts
// with known mistakes and check that each one is caught, and that correct scripts pass.
#include <gtest/gtest.h>

#include "tests/slt/create_table_rewrite.h"
#include "tests/slt/slt_runner.h"

namespace strata::slt {
namespace {

ScriptReport run_script(std::string_view text, std::optional<std::string> module = std::nullopt,
                        std::string extension = STRATA_EXTENSION_PATH) {
  RunnerOptions options;
  options.extension_path = std::move(extension);
  options.module = std::move(module);
  options.database_directory = ::testing::TempDir();
  return ScriptRunner(options).run("inline.test", text);
}

std::string failures_of(const ScriptReport& report) {
  std::string all;
  for (const std::string& failure : report.failures) all += failure + "\n";
  return all;
}

TEST(Md5, KnownVectors) {
  EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
}

TEST(ScriptRunner, PassesACorrectScriptWithTheExtensionLoaded) {
  ScriptReport report = run_script(R"(# a comment
hash-threshold 100

statement ok
CREATE TABLE t(a INTEGER, b TEXT, c REAL)

statement ok
INSERT INTO t VALUES (1, 'x', 1.5), (2, '', NULL), (NULL, 'tab	here', 2.25)

query ITR rowsort
SELECT a, b, c FROM t
----
1
x
1.500
2
(empty)
NULL
NULL
tab@here
2.250

query T nosort
SELECT strata_version() GLOB '[0-9]*.[0-9]*.[0-9]*'
----
1

statement error
SELECT * FROM no_such_table
)");
  EXPECT_TRUE(report.passed()) << failures_of(report);
  EXPECT_EQ(report.records_run, 5);
  EXPECT_EQ(report.skipped, 0);
}

TEST(ScriptRunner, RendersLikeTheReferenceDriver) {
  ScriptReport report = run_script(R"(query IIRT nosort
SELECT 4294967297, '12abc', 2.0005, x'c3a9' || char(1)
----
1
12
2.001
@@@
)");
  EXPECT_TRUE(report.passed()) << failures_of(report);
}

TEST(ScriptRunner, RoundsHugeRealsTo16SignificantDigits) {
  ScriptReport report = run_script(R"(query RRRR nosort
SELECT -9223372036854775808.0, 18446744073709551616.0, 1234567890123456.7, 123.4567
----
-9223372036854776000.000
18446744073709550000.000
1234567890123457.000
123.457
)");
  EXPECT_TRUE(report.passed()) << failures_of(report);
}

TEST(ScriptRunner, RuntimeErrorEndsTheResultLikeTheReferenceDriver) {
  EXPECT_TRUE(run_script("query I nosort\nSELECT sum(x) FROM (SELECT 9223372036854775807 AS x "
                         "UNION ALL SELECT 1)\n----\n")
                  .passed());
  // A query that cannot even be prepared is a failure.
  EXPECT_FALSE(run_script("query I nosort\nSELECT nope()\n----\n").passed());
}

TEST(ScriptRunner, CatchesAWrongValue) {
  ScriptReport report = run_script("query I nosort\nSELECT 1\n----\n2\n");
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_NE(report.failures[0].find("inline.test:1: wrong result"), std::string::npos);
}

TEST(ScriptRunner, CatchesMissingOrExtraRows) {
  EXPECT_FALSE(run_script("query I nosort\nSELECT 1 UNION ALL SELECT 2\n----\n1\n").passed());
  EXPECT_FALSE(run_script("query I nosort\nSELECT 1\n----\n1\n2\n").passed());
  EXPECT_FALSE(run_script("query I nosort\nSELECT 1\n").passed());
  EXPECT_TRUE(run_script("query I nosort\nSELECT 1 WHERE 0\n----\n").passed());
}

TEST(ScriptRunner, HashesAboveTheThreshold) {
  // md5 of "1\n2\n3\n".
  const std::string good = "hash-threshold 2\n\nquery I nosort\n"
                           "SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3\n----\n"
                           "3 values hashing to " + md5_hex("1\n2\n3\n") + "\n";
  EXPECT_TRUE(run_script(good).passed()) << failures_of(run_script(good));
  const std::string bad = "hash-threshold 2\n\nquery I nosort\n"
                          "SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 4\n----\n"
                          "3 values hashing to " + md5_hex("1\n2\n3\n") + "\n";
  ScriptReport report = run_script(bad);
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_NE(report.failures[0].find("wrong result hash"), std::string::npos);
}

TEST(ScriptRunner, SortModes) {
  EXPECT_TRUE(run_script("query IT rowsort\nSELECT 2, 'a' UNION ALL SELECT 1, 'b'\n----\n"
                         "1\nb\n2\na\n")
                  .passed());
  EXPECT_TRUE(run_script("query IT valuesort\nSELECT 2, 'a' UNION ALL SELECT 1, 'b'\n----\n"
                         "1\n2\na\nb\n")
                  .passed());
  // nosort keeps the engine's order.
  EXPECT_FALSE(run_script("query I nosort\nSELECT 2 UNION ALL SELECT 1\n----\n1\n2\n").passed());
  EXPECT_FALSE(run_script("query I sideways\nSELECT 1\n----\n1\n").passed());
}

TEST(ScriptRunner, LabelsMustAgree) {
  EXPECT_TRUE(run_script("query I nosort label-a\nSELECT 1\n----\n1\n\n"
                         "query I nosort label-a\nSELECT 2-1\n----\n1\n")
                  .passed());
  ScriptReport report = run_script("query I nosort label-a\nSELECT 1\n----\n1\n\n"
                                   "query I nosort label-a\nSELECT 2\n----\n2\n");
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_NE(report.failures[0].find("does not agree"), std::string::npos);
}

TEST(ScriptRunner, StatementExpectations) {
  EXPECT_FALSE(run_script("statement ok\nSELECT * FROM missing\n").passed());
  EXPECT_FALSE(run_script("statement error\nSELECT 1\n").passed());
  EXPECT_FALSE(run_script("statement maybe\nSELECT 1\n").passed());
}

TEST(ScriptRunner, SkipifOnlyifAndHalt) {
  ScriptReport report = run_script(R"(skipif sqlite
query I nosort
SELECT 1
----
999

onlyif mysql
statement ok
THIS IS NOT SQL

onlyif sqlite
query I nosort
SELECT 7
----
7

halt

query I nosort
SELECT 1
----
999
)");
  EXPECT_TRUE(report.passed()) << failures_of(report);
  EXPECT_EQ(report.skipped, 2);
  EXPECT_EQ(report.records_run, 1);
  EXPECT_TRUE(report.halted);
}

TEST(ScriptRunner, UnknownRecordFailsInsteadOfBeingSkipped) {
  ScriptReport report = run_script("frobnicate now\nSELECT 1\n");
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_NE(report.failures[0].find("unknown record type 'frobnicate'"), std::string::npos);
  EXPECT_FALSE(run_script("query X nosort\nSELECT 1\n----\n1\n").passed());
  EXPECT_FALSE(run_script("query II nosort\nSELECT 1\n----\n1\n").passed());
}

TEST(ScriptRunner, FailsWhenTheExtensionCannotBeLoaded) {
  ScriptReport report = run_script("query I nosort\nSELECT 1\n----\n1\n", std::nullopt,
                                   "/nonexistent/libstrata.so");
  ASSERT_FALSE(report.passed());
  EXPECT_NE(report.failures[0].find("cannot load extension"), std::string::npos);
  EXPECT_EQ(report.records_run, 0);
}

TEST(ScriptRunner, ModuleModeRewritesCreateTable) {
  // No module named 'nosuchmodule' exists: the rewritten CREATE TABLE must fail, proving the
  // rewrite happened.
  ScriptReport report = run_script("statement ok\nCREATE TABLE t(a)\n", "nosuchmodule");
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_NE(report.failures[0].find("no such module: nosuchmodule"), std::string::npos);
}

TEST(ScriptRunner, ModuleModeToleratesOnlyVirtualTableRefusals) {
  // fts5 (built into SQLite) stands in for a strata module: it takes plain column names.
  ScriptReport report = run_script(R"(statement ok
CREATE TABLE t(a, b)

statement ok
INSERT INTO t VALUES ('x', 'y')

statement ok
CREATE INDEX t_a ON t(a)

statement ok
CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN SELECT 1; END

query TT nosort
SELECT a, b FROM t
----
x
y
)", "fts5");
  EXPECT_TRUE(report.passed()) << failures_of(report);
  EXPECT_EQ(report.allowed_differences, 2);

  // Any other failing statement is still a failure in module mode.
  ScriptReport failing = run_script("statement ok\nCREATE TABLE t(a)\n\n"
                                    "statement ok\nINSERT INTO t VALUES (1, 2)\n",
                                    "fts5");
  EXPECT_EQ(failing.failures.size(), 1u) << failures_of(failing);
  EXPECT_EQ(failing.allowed_differences, 0);
}

TEST(Rewrite, PlainCreateTable) {
  EXPECT_EQ(rewrite_create_table("CREATE TABLE t1(a INTEGER, b TEXT)", "columnar"),
            "CREATE VIRTUAL TABLE t1 USING columnar(a INTEGER, b TEXT)");
  EXPECT_EQ(rewrite_create_table("  create table IF NOT EXISTS \"x y\" (a, b CHECK(b>(1)));",
                                 "columnar"),
            "CREATE VIRTUAL TABLE IF NOT EXISTS \"x y\" USING columnar(a, b CHECK(b>(1)))");
  EXPECT_EQ(rewrite_create_table("CREATE TEMP TABLE t(a)", "m"),
            "CREATE VIRTUAL TABLE temp.t USING m(a)");
  EXPECT_EQ(rewrite_create_table("CREATE TABLE main.t(a DEFAULT ')')", "m"),
            "CREATE VIRTUAL TABLE main.t USING m(a DEFAULT ')')");
  EXPECT_EQ(rewrite_create_table("CREATE TABLE [t](a) -- trailing comment", "m"),
            "CREATE VIRTUAL TABLE [t] USING m(a)");
}

TEST(Rewrite, LeavesOtherStatementsAlone) {
  EXPECT_EQ(rewrite_create_table("CREATE TABLE t AS SELECT 1", "m"), std::nullopt);
  EXPECT_EQ(rewrite_create_table("CREATE TABLE t(a) WITHOUT ROWID", "m"), std::nullopt);
  EXPECT_EQ(rewrite_create_table("CREATE TABLE t(a) STRICT", "m"), std::nullopt);
  EXPECT_EQ(rewrite_create_table("CREATE INDEX i ON t(a)", "m"), std::nullopt);
  EXPECT_EQ(rewrite_create_table("CREATE VIEW v AS SELECT 1", "m"), std::nullopt);
  EXPECT_EQ(rewrite_create_table("INSERT INTO t VALUES (1)", "m"), std::nullopt);
  EXPECT_EQ(rewrite_create_table("CREATE TABLE t(a", "m"), std::nullopt);
}

TEST(StatementKind, FirstKeywords) {
  EXPECT_EQ(statement_kind("CREATE UNIQUE INDEX i ON t(a)"), "CREATE INDEX");
  EXPECT_EQ(statement_kind(" /* c */ create temp trigger tr AFTER INSERT ON t BEGIN SELECT 1; END"),
            "CREATE TRIGGER");
  EXPECT_EQ(statement_kind("reindex t"), "REINDEX");
  EXPECT_EQ(statement_kind("DROP INDEX i"), "DROP INDEX");
}

}  // namespace
}  // namespace strata::slt
