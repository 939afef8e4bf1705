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
  // `channel` is where messages an upstream sends about this request go (the request's own
  // stream); null means the session's sink. `cancel`, when given, lets the transport end the
  // request (the client disconnected); notifications/cancelled from the client fires it too.
  boost::asio::awaitable<std::optional<protocol::Message>> handle(
      std::shared_ptr<Session> session, protocol::Message message,
      std::shared_ptr<router::ClientChannel> channel = nullptr,
      std::shared_ptr<Cancellation> cancel = nullptr);

  // Sends notifications/tools/list_changed to every initialized session.
  void broadcastToolsChanged(const SessionRegistry& sessions) const;

  // The sessions whose subscriptions and log levels fan-out decisions consider. Set once.
  void setSessions(SessionRegistry* sessions) { sessions_ = sessions; }

  // An upstream notification that no request claimed: resources/updated goes to the sessions
  // subscribed to the URI, list_changed of resources/prompts to every session, log messages to
  // the sessions whose level they pass, elicitation/complete to the session that got the
  // elicitation.
  void onUpstreamNotification(const std::string& server, const std::string& method,
                              const json::value& params) const;
  // An upstream request that no request claimed (roots/list right after initialize, a
  // sampling request from a background task): relayed to the most recently active session
  // whose client declared the capability, on its GET stream; an error when there is none.
  boost::asio::awaitable<upstream::Response> relayUnclaimed(std::string method, json::value params,
                                                            std::shared_ptr<Cancellation> cancel);

 private:
  protocol::Message initialize(Session& session, const protocol::Message& request) const;
  protocol::Message setLogLevel(Session& session, const protocol::Message& request);
  boost::asio::awaitable<protocol::Message> subscription(Session& session,
                                                         const protocol::Message& request);
  void onClientNotification(Session& session, const protocol::Message& message);

  router::Router& router_;
  config::RoutingMode default_mode_;
  SessionRegistry* sessions_ = nullptr;
};

}  // namespace mcpproxy::session
