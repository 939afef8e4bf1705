// See session.h.
#include "session/session.h"

#include <algorithm>

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
