// spdlog behind the facade in log.h: one stderr sink, plus a file sink when asked.
#include "common/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>

namespace mcpproxy::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::shared_ptr<spdlog::logger> g_logger;

spdlog::level::level_enum toSpd(Level level) {
  switch (level) {
    case Level::kTrace:
      return spdlog::level::trace;
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
    case Level::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

spdlog::logger& logger() {
  if (!g_logger) {
    g_logger = std::make_shared<spdlog::logger>(
        "mcpproxy", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    g_logger->set_level(spdlog::level::trace);
  }
  return *g_logger;
}

}  // namespace

void init(const Options& options) {
  std::vector<spdlog::sink_ptr> sinks{std::make_shared<spdlog::sinks::stderr_color_sink_mt>()};
  if (!options.file.empty()) {
    try {
      sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file));
    } catch (const spdlog::spdlog_ex& e) {
      fmt::print(stderr, "warning: cannot open log file {}: {}\n", options.file, e.what());
    }
  }
  g_logger = std::make_shared<spdlog::logger>("mcpproxy", sinks.begin(), sinks.end());
  g_logger->set_level(spdlog::level::trace);
  g_logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
  g_logger->flush_on(spdlog::level::info);
  setLevel(options.level);
}

void setLevel(Level level) {
  g_level.store(level, std::memory_order_relaxed);
}

bool enabled(Level level) {
  return level >= g_level.load(std::memory_order_relaxed) && level != Level::kOff;
}

void write(Level level, std::string_view message) {
  logger().log(toSpd(level), message);
}

std::optional<Level> parseLevel(std::string_view name) {
  if (name == "trace") return Level::kTrace;
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn" || name == "warning") return Level::kWarn;
  if (name == "error") return Level::kError;
  if (name == "off") return Level::kOff;
  return std::nullopt;
}

}  // namespace mcpproxy::log
