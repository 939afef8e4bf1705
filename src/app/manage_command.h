// The management commands a person runs in a terminal:
//   mcpproxy upstream list|add|remove|enable|disable|restart|approve|quarantine|logs
//   mcpproxy tools list|search      mcpproxy call SERVER:TOOL --args JSON      mcpproxy status
// Each one asks the running daemon through its Unix socket (docs/api.md) and, when no daemon
// answers, does the same work standalone on the config file and the database (restart alone
// needs a daemon: exit 4). Output is a table by default and JSON with --json, the same shape in
// both modes; exit codes are those of cli_util.h (docs/cli.md).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "app/cli_util.h"
#include "app/tools_command.h"
#include "app/trust_command.h"

namespace mcpproxy::app {

struct ManageOptions {
  CommonOptions common;
  std::string name;  // server name, or SERVER:TOOL for call
  // upstream add
  std::string command;
  std::vector<std::string> args;
  std::vector<std::string> env;      // KEY=VALUE
  std::vector<std::string> headers;  // Name=Value or "Name: Value"
  std::string url;
  std::string protocol;
  std::string working_dir;
  bool enable = true;  // upstream add --disabled sets false
  // upstream logs
  std::size_t lines = 100;
  // call
  std::string args_json = "{}";
  double timeout_s = 0;  // 0: the server's call timeout (+ a margin)
  // status
  bool show_key = false;
};

int runUpstreamList(const ManageOptions& options);
int runUpstreamAdd(const ManageOptions& options);
int runUpstreamRemove(const ManageOptions& options);
int runUpstreamEnable(const ManageOptions& options, bool enable);
int runUpstreamRestart(const ManageOptions& options);
int runUpstreamLogs(const ManageOptions& options);
// approve / quarantine: through the daemon, else the database (trust_command.h).
int runUpstreamTrust(const ManageOptions& options, bool approve);
// Through the daemon, else by starting the upstreams (tools_command.h).
int runManagedToolsList(const ToolsOptions& options);
int runManagedToolsSearch(const ToolsOptions& options);
int runCall(const ManageOptions& options);
int runStatus(const ManageOptions& options);

}  // namespace mcpproxy::app
