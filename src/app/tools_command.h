// `mcpproxy tools search "QUERY" [--limit N] [--json]` and `mcpproxy tools list [--json]`:
// connect to the configured upstreams (as the daemon would), wait until each is ready or has
// failed, and print what the model would find. Failed servers are reported on stderr.
#pragma once

#include <cstddef>
#include <string>

namespace mcpproxy::app {

struct ToolsOptions {
  std::string config_path;  // empty: ~/.mcpproxy/mcp_config.json
  std::string data_dir;
  std::string query;      // search only
  std::size_t limit = 0;  // search only; 0: the config's tools_limit
  std::string server;     // list only; empty: every server
  bool json = false;
};

// Exit codes: 0 success, 1 nothing could be searched, 2 configuration error.
int runToolsSearch(const ToolsOptions& options);
int runToolsList(const ToolsOptions& options);

}  // namespace mcpproxy::app
