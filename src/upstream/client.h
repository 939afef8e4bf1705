// The MCP client session the proxy holds with one upstream server, over any Transport: the
// initialize handshake, request/response correlation with the proxy's own id space (ids are
// remapped on every hop), per-request deadlines with notifications/cancelled on timeout, and
// answers to the server's own requests.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/cancellation.h"
#include "common/result.h"
#include "upstream/transport.h"

namespace mcpproxy::upstream {

using std::chrono::milliseconds;

// What the server answered to a request: a result, or a JSON-RPC error object.
struct Response {
  bool is_error = false;
  json::value result;  // when !is_error
  json::object error;  // when is_error: {code, message, data?}
};

// What initialize told us about the server.
struct ServerInfo {
  std::string protocol_version;
  json::object capabilities;
  json::object implementation;  // serverInfo
  std::string instructions;
};

// Answers a request the server sent us (sampling/createMessage, elicitation/create, roots/list,
// ...). `cancel` fires when the server cancels it (notifications/cancelled).
using ServerRequestHandler = std::function<boost::asio::awaitable<Response>(
    std::string method, json::value params, std::shared_ptr<Cancellation> cancel)>;
using NotificationHandler =
    std::function<void(const std::string& method, const json::value& params)>;

// What the caller of request() wants done with what the server sends in the course of that
// request: its progress notifications, log messages and server->client requests.
struct RequestHooks {
  // The progressToken the caller put into the request's _meta (null when none): progress
  // notifications carrying it belong to this request.
  json::value progress_token;
  NotificationHandler on_notification;
  ServerRequestHandler on_request;  // null: such requests fall back to Handlers::on_request
};

struct RequestOptions {
  std::shared_ptr<RequestHooks> hooks;   // may be null
  std::shared_ptr<Cancellation> cancel;  // may be null; cancelling fails the call with kCancelled
};

class UpstreamClient {
 public:
  struct Handlers {
    // Server notifications that no pending request claims (tools/list_changed, resources/
    // updated, unrelated log messages, ...).
    NotificationHandler on_notification;
    // Server requests that no pending request claims. Null: ping is answered, the rest get
    // "method not found".
    ServerRequestHandler on_request;
    // The connection ended without close(): every pending request has already failed.
    std::function<void(const Error& error)> on_closed;
  };

  UpstreamClient(boost::asio::any_io_executor executor, std::string server_name,
                 std::unique_ptr<Transport> transport, Handlers handlers);
  ~UpstreamClient();

  UpstreamClient(const UpstreamClient&) = delete;
  UpstreamClient& operator=(const UpstreamClient&) = delete;

  // The capabilities sent in initialize (default: none). Call before connect().
  void setCapabilities(json::object capabilities) { capabilities_ = std::move(capabilities); }

  // Starts the transport and performs initialize + notifications/initialized within `timeout`.
  boost::asio::awaitable<Result<ServerInfo>> connect(milliseconds timeout);

  // Sends a request and waits for its response. Errors: kTimeout or kCancelled (a
  // notifications/cancelled was sent upstream), kUnavailable (connection lost or closed).
  boost::asio::awaitable<Result<Response>> request(std::string method, json::value params,
                                                   milliseconds timeout,
                                                   RequestOptions options = {});

  // Fire-and-forget notification.
  boost::asio::awaitable<void> notify(std::string method, json::value params);

  // Fails pending requests with kUnavailable ("closed") and closes the transport. Idempotent.
  boost::asio::awaitable<void> close();

  bool isOpen() const { return open_; }
  const ServerInfo& serverInfo() const { return server_info_; }
  std::size_t pendingCount() const { return pending_.size(); }

 private:
  struct Pending;

  void onMessage(json::value message, const json::value& related);
  void onOneMessage(const json::value& message, const json::value& related);
  // The hooks of the pending request a server message belongs to: the one it arrived with, else
  // (stdio, GET stream) the one its progress token names, else the newest pending request with
  // hooks when `guess` (a server has one call in flight far more often than several).
  std::shared_ptr<RequestHooks> hooksFor(const json::value& related, const json::value& token,
                                         bool guess) const;
  void onTransportClosed(Error error);
  void failAll(const Error& error);
  boost::asio::awaitable<void> answerServerRequest(json::value id, std::string method,
                                                   json::value params,
                                                   std::shared_ptr<RequestHooks> hooks);

  boost::asio::any_io_executor executor_;
  std::string server_name_;
  std::unique_ptr<Transport> transport_;
  Handlers handlers_;
  bool open_ = false;
  bool closing_ = false;
  std::int64_t next_id_ = 1;
  // Shared with the waiting coroutine, which may outlive the entry in this map.
  std::unordered_map<std::int64_t, std::shared_ptr<Pending>> pending_;
  ServerInfo server_info_;
  json::object capabilities_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  // Server->client requests being answered, by their id (serialized), so the server can cancel.
  std::unordered_map<std::string, std::shared_ptr<Cancellation>> server_requests_;
};

}  // namespace mcpproxy::upstream
