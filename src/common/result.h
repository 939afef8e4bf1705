// Errors are values: every fallible operation returns Result<T> (std::expected). No exception
// crosses a module boundary; third-party code that throws is wrapped where it is called.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace mcpproxy {

enum class ErrorCode {
  kInvalidArgument,  // bad input from a user, a client or an upstream
  kNotFound,
  kUnavailable,  // the peer is down, not connected, or refused
  kTimeout,
  kCancelled,
  kIo,              // OS-level failure (file, socket, pipe)
  kProtocol,        // the peer broke the protocol (garbage, wrong framing)
  kLimitExceeded,   // a named limit was hit (size, depth, count)
  kSessionExpired,  // an HTTP upstream answered 404 to our session id
  kInternal,
};

const char* errorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // "timeout: upstream 'x' did not answer within 120s"
  std::string describe() const { return std::string(errorCodeName(code)) + ": " + message; }
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> makeError(ErrorCode code, std::string message) {
  return std::unexpected(Error{code, std::move(message)});
}

}  // namespace mcpproxy
