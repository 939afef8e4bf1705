// The person-only side of quarantine and pinning, plus the audit views:
//   mcpproxy upstream approve NAME | quarantine NAME
//   mcpproxy tools diff SERVER:TOOL | approve SERVER:TOOL | approve --all SERVER
//   mcpproxy security events [--limit N]     mcpproxy activity list [--limit N]
// They write the database in the data directory; a running daemon picks changes up within a
// second. None of this is reachable from an MCP client.
#pragma once

#include <cstddef>
#include <string>

namespace mcpproxy::app {

struct TrustOptions {
  std::string config_path;  // used to find data_dir when --data-dir is not given
  std::string data_dir;
  std::string target;      // NAME or SERVER:TOOL
  std::string all_server;  // tools approve --all SERVER
  std::size_t limit = 50;
  bool json = false;
};

int runUpstreamApprove(const TrustOptions& options);
int runUpstreamQuarantine(const TrustOptions& options);
int runToolsDiff(const TrustOptions& options);
int runToolsApprove(const TrustOptions& options);
int runSecurityEvents(const TrustOptions& options);
int runActivityList(const TrustOptions& options);
// `mcpproxy security scan --with-config [--tools-file FILE] [--config F] [--data-dir D]
// [--json]`: the configured (enabled) servers' tool definitions that the daemon recorded, scanned
// all together with the daemon's own cross-server checks (policy::scanInUniverse). With
// --tools-file, the file's tools join them as one more server (named after the file) and only
// they are reported: "what would this server look like next to mine". Exit 0; 1 when the
// config or database cannot be read; 2 for an unusable file.
int runSecurityScanWithConfig(const TrustOptions& options, const std::string& tools_file);
// `mcpproxy security report [NAME]`: the scanner's verdicts on the definitions the daemon
// recorded (every server, or NAME's), with each tool's trust status.
int runSecurityReport(const TrustOptions& options);

}  // namespace mcpproxy::app
