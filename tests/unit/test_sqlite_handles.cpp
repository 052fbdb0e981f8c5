#include "ext/sqlite_handles.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/unit/test_database.h"

namespace strata {
namespace {

using testing::TestDatabase;

TEST(Statement, PrepareBindStepRead) {
  TestDatabase db;
  Result<Statement> stmt = Statement::prepare(db.get(), "SELECT ?1, ?2, ?3, ?4, ?5, typeof(?5)");
  ASSERT_TRUE(stmt.is_ok()) << stmt.status().message();
  const std::byte bytes[] = {std::byte{0}, std::byte{0xff}, std::byte{7}};
  ASSERT_TRUE(stmt->bind_int64(1, INT64_MIN).is_ok());
  ASSERT_TRUE(stmt->bind_double(2, -0.5).is_ok());
  ASSERT_TRUE(stmt->bind_text(3, std::string_view("a\0b", 3)).is_ok());
  ASSERT_TRUE(stmt->bind_blob(4, bytes).is_ok());
  ASSERT_TRUE(stmt->bind_null(5).is_ok());
  Result<bool> row = stmt->step();
  ASSERT_TRUE(row.is_ok());
  ASSERT_TRUE(*row);
  EXPECT_EQ(stmt->column_count(), 6);
  EXPECT_EQ(stmt->column_int64(0), INT64_MIN);
  EXPECT_EQ(stmt->column_double(1), -0.5);
  EXPECT_EQ(stmt->column_text(2), std::string_view("a\0b", 3));
  std::span<const std::byte> blob = stmt->column_blob(3);
  EXPECT_EQ(std::vector<std::byte>(blob.begin(), blob.end()),
            std::vector<std::byte>(std::begin(bytes), std::end(bytes)));
  EXPECT_TRUE(stmt->column_is_null(4));
  EXPECT_EQ(stmt->column_text(5), "null");
  row = stmt->step();
  ASSERT_TRUE(row.is_ok());
  EXPECT_FALSE(*row);
}

TEST(Statement, EmptyBlobBindsAsBlobNotNull) {
  TestDatabase db;
  Result<Statement> stmt = Statement::prepare(db.get(), "SELECT typeof(?1), length(?1)");
  ASSERT_TRUE(stmt.is_ok());
  ASSERT_TRUE(stmt->bind_blob(1, std::span<const std::byte>()).is_ok());
  ASSERT_TRUE(*stmt->step());
  EXPECT_EQ(stmt->column_text(0), "blob");
  EXPECT_EQ(stmt->column_int64(1), 0);
}

TEST(Statement, RejectsTrailingStatementsButAllowsComments) {
  TestDatabase db;
  EXPECT_TRUE(Statement::prepare(db.get(), "SELECT 1; -- done\n /* really */ ;").is_ok());
  Result<Statement> two = Statement::prepare(db.get(), "SELECT 1; SELECT 2");
  ASSERT_FALSE(two.is_ok());
  EXPECT_NE(two.status().message().find("more than one SQL statement"), std::string::npos);
  EXPECT_FALSE(Statement::prepare(db.get(), "   ").is_ok());
}

TEST(Statement, PrepareErrorCarriesSqliteMessage) {
  TestDatabase db;
  Result<Statement> stmt = Statement::prepare(db.get(), "SELEC 1");
  ASSERT_FALSE(stmt.is_ok());
  EXPECT_EQ(stmt.status().code(), StatusCode::kError);
  EXPECT_EQ(stmt.status().message(), "near \"SELEC\": syntax error");
}

TEST(Statement, StepErrorKeepsExtendedCodeAndMessage) {
  TestDatabase db;
  db.exec("CREATE TABLE t(a UNIQUE)");
  db.exec("INSERT INTO t VALUES (1)");
  Result<Statement> insert = Statement::prepare(db.get(), "INSERT INTO t VALUES (?1)");
  ASSERT_TRUE(insert.is_ok());
  ASSERT_TRUE(insert->bind_int64(1, 1).is_ok());
  Status status = insert->run();
  EXPECT_EQ(status.code(), StatusCode::kConstraint);
  EXPECT_EQ(status.sqlite_code(), SQLITE_CONSTRAINT_UNIQUE);
  EXPECT_EQ(status.message(), "UNIQUE constraint failed: t.a");
  // Reusable after the error: reset happened inside step().
  ASSERT_TRUE(insert->bind_int64(1, 2).is_ok());
  EXPECT_TRUE(insert->run().is_ok());
  EXPECT_EQ(db.scalar("SELECT group_concat(a) FROM t"), "1,2");
}

TEST(Statement, ResetReusesBindings) {
  TestDatabase db;
  Result<Statement> stmt = Statement::prepare_persistent(db.get(), "SELECT ?1 * 2");
  ASSERT_TRUE(stmt.is_ok());
  ASSERT_TRUE(stmt->bind_int64(1, 21).is_ok());
  ASSERT_TRUE(*stmt->step());
  EXPECT_EQ(stmt->column_int64(0), 42);
  stmt->reset();
  ASSERT_TRUE(*stmt->step());
  EXPECT_EQ(stmt->column_int64(0), 42);
  stmt->reset();
  stmt->clear_bindings();
  ASSERT_TRUE(*stmt->step());
  EXPECT_TRUE(stmt->column_is_null(0));
}

TEST(Statement, BindOutOfRangeIsAnInternalError) {
  TestDatabase db;
  Result<Statement> stmt = Statement::prepare(db.get(), "SELECT ?1");
  ASSERT_TRUE(stmt.is_ok());
  Status status = stmt->bind_int64(2, 1);
  EXPECT_EQ(status.code(), StatusCode::kInternal);
}

TEST(Statement, MoveTransfersOwnership) {
  TestDatabase db;
  Result<Statement> prepared = Statement::prepare(db.get(), "SELECT 5");
  ASSERT_TRUE(prepared.is_ok());
  Statement moved = std::move(prepared).value();
  EXPECT_TRUE(moved.valid());
  Statement target;
  target = std::move(moved);
  EXPECT_FALSE(moved.valid());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  ASSERT_TRUE(*target.step());
  EXPECT_EQ(target.column_int64(0), 5);
}

TEST(Execute, RunsSeveralStatementsAndReportsErrors) {
  TestDatabase db;
  EXPECT_TRUE(execute(db.get(), "CREATE TABLE a(x); INSERT INTO a VALUES (1);").is_ok());
  Status status = execute(db.get(), "INSERT INTO nowhere VALUES (1)");
  EXPECT_EQ(status.message(), "no such table: nowhere");
}

TEST(Quoting, IdentifiersAndLiteralsRoundTripThroughSqlite) {
  TestDatabase db;
  const std::string weird = "we\"ird 'name";
  ASSERT_TRUE(execute(db.get(), "CREATE TABLE " + quote_identifier(weird) + "(" +
                                    quote_identifier("c\"ol") + ")")
                  .is_ok());
  ASSERT_TRUE(execute(db.get(), "INSERT INTO " + quote_identifier(weird) + " VALUES (" +
                                    quote_literal("it's \"x\"") + ")")
                  .is_ok());
  EXPECT_EQ(db.scalar("SELECT \"c\"\"ol\" FROM \"we\"\"ird 'name\""), "it's \"x\"");
  EXPECT_EQ(quote_identifier(""), "\"\"");
  EXPECT_EQ(quote_literal(""), "''");
}

TEST(SqliteString, OwnsAndReleases) {
  TestDatabase db;  // sets up the API table
  SqliteString copy = SqliteString::copy_of("hello");
  EXPECT_EQ(copy.view(), "hello");
  SqliteString moved(std::move(copy));
  EXPECT_TRUE(copy.empty());  // NOLINT(bugprone-use-after-move)
  char* raw = moved.release();
  EXPECT_TRUE(moved.empty());
  EXPECT_STREQ(raw, "hello");
  sqlite3_free(raw);
  SqliteString empty_copy = SqliteString::copy_of("");
  ASSERT_NE(empty_copy.get(), nullptr);
  EXPECT_TRUE(empty_copy.empty());
}

TEST(StatusFromSqlite, MapsCategories) {
  EXPECT_TRUE(status_from_sqlite(nullptr, SQLITE_OK).is_ok());
  EXPECT_TRUE(status_from_sqlite(nullptr, SQLITE_DONE).is_ok());
  TestDatabase db;
  EXPECT_EQ(status_from_sqlite(nullptr, SQLITE_NOMEM).code(), StatusCode::kNoMemory);
  EXPECT_EQ(status_from_sqlite(nullptr, SQLITE_CORRUPT).code(), StatusCode::kCorruption);
  EXPECT_EQ(status_from_sqlite(nullptr, SQLITE_BUSY).code(), StatusCode::kBusy);
  EXPECT_EQ(status_from_sqlite(nullptr, SQLITE_IOERR_READ).code(), StatusCode::kIoError);
  Status with_context = status_from_sqlite(nullptr, SQLITE_FULL, "columnar: sealing chunk");
  EXPECT_EQ(with_context.message(), "columnar: sealing chunk: database or disk is full");
  EXPECT_EQ(with_context.sqlite_code(), SQLITE_FULL);
}

}  // namespace
}  // namespace strata
