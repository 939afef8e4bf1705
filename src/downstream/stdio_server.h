// The downstream stdio transport: one client speaks newline-delimited JSON-RPC on our stdin and
// reads our stdout. Nothing but MCP messages is ever written to stdout (logs go to stderr).
// Requests are served concurrently, so a slow tools/call does not hold up a ping.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <memory>

#include "protocol/jsonrpc.h"
#include "session/dispatcher.h"
#include "session/session.h"

namespace mcpproxy::downstream {

class StdioServer {
 public:
  StdioServer(boost::asio::any_io_executor executor, session::Dispatcher& dispatcher,
              session::SessionRegistry& sessions, protocol::Limits limits);
  ~StdioServer();

  // Serves until stdin reaches end of file (or stop()), then waits for in-flight requests.
  boost::asio::awaitable<void> run();
  void stop();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace mcpproxy::downstream
