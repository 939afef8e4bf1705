// Reading and writing other MCP clients' server lists (see client_configs.h). Formats, per the
// clients' documentation:
//   Claude Desktop  ~/.config/Claude/claude_desktop_config.json   {"mcpServers": {name: entry}}
//   Claude Code     ~/.claude.json {"mcpServers": ..., "projects": {dir: {"mcpServers": ...}}}
//                   and <project>/.mcp.json {"mcpServers": ...}
//   Cursor          ~/.cursor/mcp.json and <project>/.cursor/mcp.json {"mcpServers": ...}
//   VS Code         ~/.config/Code/User/mcp.json and <project>/.vscode/mcp.json {"servers": ...};
//                   settings.json {"mcp": {"servers": ...}} (JSON with comments)
//   Codex           ~/.codex/config.toml (or $CODEX_HOME) [mcp_servers.<name>] tables
// An entry is {command, args, env, cwd} (stdio) or {url, headers} with "type" stdio|http|sse.
// TOML is parsed with toml++ (Debian's libtomlplusplus-dev), header-only and without exceptions,
// in this file only.
#include "app/client_configs.h"

#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "app/cli_util.h"
#include "app/paths.h"
#include "common/redact.h"
#include "config/config.h"

namespace mcpproxy::app {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxClientFileBytes = 16 * 1024 * 1024;

Result<std::string> readFile(const fs::path& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) return makeError(ErrorCode::kNotFound, "cannot read " + path.string());
  if (size > kMaxClientFileBytes)
    return makeError(ErrorCode::kLimitExceeded, path.string() + " is larger than 16 MiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError(ErrorCode::kIo, "cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// JSON as the clients write it: VS Code's files allow comments and trailing commas.
Result<json::value> parseLenientJson(const std::string& text, const fs::path& path,
                                     bool* strict = nullptr) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 64;
  json::value value = json::parse(text, ec, {}, options);
  if (strict) *strict = !ec;
  if (ec) {
    ec = {};
    options.allow_comments = true;
    options.allow_trailing_commas = true;
    value = json::parse(text, ec, {}, options);
  }
  if (ec) return makeError(ErrorCode::kInvalidArgument, path.string() + ": not valid JSON");
  if (!value.is_object())
    return makeError(ErrorCode::kInvalidArgument, path.string() + ": expected a JSON object");
  return value;
}

json::value tomlToJson(const toml::node& node) {
  if (const auto* table = node.as_table()) {
    json::object out;
    for (const auto& [key, child] : *table) out[std::string(key.str())] = tomlToJson(child);
    return out;
  }
  if (const auto* array = node.as_array()) {
    json::array out;
    for (const auto& child : *array) out.push_back(tomlToJson(child));
    return out;
  }
  if (auto s = node.value<std::string>(); s && node.is_string()) return json::string(*s);
  if (node.is_integer()) return *node.value<std::int64_t>();
  if (node.is_floating_point()) return *node.value<double>();
  if (node.is_boolean()) return *node.value<bool>();
  std::ostringstream text;  // dates and times, as TOML writes them
  if (const auto* date = node.as_date()) {
    text << *date;
  } else if (const auto* time = node.as_time()) {
    text << *time;
  } else if (const auto* date_time = node.as_date_time()) {
    text << *date_time;
  }
  return json::string(text.str());
}

Result<json::object> parseToml(const std::string& text, const fs::path& path) {
  toml::parse_result parsed = toml::parse(text, path.string());
  if (!parsed) {
    const auto& error = parsed.error();
    return makeError(ErrorCode::kInvalidArgument, path.string() + ":" +
                                                      std::to_string(error.source().begin.line) +
                                                      ": " + std::string(error.description()));
  }
  return tomlToJson(parsed.table()).as_object();
}

std::string sanitizeName(std::string_view name) {
  std::string out;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    out += ok ? c : '-';
  }
  if (out.size() > 64) out.resize(64);
  return out.empty() ? std::string("server") : out;
}

bool containsInputReference(const json::value& value) {
  if (value.is_string()) return value.get_string().find("${input:") != json::string::npos;
  if (value.is_object()) {
    for (const auto& [k, v] : value.get_object()) {
      if (containsInputReference(v)) return true;
    }
  }
  if (value.is_array()) {
    for (const auto& v : value.get_array()) {
      if (containsInputReference(v)) return true;
    }
  }
  return false;
}

