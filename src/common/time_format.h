// Wall-clock times as people and JSON consumers read them: ISO 8601 in UTC.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

namespace mcpproxy {

// "2026-11-24T14:32:08Z" for milliseconds since the epoch; "" for 0 or less (never).
inline std::string isoTimeUtc(std::int64_t ms) {
  if (ms <= 0) return "";
  std::time_t seconds = ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

}  // namespace mcpproxy
