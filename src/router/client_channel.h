// The downstream side of one client request, as the code that forwards it upstream sees it:
// where the messages an upstream sends in the course of that request go (progress, log
// messages, sampling/elicitation/roots requests). The session layer implements it per
// transport (an HTTP POST's SSE stream, stdout for stdio, the session's GET stream).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <memory>
#include <string>

#include "common/cancellation.h"
#include "protocol/jsonrpc.h"
#include "upstream/client.h"

namespace mcpproxy::router {

class ClientChannel {
 public:
  virtual ~ClientChannel() = default;

  // A notification for the client (dropped when the client is gone or filtered it out, such
  // as log messages below its logging/setLevel).
  virtual void notify(const protocol::Message& notification) = 0;

  // A request to the client, with an id of the proxy's own; returns the client's answer. A
  // JSON-RPC error comes back when the client did not declare the capability the method needs,
  // went away, or `cancel` fired (then the client is told with notifications/cancelled).
  virtual boost::asio::awaitable<upstream::Response> request(
      std::string method, boost::json::value params, std::shared_ptr<Cancellation> cancel) = 0;
};

}  // namespace mcpproxy::router
