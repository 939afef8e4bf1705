// What the management commands (upstream, tools, call, status, import, connect, doctor) share:
// the documented exit codes, where the config and data directory are, reading and rewriting the
// config file as a JSON document (so keys this version does not know survive), redaction of
// what must not be printed, and plain-text tables.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/redact.h"  // redactUrl, displayCommand: the one redaction rule
#include "common/result.h"
#include "config/config.h"

namespace mcpproxy::app {

// Exit codes of every command (docs/cli.md). Stable: scripts rely on them.
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,         // the operation failed (upstream error, I/O, refused)
  kExitUsage = 2,           // bad arguments or a broken config file
  kExitNotFound = 3,        // the named server or tool does not exist
  kExitDaemonRequired = 4,  // the command needs a running daemon and none answers
};

// Flags most management commands take.
struct CommonOptions {
  std::string config_path;  // empty: <data dir>/mcp_config.json
  std::string data_dir;     // empty: the config's data_dir, else ~/.mcpproxy
  bool json = false;
};

// Where the config file and the data directory are, resolved the way `serve` resolves them.
struct Locations {
  std::filesystem::path config_path;
  std::filesystem::path data_dir;
  std::filesystem::path socket_path;  // <data_dir>/mcpproxy.sock
};

// Resolves locations; reads the config only to find its data_dir (a missing or broken config is
// not an error here: `data_dir` then falls back to ~/.mcpproxy or --data-dir).
Locations resolveLocations(const CommonOptions& options);

// The config file as a JSON document, for edits that keep every key and the server form
// (array or Claude-style object). A missing file yields the default config.
struct ConfigDocument {
  std::filesystem::path path;
  boost::json::object root;
  bool existed = false;

  // Names of the servers, in order.
  std::vector<std::string> serverNames() const;
  // The server entry named `name` (with "name" set also in the object form), or nullptr.
  boost::json::object* findServer(std::string_view name);
  // Appends an entry (which must have a "name"), keeping the file's form.
  void addServer(boost::json::object entry);
  bool removeServer(std::string_view name);
};

Result<ConfigDocument> loadConfigDocument(const std::filesystem::path& path);
// Validates the edited document with config::parseConfig and writes it atomically.
Result<void> saveConfigDocument(const ConfigDocument& document);

// Indented JSON (two spaces), keys in the order of the object; ends with a newline.
std::string prettyJson(const boost::json::value& value);

// Prints `value` as one JSON line on stdout.
void printJson(const boost::json::value& value);

// Left-aligned columns separated by two spaces; the last column is not padded.
void printTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);

// Prints the lines of `a` and `b` that differ ("- " / "+ "), with `context` unchanged lines
// ("  ") around each change (all of them by default), like a minimal unified diff.
void printLineDiff(const std::string& a, const std::string& b,
                   std::size_t context = static_cast<std::size_t>(-1));

// "mcpproxy: <message>" on stderr.
void printError(std::string_view message);

// The running binary's absolute path (for client configs that start `mcpproxy serve --stdio`).
std::filesystem::path selfExecutable();

}  // namespace mcpproxy::app
