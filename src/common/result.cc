// Names for ErrorCode, used in log lines and error messages.
#include "common/result.h"

namespace mcpproxy {

const char* errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kCancelled:
      return "cancelled";
    case ErrorCode::kIo:
      return "i/o error";
    case ErrorCode::kProtocol:
      return "protocol error";
    case ErrorCode::kLimitExceeded:
      return "limit exceeded";
    case ErrorCode::kSessionExpired:
      return "session expired";
    case ErrorCode::kInternal:
      return "internal error";
  }
  return "error";
}

}  // namespace mcpproxy
