#include "ext/sqlite_shim.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "ext/sqlite_handles.h"
#include "tests/unit/test_database.h"

namespace strata {
namespace {

using testing::TestDatabase;

TEST(RunGuarded, PassesStatusThrough) {
  EXPECT_TRUE(run_guarded([] { return Status::ok(); }).is_ok());
  EXPECT_EQ(run_guarded([] { return Status::busy("locked"); }).code(), StatusCode::kBusy);
}

TEST(RunGuarded, TurnsExceptionsIntoStatus) {
  Status oom = run_guarded([]() -> Status { throw std::bad_alloc(); });
  EXPECT_EQ(oom.code(), StatusCode::kNoMemory);
  Status failure = run_guarded([]() -> Status { throw std::runtime_error("invariant broken"); });
  EXPECT_EQ(failure.code(), StatusCode::kInternal);
  EXPECT_EQ(failure.message(), "internal error: invariant broken");
  Status odd = run_guarded([]() -> Status { throw 42; });
  EXPECT_EQ(odd.code(), StatusCode::kInternal);
  EXPECT_EQ(odd.message(), "internal error: unknown exception");
}

TEST(SqliteCodeOf, MapsEveryCategory) {
  EXPECT_EQ(sqlite_code_of(Status::ok()), SQLITE_OK);
  EXPECT_EQ(sqlite_code_of(Status::error("x")), SQLITE_ERROR);
  EXPECT_EQ(sqlite_code_of(Status::corruption("x")), SQLITE_CORRUPT_VTAB);
  EXPECT_EQ(sqlite_code_of(Status::constraint("x")), SQLITE_CONSTRAINT);
  EXPECT_EQ(sqlite_code_of(Status::no_memory()), SQLITE_NOMEM);
  EXPECT_EQ(sqlite_code_of(Status::io_error("x")), SQLITE_IOERR);
  EXPECT_EQ(sqlite_code_of(Status::busy("x")), SQLITE_BUSY);
  EXPECT_EQ(sqlite_code_of(Status::not_found("x")), SQLITE_ERROR);
  EXPECT_EQ(sqlite_code_of(Status::unsupported("x")), SQLITE_ERROR);
  EXPECT_EQ(sqlite_code_of(Status::too_big("x")), SQLITE_TOOBIG);
  EXPECT_EQ(sqlite_code_of(Status::internal("x")), SQLITE_INTERNAL);
  EXPECT_EQ(sqlite_code_of(Status::constraint("x").with_sqlite_code(SQLITE_CONSTRAINT_NOTNULL)),
            SQLITE_CONSTRAINT_NOTNULL);
}

TEST(VtabCall, SetsErrorMessageOnTheVtab) {
  TestDatabase db;  // sets up the API table for sqlite3_free
  sqlite3_vtab vtab{};
  EXPECT_EQ(vtab_call(&vtab, [] { return Status::ok(); }), SQLITE_OK);
  EXPECT_EQ(vtab.zErrMsg, nullptr);
  EXPECT_EQ(vtab_call(&vtab, [] { return Status::corruption("columnar: chunk 7 is damaged"); }),
            SQLITE_CORRUPT_VTAB);
  ASSERT_NE(vtab.zErrMsg, nullptr);
  EXPECT_STREQ(vtab.zErrMsg, "columnar: chunk 7 is damaged");
  // A second error replaces (and frees) the first message.
  EXPECT_EQ(vtab_call(&vtab, []() -> Status { throw std::bad_alloc(); }), SQLITE_NOMEM);
  EXPECT_EQ(vtab.zErrMsg, nullptr);
  sqlite3_free(vtab.zErrMsg);
}

TEST(CursorCall, ReportsToTheCursorsTable) {
  TestDatabase db;
  sqlite3_vtab vtab{};
  sqlite3_vtab_cursor cursor{};
  cursor.pVtab = &vtab;
  EXPECT_EQ(cursor_call(&cursor, [] { return Status::io_error("tier: cannot reach store"); }),
            SQLITE_IOERR);
  ASSERT_NE(vtab.zErrMsg, nullptr);
  EXPECT_STREQ(vtab.zErrMsg, "tier: cannot reach store");
  sqlite3_free(vtab.zErrMsg);
}

TEST(ErrorOutCall, SetsTheOutMessage) {
  TestDatabase db;
  char* message = nullptr;
  EXPECT_EQ(error_out_call(&message, [] { return Status::error("hnsw: bad dims"); }), SQLITE_ERROR);
  ASSERT_NE(message, nullptr);
  EXPECT_STREQ(message, "hnsw: bad dims");
  sqlite3_free(message);
  EXPECT_EQ(error_out_call(nullptr, [] { return Status::error("no place to put it"); }),
            SQLITE_ERROR);
}

// SQL functions whose bodies fail in each way a body can.
void fail_with_status(sqlite3_context* context, int, sqlite3_value** argv) {
  function_call(context, [&]() -> Status {
    auto kind = std::string_view(reinterpret_cast<const char*>(sqlite3_value_text(argv[0])));
    if (kind == "bad_alloc") throw std::bad_alloc();
    if (kind == "exception") throw std::logic_error("oops");
    if (kind == "corrupt") return Status::corruption("test: damaged");
    if (kind == "toobig") return Status::too_big("");
    if (kind == "constraint") {
      return Status::constraint("NOT NULL constraint failed: t.x")
          .with_sqlite_code(SQLITE_CONSTRAINT_NOTNULL);
    }
    sqlite3_result_int(context, 1);
    return Status::ok();
  });
}

Status call_failing_function(sqlite3* db, std::string_view kind) {
  Result<Statement> stmt = Statement::prepare(db, "SELECT fail_with_status(?1)");
  if (!stmt.is_ok()) return stmt.status();
  STRATA_RETURN_IF_ERROR(stmt->bind_text(1, kind));
  return stmt->run();
}

TEST(FunctionCall, ReportsEveryFailureAsAnSqlError) {
  TestDatabase db;
  ASSERT_EQ(sqlite3_create_function_v2(db.get(), "fail_with_status", 1, SQLITE_UTF8, nullptr,
                                       fail_with_status, nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_TRUE(call_failing_function(db.get(), "fine").is_ok());

  Status oom = call_failing_function(db.get(), "bad_alloc");
  EXPECT_EQ(oom.code(), StatusCode::kNoMemory);

  Status exception = call_failing_function(db.get(), "exception");
  EXPECT_EQ(exception.sqlite_code(), SQLITE_INTERNAL);
  EXPECT_EQ(exception.message(), "internal error: oops");

  Status corrupt = call_failing_function(db.get(), "corrupt");
  EXPECT_EQ(corrupt.sqlite_code(), SQLITE_CORRUPT_VTAB);
  EXPECT_EQ(corrupt.message(), "test: damaged");

  Status too_big = call_failing_function(db.get(), "toobig");
  EXPECT_EQ(too_big.sqlite_code(), SQLITE_TOOBIG);

  Status constraint = call_failing_function(db.get(), "constraint");
  EXPECT_EQ(constraint.sqlite_code(), SQLITE_CONSTRAINT_NOTNULL);
  EXPECT_EQ(constraint.message(), "NOT NULL constraint failed: t.x");
}

}  // namespace
}  // namespace strata
