// The management API on a Unix socket (<data dir>/mcpproxy.sock, mode 0600): the same HTTP API
// without an API key, for the CLI on the same machine (the file mode is the authentication).
// A socket file left by a crashed daemon is replaced; one that a live daemon answers on is not.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <filesystem>
#include <memory>

#include "api/http_types.h"
#include "common/result.h"

namespace mcpproxy::api {

struct SocketServerOptions {
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  std::size_t max_connections = 64;
  std::chrono::milliseconds read_timeout{300'000};
  std::chrono::milliseconds keepalive_interval{15'000};  // SSE pings on /events
};

class SocketServer {
 public:
  SocketServer(boost::asio::any_io_executor executor, std::filesystem::path path,
               RequestHandler& handler, SocketServerOptions options = {});
  ~SocketServer();  // closes and removes the socket file

  // Creates the socket (mode 0600). Fails when another process serves on it.
  Result<void> listen();
  void start();
  // Stops accepting, closes connections, removes the socket file.
  void stop();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace mcpproxy::api
