// See dispatcher.h.
#include "session/dispatcher.h"

#include <boost/json/serialize.hpp>

#include "common/log.h"
#include "protocol/mcp.h"

namespace mcpproxy::session {

using protocol::rpc_error::kInvalidParams;
using protocol::rpc_error::kInvalidRequest;
using protocol::rpc_error::kMethodNotFound;

protocol::Message Dispatcher::initialize(Session& session, const protocol::Message& request) const {
  const json::object* params = request.params.if_object();
  const json::value* requested = params ? params->if_contains("protocolVersion") : nullptr;
  if (!requested || !requested->is_string()) {
    return protocol::makeError(request.id, kInvalidParams,
                               "Invalid params: initialize needs a string \"protocolVersion\"");
  }
  if (session.initialized()) {
    return protocol::makeError(request.id, kInvalidRequest,
                               "Invalid Request: this session is already initialized");
  }
  std::string version(protocol::negotiateVersion(requested->get_string()));
  json::object capabilities;
  if (const auto* caps = params->if_contains("capabilities"); caps && caps->is_object()) {
    capabilities = caps->get_object();
  }
  json::object client_info;
  if (const auto* info = params->if_contains("clientInfo"); info && info->is_object()) {
    client_info = info->get_object();
  }
  std::string client_name = client_info.contains("name") && client_info["name"].is_string()
                                ? std::string(client_info["name"].get_string())
                                : std::string("(unnamed)");
  log::info("session {}: client '{}' initialized with protocol {} (asked {})",
            session.id().substr(0, 8), client_name, version, std::string(requested->get_string()));
  session.setInitialized(version, std::move(capabilities), std::move(client_info));

