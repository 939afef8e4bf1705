// Supervision of one upstream server: connect (in parallel with the others), list its tools,
// keep it healthy with pings, reconnect with exponential backoff and jitter when it fails, and
// route calls to it with a deadline. A call never waits on a dead upstream: it gets a clear
// error at once (or, while the upstream is still connecting, as soon as that resolves).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "upstream/client.h"

namespace mcpproxy::upstream {

enum class State { kConnecting, kReady, kFailed, kDisabled, kStopped };
std::string_view stateName(State state);

class Upstream;

struct UpstreamOptions {
  // What the proxy declares to upstreams in initialize (it relays sampling, elicitation and
  // roots to its clients), and where server messages that no call claims go.
  json::object client_capabilities;
  std::function<void(Upstream& upstream, const std::string& method, const json::value& params)>
      on_notification;
  std::function<boost::asio::awaitable<Response>(Upstream& upstream, std::string method,
                                                 json::value params,
                                                 std::shared_ptr<Cancellation> cancel)>
      on_request;
  milliseconds init_timeout{30'000};
  milliseconds call_timeout{120'000};
  milliseconds health_interval{30'000};  // 0 disables health pings
  milliseconds ping_timeout{10'000};
  milliseconds backoff_initial{1'000};
  milliseconds backoff_max{60'000};
  std::filesystem::path log_dir;  // stdio servers' stderr goes to <log_dir>/<name>.log
  std::size_t max_json_depth = 64;
  std::size_t max_tools = 10'000;  // per server; more is an upstream lying or broken
};

class Upstream : public std::enable_shared_from_this<Upstream> {
 public:
  // Called on the event loop whenever the state or the tool list changed.
  using ChangeHandler = std::function<void(Upstream& upstream)>;

  Upstream(boost::asio::any_io_executor executor, config::ServerConfig config,
           UpstreamOptions options, ChangeHandler on_change);

  // Starts the supervision loop (a disabled server stays kDisabled). Only the first call does
  // anything, and none after stop(): a replaced or removed upstream never comes back to life.
  void start();
  bool started() const { return started_; }
  // Stops the loop, fails in-flight calls and closes the connection (stops the process).
  boost::asio::awaitable<void> stop();

  // Sends a request. Waits for a connecting upstream up to the deadline; fails at once with
  // kUnavailable when the upstream is failed, disabled or stopped.
  boost::asio::awaitable<Result<Response>> call(std::string method, json::value params,
                                                milliseconds timeout, RequestOptions request = {});

  // Sends a notification when connected (dropped otherwise).
  boost::asio::awaitable<void> notify(std::string method, json::value params);

  const std::string& name() const { return config_.name; }
  const config::ServerConfig& config() const { return config_; }
  // Takes over settings that need no reconnect (quarantined, trust_mode, prefix, call_timeout,
  // unknown keys) from `server`, which names the same server (config reload, issue 6).
  void updateSettings(const config::ServerConfig& server) {
    config_.quarantined = server.quarantined;
    config_.trust_mode = server.trust_mode;
    config_.prefix = server.prefix;
    config_.call_timeout = server.call_timeout;
    config_.unknown = server.unknown;
  }
  State state() const { return state_; }
  const std::string& lastError() const { return last_error_; }
  const std::vector<json::object>& tools() const { return tools_; }
  const ServerInfo& serverInfo() const { return server_info_; }
  milliseconds callTimeout() const { return config_.call_timeout.value_or(options_.call_timeout); }
  // "failed: process exited with status 1 (...)", for error results.
  std::string describeState() const;

 private:
  boost::asio::awaitable<void> supervise();
  boost::asio::awaitable<bool> connectOnce();
  boost::asio::awaitable<void> serveUntilClosed();
  boost::asio::awaitable<Result<std::vector<json::object>>> listAllTools();
  boost::asio::awaitable<void> refreshTools();
  boost::asio::awaitable<void> sleepFor(milliseconds delay);
  std::unique_ptr<Transport> makeTransport();
  void setState(State state, std::string error = {});
  void onNotification(const std::string& method, const json::value& params);

  boost::asio::any_io_executor executor_;
  config::ServerConfig config_;
  UpstreamOptions options_;
  ChangeHandler on_change_;

  State state_ = State::kConnecting;
  std::string last_error_;
  std::vector<json::object> tools_;
  ServerInfo server_info_;
  // Shared with in-flight calls, which may outlive a reconnect that replaces it.
  std::shared_ptr<UpstreamClient> client_;
  bool started_ = false;
  bool stopping_ = false;
  bool loop_running_ = false;
  bool connection_lost_ = false;
  bool session_expired_ = false;
  bool legacy_sse_detected_ = false;  // protocol "auto": the server speaks only HTTP+SSE
  bool refreshing_ = false;
  bool refresh_again_ = false;
  int failures_ = 0;
  boost::asio::steady_timer wake_;  // cancelled to wake the supervision loop
  boost::asio::steady_timer done_;  // cancelled when the supervision loop ends
  // Calls waiting for a connecting upstream; each is woken on every state change.
  std::vector<boost::asio::steady_timer*> state_waiters_;
};

}  // namespace mcpproxy::upstream
