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

class UpstreamClient {
 public:
  struct Handlers {
    // Server notifications (tools/list_changed, message, progress, ...).
    std::function<void(const std::string& method, const json::value& params)> on_notification;
    // The connection ended without close(): every pending request has already failed.
    std::function<void(const Error& error)> on_closed;
  };

  UpstreamClient(boost::asio::any_io_executor executor, std::string server_name,
                 std::unique_ptr<Transport> transport, Handlers handlers);
  ~UpstreamClient();

  UpstreamClient(const UpstreamClient&) = delete;
  UpstreamClient& operator=(const UpstreamClient&) = delete;

  // Starts the transport and performs initialize + notifications/initialized within `timeout`.
  boost::asio::awaitable<Result<ServerInfo>> connect(milliseconds timeout);

  // Sends a request and waits for its response. Errors: kTimeout (a notifications/cancelled was
  // sent upstream), kUnavailable (connection lost or closed).
  boost::asio::awaitable<Result<Response>> request(std::string method, json::value params,
                                                   milliseconds timeout);

  // Fire-and-forget notification.
  boost::asio::awaitable<void> notify(std::string method, json::value params);

  // Fails pending requests with kUnavailable ("closed") and closes the transport. Idempotent.
  boost::asio::awaitable<void> close();

  bool isOpen() const { return open_; }
  const ServerInfo& serverInfo() const { return server_info_; }
  std::size_t pendingCount() const { return pending_.size(); }

 private:
  struct Pending;

  void onMessage(json::value message);
  void onOneMessage(const json::value& message);
  void onTransportClosed(Error error);
  void failAll(const Error& error);
  boost::asio::awaitable<void> answerServerRequest(json::value id, std::string method);

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
};

}  // namespace mcpproxy::upstream
