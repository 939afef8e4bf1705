// Wall-clock times as people and JSON consumers read them: ISO 8601 in UTC.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

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

// Parses "YYYY-MM-DDTHH:MM:SSZ" (exactly that form: UTC, no fraction, no offset) or, when
// `allow_date_only`, also "YYYY-MM-DD" (midnight UTC). Returns seconds since the epoch, or
// nullopt for anything else (including impossible dates such as 2025-02-30 and years before
// 1970 or after 9999).
inline std::optional<std::int64_t> parseIsoTimeUtc(std::string_view text,
                                                   bool allow_date_only = false) {
  auto digits = [&](std::size_t at, std::size_t count) -> std::optional<int> {
    int value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  bool date_only = text.size() == 10;
  if (!(text.size() == 20 || (allow_date_only && date_only))) return std::nullopt;
  if (text[4] != '-' || text[7] != '-') return std::nullopt;
  auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2);
  if (!y || !mo || !d || *y < 1970) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year{*y}, std::chrono::month(*mo),
                                  std::chrono::day(*d)};
  if (!ymd.ok()) return std::nullopt;
  std::int64_t seconds = std::chrono::sys_days(ymd).time_since_epoch() / std::chrono::seconds(1);
  if (date_only) return seconds;
  if (text[10] != 'T' || text[13] != ':' || text[16] != ':' || text[19] != 'Z') {
    return std::nullopt;
  }
  auto h = digits(11, 2), mi = digits(14, 2), s = digits(17, 2);
  if (!h || !mi || !s || *h > 23 || *mi > 59 || *s > 59) return std::nullopt;
  return seconds + *h * 3600 + *mi * 60 + *s;
}

}  // namespace mcpproxy
