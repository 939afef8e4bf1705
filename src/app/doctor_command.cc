// See doctor_command.h. Every check is read-only except the writability probe (a temp file
// created and removed in the data directory) and the port probe (a bind that is closed at once).
// Runtime versions come from `<runtime> --version` with a deadline, so a broken shim cannot hang
// the command.
#include "app/doctor_command.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

#include "app/daemon_client.h"
#include "app/local_store.h"
#include "app/paths.h"

namespace mcpproxy::app {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

struct Check {
  std::string name;
  std::string status;  // ok | warn | fail
  std::string detail;
};

// The executable `command` resolves to (absolute, relative, or searched on PATH).
std::optional<fs::path> findExecutable(const std::string& command) {
  if (command.find('/') != std::string::npos) {
    if (::access(command.c_str(), X_OK) == 0) return fs::path(command);
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    auto end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    fs::path candidate =
        fs::path(dirs.substr(start, end - start).empty() ? "." : dirs.substr(start, end - start)) /
        command;
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  return std::nullopt;
}

// First line of `program --version` (stdout or stderr), or "" after 5 s or on failure.
std::string versionOf(const fs::path& program) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return "";
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return "";
  }
  if (pid == 0) {
    ::dup2(pipe_fds[1], 1);
    ::dup2(pipe_fds[1], 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::setpgid(0, 0);
    ::execl(program.c_str(), program.c_str(), "--version", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  std::string output;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (output.size() < 4096) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd fd{pipe_fds[0], POLLIN, 0};
    if (::poll(&fd, 1, static_cast<int>(left.count())) <= 0) break;
    char buffer[512];
    ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n <= 0) break;
    output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  ::kill(-pid, SIGKILL);  // the whole group: shims such as npx start children
  int status = 0;
  ::waitpid(pid, &status, 0);
  auto line = output.substr(0, output.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

// Whether host:port can be bound now (as the daemon binds it: SO_REUSEADDR).
std::string tryBind(const std::string& host, unsigned short port) {
  bool v6 = host.find(':') != std::string::npos;
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::strerror(errno);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc = -1;
  if (v6) {
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_port = htons(port);
    if (::inet_pton(AF_INET6, host.c_str(), &address.sin6_addr) != 1) {
      ::close(fd);
      return "not an IP address";
    }
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  } else {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
      ::close(fd);
      return "not an IP address";
    }
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  }
  std::string error = rc == 0 ? "" : std::strerror(errno);
  ::close(fd);
  return error;
}

}  // namespace

int runDoctor(const CommonOptions& options) {
  std::vector<Check> checks;
  Locations where = resolveLocations(options);
  std::error_code ec;

  // The config.
  std::optional<config::Config> cfg;
  std::vector<std::string> warnings;
  if (!fs::exists(where.config_path, ec)) {
    checks.push_back({"config", "warn",
                      where.config_path.string() + " does not exist (serve creates a default)"});
    cfg = config::Config{};
  } else if (auto loaded = config::loadConfigFile(where.config_path, warnings); !loaded) {
    checks.push_back({"config", "fail", loaded.error().message});
  } else {
    cfg = std::move(*loaded);
    checks.push_back(
        {"config", "ok",
         where.config_path.string() + ": " + std::to_string(cfg->servers.size()) + " server(s)"});
    for (const auto& warning : warnings) checks.push_back({"config", "warn", warning});
  }

  // The daemon (first: it explains a busy port).
  DaemonClient daemon(where.socket_path);
  auto status = daemon.request("GET", "/api/v1/status", nullptr, std::chrono::seconds(5));
  bool daemon_up = status && status->status == 200;
  std::string daemon_listen;
  if (daemon_up && status->body.is_object()) {
    const auto& body = status->body.get_object();
    if (const auto* l = body.if_contains("listen"); l && l->is_string()) {
      daemon_listen = std::string(l->get_string());
    }
    std::string version;
    if (const auto* v = body.if_contains("version"); v && v->is_string()) version = v->get_string();
    checks.push_back({"daemon", "ok",
                      "running" + (version.empty() ? "" : " (" + version + ")") +
                          (daemon_listen.empty() ? "" : ", listening on " + daemon_listen) +
                          "; socket " + where.socket_path.string()});
  } else {
    checks.push_back({"daemon", "warn",
                      "not running (no answer on " + where.socket_path.string() +
                          "); commands work standalone, start it with `mcpproxy serve`"});
  }

  // The listen port.
  if (cfg) {
    auto address = config::parseListenAddress(cfg->listen);
    if (!address) {
      checks.push_back({"listen", "fail", cfg->listen + ": " + address.error().message});
    } else if (std::string error = tryBind(address->host, address->port); error.empty()) {
      checks.push_back({"listen", "ok", cfg->listen + " is free"});
    } else if (daemon_up) {
      checks.push_back({"listen", "ok", cfg->listen + " is held by the running mcpproxy"});
    } else {
      checks.push_back({"listen", "fail",
                        cfg->listen + " cannot be bound: " + error +
                            (error.find("in use") != std::string::npos
                                 ? " (another program uses it; change \"listen\")"
                                 : "")});
    }
  }

  // The data directory.
  struct stat info {};
  if (::stat(where.data_dir.c_str(), &info) != 0) {
    checks.push_back(
        {"data dir", "warn", where.data_dir.string() + " does not exist yet (serve creates it)"});
  } else if (!S_ISDIR(info.st_mode)) {
    checks.push_back({"data dir", "fail", where.data_dir.string() + " is not a directory"});
  } else {
    unsigned mode = info.st_mode & 0777;
    char mode_text[8];
    std::snprintf(mode_text, sizeof mode_text, "%04o", mode);
    if (mode & 077) {
      checks.push_back({"data dir", "warn",
                        where.data_dir.string() + " has mode " + mode_text +
                            "; it holds logs and the database: chmod 700 it"});
    } else {
      checks.push_back({"data dir", "ok", where.data_dir.string() + " (mode " + mode_text + ")"});
    }
    fs::path probe = where.data_dir / (".doctor-" + std::to_string(::getpid()));
    int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      checks.push_back({"data dir", "fail", "not writable: " + std::string(std::strerror(errno))});
    } else {
      ::close(fd);
      ::unlink(probe.c_str());
    }
    std::string why;
    if (fs::exists(where.data_dir / "mcpproxy.db", ec)) {
      if (auto store = LocalStore::open(where.data_dir, &why); store) {
        auto tools = store->run(store->store().tools());
        checks.push_back({"database", tools ? "ok" : "fail",
                          tools ? (where.data_dir / "mcpproxy.db").string() + " opens (" +
                                      std::to_string(tools->size()) + " tool records)"
                                : tools.error().message});
      } else {
        checks.push_back({"database", "fail", why});
      }
    } else {
      checks.push_back({"database", "warn", "not created yet (serve creates it)"});
    }
  }

  // Runtimes of the configured stdio servers.
  if (cfg) {
    std::map<std::string, std::vector<std::string>> users;  // command -> servers
    for (const auto& server : cfg->servers) {
      if (!server.enabled || server.effectiveProtocol() != config::Protocol::kStdio) continue;
      users[server.command].push_back(server.name);
    }
    // npx and uvx need their runtimes too.
    std::map<std::string, std::string> implied{{"npx", "node"}, {"npm", "node"}, {"uvx", "uv"}};
    for (const auto& [command, servers] : users) {
      std::string names;
      for (const auto& n : servers) names += (names.empty() ? "" : ", ") + n;
      auto found = findExecutable(command);
      if (!found) {
        checks.push_back(
            {"runtime " + command, "fail", "not found on PATH (needed by " + names + ")"});
        continue;
      }
      // Only well-known runtimes are asked for their version: a server's own program is not
      // run by doctor (it may not understand --version and start serving instead).
      static const std::set<std::string> kRuntimes{
          "node", "npx", "npm",  "uvx",  "uv",   "python", "python3", "docker", "podman",
          "deno", "bun", "bunx", "pipx", "java", "go",     "ruby",    "php",    "dotnet"};
      std::string version =
          kRuntimes.contains(fs::path(command).filename().string()) ? versionOf(*found) : "";
      checks.push_back(
          {"runtime " + command, "ok",
           found->string() + (version.empty() ? "" : " (" + version + ")") + " for " + names});
      std::string base = fs::path(command).filename().string();
      if (auto it = implied.find(base); it != implied.end() && !users.contains(it->second)) {
        auto runtime = findExecutable(it->second);
        checks.push_back({"runtime " + it->second, runtime ? "ok" : "warn",
                          runtime ? runtime->string() + " (" + versionOf(*runtime) + ")"
                                  : "not found on PATH (" + base + " usually needs it)"});
      }
    }
  }

  bool failed = false;
  for (const auto& c : checks) failed = failed || c.status == "fail";
  if (options.json) {
    json::array list;
    for (const auto& c : checks) {
      list.push_back(json::object{{"check", c.name}, {"status", c.status}, {"detail", c.detail}});
    }
    printJson(json::object{{"ok", !failed}, {"checks", std::move(list)}});
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : checks) rows.push_back({c.status, c.name, c.detail});
    printTable({"STATUS", "CHECK", "DETAIL"}, rows);
    std::printf("%s\n", failed ? "some checks failed" : "no problems found");
  }
  return failed ? kExitFailure : kExitOk;
}

}  // namespace mcpproxy::app
