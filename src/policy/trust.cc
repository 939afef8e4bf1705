// See trust.h.
#include "policy/trust.h"

#include "storage/tool_hash.h"

namespace mcpproxy::policy {

std::string_view accessName(ToolAccess access) {
  switch (access) {
    case ToolAccess::kAllowed:
      return "approved";
    case ToolAccess::kServerQuarantined:
      return "quarantined";
    case ToolAccess::kPending:
      return "pending";
    case ToolAccess::kChanged:
      return "changed";
  }
  return "unknown";
}

bool TrustPolicy::quarantined(const config::ServerConfig& server) const {
  auto stored = snapshot_.server_state.find(server.name);
  if (stored != snapshot_.server_state.end()) return stored->second != "approved";
  if (server.quarantined.has_value()) return *server.quarantined;
  return true;
}

std::string TrustPolicy::quarantineReason(const config::ServerConfig& server) const {
  auto stored = snapshot_.server_state.find(server.name);
  if (stored != snapshot_.server_state.end() && stored->second == "quarantined") {
    return "quarantined after review was requested";
  }
  if (server.quarantined.value_or(false)) return "quarantined by the config";
  return "new server, not reviewed yet";
}

ToolAccess TrustPolicy::access(const config::ServerConfig& server, const std::string& tool,
                               const std::string& hash) const {
  if (quarantined(server)) return ToolAccess::kServerQuarantined;
  auto approved = snapshot_.approved.find({server.name, tool});
  if (approved == snapshot_.approved.end()) return ToolAccess::kPending;
  return approved->second == hash ? ToolAccess::kAllowed : ToolAccess::kChanged;
}

ToolAccess TrustPolicy::access(const config::ServerConfig& server,
                               const boost::json::object& tool) const {
  const auto* name = tool.if_contains("name");
  if (!name || !name->is_string()) return ToolAccess::kPending;
  return access(server, std::string(name->get_string()), storage::toolHash(tool));
}

std::string TrustPolicy::refusal(ToolAccess access, const std::string& server,
                                 const std::string& tool) {
  switch (access) {
    case ToolAccess::kAllowed:
      return "";
    case ToolAccess::kServerQuarantined:
      return "mcpproxy: server '" + server +
             "' is quarantined: a person must review it and run `mcpproxy upstream approve " +
             server + "` before its tools can be used.";
    case ToolAccess::kPending:
      return "mcpproxy: tool '" + server + ":" + tool +
             "' is new and not approved yet: a person must run `mcpproxy tools approve " + server +
             ":" + tool + "`.";
    case ToolAccess::kChanged:
      return "mcpproxy: tool '" + server + ":" + tool +
             "' changed since it was approved and is blocked: a person must review `mcpproxy "
             "tools diff " +
             server + ":" + tool + "` and approve the new version.";
  }
  return "mcpproxy: not allowed";
}

}  // namespace mcpproxy::policy