  json::object result{
      {"protocolVersion", version},
      {"capabilities", router_.serverCapabilities()},
      {"serverInfo",
       json::object{{"name", "mcpproxy"}, {"title", "mcpproxy"}, {"version", "0.1.0"}}},
      {"instructions",
       "mcpproxy puts several MCP servers behind one endpoint. Tool names are "
       "<server>__<tool>; the part before the first \"__\" names the server."}};
  return protocol::makeResult(request.id, std::move(result));
}

boost::asio::awaitable<std::optional<protocol::Message>> Dispatcher::handle(
    std::shared_ptr<Session> session, protocol::Message message,
    std::shared_ptr<router::ClientChannel> channel, std::shared_ptr<Cancellation> cancel) {
  session->touch();
  if (message.isNotification()) {
    onClientNotification(*session, message);
    co_return std::nullopt;
  }
  if (message.isResponse()) {
    if (!session->resolveOutbound(message)) {
      log::debug("session {}: ignoring a response to no request of ours",
                 session->id().substr(0, 8));
    }
    co_return std::nullopt;
  }
  if (message.method == "initialize") co_return initialize(*session, message);
  if (message.method == "ping") co_return protocol::makeResult(message.id, json::object{});
  if (!session->initialized()) {
    co_return protocol::makeError(message.id, kInvalidRequest,
                                  "Invalid Request: send initialize first");
  }
  if (message.method == "logging/setLevel") co_return setLogLevel(*session, message);
  if (message.method == "resources/subscribe" || message.method == "resources/unsubscribe") {
    co_return co_await subscription(*session, message);
  }
  if (router::Router::routes(message.method)) {
    router::RequestContext context = session->context(default_mode_);
    context.channel =
        channel ? std::move(channel) : std::make_shared<RequestChannel>(session, nullptr);
    context.cancel = cancel ? std::move(cancel) : std::make_shared<Cancellation>();
    std::string key = json::serialize(message.id);
    session->addInFlight(key, context.cancel);
    auto response = co_await router_.handle(context, message);
    session->removeInFlight(key);
    if (response.kind == protocol::MessageKind::kResult &&
        (message.method == "tools/call" || message.method == "prompts/get")) {
      protocol::adaptContentForVersion(session->protocolVersion(), response.result);
    }
    co_return response;
  }
  co_return protocol::makeError(message.id, kMethodNotFound, "Method not found: " + message.method);
}

void Dispatcher::onClientNotification(Session& session, const protocol::Message& message) {
  const json::object* params = message.params.if_object();
  if (message.method == "notifications/cancelled") {
    const json::value* id = params ? params->if_contains("requestId") : nullptr;
    const json::value* reason = params ? params->if_contains("reason") : nullptr;
    if (id && session.cancelInFlight(json::serialize(*id),
                                     reason && reason->is_string()
                                         ? std::string(reason->get_string())
                                         : std::string("cancelled by the client"))) {
      log::debug("session {}: request {} cancelled", session.id().substr(0, 8),
                 json::serialize(*id));
    }
    return;
  }
  if (message.method == "notifications/roots/list_changed") {
    router_.notifyUpstreams(message.method);
    return;
  }
  log::debug("session {}: notification {}", session.id().substr(0, 8), message.method);
}

protocol::Message Dispatcher::setLogLevel(Session& session, const protocol::Message& request) {
  auto level = protocol::stringParam(request, "level");
  if (!level || logLevelRank(*level) < 0) {
    return protocol::makeError(request.id, kInvalidParams,
                               "Invalid params: \"level\" must be one of debug, info, notice, "
                               "warning, error, critical, alert, emergency");
  }
  session.setLogLevel(*level);
  // Upstreams are shared by every client: they get the most verbose level any client asked
  // for, and each client's own level is applied when messages are forwarded.
  int most_verbose = logLevelRank(*level);
  if (sessions_) {
    sessions_->forEach([&](Session& other) {
      int r = logLevelRank(other.logLevel());
      if (r >= 0) most_verbose = std::min(most_verbose, r);
    });
  }
  router_.setUpstreamLogLevel(std::string(kLogLevels[most_verbose]));
  return protocol::makeResult(request.id, json::object{});
}

boost::asio::awaitable<protocol::Message> Dispatcher::subscription(
    Session& session, const protocol::Message& request) {
  auto uri = protocol::stringParam(request, "uri");
  if (!uri) {
    co_return protocol::makeError(request.id, kInvalidParams,
                                  "Invalid params: " + request.method + " needs a string \"uri\"");
  }
  std::string key = std::move(*uri);
  bool subscribe = request.method == "resources/subscribe";
  if (!subscribe) {
    session.subscriptions().erase(key);
    // The upstream subscription is shared: it ends when the last client unsubscribes.
    bool still_wanted = false;
    if (sessions_) {
      sessions_->forEach([&](Session& other) {
        still_wanted = still_wanted || other.subscriptions().contains(key);
      });
    }
    if (still_wanted) co_return protocol::makeResult(request.id, json::object{});
  }
  auto response = co_await router_.handle(session.context(default_mode_), request);
  if (subscribe && response.kind == protocol::MessageKind::kResult) {
    session.subscriptions().insert(key);
  }
  co_return response;
}

void Dispatcher::onUpstreamNotification(const std::string& server, const std::string& method,
                                        const json::value& params) const {
  if (!sessions_) return;
  const json::object* object = params.if_object();
  auto notification = protocol::makeNotification(method, params);
  if (method == "notifications/resources/updated") {
    const json::value* uri = object ? object->if_contains("uri") : nullptr;
    if (!uri || !uri->is_string()) return;
    std::string key(uri->get_string());
    sessions_->forEach([&](Session& session) {
      if (session.subscriptions().contains(key)) session.push(notification);
    });
  } else if (method == "notifications/resources/list_changed" ||
             method == "notifications/prompts/list_changed") {
    sessions_->forEach([&](Session& session) {
      if (session.initialized()) session.push(notification);
    });
  } else if (method == "notifications/message") {
    // Only clients that asked for logs (logging/setLevel) get messages no request claims.
    const json::value* level = object ? object->if_contains("level") : nullptr;
    std::string_view name =
        level && level->is_string() ? std::string_view(level->get_string()) : "";
    sessions_->forEach([&](Session& session) {
      if (!session.logLevel().empty() && session.wantsLog(name)) session.push(notification);
    });
  } else if (method == "notifications/elicitation/complete") {
    const json::value* id = object ? object->if_contains("elicitationId") : nullptr;
    if (!id || !id->is_string()) return;
    std::string key(id->get_string());
    sessions_->forEach([&](Session& session) {
      if (session.elicitations().erase(key) > 0) session.push(notification);
    });
  } else {
    log::debug("upstream {}: notification {} not forwarded", server, method);
  }
}

boost::asio::awaitable<upstream::Response> Dispatcher::relayUnclaimed(
    std::string method, json::value params, std::shared_ptr<Cancellation> cancel) {
  std::shared_ptr<Session> chosen;
  if (sessions_) {
    std::vector<std::shared_ptr<Session>> candidates;
    sessions_->forEach([&](Session& session) {
      if (session.initialized() && session.hasSink() &&
          missingCapability(session.clientCapabilities(), method, params).empty()) {
        if (auto shared = sessions_->find(session.id())) candidates.push_back(std::move(shared));
      }
    });
    for (auto& candidate : candidates) {
      if (!chosen || candidate->lastSeen() > chosen->lastSeen()) chosen = candidate;
    }
  }
  if (!chosen) {
    upstream::Response response;
    response.is_error = true;
    response.error =
        json::object{{"code", kMethodNotFound},
                     {"message", "mcpproxy: no connected client can answer " + method}};
    co_return response;
  }
  RequestChannel channel(chosen, nullptr);
  co_return co_await channel.request(std::move(method), std::move(params), std::move(cancel));
}

void Dispatcher::broadcastToolsChanged(const SessionRegistry& sessions) const {
  auto notification = protocol::makeNotification("notifications/tools/list_changed", nullptr);
  sessions.forEach([&](Session& session) {
    if (session.initialized()) session.push(notification);
  });
}

}  // namespace mcpproxy::session
