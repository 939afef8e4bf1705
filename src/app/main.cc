// mcpproxy's command line. Reads like a table of contents: each subcommand maps to one function.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "app/daemon.h"
#include "app/tools_command.h"

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

  mcpproxy::app::ToolsOptions tools;
  CLI::App* tools_cmd = app.add_subcommand("tools", "Find and list the tools of your servers");
  tools_cmd->require_subcommand(1);
  CLI::App* search_cmd =
      tools_cmd->add_subcommand("search", "Rank tools for a task, as retrieve_tools does");
  search_cmd->add_option("QUERY", tools.query, "What you want to do")->required();
  search_cmd->add_option("--limit", tools.limit, "How many tools (default: tools_limit, 15)")
      ->check(CLI::Range(1, 100));
  CLI::App* list_cmd = tools_cmd->add_subcommand("list", "List every tool of every ready server");
  for (CLI::App* cmd : {search_cmd, list_cmd}) {
    cmd->add_flag("--json", tools.json, "Print JSON instead of a table");
    cmd->add_option("--config", tools.config_path,
                    "Config file (default ~/.mcpproxy/mcp_config.json)");
    cmd->add_option("--data-dir", tools.data_dir, "Data directory (default ~/.mcpproxy)");
  }

  CLI11_PARSE(app, argc, argv);
  if (*serve_cmd) return mcpproxy::app::runServe(serve);
  if (*search_cmd) return mcpproxy::app::runToolsSearch(tools);
  if (*list_cmd) return mcpproxy::app::runToolsList(tools);
  return 0;
}
