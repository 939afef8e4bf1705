// The decision a manifest filter makes for one server on each tool-list change, as one pure
// function: verify the manifest (signature, keys, expiry), check the server's identity, compare
// the listed tools. `mcpproxy manifest check` prints exactly this; the request path's filter
// (issue 16, wired by the lead) acts on it.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "manifest/compare.h"
#include "manifest/format.h"
#include "manifest/signing.h"

namespace mcpproxy::manifest {

struct ServerCheck {
  // The whole server is blocked: malformed manifest, bad or expired signature, unknown or
  // revoked key, expired manifest, or a manifest for another URL. `reason` says which.
  bool server_blocked = true;
  std::string reason;
  Verification verification;
  std::optional<Manifest> manifest;  // when it parsed
  Comparison comparison;             // filled only when the server is not blocked
  // Check again by then even without a list change (expiry of the manifest or its key).
  std::optional<std::int64_t> recheck_at;

  // May this listed tool be listed and called? Only `ok` tools of an unblocked server.
  bool allows(std::string_view tool) const;
};

// `manifest_text`: the manifest file's bytes. `configured_url`: the server's "url" (empty for a
// stdio server). `current`: the definitions the server lists now.
ServerCheck checkServer(std::string_view manifest_text, std::span<const TrustedKey> keys,
                        std::int64_t now, const std::vector<json::object>& current,
                        std::string_view configured_url, const Limits& limits = {});

json::object toJson(const ServerCheck& check);

}  // namespace mcpproxy::manifest
