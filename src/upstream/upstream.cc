// See upstream.h. One supervision coroutine per upstream owns the connection; calls borrow the
// current client (shared_ptr) so a reconnect never pulls it out from under them.
#include "upstream/upstream.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>

#include "common/log.h"
#include "common/random.h"
#include "common/redact.h"
#include "upstream/http_transport.h"
#include "upstream/stdio_transport.h"

namespace mcpproxy::upstream {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

std::string_view stateName(State state) {
  switch (state) {
    case State::kConnecting:
      return "connecting";
    case State::kReady:
      return "ready";
    case State::kFailed:
      return "failed";
    case State::kDisabled:
      return "disabled";
    case State::kStopped:
      return "stopped";
  }
  return "unknown";
}

Upstream::Upstream(asio::any_io_executor executor, config::ServerConfig config,
                   UpstreamOptions options, ChangeHandler on_change)
    : executor_(executor),
      config_(std::move(config)),
      options_(std::move(options)),
      on_change_(std::move(on_change)),
      wake_(executor),
      done_(executor) {}

void Upstream::start() {
  if (started_ || stopping_) return;
  started_ = true;
  if (!config_.enabled) {
    setState(State::kDisabled);
    return;
  }
  loop_running_ = true;
  asio::co_spawn(executor_, supervise(), [self = shared_from_this()](std::exception_ptr error) {
    self->loop_running_ = false;
    self->done_.cancel();
    if (error) log::error("upstream {}: supervision ended by an exception", self->name());
  });
}

asio::awaitable<void> Upstream::stop() {
  auto self = shared_from_this();  // the caller may drop its reference while we wait
  stopping_ = true;
  wake_.cancel();
  if (client_) co_await client_->close();
  while (loop_running_) {
    done_.expires_after(std::chrono::seconds(1));
    boost::system::error_code ec;
    co_await done_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  setState(State::kStopped);
}

std::string Upstream::describeState() const {
  std::string text(stateName(state_));
  if (!last_error_.empty() && state_ != State::kReady) text += ": " + last_error_;
  return text;
}

void Upstream::setState(State state, std::string error) {
  // What went wrong is shown to people (CLI, API, events): redacted at the source. A server
  // that is ready again has no current error.
  if (!error.empty()) error = redactText(error);
  bool changed = state != state_ || (!error.empty() && error != last_error_);
  state_ = state;
  if (!error.empty()) last_error_ = std::move(error);
  if (state == State::kReady) last_error_.clear();
  if (state != State::kReady) tools_.clear();
  for (auto* waiter : state_waiters_) waiter->cancel();
  if (changed && on_change_) on_change_(*this);
}

asio::awaitable<void> Upstream::supervise() {
  while (!stopping_) {
    bool connected = co_await connectOnce();
    if (connected) {
      failures_ = 0;
      co_await serveUntilClosed();
    }
    if (auto client = std::exchange(client_, nullptr)) co_await client->close();
    if (stopping_) break;
    if (session_expired_) {
      // The HTTP server forgot our session (restart or expiry): re-initialize right away once.
      session_expired_ = false;
      continue;
    }
    ++failures_;
    double exponent = std::min(failures_ - 1, 16);
    auto base = std::min<double>(options_.backoff_max.count(),
                                 options_.backoff_initial.count() * std::pow(2.0, exponent));
    auto delay = milliseconds(static_cast<long long>(base * (0.5 + 0.5 * randomUnit())));
    log::info("upstream {}: {}; retrying in {} ms", name(), last_error_, delay.count());
    co_await sleepFor(delay);
  }
}

asio::awaitable<bool> Upstream::connectOnce() {
  setState(State::kConnecting);
  auto transport = makeTransport();
  if (!transport) {
    setState(State::kFailed, "no transport for this server's protocol");
    co_return false;
  }
  connection_lost_ = false;
  UpstreamClient::Handlers handlers;
  handlers.on_notification = [this](const std::string& method, const json::value& params) {
    onNotification(method, params);
  };
  if (options_.on_request) {
    handlers.on_request = [this](std::string method, json::value params,
                                 std::shared_ptr<Cancellation> cancel) {
      return options_.on_request(*this, std::move(method), std::move(params), std::move(cancel));
    };
  }
  handlers.on_closed = [this](const Error& error) {
    connection_lost_ = true;
    session_expired_ = error.code == ErrorCode::kSessionExpired;
    if (state_ == State::kReady) setState(State::kFailed, "connection lost: " + error.message);
    wake_.cancel();
  };
  client_ = std::make_shared<UpstreamClient>(executor_, name(), std::move(transport),
                                             std::move(handlers));
  client_->setCapabilities(options_.client_capabilities);
  auto client = client_;
  auto info = co_await client->connect(options_.init_timeout);
  // protocol "auto" with a url: a server that refuses the Streamable HTTP POST with a 4xx may
  // speak the legacy HTTP+SSE transport of 2024-11-05 (the spec's backwards-compatibility
  // procedure). The answer is remembered for reconnects until it fails too.
  if (!info && config_.protocol == config::Protocol::kAuto && !config_.url.empty()) {
    bool http_4xx = info.error().message.find("HTTP 4") != std::string::npos;
    if (!legacy_sse_detected_ && http_4xx) {
      log::info("upstream {}: no Streamable HTTP ({}); trying the legacy SSE transport", name(),
                info.error().message);
      co_await client->close();
      legacy_sse_detected_ = true;
      co_return co_await connectOnce();
    }
    if (legacy_sse_detected_) legacy_sse_detected_ = false;  // try Streamable HTTP again next
  }
  if (!info) {
    setState(State::kFailed, "cannot initialize: " + info.error().message);
    co_return false;
  }
  server_info_ = *info;
  auto tools = co_await listAllTools();
  if (!tools) {
    setState(State::kFailed, "tools/list failed: " + tools.error().message);
    co_return false;
  }
  tools_ = std::move(*tools);
  log::info("upstream {}: ready with {} tools (protocol {})", name(), tools_.size(),
            server_info_.protocol_version);
  setState(State::kReady);
  co_return true;
}

asio::awaitable<void> Upstream::serveUntilClosed() {
  while (!stopping_ && !connection_lost_) {
    bool ping = options_.health_interval.count() > 0;
    wake_.expires_after(ping ? options_.health_interval : std::chrono::hours(24));
    boost::system::error_code ec;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping_ || connection_lost_) break;
    if (ec || !ping) continue;  // woken early, or nothing to do
    auto client = client_;
    auto pong = co_await client->request("ping", json::object{}, options_.ping_timeout);
    // Any answer, even a JSON-RPC error from a server without ping, proves it is alive.
    if (!pong && !stopping_) {
      setState(State::kFailed, "health check failed: " + pong.error().message);
      break;
    }
  }
}

asio::awaitable<Result<std::vector<json::object>>> Upstream::listAllTools() {
  std::vector<json::object> tools;
  if (!server_info_.capabilities.contains("tools")) co_return tools;
  auto client = client_;
  json::value cursor;
  for (int page = 0; page < 1000; ++page) {
    json::object params;
    if (!cursor.is_null()) params["cursor"] = cursor;
    auto response =
        co_await client->request("tools/list", std::move(params), options_.init_timeout);
    if (!response) co_return std::unexpected(response.error());
    if (response->is_error) {
      co_return makeError(ErrorCode::kProtocol, json::serialize(response->error));
    }
    const json::object* result = response->result.if_object();
    const json::value* list = result ? result->if_contains("tools") : nullptr;
    if (!list || !list->is_array())
      co_return makeError(ErrorCode::kProtocol, "result has no tools array");
    for (const auto& tool : list->get_array()) {
      const json::object* object = tool.if_object();
      const json::value* tool_name = object ? object->if_contains("name") : nullptr;
      if (!tool_name || !tool_name->is_string() || tool_name->get_string().empty()) {
        log::warn("upstream {}: skipping a tool without a name", name());
        continue;
      }
      if (tools.size() >= options_.max_tools) {
        co_return makeError(ErrorCode::kLimitExceeded,
                            "more than " + std::to_string(options_.max_tools) + " tools");
      }
      tools.push_back(*object);
    }
    const json::value* next = result->if_contains("nextCursor");
    if (!next || next->is_null() || (next->is_string() && next->get_string().empty())) {
      co_return tools;
    }
    if (next == nullptr || *next == cursor) break;  // a server repeating its cursor would loop
    cursor = *next;
  }
  co_return makeError(ErrorCode::kProtocol, "tools/list pagination did not end");
}

void Upstream::onNotification(const std::string& method, const json::value& params) {
  if (method == "notifications/tools/list_changed") {
    asio::co_spawn(executor_, refreshTools(), asio::detached);
  } else if (options_.on_notification) {
    options_.on_notification(*this, method, params);
  }
}

asio::awaitable<void> Upstream::refreshTools() {
  auto self = shared_from_this();
  if (refreshing_) {
    refresh_again_ = true;  // coalesce bursts of list_changed into one more listing
    co_return;
  }
  refreshing_ = true;
  do {
    refresh_again_ = false;
    if (state_ != State::kReady) break;
    auto tools = co_await listAllTools();
    if (!tools) {
      log::warn("upstream {}: re-listing tools failed: {}", name(), tools.error().message);
      break;
    }
    if (state_ == State::kReady) {
      tools_ = std::move(*tools);
      log::info("upstream {}: tool list changed, now {} tools", name(), tools_.size());
      if (on_change_) on_change_(*this);
    }
  } while (refresh_again_ && !stopping_);
  refreshing_ = false;
}

asio::awaitable<void> Upstream::notify(std::string method, json::value params) {
  auto self = shared_from_this();
  if (state_ != State::kReady || !client_) co_return;
  auto client = client_;
  co_await client->notify(std::move(method), std::move(params));
}

asio::awaitable<Result<Response>> Upstream::call(std::string method, json::value params,
                                                 milliseconds timeout, RequestOptions request) {
  auto self = shared_from_this();
  auto deadline = Clock::now() + timeout;
  if (state_ == State::kConnecting && !stopping_) {
    asio::steady_timer waiter(executor_);
    waiter.expires_at(deadline);
    state_waiters_.push_back(&waiter);
    while (state_ == State::kConnecting && !stopping_ && Clock::now() < deadline) {
      boost::system::error_code ec;
      co_await waiter.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    std::erase(state_waiters_, &waiter);
  }
  if (state_ != State::kReady || !client_) {
    co_return makeError(ErrorCode::kUnavailable,
                        "upstream '" + name() + "' is not available (" + describeState() + ")");
  }
  auto client = client_;
  auto remaining = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
  auto response =
      co_await client->request(std::move(method), std::move(params),
                               std::max(remaining, milliseconds(1)), std::move(request));
  if (!response) {
    if (response.error().code == ErrorCode::kTimeout) {
      co_return makeError(ErrorCode::kTimeout, "upstream '" + name() + "' did not answer within " +
                                                   fmt::format("{:g}", timeout.count() / 1000.0) +
                                                   " s");
    }
    co_return makeError(response.error().code,
                        "upstream '" + name() + "': " + response.error().message);
  }
  co_return response;
}

asio::awaitable<void> Upstream::sleepFor(milliseconds delay) {
  wake_.expires_after(delay);
  boost::system::error_code ec;
  co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

std::unique_ptr<Transport> Upstream::makeTransport() {
  switch (config_.effectiveProtocol()) {
    case config::Protocol::kStdio: {
      StdioOptions options;
      options.server_name = name();
      options.command = config_.command;
      options.args = config_.args;
      options.env = config_.env;
      options.working_dir = config_.working_dir;
      options.stderr_log = options_.log_dir / (name() + ".log");
      options.max_json_depth = options_.max_json_depth;
      return makeStdioTransport(executor_, std::move(options));
    }
    case config::Protocol::kAuto:
    case config::Protocol::kStreamableHttp:
    case config::Protocol::kSse: {
      HttpOptions options;
      options.server_name = name();
      options.url = config_.url;
      options.headers = config_.headers;
      options.max_json_depth = options_.max_json_depth;
      options.legacy_sse = config_.protocol == config::Protocol::kSse ||
                           (config_.protocol == config::Protocol::kAuto && legacy_sse_detected_);
      return makeHttpTransport(executor_, std::move(options));
    }
  }
  return nullptr;
}

}  // namespace mcpproxy::upstream
