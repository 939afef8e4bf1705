// spdlog behind the facade in log.h: one stderr sink, plus a file sink when asked, written by
// one background thread so that a slow terminal or disk never stalls the event loop.
#include "common/log.h"

#include <fcntl.h>
#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "common/redact.h"

namespace mcpproxy::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::shared_ptr<spdlog::logger> g_logger;
std::shared_ptr<spdlog::details::thread_pool> g_pool;
std::atomic<int> g_file_fd{-1};

constexpr std::size_t kQueuedMessages = 8192;

// spdlog's file sink opens with fopen(), which cannot ask for O_CLOEXEC; this one owns a
// descriptor opened the way every descriptor of the proxy is (common/fd.h).
class FdFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit FdFileSink(int fd) : fd_(fd) {}
  ~FdFileSink() override { ::close(fd_); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    const char* data = formatted.data();
    std::size_t left = formatted.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, data, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // a full disk loses log lines, never the proxy
      data += n;
      left -= static_cast<std::size_t>(n);
    }
  }
  void flush_() override {}

 private:
  int fd_;
};

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
    int fd = ::open(options.file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
      g_file_fd.store(fd);
      sinks.push_back(std::make_shared<FdFileSink>(fd));
    } else {
      fmt::print(stderr, "warning: cannot open log file {}: {}\n", options.file,
                 std::strerror(errno));
    }
  }
  if (!g_pool) g_pool = std::make_shared<spdlog::details::thread_pool>(kQueuedMessages, 1);
  g_logger = std::make_shared<spdlog::async_logger>("mcpproxy", sinks.begin(), sinks.end(), g_pool,
                                                    spdlog::async_overflow_policy::overrun_oldest);
  g_logger->set_level(spdlog::level::trace);
  g_logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
  g_logger->flush_on(spdlog::level::info);
  setLevel(options.level);
}

void shutdown() {
  if (!g_pool) return;
  g_logger->flush();
  // A logger that writes synchronously again, then the pool drains and joins its thread.
  g_file_fd.store(-1);
  g_logger.reset();
  g_pool.reset();
}

int fileDescriptor() {
  return g_file_fd.load();
}

void setLevel(Level level) {
  g_level.store(level, std::memory_order_relaxed);
}

bool enabled(Level level) {
  return level >= g_level.load(std::memory_order_relaxed) && level != Level::kOff;
}

void write(Level level, std::string_view message) {
  // Log lines quote URLs and upstream errors: the one redaction rule applies (redact.h).
  logger().log(toSpd(level), redactText(message));
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
