// The CLI's side of the management API: HTTP/1.1 requests to the running daemon over its Unix
// socket (<data_dir>/mcpproxy.sock, mode 0600, no API key needed). One request per connection;
// every request has a deadline.
#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"

namespace mcpproxy::app {

struct DaemonResponse {
  int status = 0;
  boost::json::value body;  // null for an empty body (204)

  bool ok() const { return status >= 200 && status < 300; }
  // The API's {"error":{"code","message"}}: the message, else "HTTP <status>".
  std::string errorMessage() const;
  std::string errorCode() const;
};

class DaemonClient {
 public:
  explicit DaemonClient(std::filesystem::path socket_path) : socket_path_(std::move(socket_path)) {}

  // Sends `method target` with an optional JSON body. kUnavailable when no daemon listens on
  // the socket (missing, stale or refused); kTimeout after `timeout`; kProtocol on a malformed
  // answer. HTTP error statuses are answers, not errors.
  Result<DaemonResponse> request(
      std::string_view method, std::string_view target, const boost::json::value* body = nullptr,
      std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

  // GET /api/v1/status answered 200 within a short deadline.
  bool running() const;

  const std::filesystem::path& socketPath() const { return socket_path_; }

 private:
  std::filesystem::path socket_path_;
};

// Percent-encodes a path segment or query value.
std::string urlEncode(std::string_view text);

}  // namespace mcpproxy::app
