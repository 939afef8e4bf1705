// See client.h. Correlation works by the proxy's own integer ids: the downstream client's id
// never reaches an upstream, so two clients using the same id cannot collide.
#include "upstream/client.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include "common/log.h"
#include "protocol/jsonrpc.h"
#include "protocol/mcp.h"

namespace mcpproxy::upstream {

namespace asio = boost::asio;

struct UpstreamClient::Pending {
  explicit Pending(asio::any_io_executor ex) : timer(ex) {}
  asio::steady_timer timer;
  std::optional<Result<Response>> outcome;
  std::shared_ptr<RequestHooks> hooks;
  bool cancelled = false;
};

UpstreamClient::UpstreamClient(asio::any_io_executor executor, std::string server_name,
                               std::unique_ptr<Transport> transport, Handlers handlers)
    : executor_(std::move(executor)),
      server_name_(std::move(server_name)),
      transport_(std::move(transport)),
      handlers_(std::move(handlers)) {}

UpstreamClient::~UpstreamClient() {
  *alive_ = false;
  for (auto& [id, cancel] : server_requests_) cancel->cancel("connection closed");
  // Owners await close() first; this only guards against waiting coroutines hanging forever.
  failAll(Error{ErrorCode::kUnavailable, "client destroyed"});
}

asio::awaitable<Result<ServerInfo>> UpstreamClient::connect(milliseconds timeout) {
  Transport::Handlers handlers;
  handlers.on_message = [this](json::value message) { onMessage(std::move(message), nullptr); };
  handlers.on_related_message = [this](json::value message, const json::value& request_id) {
    onMessage(std::move(message), request_id);
  };
  handlers.on_closed = [this](Error error) { onTransportClosed(std::move(error)); };
  auto started = co_await transport_->start(std::move(handlers));
  if (!started) co_return std::unexpected(started.error());
  open_ = true;

  json::object params{{"protocolVersion", protocol::kLatestVersion},
                      {"capabilities", capabilities_},
                      {"clientInfo", json::object{{"name", "mcpproxy"}, {"version", "0.1.0"}}}};
  auto response = co_await request("initialize", std::move(params), timeout);
  if (!response) co_return std::unexpected(response.error());
  if (response->is_error) {
    const auto* message = response->error.if_contains("message");
    co_return makeError(ErrorCode::kProtocol,
                        "initialize rejected: " + (message && message->is_string()
                                                       ? std::string(message->get_string())
                                                       : std::string("(no message)")));
  }
  const json::object* result = response->result.if_object();
  const json::value* version = result ? result->if_contains("protocolVersion") : nullptr;
  if (!version || !version->is_string()) {
    co_return makeError(ErrorCode::kProtocol, "initialize result has no protocolVersion");
  }
  if (!protocol::isSupportedVersion(version->get_string())) {
    co_return makeError(ErrorCode::kProtocol,
                        "server chose protocol version " + std::string(version->get_string()) +
                            ", which mcpproxy does not speak (supported: " +
                            std::string(protocol::supportedVersionsText()) + ")");
  }
  server_info_.protocol_version = std::string(version->get_string());
  if (const auto* caps = result->if_contains("capabilities"); caps && caps->is_object()) {
    server_info_.capabilities = caps->get_object();
  }
  if (const auto* info = result->if_contains("serverInfo"); info && info->is_object()) {
    server_info_.implementation = info->get_object();
  }
  if (const auto* text = result->if_contains("instructions"); text && text->is_string()) {
    server_info_.instructions = std::string(text->get_string());
  }
  transport_->onInitialized(server_info_.protocol_version);
  co_await notify("notifications/initialized", nullptr);
  co_return server_info_;
}

asio::awaitable<Result<Response>> UpstreamClient::request(std::string method, json::value params,
                                                          milliseconds timeout,
                                                          RequestOptions options) {
  if (!open_) co_return makeError(ErrorCode::kUnavailable, "not connected");
  if (options.cancel && options.cancel->cancelled())
    co_return makeError(ErrorCode::kCancelled, "cancelled: " + options.cancel->reason());
  std::int64_t id = next_id_++;
  auto pending = std::make_shared<Pending>(executor_);
  pending->hooks = std::move(options.hooks);
  pending->timer.expires_after(timeout);
  pending_.emplace(id, pending);
  std::size_t cancel_handle = 0;
  if (options.cancel) {
    cancel_handle = options.cancel->onCancel([pending] {
      pending->cancelled = true;
      pending->timer.cancel();
    });
  }

  auto sent = co_await transport_->send(
      protocol::toJson(protocol::makeRequest(id, method, std::move(params))));
  if (!sent && !pending->outcome) {
    pending_.erase(id);
    if (options.cancel) options.cancel->forget(cancel_handle);
    co_return std::unexpected(sent.error());
  }
  if (!pending->outcome && !pending->cancelled) {
    boost::system::error_code ec;
    co_await pending->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (options.cancel) options.cancel->forget(cancel_handle);
  if (pending->outcome) co_return std::move(*pending->outcome);

  // Deadline passed or the caller cancelled: forget the id (a late response is ignored) and
  // tell the server.
  pending_.erase(id);
  if (open_ && method != "initialize") {
    // Built outside the co_await: g++ 12 miscompiles braced string literals in a co_await
    // operand ("array used as initializer").
    json::object cancel;
    cancel["requestId"] = id;
    cancel["reason"] = pending->cancelled ? std::string("cancelled by the client")
                                          : std::string("mcpproxy: request timed out");
    co_await notify("notifications/cancelled", std::move(cancel));
  }
  if (pending->cancelled) {
    co_return makeError(ErrorCode::kCancelled, method + " cancelled: " + options.cancel->reason());
  }
  co_return makeError(ErrorCode::kTimeout, "no answer to " + method + " within " +
                                               std::to_string(timeout.count()) + " ms");
}

asio::awaitable<void> UpstreamClient::notify(std::string method, json::value params) {
  if (!open_) co_return;
  auto sent = co_await transport_->send(
      protocol::toJson(protocol::makeNotification(method, std::move(params))));
  if (!sent)
    log::debug("upstream {}: cannot send {}: {}", server_name_, method, sent.error().message);
}

asio::awaitable<void> UpstreamClient::close() {
  if (closing_) co_return;
  closing_ = true;
  open_ = false;
  failAll(Error{ErrorCode::kUnavailable, "connection closed"});
  co_await transport_->close();
}

void UpstreamClient::onMessage(json::value message, const json::value& related) {
  if (message.is_array()) {
    for (const auto& element : message.get_array()) onOneMessage(element, related);
  } else {
    onOneMessage(message, related);
  }
}

std::shared_ptr<RequestHooks> UpstreamClient::hooksFor(const json::value& related,
                                                       const json::value& token, bool guess) const {
  if (related.is_int64()) {
    auto it = pending_.find(related.get_int64());
    if (it != pending_.end()) return it->second->hooks;
  }
  if (!token.is_null()) {
    for (const auto& [id, pending] : pending_) {
      if (pending->hooks && pending->hooks->progress_token == token) return pending->hooks;
    }
    return nullptr;
  }
  if (!guess) return nullptr;
  // Only when the answer is unambiguous: one request in flight with somewhere to relay to.
  std::shared_ptr<RequestHooks> only;
  for (const auto& [id, pending] : pending_) {
    if (!pending->hooks) continue;
    if (only) return nullptr;
    only = pending->hooks;
  }
  return only;
}

void UpstreamClient::onOneMessage(const json::value& value, const json::value& related) {
  auto message = protocol::toMessage(value);
  if (!message) {
    log::warn("upstream {}: dropping invalid JSON-RPC message: {}", server_name_,
              message.error().message);
    return;
  }
  switch (message->kind) {
    case protocol::MessageKind::kResult:
    case protocol::MessageKind::kError: {
      if (!message->id.is_int64()) {
        log::debug("upstream {}: response with an id we never sent", server_name_);
        return;
      }
      auto it = pending_.find(message->id.get_int64());
      if (it == pending_.end()) {
        log::debug("upstream {}: late or unknown response id {}", server_name_,
                   message->id.get_int64());
        return;
      }
      Response response;
      if (message->kind == protocol::MessageKind::kError) {
        const auto& error = message->error.get_object();
        const auto* data = error.if_contains("data");
        const auto* marker =
            data && data->is_object() ? data->get_object().if_contains("mcpproxy") : nullptr;
        if (marker && marker->is_string() && marker->get_string() == kTransportFailure) {
          // Synthesized by our transport: the exchange failed, the server did not answer.
          const auto* text = error.if_contains("message");
          it->second->outcome = makeError(
              ErrorCode::kUnavailable,
              text && text->is_string() ? std::string(text->get_string()) : "transport failure");
          it->second->timer.cancel();
          pending_.erase(it);
          return;
        }
        response.is_error = true;
        response.error = error;
      } else {
        response.result = std::move(message->result);
      }
      it->second->outcome = std::move(response);
      it->second->timer.cancel();
      pending_.erase(it);
      return;
    }
    case protocol::MessageKind::kRequest: {
      auto hooks = message->method == "ping" ? nullptr : hooksFor(related, nullptr, true);
      log::debug("upstream {}: request {} ({})", server_name_, message->method,
                 hooks ? "relayed to the calling client" : "no call claims it");
      asio::co_spawn(executor_,
                     answerServerRequest(message->id, message->method, std::move(message->params),
                                         std::move(hooks)),
                     asio::detached);
      return;
    }
    case protocol::MessageKind::kNotification: {
      const json::object* params = message->params.if_object();
      if (message->method == "notifications/cancelled") {
        // The server withdraws one of its own requests to us.
        const json::value* request_id = params ? params->if_contains("requestId") : nullptr;
        if (request_id) {
          auto it = server_requests_.find(json::serialize(*request_id));
          if (it != server_requests_.end()) {
            auto cancel = it->second;
            const json::value* reason = params->if_contains("reason");
            cancel->cancel(reason && reason->is_string() ? std::string(reason->get_string())
                                                         : std::string("cancelled by the server"));
            return;
          }
        }
      }
      std::shared_ptr<RequestHooks> hooks;
      if (message->method == "notifications/progress") {
        const json::value* token = params ? params->if_contains("progressToken") : nullptr;
        if (token) hooks = hooksFor(related, *token, false);
      } else if (message->method == "notifications/message") {
        hooks = hooksFor(related, nullptr, true);
      }
      if (hooks && hooks->on_notification) {
        hooks->on_notification(message->method, message->params);
      } else if (handlers_.on_notification) {
        handlers_.on_notification(message->method, message->params);
      }
      return;
    }
  }
}

asio::awaitable<void> UpstreamClient::answerServerRequest(json::value id, std::string method,
                                                          json::value params,
                                                          std::shared_ptr<RequestHooks> hooks) {
  // `this` may be destroyed while a relayed request waits for a person (elicitation): `alive`
  // is checked after every suspension.
  auto alive = alive_;
  auto cancel = std::make_shared<Cancellation>();
  std::string key = json::serialize(id);
  server_requests_[key] = cancel;
  Response response;
  if (method == "ping") {
    // Answered here: a ping checks this hop, not whether some downstream client is awake.
    response.result = json::object{};
  } else if (hooks && hooks->on_request) {
    response = co_await hooks->on_request(method, std::move(params), cancel);
  } else if (handlers_.on_request) {
    auto handler = handlers_.on_request;
    response = co_await handler(method, std::move(params), cancel);
  } else {
    response.is_error = true;
    response.error = json::object{{"code", protocol::rpc_error::kMethodNotFound},
                                  {"message", "Method not found: " + method}};
  }
  if (!*alive) co_return;
  server_requests_.erase(key);
  if (cancel->cancelled() || !open_) co_return;  // a cancelled request gets no answer
  protocol::Message reply = response.is_error
                                ? protocol::Message{}
                                : protocol::makeResult(id, std::move(response.result));
  if (response.is_error) {
    reply.kind = protocol::MessageKind::kError;
    reply.id = id;
    reply.error = std::move(response.error);
  }
  (void)co_await transport_->send(protocol::toJson(reply));
}

void UpstreamClient::onTransportClosed(Error error) {
  if (closing_) return;
  open_ = false;
  failAll(error);
  if (handlers_.on_closed) handlers_.on_closed(error);
}

void UpstreamClient::failAll(const Error& error) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, entry] : pending) {
    entry->outcome = std::unexpected(error);
    entry->timer.cancel();
  }
}

}  // namespace mcpproxy::upstream