// One client entry -> an mcpproxy entry. Keys mcpproxy does not use are dropped with a warning
// (naming the key only).
ImportedServer convertEntry(const std::string& name, const json::value& raw, bool codex,
                            const std::string& source, std::vector<std::string>& warnings) {
  ImportedServer server;
  server.original_name = name;
  server.name = sanitizeName(name);
  server.source = source;
  if (!raw.is_object()) {
    server.invalid = "not an object";
    return server;
  }
  const auto& in = raw.get_object();
  json::object& out = server.entry;
  out["name"] = server.name;
  for (const auto& [key_view, value] : in) {
    std::string key(key_view);
    if (key == "command" || key == "args" || key == "env" || key == "url" || key == "headers") {
      out[key] = value;
    } else if (key == "cwd") {
      out["working_dir"] = value;
    } else if (key == "http_headers") {
      out["headers"] = value;
    } else if (key == "type" || key == "transport") {
      out["protocol"] = value;
    } else if (key == "disabled" && value.is_bool()) {
      out["enabled"] = !value.get_bool();
    } else if (key == "enabled" && value.is_bool()) {
      out["enabled"] = value.get_bool();
    } else if (codex && key == "tool_timeout_sec" && value.is_number()) {
      out["call_timeout"] = value;
    } else if (key == "name" || key == "autoApprove" || key == "alwaysAllow" ||
               key == "startup_timeout_sec" || key == "startup_timeout_ms" || key == "timeout" ||
               key == "description") {
      // Client-side settings with no mcpproxy meaning.
    } else {
      warnings.push_back(server.name + ": \"" + key + "\" is not supported and was left out");
    }
  }
  if (containsInputReference(raw)) {
    warnings.push_back(server.name +
                       ": uses VS Code ${input:...} variables; put the real values in the "
                       "mcpproxy config before approving it");
  }
  out["quarantined"] = true;
  // The real config parser decides whether the entry is usable.
  json::object probe{{"mcpServers", json::array{out}}};
  std::vector<std::string> ignored;
  if (auto parsed = config::parseConfig(json::serialize(probe), ignored); !parsed) {
    std::string why = parsed.error().message;
    if (auto colon = why.find(": "); why.starts_with("mcpServers[0]") && colon != std::string::npos)
      why = why.substr(colon + 2);
    server.invalid = why;
  }
  return server;
}

void convertMap(const json::value* servers, bool codex, const std::string& source,
                ImportScan& scan) {
  if (!servers) return;
  if (servers->is_object()) {
    for (const auto& [name, entry] : servers->get_object()) {
      scan.servers.push_back(convertEntry(std::string(name), entry, codex, source, scan.warnings));
    }
  } else if (servers->is_array()) {  // mcpproxy's own array form, if someone points at it
    for (const auto& entry : servers->get_array()) {
      const auto* name = entry.is_object() ? entry.get_object().if_contains("name") : nullptr;
      if (!name || !name->is_string()) continue;
      scan.servers.push_back(
          convertEntry(std::string(name->get_string()), entry, codex, source, scan.warnings));
    }
  } else {
    scan.warnings.push_back(source + ": the server list is neither an object nor an array");
  }
}

// Reads one file of the client's format into `scan`.
Result<void> readOne(ClientKind kind, const fs::path& path, ImportScan& scan) {
  auto text = readFile(path);
  if (!text) return std::unexpected(text.error());
  scan.files_read.push_back(path.string());
  if (kind == ClientKind::kCodex) {
    auto root = parseToml(*text, path);
    if (!root) return std::unexpected(root.error());
    convertMap(root->if_contains("mcp_servers"), true, path.string(), scan);
    return {};
  }
  auto parsed = parseLenientJson(*text, path);
  if (!parsed) return std::unexpected(parsed.error());
  const json::object& root = parsed->get_object();
  std::string source = path.string();
  if (kind == ClientKind::kVscode) {
    if (const auto* servers = root.if_contains("servers")) {
      convertMap(servers, false, source, scan);
    } else if (const auto* flat = root.if_contains("mcp.servers")) {
      convertMap(flat, false, source, scan);
    } else if (const auto* mcp = root.if_contains("mcp"); mcp && mcp->is_object()) {
      convertMap(mcp->get_object().if_contains("servers"), false, source, scan);
    }
    return {};
  }
  convertMap(root.if_contains("mcpServers"), false, source, scan);
  if (kind == ClientKind::kClaudeCode) {
    if (const auto* projects = root.if_contains("projects"); projects && projects->is_object()) {
      for (const auto& [dir, project] : projects->get_object()) {
        if (!project.is_object()) continue;
        convertMap(project.get_object().if_contains("mcpServers"), false,
                   source + " (project " + std::string(dir) + ")", scan);
      }
    }
  }
  return {};
}

fs::path codexHome() {
  if (const char* home = std::getenv("CODEX_HOME"); home && *home) return home;
  return homeDirectory() / ".codex";
}

