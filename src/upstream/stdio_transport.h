// An upstream MCP server run as a child process: newline-delimited JSON-RPC over its
// stdin/stdout, stderr appended to a per-server log file. Spawned with posix_spawn in its own
// process group, with an environment built from an allowlist plus the configured env.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "upstream/transport.h"

namespace mcpproxy::upstream {

struct StdioOptions {
  std::string server_name;  // for logs
  std::string command;      // looked up in PATH when it has no '/'
  std::vector<std::string> args;
  config::KeyValues env;             // configured env; added on top of the allowlisted parent env
  std::string working_dir;           // empty: inherit
  std::filesystem::path stderr_log;  // appended; rotated to "<file>.1" past max_log_bytes
  std::size_t max_log_bytes = 10 * 1024 * 1024;
  std::size_t max_line_bytes = 16 * 1024 * 1024;  // longer stdout lines are dropped
  std::size_t max_json_depth = 64;
  std::chrono::milliseconds stop_grace{2000};  // after closing stdin, before SIGTERM
  std::chrono::milliseconds kill_grace{3000};  // after SIGTERM, before SIGKILL
};

// The environment a child gets: allowlisted variables of this process (PATH, HOME, USER, LANG,
// LC_*, TMPDIR, TZ, TERM, XDG_*, SHELL, LOGNAME, ...) followed by `configured`, which wins.
std::vector<std::string> buildChildEnvironment(const config::KeyValues& configured);

std::unique_ptr<Transport> makeStdioTransport(boost::asio::any_io_executor executor,
                                              StdioOptions options);

}  // namespace mcpproxy::upstream
