// StdioTransport against real child processes (/bin/sh scripts): framing over real pipes,
// garbage and oversized lines, exit reporting with the stderr tail, message-before-exit order,
// the environment allowlist, working_dir, and the stop escalation reaching the process group.
#include "upstream/stdio_transport.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <vector>

namespace mcpproxy::upstream {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using std::chrono::milliseconds;

// True when `pid` no longer runs (gone, or a zombie waiting for its parent).
bool processGone(int pid) {
  if (::kill(pid, 0) != 0) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close_paren = text.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < text.size() &&
         text[close_paren + 2] == 'Z';
}

class StdioTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mcpproxy-stdio-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override {
    transport_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  StdioOptions shell(std::string script) {
    StdioOptions options;
    options.server_name = "test";
    options.command = "sh";
    options.args = {"-c", std::move(script)};
    options.stderr_log = dir_ / "test.log";
    options.stop_grace = milliseconds(200);
    options.kill_grace = milliseconds(300);
    return options;
  }

  // Starts a transport that records what it delivers.
  void start(StdioOptions options) {
    transport_ = makeStdioTransport(io_.get_executor(), std::move(options));
    Transport::Handlers handlers;
    handlers.on_message = [this](json::value message) {
      events_.push_back("message");
      messages_.push_back(std::move(message));
    };
    handlers.on_closed = [this](Error error) {
      events_.push_back("closed");
      closed_.push_back(std::move(error));
    };
    auto started = run(transport_->start(std::move(handlers)));
    ASSERT_TRUE(started) << started.error().message;
  }

  template <class T>
  T run(asio::awaitable<T> task) {
    auto future = asio::co_spawn(io_, std::move(task), asio::use_future);
    // The child's read loops keep the loop busy, so run in slices until the task is done.
    runUntil([&] { return future.wait_for(std::chrono::seconds(0)) == std::future_status::ready; });
    EXPECT_EQ(future.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    return future.get();
  }

  // Runs the event loop until `done()` or a 10 s deadline; returns done().
  bool runUntil(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    io_.restart();
    while (!done() && std::chrono::steady_clock::now() < deadline) io_.run_for(milliseconds(10));
    return done();
  }

  std::int64_t pidFromFirstMessage() {
    EXPECT_TRUE(runUntil([&] { return !messages_.empty(); }));
    if (messages_.empty()) return -1;
    return messages_[0].as_object().at("pid").as_int64();
  }

  fs::path dir_;
  asio::io_context io_;
  std::unique_ptr<Transport> transport_;
  std::vector<json::value> messages_;
  std::vector<Error> closed_;
  std::vector<std::string> events_;
};

TEST_F(StdioTransportTest, RoundTripsMessagesThroughTheChild) {
  start(shell("exec cat"));
  json::object request{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}};
  json::object second{{"jsonrpc", "2.0"}, {"id", 2}, {"method", "tools/list"}};
  ASSERT_TRUE(run(transport_->send(request)));
  ASSERT_TRUE(run(transport_->send(second)));
  ASSERT_TRUE(runUntil([&] { return messages_.size() == 2; }));
  EXPECT_EQ(messages_[0], request);
  EXPECT_EQ(messages_[1], second);
  run(transport_->close());
  EXPECT_TRUE(closed_.empty()) << "close() must not report on_closed";
}

TEST_F(StdioTransportTest, DropsGarbageAndOversizedLinesButKeepsGoodOnes) {
  auto options = shell(
      "echo 'npm WARN something'; echo '[1'; head -c 5000 /dev/zero | tr '\\0' x; echo;"
      " echo 42; echo '{\"jsonrpc\":\"2.0\",\"method\":\"notifications/ok\"}'; exec sleep 30");
  options.max_line_bytes = 1024;
  start(std::move(options));
  ASSERT_TRUE(runUntil([&] { return !messages_.empty(); }));
  io_.run_for(milliseconds(100));
  ASSERT_EQ(messages_.size(), 1u);
  EXPECT_EQ(messages_[0].as_object().at("method"), "notifications/ok");
  run(transport_->close());
}

TEST_F(StdioTransportTest, ReportsExitCodeAndStderrTailAfterPendingMessages) {
  start(
      shell("echo '{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{}}'; echo 'fatal: no token' >&2;"
            " exit 7"));
  ASSERT_TRUE(runUntil([&] { return !closed_.empty(); }));
  ASSERT_EQ(events_.size(), 2u);
  EXPECT_EQ(events_[0], "message") << "output written before exit must be delivered first";
  EXPECT_EQ(events_[1], "closed");
  EXPECT_EQ(closed_[0].code, ErrorCode::kUnavailable);
  EXPECT_NE(closed_[0].message.find("exited with code 7"), std::string::npos) << closed_[0].message;
  EXPECT_NE(closed_[0].message.find("fatal: no token"), std::string::npos) << closed_[0].message;

  std::ifstream log(dir_ / "test.log");
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_NE(text.str().find("fatal: no token"), std::string::npos);
  EXPECT_FALSE(run(transport_->send(json::object{{"jsonrpc", "2.0"}, {"method", "x"}})));
}

TEST_F(StdioTransportTest, ReportsDeathBySignal) {
  start(shell("kill -KILL $$"));
  ASSERT_TRUE(runUntil([&] { return !closed_.empty(); }));
  EXPECT_NE(closed_[0].message.find("killed by signal 9"), std::string::npos) << closed_[0].message;
}

TEST_F(StdioTransportTest, ChildGetsAllowlistedEnvironmentPlusConfiguredVariables) {
  ::setenv("MCPPROXY_TEST_SECRET", "do-not-leak", 1);
  auto options = shell(
      "printf '{\"secret\":\"%s\",\"configured\":\"%s\",\"home\":\"%s\"}\\n'"
      " \"$MCPPROXY_TEST_SECRET\" \"$API_MODE\" \"$HOME\"; exec sleep 30");
  options.env = {{"API_MODE", "fast"}};
  start(std::move(options));
  ASSERT_TRUE(runUntil([&] { return !messages_.empty(); }));
  const auto& seen = messages_[0].as_object();
  EXPECT_EQ(seen.at("secret"), "");
  EXPECT_EQ(seen.at("configured"), "fast");
  if (const char* home = ::getenv("HOME")) {
    EXPECT_EQ(seen.at("home"), home);
  }
  ::unsetenv("MCPPROXY_TEST_SECRET");
  run(transport_->close());
}

TEST_F(StdioTransportTest, ConfiguredVariablesOverrideInheritedOnes) {
  ::setenv("LANG", "C", 1);
  auto env = buildChildEnvironment({{"LANG", "de_DE.UTF-8"}});
  int count = 0;
  for (const auto& entry : env) {
    if (entry.starts_with("LANG=")) {
      ++count;
      EXPECT_EQ(entry, "LANG=de_DE.UTF-8");
    }
  }
  EXPECT_EQ(count, 1);
}

TEST_F(StdioTransportTest, RunsInWorkingDir) {
  auto options = shell("printf '{\"cwd\":\"%s\"}\\n' \"$(pwd -P)\"; exec sleep 30");
  options.working_dir = dir_.string();
  start(std::move(options));
  ASSERT_TRUE(runUntil([&] { return !messages_.empty(); }));
  EXPECT_EQ(messages_[0].as_object().at("cwd").as_string(), fs::canonical(dir_).string());
  run(transport_->close());
}

TEST_F(StdioTransportTest, StartFailsClearlyForMissingCommandOrDirectory) {
  StdioOptions missing;
  missing.command = "mcpproxy-no-such-command-xyz";
  transport_ = makeStdioTransport(io_.get_executor(), missing);
  auto started = run(transport_->start({}));
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message.find("command not found"), std::string::npos);