std::vector<fs::path> defaultFiles(ClientKind kind, const fs::path& cwd) {
  fs::path home = homeDirectory();
  switch (kind) {
    case ClientKind::kClaudeDesktop:
      return {home / ".config/Claude/claude_desktop_config.json"};
    case ClientKind::kClaudeCode:
      return {home / ".claude.json", cwd / ".mcp.json"};
    case ClientKind::kCursor:
      return {home / ".cursor/mcp.json", cwd / ".cursor/mcp.json"};
    case ClientKind::kVscode:
      return {home / ".config/Code/User/mcp.json", home / ".config/Code/User/settings.json",
              cwd / ".vscode/mcp.json"};
    case ClientKind::kCodex:
      return {codexHome() / "config.toml"};
  }
  return {};
}

// The file `connect` edits by default: the user-level one.
fs::path connectFile(ClientKind kind) {
  fs::path home = homeDirectory();
  switch (kind) {
    case ClientKind::kClaudeDesktop:
      return home / ".config/Claude/claude_desktop_config.json";
    case ClientKind::kClaudeCode:
      return home / ".claude.json";
    case ClientKind::kCursor:
      return home / ".cursor/mcp.json";
    case ClientKind::kVscode:
      return home / ".config/Code/User/mcp.json";
    case ClientKind::kCodex:
      return codexHome() / "config.toml";
  }
  return {};
}

std::string tomlQuote(const std::string& s) {
  return json::serialize(json::string(s));  // TOML basic strings escape like JSON
}

// Codex: replaces [mcp_servers.<name>] (and its sub-tables) in the text, keeping the rest.
Result<std::string> editCodexToml(const std::string& text, const fs::path& path,
                                  const ConnectTarget& target) {
  if (auto parsed = parseToml(text, path); !parsed) return std::unexpected(parsed.error());
  std::string header = "[mcp_servers." + target.entry_name + "]";
  std::string sub = "[mcp_servers." + target.entry_name + ".";
  std::string out;
  bool skipping = false;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::string trimmed = line;
    trimmed.erase(0, trimmed.find_first_not_of(" \t"));
    if (trimmed.starts_with("["))
      skipping = trimmed.starts_with(header) || trimmed.starts_with(sub);
    if (!skipping) out += line + "\n";
  }
  while (out.size() >= 2 && out.ends_with("\n\n")) out.pop_back();
  if (auto check = parseToml(out, path); check) {
    const auto* servers = check->if_contains("mcp_servers");
    if (servers && servers->is_object() && servers->get_object().contains(target.entry_name)) {
      return makeError(ErrorCode::kInvalidArgument,
                       path.string() + " defines mcp_servers." + target.entry_name +
                           " in a form this command does not edit; remove it by hand first");
    }
  }
  if (!out.empty()) out += "\n";
  out += header + "\n";
  out += "command = " + tomlQuote(target.executable.string()) + "\n";
  out += "args = [";
  for (std::size_t i = 0; i < target.stdio_args.size(); ++i) {
    out += (i ? ", " : "") + tomlQuote(target.stdio_args[i]);
  }
  out += "]\n";
  if (auto parsed = parseToml(out, path); !parsed) {
    return makeError(ErrorCode::kInternal,
                     "the edited TOML does not parse: " + parsed.error().message);
  }
  return out;
}

