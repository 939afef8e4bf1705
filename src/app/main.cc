// mcpproxy's command line. Reads like a table of contents: each subcommand maps to one function.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "app/daemon.h"
#include "app/tools_command.h"
#include "app/trust_command.h"
#include "policy/scanner.h"

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

  // Quarantine, pinning and audit: person-only commands on the database.
  mcpproxy::app::TrustOptions trust;
  auto dataFlags = [&](CLI::App* cmd) {
    cmd->add_option("--config", trust.config_path,
                    "Config file (to find data_dir; default ~/.mcpproxy/mcp_config.json)");
    cmd->add_option("--data-dir", trust.data_dir, "Data directory (default ~/.mcpproxy)");
  };
  CLI::App* upstream_cmd = app.add_subcommand("upstream", "Review upstream servers");
  upstream_cmd->require_subcommand(1);
  CLI::App* approve_server_cmd = upstream_cmd->add_subcommand(
      "approve", "Release a server from quarantine, pinning its tools");
  approve_server_cmd->add_option("NAME", trust.target, "Server name")->required();
  CLI::App* quarantine_cmd = upstream_cmd->add_subcommand("quarantine", "Quarantine a server");
  quarantine_cmd->add_option("NAME", trust.target, "Server name")->required();
  CLI::App* diff_cmd = tools_cmd->add_subcommand(
      "diff", "Show a tool's approved definition against its current one");
  diff_cmd->add_option("SERVER:TOOL", trust.target)->required();
  diff_cmd->add_flag("--json", trust.json, "Print JSON");
  CLI::App* approve_tool_cmd = tools_cmd->add_subcommand(
      "approve", "Approve a tool's current definition (or all of a server's)");
  approve_tool_cmd->add_option("SERVER:TOOL", trust.target);
  approve_tool_cmd->add_option("--all", trust.all_server, "Approve every listed tool of SERVER");
  CLI::App* security_cmd = app.add_subcommand("security", "Security events");
  security_cmd->require_subcommand(1);
  CLI::App* events_cmd = security_cmd->add_subcommand("events", "Quarantines, approvals, changes");
  std::string scan_file;
  bool scan_json = false;
  CLI::App* scan_cmd = security_cmd->add_subcommand(
      "scan", "Scan tool definitions from a file for poisoning (no daemon needed)");
  scan_cmd
      ->add_option("--tools-file", scan_file,
                   "A JSON array of tools, or a tools/list result {\"tools\": [...]}")
      ->required();
  scan_cmd->add_flag("--json", scan_json, "Print JSON");
  CLI::App* report_cmd =
      security_cmd->add_subcommand("report", "Scanner verdicts on the recorded tool definitions");
  report_cmd->add_option("NAME", trust.target, "Only this server");
  report_cmd->add_flag("--json", trust.json, "Print JSON");
  CLI::App* activity_cmd = app.add_subcommand("activity", "Tool calls made through the proxy");
  activity_cmd->require_subcommand(1);
  CLI::App* activity_list_cmd = activity_cmd->add_subcommand("list", "The latest calls");
  for (CLI::App* cmd : {events_cmd, activity_list_cmd}) {
    cmd->add_option("--limit", trust.limit, "How many (default 50)");
    cmd->add_flag("--json", trust.json, "Print JSON");
  }
  for (CLI::App* cmd : {approve_server_cmd, quarantine_cmd, diff_cmd, approve_tool_cmd, events_cmd,
                        activity_list_cmd, report_cmd}) {
    dataFlags(cmd);
  }

  CLI11_PARSE(app, argc, argv);
  if (*approve_server_cmd) return mcpproxy::app::runUpstreamApprove(trust);
  if (*quarantine_cmd) return mcpproxy::app::runUpstreamQuarantine(trust);
  if (*diff_cmd) return mcpproxy::app::runToolsDiff(trust);
  if (*approve_tool_cmd) {
    if (trust.target.empty() == trust.all_server.empty()) {
      std::fprintf(stderr, "mcpproxy: give either SERVER:TOOL or --all SERVER\n");
      return 2;
    }
    return mcpproxy::app::runToolsApprove(trust);
  }
  if (*events_cmd) return mcpproxy::app::runSecurityEvents(trust);
  if (*scan_cmd) return mcpproxy::policy::runScanCommand(scan_file, scan_json);
  if (*report_cmd) return mcpproxy::app::runSecurityReport(trust);
  if (*activity_list_cmd) return mcpproxy::app::runActivityList(trust);
  if (*serve_cmd) return mcpproxy::app::runServe(serve);
  if (*search_cmd) return mcpproxy::app::runToolsSearch(tools);
  if (*list_cmd) return mcpproxy::app::runToolsList(tools);
  return 0;
}
