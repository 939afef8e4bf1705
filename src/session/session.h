// Per-client state of a stateful (<= 2025-11-25) MCP session: the negotiated version, what the
// client declared, and where to push messages that are not answers (its GET stream over HTTP,
// stdout over stdio). Per-request data lives in router::RequestContext instead.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/cancellation.h"
#include "protocol/jsonrpc.h"
#include "router/router.h"

namespace mcpproxy::session {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

// MCP log levels (RFC 5424 severities), least severe first.
inline constexpr std::string_view kLogLevels[] = {"debug", "info",     "notice", "warning",
                                                  "error", "critical", "alert",  "emergency"};
// The index of `level` in kLogLevels, -1 when it is not a level.
int logLevelRank(std::string_view level);

// A request the proxy sent to the client on behalf of an upstream (sampling, elicitation,
// roots), waiting for the client's answer.
struct OutboundRequest {
  std::optional<upstream::Response> answer;
  std::function<void()> wake;  // called when `answer` is set or the session ends
};

class Session {
 public:
  explicit Session(std::string id) : id_(std::move(id)), last_seen_(Clock::now()) {}

  const std::string& id() const { return id_; }
  bool initialized() const { return initialized_; }  // initialize answered
  const std::string& protocolVersion() const { return protocol_version_; }
  const json::object& clientCapabilities() const { return client_capabilities_; }
  const json::object& clientInfo() const { return client_info_; }

  void setInitialized(std::string version, json::object capabilities, json::object client_info);
  void touch() { last_seen_ = Clock::now(); }
  Clock::time_point lastSeen() const { return last_seen_; }

  // The endpoint a session was created on may fix its routing mode (/mcp/all is always
  // direct); otherwise the dispatcher's default applies.
  void setRoutingMode(config::RoutingMode mode) { routing_mode_ = mode; }

  router::RequestContext context(config::RoutingMode default_mode) const {
    return router::RequestContext{
        protocol_version_,   client_capabilities_, routing_mode_.value_or(default_mode),
        id_.substr(0, 8),
        /*channel=*/nullptr,
        /*cancel=*/nullptr};
  }

  // Delivers a server-initiated message (a notification) to the client. The downstream
  // transport installs the sink; without one the message is dropped.
  using Sink = std::function<void(const protocol::Message& message)>;
  void setSink(Sink sink) { sink_ = std::move(sink); }
  bool hasSink() const { return static_cast<bool>(sink_); }
  void push(const protocol::Message& message) const {
    if (sink_) sink_(message);
  }
  // Ends whatever stream the transport holds open for this session (called when the session
  // is deleted or expires).
  void setCloser(std::function<void()> closer) { closer_ = std::move(closer); }
  void closeStream() {
    if (auto closer = std::exchange(closer_, nullptr)) closer();
  }

  // Relayed server->client requests: ids are the proxy's own, unique within the session.
  std::int64_t addOutbound(std::shared_ptr<OutboundRequest> request);
  void forgetOutbound(std::int64_t id) { outbound_.erase(id); }
  // The client answered one of them; false when the id is not ours (or no longer awaited).
  bool resolveOutbound(const protocol::Message& response);
  // The session ended: every waiting request gets an error.
  void failOutbound(const std::string& reason);

  // The client's in-flight requests, so notifications/cancelled can reach them. Keys are the
  // serialized JSON-RPC id.
  void addInFlight(const std::string& id, std::shared_ptr<Cancellation> cancel) {
    in_flight_[id] = std::move(cancel);
  }
  void removeInFlight(const std::string& id) { in_flight_.erase(id); }
  bool cancelInFlight(const std::string& id, std::string reason);

  // logging/setLevel: messages below the level are not forwarded. Empty: everything is.
  void setLogLevel(std::string level) { log_level_ = std::move(level); }
  const std::string& logLevel() const { return log_level_; }
  bool wantsLog(std::string_view level) const;

  // resources/subscribe: URIs whose notifications/resources/updated this client receives.
  std::set<std::string>& subscriptions() { return subscriptions_; }
  // URL-mode elicitations relayed to this client, for notifications/elicitation/complete.
  std::set<std::string>& elicitations() { return elicitations_; }

 private:
  std::string id_;
  bool initialized_ = false;
  std::string protocol_version_;
  json::object client_capabilities_;
  std::optional<config::RoutingMode> routing_mode_;
  json::object client_info_;
  Clock::time_point last_seen_;
  Sink sink_;
  std::function<void()> closer_;
  std::int64_t next_outbound_id_ = 1;
  std::unordered_map<std::int64_t, std::shared_ptr<OutboundRequest>> outbound_;
  std::unordered_map<std::string, std::shared_ptr<Cancellation>> in_flight_;
  std::string log_level_;
  std::set<std::string> subscriptions_;
  std::set<std::string> elicitations_;
};

// The channel of one client request (see router/client_channel.h). `stream` sends a message
// on that request's own stream (an HTTP POST answered with SSE); without it messages go to the
// session's sink (GET stream, stdout).
class RequestChannel : public router::ClientChannel {
 public:
  using StreamSink = std::function<void(const protocol::Message& message)>;
  RequestChannel(std::shared_ptr<Session> session, StreamSink stream)
      : session_(std::move(session)), stream_(std::move(stream)) {}

  void notify(const protocol::Message& notification) override;
  boost::asio::awaitable<upstream::Response> request(std::string method, json::value params,
                                                     std::shared_ptr<Cancellation> cancel) override;

  // Longest wait for a client's answer (a person may be filling in an elicitation form).
  static constexpr std::chrono::minutes kMaxWait{10};

 private:
  void send(const protocol::Message& message) const;

  std::shared_ptr<Session> session_;
  StreamSink stream_;
};

// Why `capabilities` do not allow relaying `method` with `params` to the client ("" when
// they do).
std::string missingCapability(const json::object& capabilities, std::string_view method,
                              const json::value& params);

// Sessions by id, bounded in number and idle time.
class SessionRegistry {
 public:
  SessionRegistry(std::size_t max_sessions, std::chrono::milliseconds idle_timeout)
      : max_sessions_(max_sessions), idle_timeout_(idle_timeout) {}

  // A new session with a random, unguessable id (128 bits, hex). Evicts the least recently
  // used session when full.
  std::shared_ptr<Session> create();
  std::shared_ptr<Session> find(const std::string& id);
  bool remove(const std::string& id);
  // Drops sessions idle longer than the timeout; returns how many.
  std::size_t expireIdle();
  void forEach(const std::function<void(Session&)>& fn) const;
  std::size_t size() const { return sessions_.size(); }
  // Sessions to remove are told through this (e.g. to close their GET stream).
  void setOnRemoved(std::function<void(Session&)> fn) { on_removed_ = std::move(fn); }

 private:
  std::size_t max_sessions_;
  std::chrono::milliseconds idle_timeout_;
  std::unordered_map<std::string, std::shared_ptr<Session>> sessions_;
  std::function<void(Session&)> on_removed_;
};

}  // namespace mcpproxy::session
