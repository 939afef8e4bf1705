// Logging facade. Keeps spdlog out of headers (it costs ~7 s per translation unit); callers
// format with fmt. Logs go to stderr and optionally a file, never to stdout (stdout carries MCP
// messages in --stdio mode). Never log secrets: see common/secret.h.
#pragma once

#include <fmt/format.h>

#include <optional>
#include <string>
#include <string_view>

namespace mcpproxy::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kOff };

struct Options {
  Level level = Level::kInfo;
  std::string file;  // empty: stderr only
};

// Writes go through a background thread (a full queue drops the oldest messages rather than
// block the event loop); the file is opened close-on-exec, mode 0600, appending.
void init(const Options& options);
// Drains queued messages (call before the process exits).
void shutdown();
// The log file's descriptor (-1 without a file), for the fatal-signal handler, which must write
// without locks or allocation.
int fileDescriptor();
void setLevel(Level level);
bool enabled(Level level);
void write(Level level, std::string_view message);
std::optional<Level> parseLevel(std::string_view name);

template <class... Args>
void trace(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kTrace)) write(Level::kTrace, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kDebug)) write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kInfo)) write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kWarn)) write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kError)) write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace mcpproxy::log
