// See mcp.h.
#include "protocol/mcp.h"

#include <algorithm>

namespace mcpproxy::protocol {

bool isSupportedVersion(std::string_view version) {
  return std::find(kSupportedVersions.begin(), kSupportedVersions.end(), version) !=
         kSupportedVersions.end();
}

std::string_view negotiateVersion(std::string_view requested) {
  return isSupportedVersion(requested) ? requested : kLatestVersion;
}

std::string_view supportedVersionsText() {
  return "2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05";
}

}  // namespace mcpproxy::protocol
