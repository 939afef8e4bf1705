// mcpproxy's command line. Reads like a table of contents: each subcommand maps to one function.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdio>

#include "app/daemon.h"
#include "app/doctor_command.h"
#include "app/history_command.h"
#include "app/import_command.h"
#include "app/manage_command.h"
#include "app/manifest_command.h"
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
  list_cmd->add_option("--server", tools.server, "Only this server's tools");
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
  // Servers: through the running daemon's socket, else on the config file and database.
  mcpproxy::app::ManageOptions manage;
  auto commonFlags = [](CLI::App* cmd, mcpproxy::app::CommonOptions& common) {
    cmd->add_option("--config", common.config_path,
                    "Config file (default ~/.mcpproxy/mcp_config.json)");
    cmd->add_option("--data-dir", common.data_dir, "Data directory (default ~/.mcpproxy)");
    cmd->add_flag("--json", common.json, "Print JSON instead of text");
  };
  CLI::App* upstream_cmd = app.add_subcommand("upstream", "Manage upstream servers");
  upstream_cmd->require_subcommand(1);
  CLI::App* upstream_list_cmd =
      upstream_cmd->add_subcommand("list", "Servers with their state, quarantine and tool count");
  CLI::App* upstream_add_cmd =
      upstream_cmd->add_subcommand("add", "Add a server (it starts quarantined)");
  upstream_add_cmd->add_option("--command", manage.command, "Program to start (stdio server)");
  upstream_add_cmd->add_option("--url", manage.url, "Streamable HTTP / SSE endpoint");
  upstream_add_cmd->add_option("--env", manage.env, "KEY=VALUE for the process (repeatable)");
  upstream_add_cmd->add_option("--header", manage.headers, "Name=Value HTTP header (repeatable)");
  upstream_add_cmd->add_option("--protocol", manage.protocol, "stdio, http, sse or auto");
  upstream_add_cmd->add_option("--working-dir", manage.working_dir, "Working directory");
  bool add_disabled = false;
  upstream_add_cmd->add_flag("--disabled", add_disabled, "Add it disabled");
  CLI::App* upstream_remove_cmd = upstream_cmd->add_subcommand("remove", "Remove a server");
  CLI::App* upstream_enable_cmd = upstream_cmd->add_subcommand("enable", "Enable a server");
  CLI::App* upstream_disable_cmd =
      upstream_cmd->add_subcommand("disable", "Disable a server (stops it)");
  CLI::App* upstream_restart_cmd =
      upstream_cmd->add_subcommand("restart", "Restart a server (needs the daemon)");
  CLI::App* approve_server_cmd = upstream_cmd->add_subcommand(
      "approve", "Release a server from quarantine, pinning its tools");
  CLI::App* quarantine_cmd = upstream_cmd->add_subcommand("quarantine", "Quarantine a server");
  CLI::App* upstream_logs_cmd =
      upstream_cmd->add_subcommand("logs", "The tail of a server's stderr log");
  upstream_logs_cmd->add_option("--lines,-n", manage.lines, "How many lines (default 100)")
      ->check(CLI::Range(1, 5000));
  for (CLI::App* cmd :
       {upstream_add_cmd, upstream_remove_cmd, upstream_enable_cmd, upstream_disable_cmd,
        upstream_restart_cmd, approve_server_cmd, quarantine_cmd, upstream_logs_cmd}) {
    cmd->add_option("NAME", manage.name, "Server name")->required();
  }
  upstream_add_cmd->add_option("ARGS", manage.args,
                               "The command's arguments, after -- (e.g. -- -y @scope/server)");
  for (CLI::App* cmd : {upstream_list_cmd, upstream_add_cmd, upstream_remove_cmd,
                        upstream_enable_cmd, upstream_disable_cmd, upstream_restart_cmd,
                        approve_server_cmd, quarantine_cmd, upstream_logs_cmd}) {
    commonFlags(cmd, manage.common);
  }
  CLI::App* call_cmd = app.add_subcommand("call", "Call one tool of one server");
  call_cmd->add_option("SERVER:TOOL", manage.name, "What to call")->required();
  call_cmd->add_option("--args", manage.args_json, "Arguments as a JSON object (default {})");
  call_cmd
      ->add_option("--timeout", manage.timeout_s, "Seconds (default: the server's call timeout)")
      ->check(CLI::PositiveNumber);
  commonFlags(call_cmd, manage.common);
  CLI::App* status_cmd =
      app.add_subcommand("status", "Is the daemon running, where, and how to reach it");
  status_cmd->add_flag("--show-key", manage.show_key, "Also print the API key");
  commonFlags(status_cmd, manage.common);
  mcpproxy::app::CommonOptions doctor_options;
  CLI::App* doctor_cmd = app.add_subcommand(
      "doctor", "Check the config, port, data dir, runtimes and daemon (exit 1 on a failure)");
  commonFlags(doctor_cmd, doctor_options);

  CLI::App* diff_cmd = tools_cmd->add_subcommand(
      "diff", "Show a tool's approved definition against its current one");
  diff_cmd->add_option("SERVER:TOOL", trust.target)->required();
  diff_cmd->add_flag("--json", trust.json, "Print JSON");
  CLI::App* approve_tool_cmd = tools_cmd->add_subcommand(
      "approve", "Approve a tool's current definition (or all of a server's)");
  approve_tool_cmd->add_option("SERVER:TOOL", trust.target);
  approve_tool_cmd->add_option("--all", trust.all_server, "Approve every listed tool of SERVER");
  mcpproxy::app::HistoryOptions history;
  CLI::App* history_cmd =
      tools_cmd->add_subcommand("history", "Every approved version of a tool's definition");
  history_cmd->add_option("SERVER:TOOL", history.target)->required();
  CLI::App* rollback_cmd = tools_cmd->add_subcommand(
      "rollback", "Re-pin an earlier approved definition (the newer one is blocked again)");
  rollback_cmd->add_option("SERVER:TOOL", history.target)->required();
  std::int64_t rollback_to = 0;
  rollback_cmd->add_option("--to", rollback_to, "Version (default: the previous definition)")
      ->check(CLI::PositiveNumber);
  for (CLI::App* cmd : {history_cmd, rollback_cmd}) {
    cmd->add_option("--config", history.config_path,
                    "Config file (to find data_dir; default ~/.mcpproxy/mcp_config.json)");
    cmd->add_option("--data-dir", history.data_dir, "Data directory (default ~/.mcpproxy)");
    cmd->add_flag("--json", history.json, "Print JSON");
  }
  CLI::App* security_cmd = app.add_subcommand("security", "Security events");
  security_cmd->require_subcommand(1);
  CLI::App* events_cmd = security_cmd->add_subcommand("events", "Quarantines, approvals, changes");
  std::string scan_file;
  bool scan_json = false;
  bool scan_with_config = false;
  CLI::App* scan_cmd = security_cmd->add_subcommand(
      "scan", "Scan tool definitions for poisoning: a file, or the configured servers together");
  scan_cmd->add_option("--tools-file", scan_file,
                       "A JSON array of tools, or a tools/list result {\"tools\": [...]}");
  scan_cmd->add_flag("--with-config", scan_with_config,
                     "Scan the configured servers' recorded tools together, as the daemon does "
                     "(with --tools-file: that file's tools next to them)");
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
  for (CLI::App* cmd :
       {diff_cmd, approve_tool_cmd, events_cmd, activity_list_cmd, report_cmd, scan_cmd}) {
    dataFlags(cmd);
  }

  // Signed tool manifests (docs/manifests.md).
  mcpproxy::app::ManifestOptions manifest;
  CLI::App* manifest_cmd = app.add_subcommand("manifest", "Signed tool manifests (Ed25519)");
  manifest_cmd->require_subcommand(1);
  CLI::App* keygen_cmd = manifest_cmd->add_subcommand(
      "keygen", "Create a signing key (secret file, mode 0600); prints the public key last");
  keygen_cmd->add_option("--out", manifest.out, "Secret key file to create (never overwritten)")
      ->required();
  keygen_cmd->add_option("--id", manifest.key_id, "Key id (default: from the public key)");
  CLI::App* sign_cmd = manifest_cmd->add_subcommand(
      "sign", "Sign a server's current approved tool definitions from the database");
  sign_cmd->add_option("--key", manifest.key_files, "Secret key file (repeatable)")->required();
  sign_cmd->add_option("--server", manifest.server, "Server name")->required();
  sign_cmd->add_option("--out", manifest.out, "Manifest file to write")->required();
  sign_cmd->add_option("--version", manifest.version, "Manifest version (default: the time)");
  sign_cmd->add_option("--expires", manifest.expires,
                       "Expiry: a date (2026-01-01), days (90d) or a duration (720h)");
  sign_cmd->add_option("--package", manifest.package,
                       "Package identity, e.g. npm:@scope/server@1.2.3");
  CLI::App* verify_cmd = manifest_cmd->add_subcommand(
      "verify", "Verify a manifest (exit 0 only for a valid signature by a trusted key)");
  verify_cmd->add_option("FILE", manifest.file, "Manifest file")->required();
  verify_cmd->add_option("--public-key", manifest.public_key,
                         "Verify with this base64 public key instead of trusted_keys");
  CLI::App* show_cmd = manifest_cmd->add_subcommand("show", "Print a manifest (without verifying)");
  show_cmd->add_option("FILE", manifest.file, "Manifest file")->required();
  CLI::App* check_cmd = manifest_cmd->add_subcommand(
      "check", "Verify a server's manifest and compare its recorded tools (exit 0 when clean)");
  check_cmd->add_option("SERVER", manifest.server, "Server name")->required();
  check_cmd->add_option("--file", manifest.file, "Manifest file (default: the server's manifest)");
  for (CLI::App* cmd : {keygen_cmd, sign_cmd, verify_cmd, show_cmd, check_cmd}) {
    cmd->add_option("--config", manifest.config_path,
                    "Config file (default ~/.mcpproxy/mcp_config.json)");
    cmd->add_option("--data-dir", manifest.data_dir, "Data directory (default ~/.mcpproxy)");
    cmd->add_flag("--json", manifest.json, "Print JSON");
  }

  // Other clients' configurations.
  mcpproxy::app::ImportOptions import_options;
  CLI::App* import_cmd = app.add_subcommand(
      "import", "Copy another MCP client's servers into the config (quarantined)");
  import_cmd
      ->add_option("--from", import_options.client,
                   "claude-desktop, claude-code, cursor, vscode or codex")
      ->required();
  import_cmd->add_option("FILE", import_options.file,
                         "Read this file instead of the client's default locations");
  import_cmd->add_flag("--dry-run", import_options.dry_run,
                       "Show what would be added; change nothing");
  mcpproxy::app::ConnectOptions connect_options;
  CLI::App* connect_cmd =
      app.add_subcommand("connect", "Add mcpproxy to an MCP client's config (with a backup)");
  connect_cmd
      ->add_option("CLIENT", connect_options.client,
                   "claude-desktop, claude-code, cursor, vscode or codex")
      ->required();
  connect_cmd->add_option("--file", connect_options.file,
                          "Edit this file instead of the client's user-level config");
  connect_cmd->add_option("--name", connect_options.name, "Entry name (default mcpproxy)");
  connect_cmd->add_flag("--dry-run", connect_options.dry_run, "Print the change; write nothing");
  connect_cmd->add_flag("--stdio", connect_options.stdio,
                        "Have the client start `mcpproxy serve --stdio` instead of using HTTP");
  commonFlags(import_cmd, import_options.common);
  commonFlags(connect_cmd, connect_options.common);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help and --version exit 0; every usage error exits 2 (docs/cli.md).
    int code = app.exit(error);
    return code == 0 ? 0 : mcpproxy::app::kExitUsage;
  }
  if (*history_cmd) return mcpproxy::app::runToolsHistory(history);
  if (*rollback_cmd) {
    if (rollback_to > 0) history.to = rollback_to;
    return mcpproxy::app::runToolsRollback(history);
  }
  if (*keygen_cmd) return mcpproxy::app::runManifestKeygen(manifest);
  if (*sign_cmd) return mcpproxy::app::runManifestSign(manifest);
  if (*verify_cmd) return mcpproxy::app::runManifestVerify(manifest);
  if (*show_cmd) return mcpproxy::app::runManifestShow(manifest);
  if (*check_cmd) return mcpproxy::app::runManifestCheck(manifest);
  if (*import_cmd) return mcpproxy::app::runImport(import_options);
  if (*connect_cmd) return mcpproxy::app::runConnect(connect_options);
  namespace app_ns = mcpproxy::app;
  manage.enable = !add_disabled;
  if (*upstream_list_cmd) return app_ns::runUpstreamList(manage);
  if (*upstream_add_cmd) return app_ns::runUpstreamAdd(manage);
  if (*upstream_remove_cmd) return app_ns::runUpstreamRemove(manage);
  if (*upstream_enable_cmd) return app_ns::runUpstreamEnable(manage, true);
  if (*upstream_disable_cmd) return app_ns::runUpstreamEnable(manage, false);
  if (*upstream_restart_cmd) return app_ns::runUpstreamRestart(manage);
  if (*upstream_logs_cmd) return app_ns::runUpstreamLogs(manage);
  if (*approve_server_cmd) return app_ns::runUpstreamTrust(manage, true);
  if (*quarantine_cmd) return app_ns::runUpstreamTrust(manage, false);
  if (*call_cmd) return app_ns::runCall(manage);
  if (*status_cmd) return app_ns::runStatus(manage);
  if (*doctor_cmd) return app_ns::runDoctor(doctor_options);
  if (*diff_cmd) return mcpproxy::app::runToolsDiff(trust);
  if (*approve_tool_cmd) {
    if (trust.target.empty() == trust.all_server.empty()) {
      std::fprintf(stderr, "mcpproxy: give either SERVER:TOOL or --all SERVER\n");
      return 2;
    }
    return mcpproxy::app::runToolsApprove(trust);
  }
  if (*events_cmd) return mcpproxy::app::runSecurityEvents(trust);
  if (*scan_cmd) {
    if (scan_with_config) {
      trust.json = scan_json;
      return mcpproxy::app::runSecurityScanWithConfig(trust, scan_file);
    }
    if (scan_file.empty()) {
      std::fprintf(stderr, "mcpproxy: give --tools-file FILE, --with-config, or both\n");
      return mcpproxy::app::kExitUsage;
    }
    return mcpproxy::policy::runScanCommand(scan_file, scan_json);
  }
  if (*report_cmd) return mcpproxy::app::runSecurityReport(trust);
  if (*activity_list_cmd) return mcpproxy::app::runActivityList(trust);
  if (*serve_cmd) return mcpproxy::app::runServe(serve);
  if (*search_cmd) return mcpproxy::app::runManagedToolsSearch(tools);
  if (*list_cmd) return mcpproxy::app::runManagedToolsList(tools);
  return 0;
}
