// A value that must never be printed or logged (API keys, tokens). Formatting it yields "***";
// code that really needs the value calls reveal(), which is easy to grep for.
#pragma once

#include <fmt/format.h>

#include <string>
#include <utility>

namespace mcpproxy {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}

  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }

 private:
  std::string value_;
};

}  // namespace mcpproxy

template <>
struct fmt::formatter<mcpproxy::Secret> : fmt::formatter<std::string_view> {
  auto format(const mcpproxy::Secret& secret, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(secret.empty() ? "(unset)" : "***", ctx);
  }
};
