// The downstream Streamable HTTP endpoint (/mcp and /mcp/all): POST with JSON or SSE replies,
// a GET stream per session for server-initiated messages, DELETE, Mcp-Session-Id, the
// MCP-Protocol-Version check, Host/Origin validation against DNS rebinding, and limits on body
// size, JSON depth and connection count. Beast stays inside http_server.cc.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "session/dispatcher.h"
#include "session/session.h"

namespace mcpproxy::api {
class RequestHandler;
}

namespace mcpproxy::downstream {

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // an IP address
  unsigned short port = 8080;      // 0 picks a free port
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  std::size_t max_json_depth = 64;
  std::size_t max_connections = 1024;
  std::vector<std::string> trusted_hosts;  // Host/Origin names allowed besides loopback
  std::chrono::milliseconds keepalive_interval{15'000};  // SSE comment pings
  // A request's answer that takes longer than this is sent on an SSE stream (with keepalives)
  // instead of a JSON body, so clients' header timeouts never cut a long tool call.
  std::chrono::milliseconds sse_after{1'000};
  std::chrono::milliseconds read_timeout{300'000};  // idle keep-alive connections
  // A client that disconnects while its request runs has this long to resume the SSE reply
  // (GET with Last-Event-ID) before the request is cancelled upstream. A request whose reply
  // was not a stream yet cannot be resumed and is cancelled at once.
  std::chrono::milliseconds resume_grace{10'000};
  std::chrono::milliseconds session_sweep_interval{60'000};
};

class HttpServer {
 public:
  HttpServer(boost::asio::any_io_executor executor, HttpServerOptions options,
             session::Dispatcher& dispatcher, session::SessionRegistry& sessions);
  ~HttpServer();

  // Binds and listens; returns the bound port (useful with port 0).
  Result<unsigned short> listen();
  // Starts accepting connections.
  void start();
  // Where requests for paths other than the MCP endpoints go (the management API, /ui/,
  // /healthz). Unset: those paths answer 404. The handler must outlive the server.
  void setManagement(api::RequestHandler* handler);
  // Stops accepting, ends GET streams, gives in-flight requests `grace` to finish, then closes
  // every connection.
  // Stops accepting, ends GET streams, and waits up to `grace` for in-flight requests; open
  // connections stay so that requests failed meanwhile (upstreams stopping) still get answers.
  boost::asio::awaitable<void> drain(std::chrono::milliseconds grace);
  boost::asio::awaitable<void> stop(std::chrono::milliseconds grace);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace mcpproxy::downstream
