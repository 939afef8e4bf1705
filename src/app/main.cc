// mcpproxy's command line. Reads like a table of contents: each subcommand maps to one function.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "app/daemon.h"

int main(int argc, char** argv) {
  CLI::App app{"mcpproxy: one safe, token-efficient endpoint in front of all your MCP servers"};
  app.set_version_flag("--version", "mcpproxy 0.1.0");
  app.require_subcommand(1);

  mcpproxy::app::ServeOptions serve;
  CLI::App* serve_cmd =
      app.add_subcommand("serve", "Run the proxy (HTTP on 127.0.0.1:8080 by default)");
  serve_cmd->add_option("--config", serve.config_path,
                        "Config file (default ~/.mcpproxy/mcp_config.json)");
  serve_cmd->add_option("--listen", serve.listen,
                        "HOST:PORT to listen on (default from config, 127.0.0.1:8080)");
  serve_cmd->add_option("--data-dir", serve.data_dir, "Data directory (default ~/.mcpproxy)");
  serve_cmd->add_flag("--stdio", serve.stdio, "Serve one client over stdin/stdout instead of HTTP");
  serve_cmd->add_option("--log-level", serve.log_level, "trace, debug, info, warn, error or off");
  serve_cmd->add_option("--log-file", serve.log_file, "Also write logs to this file");

  CLI11_PARSE(app, argc, argv);
  if (*serve_cmd) return mcpproxy::app::runServe(serve);
  return 0;
}