  auto options = shell("exit 0");
  options.working_dir = (dir_ / "nope").string();
  transport_ = makeStdioTransport(io_.get_executor(), options);
  started = run(transport_->start({}));
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message.find("working_dir"), std::string::npos);
}

TEST_F(StdioTransportTest, CloseEscalatesToSigkillForAServerIgnoringSigterm) {
  start(shell("trap '' TERM; echo \"{\\\"pid\\\":$$}\"; while :; do sleep 0.05; done"));
  auto pid = pidFromFirstMessage();
  ASSERT_GT(pid, 0);
  auto began = std::chrono::steady_clock::now();
  run(transport_->close());
  auto took = std::chrono::steady_clock::now() - began;
  EXPECT_TRUE(processGone(static_cast<int>(pid)));
  EXPECT_GE(took, milliseconds(400)) << "stdin close and SIGTERM grace periods are honoured";
  EXPECT_TRUE(closed_.empty());
}

TEST_F(StdioTransportTest, CloseStopsGrandchildrenInTheProcessGroup) {
  start(shell("sleep 30 & echo \"{\\\"pid\\\":$!}\"; wait"));
  auto grandchild = pidFromFirstMessage();
  ASSERT_GT(grandchild, 0);
  run(transport_->close());
  EXPECT_TRUE(runUntil([&] { return processGone(static_cast<int>(grandchild)); }));
}

TEST_F(StdioTransportTest, DestroyingTheTransportKillsTheChild) {
  start(shell("echo \"{\\\"pid\\\":$$}\"; exec sleep 30"));
  auto pid = pidFromFirstMessage();
  ASSERT_GT(pid, 0);
  transport_.reset();
  EXPECT_TRUE(processGone(static_cast<int>(pid)));
  io_.restart();
  io_.run_for(milliseconds(50));  // detached readers finish without touching handlers
  EXPECT_TRUE(closed_.empty());
}

}  // namespace
}  // namespace mcpproxy::upstream
