// Versioned approvals on the command line (issue 16, docs/cli.md):
//   mcpproxy tools history SERVER:TOOL [--json]
//   mcpproxy tools rollback SERVER:TOOL [--to VERSION] [--json]
// Both work on the database of the data directory, without a daemon; a running daemon picks a
// rollback up within a second (the trust version it polls is bumped).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace mcpproxy::app {

struct HistoryOptions {
  std::string config_path;
  std::string data_dir;
  std::string target;              // SERVER:TOOL
  std::optional<std::int64_t> to;  // rollback --to
  bool json = false;
};

int runToolsHistory(const HistoryOptions& options);
int runToolsRollback(const HistoryOptions& options);

}  // namespace mcpproxy::app
