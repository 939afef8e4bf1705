// MCP protocol revisions the proxy speaks, and helpers for negotiating them per hop.
#pragma once

#include <array>
#include <boost/json/value.hpp>
#include <optional>
#include <string_view>

namespace mcpproxy::protocol {

// Newest first. 2026-07-28 (stateless) is a later issue; see docs/ARCHITECTURE.md.
inline constexpr std::array<std::string_view, 4> kSupportedVersions = {"2025-11-25", "2025-06-18",
                                                                       "2025-03-26", "2024-11-05"};
inline constexpr std::string_view kLatestVersion = kSupportedVersions.front();
// What a Streamable HTTP server assumes when MCP-Protocol-Version is absent (spec §transports).
inline constexpr std::string_view kDefaultHttpVersion = "2025-03-26";

bool isSupportedVersion(std::string_view version);

// The version to answer an initialize with: the requested one when we support it, otherwise
// our latest (the client then decides whether to continue).
std::string_view negotiateVersion(std::string_view requested);

// Revisions are dates, so string order is time order.
inline bool versionAtLeast(std::string_view version, std::string_view minimum) {
  return version >= minimum;
}

// Rewrites content blocks a client of `version` does not know into text it can show: audio
// (2025-03-26) and resource_link (2025-06-18) blocks of a tools/call result's `content` or of
// prompts/get `messages`. Upstreams are negotiated separately and may be newer than the client.
void adaptContentForVersion(std::string_view version, boost::json::value& result);

// The joined list "2025-11-25, 2025-06-18, ..." for error messages.
std::string_view supportedVersionsText();

}  // namespace mcpproxy::protocol
