// `mcpproxy import --from CLIENT [FILE] [--dry-run]`: copies the MCP servers another client is
// configured with into mcpproxy's config, quarantined (a person approves each one later). Names
// that already exist are skipped and reported. With a running daemon the servers are added
// through its API (POST /api/v1/servers); otherwise the config file is rewritten atomically.
//
// `mcpproxy connect CLIENT [--file F] [--dry-run] [--stdio]`: writes mcpproxy's own entry into
// that client's config file (Streamable HTTP URL, or `mcpproxy serve --stdio` where the client
// only starts local servers), keeping everything else, after a timestamped backup.
#pragma once

#include <string>

#include "app/cli_util.h"

namespace mcpproxy::app {

struct ImportOptions {
  CommonOptions common;
  std::string client;
  std::string file;  // empty: the client's default locations
  bool dry_run = false;
};

struct ConnectOptions {
  CommonOptions common;
  std::string client;
  std::string file;  // empty: the client's user-level config file
  std::string name = "mcpproxy";
  bool dry_run = false;
  bool stdio = false;  // write a stdio entry even where the client speaks HTTP
};

int runImport(const ImportOptions& options);
int runConnect(const ConnectOptions& options);

}  // namespace mcpproxy::app
