// See session.h.
#include "session/session.h"

#include <algorithm>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <iterator>

#include "common/log.h"
#include "common/random.h"

namespace mcpproxy::session {

void Session::setInitialized(std::string version, json::object capabilities,
                             json::object client_info) {
  protocol_version_ = std::move(version);
  client_capabilities_ = std::move(capabilities);
  client_info_ = std::move(client_info);
  initialized_ = true;
}

std::int64_t Session::addOutbound(std::shared_ptr<OutboundRequest> request) {
  std::int64_t id = next_outbound_id_++;
  outbound_.emplace(id, std::move(request));
  return id;
}

bool Session::resolveOutbound(const protocol::Message& response) {
  if (!response.id.is_int64()) return false;
  auto it = outbound_.find(response.id.get_int64());
  if (it == outbound_.end()) return false;
  auto request = std::move(it->second);
  outbound_.erase(it);
  upstream::Response answer;
  if (response.kind == protocol::MessageKind::kError && response.error.is_object()) {
    answer.is_error = true;
    answer.error = response.error.get_object();
  } else {
    answer.result = response.result;
  }
  request->answer = std::move(answer);
  if (request->wake) request->wake();
  return true;
}

void Session::failOutbound(const std::string& reason) {
  auto outbound = std::move(outbound_);
  outbound_.clear();
  for (auto& [id, request] : outbound) {
    upstream::Response answer;
    answer.is_error = true;
    answer.error = json::object{{"code", protocol::rpc_error::kInternalError},
                                {"message", "mcpproxy: " + reason}};
    request->answer = std::move(answer);
    if (request->wake) request->wake();
  }
  auto in_flight = std::move(in_flight_);
  in_flight_.clear();
  for (auto& [id, cancel] : in_flight) cancel->cancel(reason);
}

bool Session::cancelInFlight(const std::string& id, std::string reason) {
  auto it = in_flight_.find(id);
  if (it == in_flight_.end()) return false;
  auto cancel = it->second;
  cancel->cancel(std::move(reason));
  return true;
}

int logLevelRank(std::string_view level) {
  for (int i = 0; i < static_cast<int>(std::size(kLogLevels)); ++i) {
    if (kLogLevels[i] == level) return i;
  }
  return -1;
}

bool Session::wantsLog(std::string_view level) const {
  if (log_level_.empty()) return true;
  int wanted = logLevelRank(log_level_);
  int got = logLevelRank(level);
  return got < 0 || wanted < 0 || got >= wanted;
}

std::string missingCapability(const json::object& capabilities, std::string_view method,
                              const json::value& params) {
  auto declared = [&](const char* name) { return capabilities.contains(name); };
  if (method == "sampling/createMessage") {
    return declared("sampling") ? "" : "the client did not declare the sampling capability";
  }
  if (method == "roots/list") {
    return declared("roots") ? "" : "the client did not declare the roots capability";
  }
  if (method == "elicitation/create") {
    if (!declared("elicitation")) return "the client did not declare the elicitation capability";
    const json::object* p = params.if_object();
    const json::value* mode = p ? p->if_contains("mode") : nullptr;
    const json::value& elicitation = capabilities.at("elicitation");
    if (mode && mode->is_string() && mode->get_string() == "url") {
      // URL mode must be declared explicitly ({"url": {}}); an empty object means form only.
      const auto* caps = elicitation.if_object();
      if (!caps || !caps->contains("url")) {
        return "the client did not declare URL-mode elicitation";
      }
    } else if (const auto* caps = elicitation.if_object();
               caps && !caps->empty() && !caps->contains("form")) {
      return "the client did not declare form-mode elicitation";
    }
    return "";
  }
  return "mcpproxy relays only sampling, elicitation and roots requests to clients, not " +
         std::string(method);
}

void RequestChannel::send(const protocol::Message& message) const {
  if (stream_) {
    stream_(message);
  } else {
    session_->push(message);
  }
}

void RequestChannel::notify(const protocol::Message& notification) {
  if (notification.method == "notifications/message") {
    const json::object* params = notification.params.if_object();
    const json::value* level = params ? params->if_contains("level") : nullptr;
    if (level && level->is_string() && !session_->wantsLog(level->get_string())) return;
  }
  send(notification);
}

boost::asio::awaitable<upstream::Response> RequestChannel::request(
    std::string method, json::value params, std::shared_ptr<Cancellation> cancel) {
  upstream::Response response;
  std::string missing = missingCapability(session_->clientCapabilities(), method, params);
  if (!missing.empty()) {
    response.is_error = true;
    response.error = json::object{{"code", protocol::rpc_error::kMethodNotFound},
                                  {"message", "mcpproxy: " + missing}};
    co_return response;
  }
  auto executor = co_await boost::asio::this_coro::executor;
  auto timer = std::make_shared<boost::asio::steady_timer>(executor);
  auto outbound = std::make_shared<OutboundRequest>();
  outbound->wake = [timer] { timer->cancel(); };
  std::int64_t id = session_->addOutbound(outbound);
  if (method == "elicitation/create") {
    const json::object* p = params.if_object();
    const json::value* elicitation_id = p ? p->if_contains("elicitationId") : nullptr;
    if (elicitation_id && elicitation_id->is_string()) {
      session_->elicitations().insert(std::string(elicitation_id->get_string()));
    }
  }
  bool cancelled = false;
  std::size_t handle = 0;
  if (cancel) {
    handle = cancel->onCancel([&cancelled, timer] {
      cancelled = true;
      timer->cancel();
    });
  }
  send(protocol::makeRequest(id, method, std::move(params)));
  timer->expires_after(kMaxWait);
  if (!outbound->answer && !cancelled) {
    boost::system::error_code ec;
    co_await timer->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  if (cancel) cancel->forget(handle);
  if (outbound->answer) co_return std::move(*outbound->answer);
  session_->forgetOutbound(id);
  // Cancelled by the upstream, or no answer in time: the client may stop asking its user.
  json::object withdrawn;
  withdrawn["requestId"] = id;
  withdrawn["reason"] = cancelled ? cancel->reason() : std::string("no answer in time");
  send(protocol::makeNotification("notifications/cancelled", std::move(withdrawn)));
  response.is_error = true;
  response.error = json::object{
      {"code", protocol::rpc_error::kInternalError},
      {"message", cancelled ? std::string("mcpproxy: request cancelled")
                            : "mcpproxy: the client did not answer " + method + " in time"}};
  co_return response;
}

std::shared_ptr<Session> SessionRegistry::create() {
  if (sessions_.size() >= max_sessions_) {
    auto oldest = std::min_element(
        sessions_.begin(), sessions_.end(),
        [](const auto& a, const auto& b) { return a.second->lastSeen() < b.second->lastSeen(); });
    log::warn("session limit {} reached: dropping the least recently used session", max_sessions_);
    remove(oldest->first);
  }
  auto session = std::make_shared<Session>(randomHex(16));
  sessions_.emplace(session->id(), session);
  return session;
}

std::shared_ptr<Session> SessionRegistry::find(const std::string& id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second;
}

bool SessionRegistry::remove(const std::string& id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return false;
  auto session = std::move(it->second);
  sessions_.erase(it);
  session->failOutbound("the client session ended");
  if (on_removed_) on_removed_(*session);
  return true;
}

std::size_t SessionRegistry::expireIdle() {
  auto cutoff = Clock::now() - idle_timeout_;
  std::vector<std::string> expired;
  for (const auto& [id, session] : sessions_) {
    // A client with an open GET stream is connected, not idle.
    if (session->lastSeen() < cutoff && !session->hasSink()) expired.push_back(id);
  }
  for (const auto& id : expired) remove(id);
  return expired.size();
}

void SessionRegistry::forEach(const std::function<void(Session&)>& fn) const {
  for (const auto& [id, session] : sessions_) fn(*session);
}

}  // namespace mcpproxy::session
