// The MCP server side of the proxy, shared by every downstream transport: the initialize
// handshake and version negotiation, ping, and handing routed methods to the Router. Transports
// parse and frame; the dispatcher decides what a message means.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string>

#include "protocol/jsonrpc.h"
#include "router/router.h"
#include "session/session.h"

namespace mcpproxy::session {

class Dispatcher {
 public:
  // `default_mode` is what sessions without a fixed mode get (the config's routing_mode).
  Dispatcher(router::Router& router, config::RoutingMode default_mode)
      : router_(router), default_mode_(default_mode) {}

  // Handles one message from a client. Returns the response for a request, nothing for
  // notifications and responses. `session` is shared because the client may end the session
  // (HTTP DELETE) while its request is still being served.
  boost::asio::awaitable<std::optional<protocol::Message>> handle(std::shared_ptr<Session> session,
                                                                  protocol::Message message);

  // Sends notifications/tools/list_changed to every initialized session.
  void broadcastToolsChanged(const SessionRegistry& sessions) const;

 private:
  protocol::Message initialize(Session& session, const protocol::Message& request) const;

  router::Router& router_;
  config::RoutingMode default_mode_;
};

}  // namespace mcpproxy::session
