// See dispatcher.h.
#include "session/dispatcher.h"

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
    std::shared_ptr<Session> session, protocol::Message message) {
  session->touch();
  if (message.isNotification()) {
    // notifications/initialized needs no action; cancellation and roots forwarding arrive with
    // issue 3.
    log::debug("session {}: notification {}", session->id().substr(0, 8), message.method);
    co_return std::nullopt;
  }
  if (message.isResponse()) {
    log::debug("session {}: ignoring a response (the proxy sends no requests yet)",
               session->id().substr(0, 8));
    co_return std::nullopt;
  }
  if (message.method == "initialize") co_return initialize(*session, message);
  if (message.method == "ping") co_return protocol::makeResult(message.id, json::object{});
  if (!session->initialized()) {
    co_return protocol::makeError(message.id, kInvalidRequest,
                                  "Invalid Request: send initialize first");
  }
  if (router::Router::routes(message.method)) {
    co_return co_await router_.handle(session->context(default_mode_), message);
  }
  co_return protocol::makeError(message.id, kMethodNotFound, "Method not found: " + message.method);
}

void Dispatcher::broadcastToolsChanged(const SessionRegistry& sessions) const {
  auto notification = protocol::makeNotification("notifications/tools/list_changed", nullptr);
  sessions.forEach([&](Session& session) {
    if (session.initialized()) session.push(notification);
  });
}

}  // namespace mcpproxy::session
