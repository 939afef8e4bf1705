// See stdio_transport.h. The child runs in its own process group so that close() can stop the
// whole tree a launcher like `npx` or `uvx` creates. Exit is detected with a pidfd (Linux 5.3+;
// a 50 ms waitid poll otherwise) and the status is read with WNOWAIT first, so the process group
// id cannot be reused while we still signal stragglers in it.
//
// Lifetime: the read loops and the exit watcher are detached coroutines that share `State` with
// the transport object. Destroying the transport detaches them (handlers are never called after
// that) and kills the process group synchronously.
#include "upstream/stdio_transport.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <system_error>

#include "common/log.h"
#include "protocol/jsonrpc.h"
#include "protocol/line_framer.h"

extern char** environ;

namespace mcpproxy::upstream {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

// Variables a child inherits from the proxy. Everything else (tokens of other tools, cloud
// credentials) stays out unless the server's config names it.
bool isAllowlisted(std::string_view name) {
  static constexpr std::array<std::string_view, 15> kExact = {"PATH",
                                                              "HOME",
                                                              "USER",
                                                              "LOGNAME",
                                                              "SHELL",
                                                              "LANG",
                                                              "LANGUAGE",
                                                              "TERM",
                                                              "TMPDIR",
                                                              "TZ",
                                                              "COLORTERM",
                                                              "SYSTEMROOT",
                                                              "NODE_EXTRA_CA_CERTS",
                                                              "SSL_CERT_FILE",
                                                              "SSL_CERT_DIR"};
  for (auto exact : kExact) {
    if (name == exact) return true;
  }
  return name.starts_with("LC_") || name.starts_with("XDG_");
}

std::string errnoText(int err) {
  return std::system_category().message(err);
}

// Finds `command` in the PATH the child will get (not ours: a server's env may change PATH).
std::optional<std::string> resolveCommand(const std::string& command,
                                          const std::vector<std::string>& env) {
  if (command.find('/') != std::string::npos) return command;
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& entry : env) {
    if (entry.starts_with("PATH=")) path = entry.substr(5);
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + command;
    struct stat info {};
    if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  return std::nullopt;
}

std::string describeExit(const siginfo_t& info) {
  if (info.si_code == CLD_EXITED) return "exited with code " + std::to_string(info.si_status);
  const char* name = ::sigdescr_np(info.si_status);
  return "killed by signal " + std::to_string(info.si_status) +
         (name ? std::string(" (") + name + ")" : "");
}

// RAII for the raw pipe ends until asio takes them over.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& other) noexcept : fd(other.release()) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd& operator=(Fd&&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  int release() { return std::exchange(fd, -1); }
};

struct Pipe {
  Fd read, write;
};

Result<Pipe> makePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return makeError(ErrorCode::kIo, "pipe2 failed: " + errnoText(errno));
  }
  Pipe pipe;
  pipe.read.fd = fds[0];
  pipe.write.fd = fds[1];
  return pipe;
}

constexpr std::size_t kStderrTailLines = 5;
constexpr std::size_t kStderrTailLineBytes = 300;
constexpr int kGarbageWarnings = 3;

class StdioTransport;

struct State : std::enable_shared_from_this<State> {
  State(asio::any_io_executor ex, StdioOptions opts)
      : executor(ex),
        options(std::move(opts)),
        stdin_pipe(ex),
        stdout_pipe(ex),
        stderr_pipe(ex),
        pidfd(ex),
        framer(options.max_line_bytes) {}

  asio::any_io_executor executor;
  StdioOptions options;
  Transport::Handlers handlers;
  asio::posix::stream_descriptor stdin_pipe, stdout_pipe, stderr_pipe, pidfd;
  protocol::LineFramer framer;

  pid_t pid = -1;
  bool detached = false;  // the transport object is gone: never call handlers again
  bool closing = false;   // close() started: the exit is expected, on_closed stays silent
  bool stdout_done = false;
  bool exited = false;  // reaped
  std::string exit_text;

  std::deque<std::string> write_queue;
  bool writing = false;
  bool write_failed = false;

  int garbage_lines = 0;
  std::deque<std::string> stderr_tail;
  std::string stderr_partial;
  int log_fd = -1;
  std::size_t log_bytes = 0;

  std::string name() const {
    return options.server_name.empty() ? options.command : options.server_name;
  }

  bool alive() const { return pid > 0 && !exited; }

  // Signals the whole process group; safe until reap(), since the zombie keeps the id taken.
  void signalGroup(int sig) const {
    if (pid > 0 && !exited) ::kill(-pid, sig);
  }

