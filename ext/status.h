// Status and Result<T>: how every strata function reports failure.
//
// Code below the SQLite C ABI never throws to its caller; it returns a Status (a code and a
// message, no allocation when OK) or a Result<T> (a value or a non-OK Status). The shims in
// sqlite_shim.h turn a Status into an SQLite result code and error message at the boundary.
//
// This header does not include SQLite so that codecs/ and tiering/ can use it too; the
// mapping to SQLite result codes lives in sqlite_shim.cpp.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace strata {

enum class StatusCode {
  kOk = 0,
  kError,            // a user mistake: bad option, wrong type, bad argument (SQLITE_ERROR)
  kCorruption,       // stored data failed a check (SQLITE_CORRUPT_VTAB)
  kConstraint,       // NOT NULL / UNIQUE / PRIMARY KEY violation (SQLITE_CONSTRAINT_*)
  kNoMemory,         // allocation failed (SQLITE_NOMEM)
  kIoError,          // a file or object store failed (SQLITE_IOERR)
  kBusy,             // another connection holds a lock (SQLITE_BUSY)
  kNotFound,         // a named thing does not exist (SQLITE_ERROR with its message)
  kUnsupported,      // valid SQL that strata refuses on purpose (SQLITE_ERROR)
  kTooBig,           // a value or blob exceeds a limit (SQLITE_TOOBIG)
  kInterrupted,      // the caller asked to stop: sqlite3_interrupt (SQLITE_INTERRUPT)
  kInternal,         // a bug in strata: an invariant failed or an exception escaped
};

std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }
  static Status error(std::string message) { return {StatusCode::kError, std::move(message)}; }
  static Status corruption(std::string message) {
    return {StatusCode::kCorruption, std::move(message)};
  }
  static Status constraint(std::string message) {
    return {StatusCode::kConstraint, std::move(message)};
  }
  // No message: building one could itself fail to allocate.
  static Status no_memory() { return {StatusCode::kNoMemory, std::string()}; }
  static Status io_error(std::string message) { return {StatusCode::kIoError, std::move(message)}; }
  static Status busy(std::string message) { return {StatusCode::kBusy, std::move(message)}; }
  static Status not_found(std::string message) {
    return {StatusCode::kNotFound, std::move(message)};
  }
  static Status unsupported(std::string message) {
    return {StatusCode::kUnsupported, std::move(message)};
  }
  static Status too_big(std::string message) { return {StatusCode::kTooBig, std::move(message)}; }
  static Status interrupted(std::string message) { return {StatusCode::kInterrupted, std::move(message)}; }
  static Status internal(std::string message) {
    return {StatusCode::kInternal, std::move(message)};
  }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // An SQLite (extended) result code that overrides the default mapping of code(), for
  // callers that need a precise one such as SQLITE_CONSTRAINT_UNIQUE. 0 means "derive".
  int sqlite_code() const { return sqlite_code_; }
  Status& with_sqlite_code(int sqlite_code) & {
    sqlite_code_ = sqlite_code;
    return *this;
  }
  Status&& with_sqlite_code(int sqlite_code) && {
    sqlite_code_ = sqlite_code;
    return std::move(*this);
  }

  // "corruption: chunk 3 …" — for logs and test failure output.
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  int sqlite_code_ = 0;
  std::string message_;
};

// A value of type T, or the Status that explains why there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<1>, std::move(value)) {}  // NOLINT: implicit
  Result(Status status) : state_(std::in_place_index<0>, std::move(status)) {  // NOLINT
    assert(!std::get<0>(state_).is_ok() && "Result built from an OK Status has no value");
  }

  bool is_ok() const { return state_.index() == 1; }
  explicit operator bool() const { return is_ok(); }

  // The error; an OK status when there is a value.
  Status status() const { return is_ok() ? Status::ok() : std::get<0>(state_); }

  T& value() & {
    assert(is_ok());
    return std::get<1>(state_);
  }
  const T& value() const& {
    assert(is_ok());
    return std::get<1>(state_);
  }
  T&& value() && {
    assert(is_ok());
    return std::get<1>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<Status, T> state_;
};

}  // namespace strata

#define STRATA_CONCAT_INNER(a, b) a##b
#define STRATA_CONCAT(a, b) STRATA_CONCAT_INNER(a, b)

// Returns the Status of `expr` from the enclosing function when it is not OK.
#define STRATA_RETURN_IF_ERROR(expr)                         \
  do {                                                       \
    ::strata::Status strata_status_ = (expr);                \
    if (!strata_status_.is_ok()) return strata_status_;      \
  } while (0)

// `STRATA_ASSIGN_OR_RETURN(auto x, compute());` declares x from a Result's value, or returns its
// Status from the enclosing function.
#define STRATA_ASSIGN_OR_RETURN(lhs, expr) \
  STRATA_ASSIGN_OR_RETURN_IMPL(STRATA_CONCAT(strata_result_, __LINE__), lhs, expr)
#define STRATA_ASSIGN_OR_RETURN_IMPL(result, lhs, expr) \
  auto result = (expr);                                 \
  if (!result.is_ok()) return result.status();          \
  lhs = std::move(result).value()
