// The MCP server lists of other MCP clients (Claude Desktop, Claude Code, Cursor, VS Code,
// Codex): where each keeps them on Linux, how to read them into mcpproxy config entries
// (`mcpproxy import`), and how to write mcpproxy's own entry into them (`mcpproxy connect`).
#pragma once

#include <boost/json/object.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace mcpproxy::app {

enum class ClientKind { kClaudeDesktop, kClaudeCode, kCursor, kVscode, kCodex };

// "claude-desktop", "claude-code", "cursor", "vscode", "codex".
std::optional<ClientKind> parseClientKind(std::string_view name);
std::string_view clientName(ClientKind kind);
// The names accepted by parseClientKind, for help texts.
std::string clientNames();

// One server found in a client's configuration, converted to an mcpproxy config entry.
struct ImportedServer {
  std::string original_name;  // as the client names it
  std::string name;           // a valid mcpproxy name (original with invalid characters as '-')
  boost::json::object entry;  // mcpproxy config entry, "name" set, "quarantined": true
  std::string source;         // the file (and project) it came from
  std::string invalid;        // non-empty: why it cannot be imported
};

struct ImportScan {
  std::vector<ImportedServer> servers;
  std::vector<std::string> files_read;
  std::vector<std::string> warnings;  // never contain env or header values
};

// Reads `file`, or the client's default locations (missing ones are skipped; none found is
// kNotFound). `cwd` is where project files (.mcp.json, .vscode/mcp.json) are looked for.
Result<ImportScan> readClientServers(ClientKind kind,
                                     const std::optional<std::filesystem::path>& file,
                                     const std::filesystem::path& cwd);

// The change `mcpproxy connect` makes to a client's config file.
struct ConnectPlan {
  std::filesystem::path file;
  bool existed = false;
  std::string before;           // file text ("" when new)
  std::string after;            // new file text
  std::string redacted_before;  // the same with env/header/token values as ***, for diffs
  std::string redacted_after;
  std::string entry_summary;  // "http http://127.0.0.1:8080/mcp" or "stdio /path serve --stdio"
  std::vector<std::string> warnings;
};

struct ConnectTarget {
  std::string entry_name = "mcpproxy";
  std::string url;                      // Streamable HTTP endpoint
  std::filesystem::path executable;     // for stdio entries
  std::vector<std::string> stdio_args;  // "serve" "--stdio" [--config F] [--data-dir D]
  bool force_stdio = false;
};

// Plans the edit of `file` (default: the client's user-level config file).
Result<ConnectPlan> planConnect(ClientKind kind, const std::optional<std::filesystem::path>& file,
                                const ConnectTarget& target);

}  // namespace mcpproxy::app
