#include "ext/status.h"

#include <gtest/gtest.h>

#include <memory>

namespace strata {
namespace {

TEST(Status, DefaultIsOkAndHasNoMessage) {
  Status status;
  EXPECT_TRUE(status.is_ok());
  EXPECT_TRUE(static_cast<bool>(status));
  EXPECT_EQ(status.code(), StatusCode::kOk);
  EXPECT_TRUE(status.message().empty());
  EXPECT_EQ(status.to_string(), "ok");
}

TEST(Status, ErrorsCarryCodeAndMessage) {
  Status status = Status::corruption("chunk 3: bad checksum");
  EXPECT_FALSE(status.is_ok());
  EXPECT_EQ(status.code(), StatusCode::kCorruption);
  EXPECT_EQ(status.message(), "chunk 3: bad checksum");
  EXPECT_EQ(status.to_string(), "corruption: chunk 3: bad checksum");
  EXPECT_EQ(status.sqlite_code(), 0);
}

TEST(Status, NoMemoryHasNoMessageToAllocate) {
  Status status = Status::no_memory();
  EXPECT_EQ(status.code(), StatusCode::kNoMemory);
  EXPECT_TRUE(status.message().empty());
}

TEST(Status, ExplicitSqliteCodeOverridesCategory) {
  Status status = Status::constraint("UNIQUE constraint failed: t.a").with_sqlite_code(2067);
  EXPECT_EQ(status.code(), StatusCode::kConstraint);
  EXPECT_EQ(status.sqlite_code(), 2067);
}

TEST(Status, EveryCodeHasAName) {
  for (StatusCode code : {StatusCode::kOk, StatusCode::kError, StatusCode::kCorruption,
                          StatusCode::kConstraint, StatusCode::kNoMemory, StatusCode::kIoError,
                          StatusCode::kBusy, StatusCode::kNotFound, StatusCode::kUnsupported,
                          StatusCode::kTooBig, StatusCode::kInternal}) {
    EXPECT_NE(status_code_name(code), "unknown status");
  }
}

Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return Status::error(std::string("not a digit: ") + c);
  return c - '0';
}

Result<int> sum_digits(const char* text) {
  int sum = 0;
  for (const char* p = text; *p; ++p) {
    STRATA_ASSIGN_OR_RETURN(int digit, parse_digit(*p));
    sum += digit;
  }
  return sum;
}

Status check_even(int value) {
  if (value % 2 != 0) return Status::error("odd");
  return Status::ok();
}

Status check_digit_sum_even(const char* text) {
  STRATA_ASSIGN_OR_RETURN(int sum, sum_digits(text));
  STRATA_RETURN_IF_ERROR(check_even(sum));
  return Status::ok();
}

TEST(Result, HoldsValueOrStatus) {
  Result<int> good = parse_digit('7');
  ASSERT_TRUE(good.is_ok());
  EXPECT_EQ(*good, 7);
  EXPECT_TRUE(good.status().is_ok());

  Result<int> bad = parse_digit('x');
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().message(), "not a digit: x");
}

TEST(Result, MacrosPropagateTheFirstError) {
  EXPECT_EQ(*sum_digits("123"), 6);
  EXPECT_EQ(sum_digits("12a4").status().message(), "not a digit: a");
  EXPECT_TRUE(check_digit_sum_even("112").is_ok());
  EXPECT_EQ(check_digit_sum_even("111").message(), "odd");
  EXPECT_EQ(check_digit_sum_even("1z").message(), "not a digit: z");
}

TEST(Result, HoldsMoveOnlyValues) {
  Result<std::unique_ptr<int>> result = std::make_unique<int>(42);
  ASSERT_TRUE(result.is_ok());
  std::unique_ptr<int> owned = std::move(result).value();
  EXPECT_EQ(*owned, 42);
}

}  // namespace
}  // namespace strata
