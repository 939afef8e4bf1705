// Quarantine and tool pinning: decides, from the stored trust decisions and the config, whether
// a server's tools may be listed, searched and called. A new server is quarantined until a person
// approves it; an approved server's tools are pinned by their canonical hash, so a definition
// that changes after approval ("rug pull") is blocked before the next call and a tool that
// appears later waits for approval (unless the server's trust_mode says otherwise).
//
// This object only reads a snapshot; the router feeds it and persists decisions via the store.
// Nothing reachable from an MCP client can mark a server or tool approved.
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "config/config.h"
#include "storage/store.h"

namespace mcpproxy::policy {

enum class ToolAccess {
  kAllowed,
  kServerQuarantined,  // the whole server awaits review
  kPending,            // appeared after approval; awaits approval
  kChanged,            // differs from its approved definition
};

std::string_view accessName(ToolAccess access);

class TrustPolicy {
 public:
  void setSnapshot(storage::TrustSnapshot snapshot) { snapshot_ = std::move(snapshot); }
  const storage::TrustSnapshot& snapshot() const { return snapshot_; }
  storage::TrustSnapshot& mutableSnapshot() { return snapshot_; }

  // Quarantined unless approved (stored) or trusted by the config ("quarantined": false). A
  // stored quarantine (by a person or an agent) wins over the config's trust.
  bool quarantined(const config::ServerConfig& server) const;
  // Why a server is quarantined, for people and models.
  std::string quarantineReason(const config::ServerConfig& server) const;

  ToolAccess access(const config::ServerConfig& server, const boost::json::object& tool) const;
  ToolAccess access(const config::ServerConfig& server, const std::string& tool,
                    const std::string& hash) const;

  // A message for a refused call, naming what a person must run.
  static std::string refusal(ToolAccess access, const std::string& server, const std::string& tool);

 private:
  storage::TrustSnapshot snapshot_;
};

}  // namespace mcpproxy::policy
