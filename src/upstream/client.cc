// See client.h. Correlation works by the proxy's own integer ids: the downstream client's id
// never reaches an upstream, so two clients using the same id cannot collide.
#include "upstream/client.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.h"
#include "protocol/jsonrpc.h"
#include "protocol/mcp.h"

namespace mcpproxy::upstream {

namespace asio = boost::asio;

struct UpstreamClient::Pending {
  explicit Pending(asio::any_io_executor ex) : timer(ex) {}
  asio::steady_timer timer;
  std::optional<Result<Response>> outcome;
};

UpstreamClient::UpstreamClient(asio::any_io_executor executor, std::string server_name,
                               std::unique_ptr<Transport> transport, Handlers handlers)
    : executor_(std::move(executor)),
      server_name_(std::move(server_name)),
      transport_(std::move(transport)),
      handlers_(std::move(handlers)) {}

UpstreamClient::~UpstreamClient() {
  // Owners await close() first; this only guards against waiting coroutines hanging forever.
  failAll(Error{ErrorCode::kUnavailable, "client destroyed"});
}

asio::awaitable<Result<ServerInfo>> UpstreamClient::connect(milliseconds timeout) {
  Transport::Handlers handlers;
  handlers.on_message = [this](json::value message) { onMessage(std::move(message)); };
  handlers.on_closed = [this](Error error) { onTransportClosed(std::move(error)); };
  auto started = co_await transport_->start(std::move(handlers));
  if (!started) co_return std::unexpected(started.error());
  open_ = true;

  json::object params{{"protocolVersion", protocol::kLatestVersion},
                      // Only what the proxy implements for upstreams today: no sampling, roots or
                      // elicitation (relaying those arrives with issue 3).
                      {"capabilities", json::object{}},
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
                                                          milliseconds timeout) {
  if (!open_) co_return makeError(ErrorCode::kUnavailable, "not connected");
  std::int64_t id = next_id_++;
  auto pending = std::make_shared<Pending>(executor_);
  pending->timer.expires_after(timeout);
  pending_.emplace(id, pending);

  auto sent = co_await transport_->send(
      protocol::toJson(protocol::makeRequest(id, method, std::move(params))));
  if (!sent && !pending->outcome) {
    pending_.erase(id);
    co_return std::unexpected(sent.error());
  }
  if (!pending->outcome) {
    boost::system::error_code ec;
    co_await pending->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (pending->outcome) co_return std::move(*pending->outcome);

  // Deadline passed: forget the id (a late response is ignored) and tell the server.
  pending_.erase(id);
  if (open_ && method != "initialize") {
    // Built outside the co_await: g++ 12 miscompiles braced string literals in a co_await
    // operand ("array used as initializer").
    json::object cancel;
    cancel["requestId"] = id;
    cancel["reason"] = "mcpproxy: request timed out";
    co_await notify("notifications/cancelled", std::move(cancel));
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

void UpstreamClient::onMessage(json::value message) {
  if (message.is_array()) {
    for (const auto& element : message.get_array()) onOneMessage(element);
  } else {
    onOneMessage(message);
  }
}

void UpstreamClient::onOneMessage(const json::value& value) {
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
    case protocol::MessageKind::kRequest:
      asio::co_spawn(executor_, answerServerRequest(message->id, message->method), asio::detached);
      return;
    case protocol::MessageKind::kNotification:
      if (handlers_.on_notification) handlers_.on_notification(message->method, message->params);
      return;
  }
}

asio::awaitable<void> UpstreamClient::answerServerRequest(json::value id, std::string method) {
  // The proxy declares no client capabilities yet, so only ping is served (issue 3 relays
  // sampling, elicitation and roots to the downstream client).
  protocol::Message reply =
      method == "ping" ? protocol::makeResult(id, json::object{})
                       : protocol::makeError(id, protocol::rpc_error::kMethodNotFound,
                                             "mcpproxy does not support " + method + " yet");
  if (open_) (void)co_await transport_->send(protocol::toJson(reply));
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
