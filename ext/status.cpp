#include "ext/status.h"

namespace strata {

std::string_view status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kError: return "error";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kConstraint: return "constraint";
    case StatusCode::kNoMemory: return "out of memory";
    case StatusCode::kIoError: return "I/O error";
    case StatusCode::kBusy: return "busy";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kUnsupported: return "unsupported";
    case StatusCode::kInterrupted: return "interrupted";
    case StatusCode::kTooBig: return "too big";
    case StatusCode::kInternal: return "internal error";
  }
  return "unknown status";
}

std::string Status::to_string() const {
  std::string text(status_code_name(code_));
  if (!message_.empty()) {
    text += ": ";
    text += message_;
  }
  return text;
}

}  // namespace strata