// For diffs of TOML: values of env tables and of sensitive keys as ***.
std::string redactToml(const std::string& text) {
  std::string out;
  std::istringstream lines(text);
  std::string line;
  bool in_secret_table = false;
  while (std::getline(lines, line)) {
    std::string trimmed = line;
    trimmed.erase(0, trimmed.find_first_not_of(" \t"));
    if (trimmed.starts_with("[")) {
      in_secret_table = trimmed.find(".env]") != std::string::npos ||
                        trimmed.find("headers]") != std::string::npos;
    }
    auto eq = line.find('=');
    if (!trimmed.starts_with("[") && !trimmed.starts_with("#") && eq != std::string::npos) {
      std::string key = line.substr(0, eq);
      key.erase(0, key.find_first_not_of(" \t\""));
      key.erase(key.find_last_not_of(" \t\"") + 1);
      if (in_secret_table || isSecretName(key) || key.find("env") != std::string::npos ||
          key.find("headers") != std::string::npos) {
        line = line.substr(0, eq + 1) + " ***";
      }
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace

std::optional<ClientKind> parseClientKind(std::string_view name) {
  if (name == "claude-desktop") return ClientKind::kClaudeDesktop;
  if (name == "claude-code") return ClientKind::kClaudeCode;
  if (name == "cursor") return ClientKind::kCursor;
  if (name == "vscode" || name == "vs-code" || name == "code") return ClientKind::kVscode;
  if (name == "codex") return ClientKind::kCodex;
  return std::nullopt;
}

std::string_view clientName(ClientKind kind) {
  switch (kind) {
    case ClientKind::kClaudeDesktop:
      return "claude-desktop";
    case ClientKind::kClaudeCode:
      return "claude-code";
    case ClientKind::kCursor:
      return "cursor";
    case ClientKind::kVscode:
      return "vscode";
    case ClientKind::kCodex:
      return "codex";
  }
  return "?";
}

std::string clientNames() {
  return "claude-desktop, claude-code, cursor, vscode, codex";
}

Result<ImportScan> readClientServers(ClientKind kind, const std::optional<fs::path>& file,
                                     const fs::path& cwd) {
  ImportScan scan;
  if (file) {
    std::error_code ec;
    if (!fs::exists(*file, ec))
      return makeError(ErrorCode::kNotFound, file->string() + " does not exist");
    if (auto ok = readOne(kind, *file, scan); !ok) return std::unexpected(ok.error());
    return scan;
  }
  std::string looked;
  for (const auto& path : defaultFiles(kind, cwd)) {
    std::error_code ec;
    looked += (looked.empty() ? "" : ", ") + path.string();
    if (!fs::exists(path, ec)) continue;
    if (auto ok = readOne(kind, path, scan); !ok) return std::unexpected(ok.error());
  }
  if (scan.files_read.empty()) {
    return makeError(ErrorCode::kNotFound, "no " + std::string(clientName(kind)) +
                                               " configuration found (looked at " + looked + ")");
  }
  return scan;
}

Result<ConnectPlan> planConnect(ClientKind kind, const std::optional<fs::path>& file,
                                const ConnectTarget& target) {
  ConnectPlan plan;
  plan.file = file ? *file : connectFile(kind);
  std::error_code ec;
  // A symlinked config (dotfile managers) is edited where it points, keeping the link.
  if (fs::is_symlink(plan.file, ec)) {
    if (auto target = fs::canonical(plan.file, ec); !ec) plan.file = target;
  }
  plan.existed = fs::exists(plan.file, ec);
  if (plan.existed) {
    auto text = readFile(plan.file);
    if (!text) return std::unexpected(text.error());
    plan.before = std::move(*text);
  }
  // Claude Desktop and Codex start local servers only; the others speak Streamable HTTP.
  bool stdio =
      target.force_stdio || kind == ClientKind::kClaudeDesktop || kind == ClientKind::kCodex;
  plan.entry_summary =
      stdio ? "stdio " + displayCommand(target.executable.string(), target.stdio_args)
            : "http " + target.url;

  if (kind == ClientKind::kCodex) {
    auto after = editCodexToml(plan.before, plan.file, target);
    if (!after) return std::unexpected(after.error());
    plan.after = std::move(*after);
    plan.redacted_before = redactToml(plan.before);
    plan.redacted_after = redactToml(plan.after);
    return plan;
  }

  json::value root = json::object{};
  if (plan.existed && plan.before.find_first_not_of(" \t\r\n") != std::string::npos) {
    bool strict = true;
    auto parsed = parseLenientJson(plan.before, plan.file, &strict);
    if (!parsed) return std::unexpected(parsed.error());
    if (!strict) {
      plan.warnings.push_back(plan.file.string() +
                              " has comments or trailing commas; they are not kept in the "
                              "rewritten file (the backup has them)");
    }
    root = std::move(*parsed);
  }
  const json::value original = root;
  json::value before_tree = root;
  json::object entry;
  if (stdio) {
    entry["command"] = target.executable.string();
    json::array args;
    for (const auto& a : target.stdio_args) args.emplace_back(a);
    entry["args"] = std::move(args);
    if (kind == ClientKind::kVscode || kind == ClientKind::kClaudeCode) entry["type"] = "stdio";
  } else {
    if (kind == ClientKind::kVscode || kind == ClientKind::kClaudeCode) entry["type"] = "http";
    entry["url"] = target.url;
  }
  const char* list_key = kind == ClientKind::kVscode ? "servers" : "mcpServers";
  json::object& object = root.get_object();
  json::value* servers = object.if_contains(list_key);
  if (!servers || servers->is_null()) {
    object[list_key] = json::object{};
    servers = object.if_contains(list_key);
  }
  if (!servers->is_object()) {
    return makeError(ErrorCode::kInvalidArgument,
                     plan.file.string() + ": \"" + list_key + "\" is not an object");
  }
  servers->get_object()[target.entry_name] = std::move(entry);
  plan.after = prettyJson(root);
  // Redacted views of both trees, printed the same way, so the diff shows only what changed.
  redactJsonSecrets(before_tree);
  json::value after_tree = root;
  redactJsonSecrets(after_tree);
  plan.redacted_before = plan.existed ? prettyJson(before_tree) : "";
  plan.redacted_after = prettyJson(after_tree);
  if (plan.existed && original == root) plan.after = plan.before;  // already connected
  return plan;
}

}  // namespace mcpproxy::app