  void deliver(std::string_view line) {
    protocol::Limits limits{options.max_line_bytes, options.max_json_depth};
    auto parsed = protocol::parseJson(line, limits);
    if (!parsed || !(parsed->is_object() || parsed->is_array())) {
      ++garbage_lines;
      auto preview = std::string(line.substr(0, 120));
      if (garbage_lines <= kGarbageWarnings) {
        log::warn("upstream {}: ignoring a stdout line that is not JSON-RPC: {:?}{}", name(),
                  preview,
                  garbage_lines == kGarbageWarnings ? " (further ones at debug level)" : "");
      } else {
        log::debug("upstream {}: ignoring non-JSON-RPC stdout line: {:?}", name(), preview);
      }
      return;
    }
    if (!detached && !closing && handlers.on_message) handlers.on_message(std::move(*parsed));
  }

  asio::awaitable<void> readStdout() {
    auto self = shared_from_this();
    std::array<char, 64 * 1024> buffer;
    for (;;) {
      boost::system::error_code ec;
      std::size_t n = co_await stdout_pipe.async_read_some(
          asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
      if (n > 0 && !detached) {
        framer.feed(
            std::string_view(buffer.data(), n), [&](std::string_view line) { deliver(line); },
            [&](std::size_t dropped) {
              log::warn("upstream {}: dropped a stdout line of {} bytes (limit {})", name(),
                        dropped, options.max_line_bytes);
            });
      }
      if (ec || detached) break;
    }
    stdout_done = true;
    if (detached || closing || exited) co_return;
    // The server closed stdout but may still be running: it can no longer answer, so stop it.
    if (co_await waitExit(milliseconds(1000))) co_return;
    if (detached || closing) co_return;
    log::warn("upstream {}: closed its stdout but kept running; stopping it", name());
    signalGroup(SIGTERM);
    if (co_await waitExit(options.kill_grace)) co_return;
    signalGroup(SIGKILL);
  }

  asio::awaitable<void> readStderr() {
    auto self = shared_from_this();
    std::array<char, 16 * 1024> buffer;
    for (;;) {
      boost::system::error_code ec;
      std::size_t n = co_await stderr_pipe.async_read_some(
          asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
      if (n > 0) recordStderr(std::string_view(buffer.data(), n));
      if (ec || detached) break;
    }
    if (!stderr_partial.empty()) pushTailLine(std::exchange(stderr_partial, {}));
  }

  void pushTailLine(std::string line) {
    if (line.empty()) return;
    if (line.size() > kStderrTailLineBytes) line.resize(kStderrTailLineBytes);
    stderr_tail.push_back(std::move(line));
    if (stderr_tail.size() > kStderrTailLines) stderr_tail.pop_front();
  }

  void recordStderr(std::string_view chunk) {
    writeLog(chunk);
    for (char c : chunk) {
      if (c == '\n') {
        pushTailLine(std::exchange(stderr_partial, {}));
      } else if (c != '\r' && stderr_partial.size() < kStderrTailLineBytes) {
        stderr_partial.push_back(c);
      }
    }
  }

  void openLog() {
    if (options.stderr_log.empty()) return;
    log_fd = ::open(options.stderr_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0) {
      log::warn("upstream {}: cannot open stderr log {}: {}", name(), options.stderr_log.string(),
                errnoText(errno));
      return;
    }
    struct stat info {};
    if (::fstat(log_fd, &info) == 0) log_bytes = static_cast<std::size_t>(info.st_size);
  }

  void writeLog(std::string_view chunk) {
    if (log_fd < 0) return;
    if (log_bytes + chunk.size() > options.max_log_bytes) {
      // Keep one previous generation: "<file>.1".
      ::close(log_fd);
      std::error_code ignored;
      std::filesystem::rename(options.stderr_log, options.stderr_log.string() + ".1", ignored);
      log_fd = -1;
      log_bytes = 0;
      openLog();
      if (log_fd < 0) return;
    }
    while (!chunk.empty()) {
      ssize_t n = ::write(log_fd, chunk.data(), chunk.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // disk full or similar: losing log text must not stop the server
      chunk.remove_prefix(static_cast<std::size_t>(n));
      log_bytes += static_cast<std::size_t>(n);
    }
  }

  std::string stderrTail() const {
    std::string text;
    for (const auto& line : stderr_tail) {
      if (!text.empty()) text += " | ";
      text += line;
    }
    return text;
  }

  // Waits until `done()` holds or `timeout` passed; returns done(). Polls every 10 ms: these
  // waits happen only around a process exit, where simplicity beats a wake-up mechanism.
  template <class Predicate>
  asio::awaitable<bool> waitUntil(Predicate done, milliseconds timeout) {
    auto self = shared_from_this();
    auto deadline = std::chrono::steady_clock::now() + timeout;
    asio::steady_timer timer(executor);
    while (!done() && !detached && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(milliseconds(10));
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return done();
  }

  asio::awaitable<bool> waitExit(milliseconds timeout) {
    return waitUntil([this] { return exited; }, timeout);
  }

  // Returns true once the process exited (zombie, not yet reaped), filling `info`.
  bool peekExit(siginfo_t& info) const {
    std::memset(&info, 0, sizeof info);
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
      return errno == ECHILD;  // someone else reaped it: treat as gone
    }
    return info.si_pid == pid;
  }

  asio::awaitable<void> watchExit() {
    auto self = shared_from_this();
    siginfo_t info{};
    if (pidfd.is_open()) {
      boost::system::error_code ec;
      co_await pidfd.async_wait(asio::posix::stream_descriptor::wait_read,
                                asio::redirect_error(asio::use_awaitable, ec));
      while (!peekExit(info)) {  // pidfd readable means exited; loop only on spurious wakeups
        asio::steady_timer poll(executor, milliseconds(10));
        co_await poll.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
    } else {
      boost::system::error_code ec;
      while (!peekExit(info)) {
        asio::steady_timer poll(executor, milliseconds(50));
        co_await poll.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
    }
    if (exited || detached) co_return;  // reaped by the destructor meanwhile
    exit_text = info.si_pid == pid ? describeExit(info) : "exited";
    // Helpers the server started (npx → node) may outlive it in its group; they would hold our
    // pipes open and leak. The zombie still holds the group id, so this cannot hit a stranger.
    ::kill(-pid, SIGTERM);
    // Let stdout drain so every message the server wrote before exiting is delivered first.
    co_await waitUntil([this] { return stdout_done; }, milliseconds(2000));
    reap();
    if (!detached && !closing && handlers.on_closed) {
      std::string message = "server process " + exit_text;
      auto tail = stderrTail();
      if (!tail.empty()) message += "; last stderr: " + tail;
      auto on_closed = handlers.on_closed;
      on_closed(Error{ErrorCode::kUnavailable, std::move(message)});
    }
  }

  void reap() {
    if (exited || pid <= 0) return;
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    exited = true;
    boost::system::error_code ignored;
    pidfd.close(ignored);
  }

  asio::awaitable<void> drainWrites() {
    auto self = shared_from_this();
    writing = true;
    while (!write_queue.empty() && !detached) {
      // Own the line while it is written: close() may clear the queue meanwhile.
      std::string line = std::move(write_queue.front());
      write_queue.pop_front();
      boost::system::error_code ec;
      co_await asio::async_write(stdin_pipe, asio::buffer(line),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (!closing) log::debug("upstream {}: write to stdin failed: {}", name(), ec.message());
        write_failed = true;
        write_queue.clear();
        break;
      }
    }
    writing = false;
  }

  void killNow() {
    if (!alive()) return;
    ::kill(-pid, SIGKILL);
    reap();
  }
};

class StdioTransport final : public Transport {
 public:
  StdioTransport(asio::any_io_executor executor, StdioOptions options)
      : state_(std::make_shared<State>(executor, std::move(options))) {}

  ~StdioTransport() override {
    state_->detached = true;
    state_->killNow();
    boost::system::error_code ignored;
    state_->stdin_pipe.close(ignored);
    state_->stdout_pipe.close(ignored);
    state_->stderr_pipe.close(ignored);
    if (state_->log_fd >= 0) ::close(std::exchange(state_->log_fd, -1));
  }

  asio::awaitable<Result<void>> start(Handlers handlers) override {
    auto& s = *state_;
    s.handlers = std::move(handlers);
    auto env = buildChildEnvironment(s.options.env);
    auto program = resolveCommand(s.options.command, env);
    if (!program) {
      co_return makeError(ErrorCode::kUnavailable,
                          "command not found: '" + s.options.command + "' (searched the PATH)");
    }
    if (!s.options.working_dir.empty()) {
      std::error_code ec;
      if (!std::filesystem::is_directory(s.options.working_dir, ec)) {
        co_return makeError(ErrorCode::kInvalidArgument,
                            "working_dir is not a directory: " + s.options.working_dir);
      }
    }
    auto in = makePipe();
    auto out = makePipe();
    auto err = makePipe();
    if (!in || !out || !err) {
      co_return std::unexpected(!in ? in.error() : !out ? out.error() : err.error());
    }

    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&actions, in->read.fd, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out->write.fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err->write.fd, STDERR_FILENO);
    // Everything above stderr is closed in the child even if some descriptor lacks
    // FD_CLOEXEC: an upstream must never hold the proxy's sockets or files (common/fd.h).
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    if (!s.options.working_dir.empty()) {
      posix_spawn_file_actions_addchdir_np(&actions, s.options.working_dir.c_str());
    }
    // Own process group (so close() reaches the whole tree), default signal dispositions (the
    // proxy ignores SIGPIPE; the server should not inherit that), nothing blocked.
    sigset_t defaults, empty;
    sigemptyset(&empty);
    sigemptyset(&defaults);
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2}) {
      sigaddset(&defaults, sig);
    }
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_USEVFORK);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setsigdefault(&attr, &defaults);

    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(program->c_str()));
    for (auto& arg : s.options.args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& entry : env) envp.push_back(const_cast<char*>(entry.c_str()));
    envp.push_back(nullptr);

    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, program->c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      co_return makeError(ErrorCode::kUnavailable,
                          "cannot start '" + s.options.command + "': " + errnoText(rc));
    }
    s.pid = pid;
    s.openLog();
    if (s.log_fd >= 0) {
      s.writeLog("--- mcpproxy: started " + s.options.command + " (pid " + std::to_string(pid) +
                 ") ---\n");
    }

