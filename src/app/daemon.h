// `mcpproxy serve`: loads the configuration, starts the upstreams and one downstream transport,
// and runs the event loop until SIGINT/SIGTERM (or, with --stdio, until stdin closes).
#pragma once

#include <string>

namespace mcpproxy::app {

struct ServeOptions {
  std::string config_path;  // empty: <data dir>/mcp_config.json, created on first run
  std::string listen;       // empty: from the config
  std::string data_dir;     // empty: from the config, else ~/.mcpproxy
  std::string log_level;    // empty: from the config
  std::string log_file;     // empty: stderr only
  bool stdio = false;
};

// Returns the process exit code: 0 after a clean shutdown, 2 for configuration errors, 1 for
// other start-up failures.
int runServe(const ServeOptions& options);

}  // namespace mcpproxy::app
