// See check.h.
#include "manifest/check.h"

namespace mcpproxy::manifest {

bool ServerCheck::allows(std::string_view tool) const {
  if (server_blocked) return false;
  const ToolCheck* t = comparison.find(tool);
  return t != nullptr && t->status == ToolStatus::kOk;
}

ServerCheck checkServer(std::string_view manifest_text, std::span<const TrustedKey> keys,
                        std::int64_t now, const std::vector<json::object>& current,
                        std::string_view configured_url, const Limits& limits) {
  ServerCheck out;
  auto parsed = parseSignedManifest(manifest_text, limits);
  if (!parsed) {
    out.verification.status = VerifyStatus::kMalformed;
    out.verification.message = parsed.error().message;
    out.reason = "the manifest is malformed: " + parsed.error().message;
    return out;
  }
  out.manifest = parsed->manifest;
  out.verification = verify(*parsed, keys, now);
  if (!out.verification.ok()) {
    out.reason = "the manifest does not verify (" +
                 std::string(statusName(out.verification.status)) +
                 "): " + out.verification.message;
    return out;
  }
  if (auto mismatch = identityMismatch(parsed->manifest, configured_url)) {
    out.reason = *mismatch;
    return out;
  }
  out.server_blocked = false;
  out.recheck_at = out.verification.valid_until;
  out.comparison = compareTools(parsed->manifest, current);
  return out;
}

json::object toJson(const ServerCheck& check) {
  json::object out{{"server_blocked", check.server_blocked},
                   {"status", statusName(check.verification.status)},
                   {"message", check.verification.message}};
  if (check.server_blocked) out["reason"] = check.reason;
  if (!check.verification.key_id.empty()) out["key_id"] = check.verification.key_id;
  if (check.recheck_at) out["recheck_at"] = formatTime(*check.recheck_at);
  if (check.manifest) {
    out["manifest_server"] = check.manifest->server.name;
    out["manifest_version"] = check.manifest->version;
  }
  if (!check.server_blocked) {
    auto comparison = toJson(check.comparison);
    out["clean"] = comparison.at("clean");
    out["tools"] = comparison.at("tools");
  }
  return out;
}

}  // namespace mcpproxy::manifest