    s.stdin_pipe.assign(in->write.release());
    s.stdout_pipe.assign(out->read.release());
    s.stderr_pipe.assign(err->read.release());
    // The child's ends close here (Fd destructors), so EOF arrives when the child exits.

    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd >= 0) {
      ::fcntl(pidfd, F_SETFD, FD_CLOEXEC);
      s.pidfd.assign(pidfd);
    }

    auto state = state_;
    asio::co_spawn(s.executor, state->readStdout(), asio::detached);
    asio::co_spawn(s.executor, state->readStderr(), asio::detached);
    asio::co_spawn(s.executor, state->watchExit(), asio::detached);
    log::debug("upstream {}: started pid {}", s.name(), pid);
    co_return Result<void>{};
  }

  asio::awaitable<Result<void>> send(json::value message) override {
    auto state = state_;
    if (state->pid <= 0 || state->exited || state->closing || state->write_failed) {
      co_return makeError(ErrorCode::kUnavailable, "server process is not running");
    }
    std::string line = json::serialize(message);
    line.push_back('\n');
    state->write_queue.push_back(std::move(line));
    if (!state->writing) asio::co_spawn(state->executor, state->drainWrites(), asio::detached);
    co_return Result<void>{};
  }

  asio::awaitable<void> close() override {
    auto state = state_;
    if (state->closing) {
      co_await state->waitExit(state->options.stop_grace + state->options.kill_grace);
      co_return;
    }
    state->closing = true;
    if (state->pid <= 0) co_return;
    // MCP's stdio shutdown: close stdin, give the server time to exit, then SIGTERM, SIGKILL.
    boost::system::error_code ignored;
    state->write_queue.clear();
    state->stdin_pipe.close(ignored);
    if (!co_await state->waitExit(state->options.stop_grace)) {
      log::debug("upstream {}: still running after closing stdin; sending SIGTERM", state->name());
      state->signalGroup(SIGTERM);
      if (!co_await state->waitExit(state->options.kill_grace)) {
        log::warn("upstream {}: did not stop after SIGTERM; killing it", state->name());
        state->signalGroup(SIGKILL);
        co_await state->waitExit(milliseconds(5000));
      }
    }
    if (!state->exited) state->killNow();
    state->stdout_pipe.close(ignored);
    state->stderr_pipe.close(ignored);
  }

  std::string describe() const override { return "stdio: " + state_->options.command; }

 private:
  std::shared_ptr<State> state_;
};

}  // namespace

std::vector<std::string> buildChildEnvironment(const config::KeyValues& configured) {
  std::vector<std::string> env;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string_view text(*entry);
    auto eq = text.find('=');
    if (eq == std::string_view::npos) continue;
    auto name = text.substr(0, eq);
    bool overridden = false;
    for (const auto& [key, value] : configured) {
      if (key == name) overridden = true;
    }
    if (!overridden && isAllowlisted(name)) env.emplace_back(text);
  }
  for (const auto& [key, value] : configured) env.push_back(key + "=" + value);
  return env;
}

std::unique_ptr<Transport> makeStdioTransport(asio::any_io_executor executor,
                                              StdioOptions options) {
  return std::make_unique<StdioTransport>(std::move(executor), std::move(options));
}

}  // namespace mcpproxy::upstream
