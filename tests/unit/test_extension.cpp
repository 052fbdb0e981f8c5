#include "ext/extension.h"

#include <gtest/gtest.h>

#include "ext/sqlite_handles.h"
#include "tests/unit/test_database.h"

namespace strata {
namespace {

using testing::TestDatabase;

TEST(Extension, RegistersStrataVersion) {
  TestDatabase db;
  EXPECT_EQ(db.scalar("SELECT strata_version()"), STRATA_VERSION_FOR_TESTS);
  EXPECT_EQ(db.error_of("SELECT strata_version(1)"),
            "wrong number of arguments to function strata_version()");
}

TEST(Extension, StrataVersionIsUsableInSchemaExpressions) {
  // Only INNOCUOUS + DETERMINISTIC functions may appear in CHECK / generated columns / indexes
  // when trusted_schema is off.
  TestDatabase db;
  db.exec("PRAGMA trusted_schema=OFF");
  db.exec("CREATE TABLE t(a, v AS (strata_version()))");
  db.exec("INSERT INTO t(a) VALUES (1)");
  EXPECT_EQ(db.scalar("SELECT v FROM t"), STRATA_VERSION_FOR_TESTS);
}

TEST(Extension, RegisteringAgainIsHarmlessEvenInsideARunningStatement) {
  TestDatabase db;
  EXPECT_TRUE(register_strata(db.get()).is_ok());
  Result<Statement> running = Statement::prepare(db.get(), "SELECT strata_version() FROM (SELECT 1 UNION ALL SELECT 2)");
  ASSERT_TRUE(running.is_ok());
  ASSERT_TRUE(*running->step());
  // Replacing a function while a statement runs would fail with SQLITE_BUSY.
  EXPECT_TRUE(register_strata(db.get()).is_ok());
  ASSERT_TRUE(*running->step());
  EXPECT_EQ(running->column_text(0), STRATA_VERSION_FOR_TESTS);
}

}  // namespace
}  // namespace strata
