// See manage_command.h. Each command is "daemon first, standalone second": the daemon is asked
// through its socket; when nothing answers there, the command edits the config file (atomically,
// validated by the real parser) or reads the database and log files itself. JSON output has the
// API's shapes in both modes, so scripts do not care which one ran.
#include "app/manage_command.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <variant>

#include "app/daemon_client.h"
#include "app/local_store.h"
#include "app/paths.h"
#include "common/log.h"
#include "config/config.h"
#include "policy/trust.h"
#include "protocol/jsonrpc.h"
#include "router/router.h"
#include "upstream/manager.h"

namespace mcpproxy::app {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxLogLines = 5000;

// The exit code for an API error answer.
int exitFor(const DaemonResponse& response) {
  if (response.status == 404) return kExitNotFound;
  if (response.status == 400 || response.status == 413 || response.status == 415) return kExitUsage;
  return kExitFailure;
}

// Prints the daemon's error and returns its exit code; for transport errors, kExitFailure.
int reportFailure(const Result<DaemonResponse>& response) {
  if (!response) {
    printError(response.error().message);
    return kExitFailure;
  }
  printError(response->errorMessage());
  return exitFor(*response);
}

std::string str(const json::value& object, std::string_view key) {
  if (!object.is_object()) return "";
  const auto* v = object.get_object().if_contains(key);
  if (!v) return "";
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_null()) return "";
  return json::serialize(*v);
}

bool flag(const json::value& object, std::string_view key) {
  if (!object.is_object()) return false;
  const auto* v = object.get_object().if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

std::string firstLine(std::string_view text, std::size_t max = 80) {
  auto line = text.substr(0, text.find('\n'));
  if (line.size() > max) return std::string(line.substr(0, max - 3)) + "...";
  return std::string(line);
}

const json::array& arrayAt(const json::value& body, std::string_view key) {
  static const json::array kEmpty;
  if (!body.is_object()) return kEmpty;
  const auto* v = body.get_object().if_contains(key);
  return v && v->is_array() ? v->get_array() : kEmpty;
}

// Everything a standalone command knows about the servers: the config and the database.
struct Standalone {
  Locations where;
  config::Config cfg;
  std::optional<storage::TrustSnapshot> trust;
  std::map<std::string, std::size_t> tool_counts;  // tools the daemon last saw, per server
};

// Loads the config (exit code on failure) and, when it exists, the database's view.
std::variant<Standalone, int> loadStandalone(const CommonOptions& options) {
  Standalone s;
  s.where = resolveLocations(options);
  std::error_code ec;
  if (fs::exists(s.where.config_path, ec)) {
    std::vector<std::string> warnings;
    auto cfg = config::loadConfigFile(s.where.config_path, warnings);
    if (!cfg) {
      printError(cfg.error().message);
      return kExitUsage;
    }
    s.cfg = std::move(*cfg);
  }
  log::init(log::Options{log::Level::kError, ""});
  if (auto store = LocalStore::open(s.where.data_dir)) {
    if (auto trust = store->run(store->store().trust()); trust) s.trust = std::move(*trust);
    if (auto tools = store->run(store->store().tools()); tools) {
      for (const auto& t : *tools) s.tool_counts[t.server] += t.present;
    }
  }
  return s;
}

json::object serverObject(const Standalone& s, const config::ServerConfig& server) {
  policy::TrustPolicy policy;
  if (s.trust) policy.setSnapshot(*s.trust);
  json::array env_keys, header_keys, args;
  for (const auto& [k, v] : server.env) env_keys.emplace_back(k);
  for (const auto& [k, v] : server.headers) header_keys.emplace_back(k);
  for (const auto& a : server.args) args.emplace_back(a);
  auto count = s.tool_counts.find(server.name);
  const char* trust_mode = server.trust_mode == config::TrustMode::kScan   ? "scan"
                           : server.trust_mode == config::TrustMode::kAuto ? "auto"
                                                                           : "manual";
  std::int64_t timeout_ms = server.call_timeout.value_or(s.cfg.call_timeout).count();
  return json::object{
      {"name", server.name},
      {"enabled", server.enabled},
      {"quarantined", policy.quarantined(server)},
      {"state", server.enabled ? "stopped" : "disabled"},
      {"tool_count", count == s.tool_counts.end() ? 0 : count->second},
      {"last_error", ""},
      {"protocol", config::protocolName(server.effectiveProtocol())},
      {"command", server.command},
      {"args", std::move(args)},
      {"url", redactUrl(server.url)},
      {"working_dir", server.working_dir},
      {"env_keys", std::move(env_keys)},
      {"header_keys", std::move(header_keys)},
      {"trust_mode", trust_mode},
      {"prefix", server.toolPrefix()},
      {"call_timeout_ms", timeout_ms},
  };
}

void printServers(const json::array& servers) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : servers) {
    std::string target = str(s, "url").empty() ? str(s, "command") : redactUrl(str(s, "url"));
    rows.push_back({str(s, "name"), str(s, "state"), flag(s, "enabled") ? "yes" : "no",
                    flag(s, "quarantined") ? "yes" : "no", str(s, "tool_count"), str(s, "protocol"),
                    target, firstLine(str(s, "last_error"), 60)});
  }
  printTable(
      {"NAME", "STATE", "ENABLED", "QUARANTINED", "TOOLS", "PROTOCOL", "COMMAND/URL", "LAST ERROR"},
      rows);
}

Result<config::KeyValues> parsePairs(const std::vector<std::string>& items, const char* what) {
  config::KeyValues out;
  for (const auto& item : items) {
    auto cut = item.find('=');
    auto colon = item.find(':');
    if (colon != std::string::npos && (cut == std::string::npos || colon < cut)) cut = colon;
    if (cut == std::string::npos || cut == 0) {
      // The value may be secret: name only the key part.
      return makeError(ErrorCode::kInvalidArgument,
                       std::string(what) + " expects KEY=VALUE, got '" +
                           item.substr(0, std::min<std::size_t>(item.size(), 20)) + "...'");
    }
    std::string value = item.substr(cut + 1);
    if (item[cut] == ':' && value.starts_with(" ")) value.erase(0, 1);
    out.emplace_back(item.substr(0, cut), value);
  }
  return out;
}

// Servers a standalone command just added must not inherit an old approval of the same name.
void quarantineStaleApprovals(const fs::path& data_dir, const std::string& name) {
  auto store = LocalStore::open(data_dir);
  if (!store) return;
  auto trust = store->run(store->store().trust());
  if (!trust) return;
  auto state = trust->server_state.find(name);
  if (state != trust->server_state.end() && state->second == "approved") {
    store->run(store->store().setServerState(name, "quarantined", "cli"));
  }
}

std::string tailFile(const fs::path& path, std::size_t lines, bool* found) {
  std::ifstream in(path, std::ios::binary);
  *found = static_cast<bool>(in);
  if (!in) return "";
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(std::move(line));
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += l + "\n";
  return out;
}

bool splitTarget(const std::string& target, std::string& server, std::string& tool) {
  auto colon = target.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == target.size()) return false;
  server = target.substr(0, colon);
  tool = target.substr(colon + 1);
  return true;
}

// Prints a tools/call result: text blocks as text, other blocks as JSON lines.
void printCallResult(const json::value& result) {
  for (const auto& block : arrayAt(result, "content")) {
    if (str(block, "type") == "text") {
      std::printf("%s\n", str(block, "text").c_str());
    } else {
      std::printf("%s\n", json::serialize(block).c_str());
    }
  }
  if (arrayAt(result, "content").empty() && result.is_object() &&
      result.get_object().contains("structuredContent")) {
    std::printf("%s\n", json::serialize(result.at("structuredContent")).c_str());
  }
}

}  // namespace

int runUpstreamList(const ManageOptions& options) {
  DaemonClient daemon(resolveLocations(options.common).socket_path);
  json::array servers;
  bool via_daemon = false;
  if (auto answer = daemon.request("GET", "/api/v1/servers"); answer) {
    if (!answer->ok()) return reportFailure(answer);
    servers = arrayAt(answer->body, "servers");
    via_daemon = true;
  } else if (answer.error().code != ErrorCode::kUnavailable) {
    return reportFailure(answer);
  } else {
    auto loaded = loadStandalone(options.common);
    if (auto* code = std::get_if<int>(&loaded)) return *code;
    auto& s = std::get<Standalone>(loaded);
    for (const auto& server : s.cfg.servers) servers.push_back(serverObject(s, server));
  }
  if (options.common.json) {
    printJson(json::object{{"servers", servers}, {"daemon", via_daemon}});
    return kExitOk;
  }
  if (servers.empty()) {
    std::printf(
        "no servers configured (add one with `mcpproxy upstream add` or `mcpproxy import`)\n");
  } else {
    printServers(servers);
  }
  if (!via_daemon) std::printf("(daemon not running: states are from the config)\n");
  return kExitOk;
}

int runUpstreamAdd(const ManageOptions& options) {
  if (options.command.empty() == options.url.empty()) {
    printError("give either --command (stdio) or --url (HTTP)");
    return kExitUsage;
  }
  auto env = parsePairs(options.env, "--env");
  auto headers = parsePairs(options.headers, "--header");
  if (!env || !headers) {
    printError(!env ? env.error().message : headers.error().message);
    return kExitUsage;
  }
  json::object entry{{"name", options.name}};
  if (!options.command.empty()) {
    entry["command"] = options.command;
    json::array args;
    for (const auto& a : options.args) args.emplace_back(a);
    entry["args"] = std::move(args);
  }
  if (!options.url.empty()) entry["url"] = options.url;
  if (!env->empty()) {
    json::object e;
    for (const auto& [k, v] : *env) e[k] = v;
    entry["env"] = std::move(e);
  }
  if (!headers->empty()) {
    json::object h;
    for (const auto& [k, v] : *headers) h[k] = v;
    entry["headers"] = std::move(h);
  }
  if (!options.protocol.empty()) entry["protocol"] = options.protocol;
  if (!options.working_dir.empty()) entry["working_dir"] = options.working_dir;
  if (!options.enable) entry["enabled"] = false;
  entry["quarantined"] = true;
  // Validate with the real parser before anything is sent or written.
  std::vector<std::string> warnings;
  json::object probe{{"mcpServers", json::array{entry}}};
  if (auto parsed = config::parseConfig(json::serialize(probe), warnings); !parsed) {
    printError(parsed.error().message);
    return kExitUsage;
  }

  Locations where = resolveLocations(options.common);
  DaemonClient daemon(where.socket_path);
  json::value server;
  json::value body = entry;
  auto answer = daemon.request("POST", "/api/v1/servers", &body);
  if (answer) {
    if (answer->status == 409) {
      printError(answer->errorMessage());
      return kExitFailure;
    }
    if (!answer->ok()) return reportFailure(answer);
    if (answer->body.is_object() && answer->body.get_object().contains("server")) {
      server = answer->body.at("server");
    }
  } else if (answer.error().code != ErrorCode::kUnavailable) {
    return reportFailure(answer);
  } else {
    auto document = loadConfigDocument(where.config_path);
    if (!document) {
      printError(document.error().message);
      return kExitUsage;
    }
    if (document->findServer(options.name)) {
      printError("a server named '" + options.name + "' already exists");
      return kExitFailure;
    }
    document->addServer(entry);
    if (auto saved = saveConfigDocument(*document); !saved) {
      printError(saved.error().message);
      return kExitFailure;
    }
    quarantineStaleApprovals(where.data_dir, options.name);
    auto loaded = loadStandalone(options.common);
    if (auto* s = std::get_if<Standalone>(&loaded)) {
      for (const auto& c : s->cfg.servers) {
        if (c.name == options.name) server = serverObject(*s, c);
      }
    }
  }
  if (options.common.json) {
    printJson(json::object{{"server", server}, {"daemon", answer.has_value()}});
  } else {
    std::printf("added server '%s' (quarantined)%s\n", options.name.c_str(),
                answer ? "" : (" to " + where.config_path.string()).c_str());
    std::printf("review its tools, then run `mcpproxy upstream approve %s`\n",
                options.name.c_str());
  }
  return kExitOk;
}

int runUpstreamRemove(const ManageOptions& options) {
  Locations where = resolveLocations(options.common);
  DaemonClient daemon(where.socket_path);
  auto answer = daemon.request("DELETE", "/api/v1/servers/" + urlEncode(options.name));
  if (answer) {
    if (!answer->ok()) return reportFailure(answer);
  } else if (answer.error().code != ErrorCode::kUnavailable) {
    return reportFailure(answer);
  } else {
    auto document = loadConfigDocument(where.config_path);
    if (!document) {
      printError(document.error().message);
      return kExitUsage;
    }
    if (!document->removeServer(options.name)) {
      printError("no server named '" + options.name + "'");
      return kExitNotFound;
    }
    if (auto saved = saveConfigDocument(*document); !saved) {
      printError(saved.error().message);
      return kExitFailure;
    }
  }
  if (options.common.json) {
    printJson(json::object{{"removed", options.name}, {"daemon", answer.has_value()}});
  } else {
    std::printf("removed server '%s'\n", options.name.c_str());
  }
  return kExitOk;
}

int runUpstreamEnable(const ManageOptions& options, bool enable) {
  Locations where = resolveLocations(options.common);
  DaemonClient daemon(where.socket_path);
  std::string action = enable ? "enable" : "disable";
  auto answer = daemon.request("POST", "/api/v1/servers/" + urlEncode(options.name) + "/" + action);
  json::value server;
  if (answer) {
    if (!answer->ok()) return reportFailure(answer);
    if (answer->body.is_object() && answer->body.get_object().contains("server")) {
      server = answer->body.at("server");
    }
  } else if (answer.error().code != ErrorCode::kUnavailable) {
    return reportFailure(answer);
  } else {
    auto document = loadConfigDocument(where.config_path);
    if (!document) {
      printError(document.error().message);
      return kExitUsage;
    }
    json::object* entry = document->findServer(options.name);
    if (!entry) {
      printError("no server named '" + options.name + "'");
      return kExitNotFound;
    }
    entry->erase("disabled");
    (*entry)["enabled"] = enable;
    if (auto saved = saveConfigDocument(*document); !saved) {
      printError(saved.error().message);
      return kExitFailure;
    }
  }
  if (options.common.json) {
    printJson(json::object{{"name", options.name},
                           {"enabled", enable},
                           {"server", server},
                           {"daemon", answer.has_value()}});
  } else {
    std::printf("%s server '%s'\n", enable ? "enabled" : "disabled", options.name.c_str());
  }
  return kExitOk;
}

int runUpstreamRestart(const ManageOptions& options) {
  DaemonClient daemon(resolveLocations(options.common).socket_path);
  auto answer = daemon.request("POST", "/api/v1/servers/" + urlEncode(options.name) + "/restart");
  if (!answer) {
    if (answer.error().code == ErrorCode::kUnavailable) {
      printError(
          "the daemon is not running: there is nothing to restart (start it with "
          "`mcpproxy serve`)");
      return kExitDaemonRequired;
    }
    return reportFailure(answer);
  }
  if (!answer->ok()) return reportFailure(answer);
  if (options.common.json) {
    printJson(answer->body);
  } else {
    std::printf(
        "restarted server '%s' (state: %s)\n", options.name.c_str(),
        str(answer->body.is_object() ? answer->body.at("server") : json::value(), "state").c_str());
  }
  return kExitOk;
}

int runUpstreamLogs(const ManageOptions& options) {
  std::size_t lines = std::min(std::max<std::size_t>(options.lines, 1), kMaxLogLines);
  Locations where = resolveLocations(options.common);
  DaemonClient daemon(where.socket_path);
  auto answer = daemon.request(
      "GET", "/api/v1/servers/" + urlEncode(options.name) + "/logs?lines=" + std::to_string(lines));
  json::array out;
  if (answer) {
    if (!answer->ok()) return reportFailure(answer);
    out = arrayAt(answer->body, "lines");
  } else if (answer.error().code != ErrorCode::kUnavailable) {
    return reportFailure(answer);
  } else {
    auto loaded = loadStandalone(options.common);
    if (auto* code = std::get_if<int>(&loaded)) return *code;
    auto& s = std::get<Standalone>(loaded);
    bool known = false;
    for (const auto& c : s.cfg.servers) known = known || c.name == options.name;
    if (!known) {
      printError("no server named '" + options.name + "'");
      return kExitNotFound;
    }
    bool found = false;
    std::string text = tailFile(where.data_dir / "logs" / (options.name + ".log"), lines, &found);
    if (!found && !options.common.json) {
      std::fprintf(stderr, "mcpproxy: no log yet for '%s' (%s)\n", options.name.c_str(),
                   (where.data_dir / "logs" / (options.name + ".log")).c_str());
    }
    std::size_t start = 0;
    while (start < text.size()) {
      auto end = text.find('\n', start);
      out.emplace_back(text.substr(start, end - start));
      start = end + 1;
    }
  }
  if (options.common.json) {
    printJson(json::object{{"lines", out}});
  } else {
    for (const auto& line : out) {
      if (line.is_string()) std::printf("%s\n", std::string(line.get_string()).c_str());
    }
  }
  return kExitOk;
}

int runUpstreamTrust(const ManageOptions& options, bool approve) {
  Locations where = resolveLocations(options.common);
  DaemonClient daemon(where.socket_path);
  auto answer = daemon.request("POST", "/api/v1/servers/" + urlEncode(options.name) +
                                           (approve ? "/approve" : "/quarantine"));
  if (!answer) {
    if (answer.error().code != ErrorCode::kUnavailable) return reportFailure(answer);
    TrustOptions trust;
    trust.config_path = options.common.config_path;
    trust.data_dir = where.data_dir.string();
    trust.target = options.name;
    trust.json = options.common.json;
    return approve ? runUpstreamApprove(trust) : runUpstreamQuarantine(trust);
  }
  if (!answer->ok()) return reportFailure(answer);
  json::value server = answer->body.is_object() && answer->body.get_object().contains("server")
                           ? answer->body.at("server")
                           : json::value();
  if (options.common.json) {
    printJson(json::object{{"server", server}, {"daemon", true}});
  } else if (approve) {
    std::printf("approved server '%s'; pinned its %s current tools\n", options.name.c_str(),
                str(server, "tool_count").empty() ? "0" : str(server, "tool_count").c_str());
  } else {
    std::printf("quarantined server '%s'\n", options.name.c_str());
  }
  return kExitOk;
}

int runManagedToolsList(const ToolsOptions& options) {
  CommonOptions common{options.config_path, options.data_dir, options.json};
  DaemonClient daemon(resolveLocations(common).socket_path);
  std::string target = "/api/v1/tools";
  if (!options.server.empty()) target += "?server=" + urlEncode(options.server);
  auto answer = daemon.request("GET", target);
  if (!answer) {
    if (answer.error().code != ErrorCode::kUnavailable) return reportFailure(answer);
    return runToolsList(options);
  }
  if (!answer->ok()) return reportFailure(answer);
  json::array tools;
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : arrayAt(answer->body, "tools")) {
    std::string qualified = str(t, "server") + ":" + str(t, "name");
    json::object entry{{"name", qualified},
                       {"server", str(t, "server")},
                       {"tool", str(t, "name")},
                       {"description", str(t, "description")},
                       {"approval", str(t, "approval")}};
    if (t.is_object() && t.get_object().contains("input_schema")) {
      entry["inputSchema"] = t.at("input_schema");
    }
    rows.push_back({qualified, str(t, "approval"), firstLine(str(t, "description"))});
    tools.push_back(std::move(entry));
  }
  if (options.json) {
    printJson(json::object{{"tools", std::move(tools)}});
  } else if (rows.empty()) {
    std::printf("no tools\n");
  } else {
    printTable({"TOOL", "APPROVAL", "DESCRIPTION"}, rows);
  }
  return kExitOk;
}

int runManagedToolsSearch(const ToolsOptions& options) {
  CommonOptions common{options.config_path, options.data_dir, options.json};
  DaemonClient daemon(resolveLocations(common).socket_path);
  std::string target = "/api/v1/tools/search?q=" + urlEncode(options.query);
  if (options.limit > 0) target += "&limit=" + std::to_string(options.limit);
  auto answer = daemon.request("GET", target);
  if (!answer) {
    if (answer.error().code != ErrorCode::kUnavailable) return reportFailure(answer);
    return runToolsSearch(options);
  }
  if (!answer->ok()) return reportFailure(answer);
  json::array tools;
  for (const auto& r : arrayAt(answer->body, "results")) {
    json::object entry{{"name", str(r, "server") + ":" + str(r, "name")},
                       {"server", str(r, "server")},
                       {"tool", str(r, "name")},
                       {"description", str(r, "description")}};
    if (r.is_object() && r.get_object().contains("score")) entry["score"] = r.at("score");
    tools.push_back(std::move(entry));
  }
  if (options.json) {
    printJson(json::object{{"tools", tools}});
    return kExitOk;
  }
  if (tools.empty()) std::printf("no tools match \"%s\"\n", options.query.c_str());
  for (const auto& t : tools) {
    double score = t.at("score").is_number() ? t.at("score").to_number<double>() : 0.0;
    std::printf("%-48s %7.3f  %s\n", str(t, "name").c_str(), score,
                firstLine(str(t, "description"), 100).c_str());
  }
  return kExitOk;
}

int runCall(const ManageOptions& options) {
  std::string server_name, tool_name;
  if (!splitTarget(options.name, server_name, tool_name)) {
    printError("expected SERVER:TOOL, got '" + options.name + "'");
    return kExitUsage;
  }
  boost::system::error_code parse_ec;
  json::value arguments = json::parse(options.args_json, parse_ec);
  if (parse_ec || !arguments.is_object()) {
    printError("--args must be a JSON object, e.g. '{\"message\": \"hi\"}'");
    return kExitUsage;
  }
  Locations where = resolveLocations(options.common);
  DaemonClient daemon(where.socket_path);
  auto timeout = options.timeout_s > 0
                     ? std::chrono::milliseconds(static_cast<long long>(options.timeout_s * 1000))
                     : std::chrono::milliseconds(0);
  json::value body =
      json::object{{"server", server_name}, {"tool", tool_name}, {"arguments", arguments}};
  // The daemon applies the server's own call timeout; ours only guards against a hung daemon.
  auto answer = daemon.request("POST", "/api/v1/call", &body,
                               timeout.count() > 0 ? timeout + std::chrono::seconds(5)
                                                   : std::chrono::milliseconds(3'600'000));
  json::value result;
  if (answer) {
    if (!answer->ok()) return reportFailure(answer);
    result = answer->body;
  } else if (answer.error().code != ErrorCode::kUnavailable) {
    return reportFailure(answer);
  } else {
    // Standalone: start this one upstream, call, stop. The same trust rules as the daemon.
    auto loaded = loadStandalone(options.common);
    if (auto* code = std::get_if<int>(&loaded)) return *code;
    auto& s = std::get<Standalone>(loaded);
    const config::ServerConfig* server = nullptr;
    for (const auto& c : s.cfg.servers) {
      if (c.name == server_name) server = &c;
    }
    if (!server) {
      printError("no server named '" + server_name + "'");
      return kExitNotFound;
    }
    if (!server->enabled) {
      printError("server '" + server_name + "' is disabled");
      return kExitFailure;
    }
    if (auto dir = ensurePrivateDirectory(where.data_dir / "logs"); !dir) {
      printError(dir.error().message);
      return kExitFailure;
    }
    asio::io_context io(1);
    upstream::UpstreamOptions upstream_options;
    upstream_options.init_timeout = s.cfg.init_timeout;
    upstream_options.call_timeout = s.cfg.call_timeout;
    upstream_options.health_interval = std::chrono::milliseconds(0);
    upstream_options.log_dir = where.data_dir / "logs";
    upstream_options.max_json_depth = s.cfg.max_json_depth;
    std::vector<config::ServerConfig> one{*server};
    if (timeout.count() > 0) one[0].call_timeout = timeout;
    upstream::UpstreamManager upstreams(io.get_executor(), one, upstream_options, [] {});
    // The daemon's router, so quarantine, pinning, the scanner and schema checks apply exactly
    // as they would there (decisions stay in memory: nothing is written to the database).
    router::RouterOptions router_options;
    router_options.tool_response_limit = s.cfg.tool_response_limit;
    router::Router router(upstreams, router_options);
    if (s.trust) router.setTrust(*s.trust);
    upstreams.startAll();
    int code = kExitOk;
    std::string error;
    auto call = [&]() -> asio::awaitable<void> {
      upstream::Upstream* u = upstreams.find(server_name);
      // A ping waits for the connection (up to the init deadline).
      auto pong = co_await u->call("ping", json::object{}, s.cfg.init_timeout);
      (void)pong;
      const json::object* definition = nullptr;
      if (u->state() != upstream::State::kReady) {
        error = "server '" + server_name + "' is " + u->describeState();
        code = kExitFailure;
      } else {
        for (const auto& t : u->tools()) {
          const auto* n = t.if_contains("name");
          if (n && n->is_string() && n->get_string() == tool_name) definition = &t;
        }
        if (!definition) {
          error = "server '" + server_name + "' has no tool '" + tool_name + "'";
          code = kExitNotFound;
        }
      }
      if (definition) {
        // Applies the config's trust (baseline pins) and trust_mode before deciding.
        router.rebuild();
        auto access = router.trust().access(u->config(), *definition);
        if (access != policy::ToolAccess::kAllowed) {
          error = policy::TrustPolicy::refusal(access, server_name, tool_name).substr(10);
          code = kExitFailure;
        }
      }
      if (code == kExitOk) {
        router::RequestContext context;
        context.mode = config::RoutingMode::kDirect;
        context.caller = "cli";
        json::object params;
        params["name"] = u->config().toolPrefix() + tool_name;
        params["arguments"] = arguments;
        auto request = protocol::makeRequest(1, "tools/call", json::value(std::move(params)));
        auto response = co_await router.handle(context, request);
        if (response.kind == protocol::MessageKind::kError) {
          error = str(response.error, "message");
          code = kExitFailure;
        } else {
          result = response.result;
        }
      }
      co_await upstreams.stopAll();
    };
    asio::co_spawn(io, call(), [&](std::exception_ptr failure) {
      if (failure && code == kExitOk) {
        error = "internal error during the call";
        code = kExitFailure;
      }
      io.stop();
    });
    auto call_budget =
        timeout.count() > 0 ? timeout : server->call_timeout.value_or(s.cfg.call_timeout);
    io.run_for(s.cfg.init_timeout + call_budget + std::chrono::seconds(20));
    if (code != kExitOk) {
      printError(error);
      return code;
    }
  }
  if (options.common.json) {
    printJson(result);
  } else {
    printCallResult(result);
  }
  return flag(result, "isError") ? kExitFailure : kExitOk;
}

int runStatus(const ManageOptions& options) {
  Locations where = resolveLocations(options.common);
  DaemonClient daemon(where.socket_path);
  auto answer = daemon.request("GET", "/api/v1/status", nullptr, std::chrono::seconds(10));
  bool running = answer && answer->status == 200;
  if (answer && !running) return reportFailure(answer);
  if (!answer && answer.error().code != ErrorCode::kUnavailable) return reportFailure(answer);

  // The config: the API key (only with --show-key) and, without a daemon, everything else.
  std::vector<std::string> warnings;
  std::error_code ec;
  std::optional<config::Config> cfg;
  if (fs::exists(where.config_path, ec)) {
    auto loaded = config::loadConfigFile(where.config_path, warnings);
    if (!loaded && !running) {
      printError(loaded.error().message);
      return kExitUsage;
    }
    if (loaded) cfg = std::move(*loaded);
  }
  bool has_key = cfg && !cfg->api_key.empty();
  json::object key_info{
      {"config_path", where.config_path.string()}, {"config_key", "api_key"}, {"set", has_key}};
  if (options.show_key && has_key) key_info["value"] = cfg->api_key.reveal();

  json::object status;
  if (running && answer->body.is_object()) {
    status = answer->body.get_object();
  } else {
    auto loaded = loadStandalone(options.common);
    if (auto* code = std::get_if<int>(&loaded)) return *code;
    auto& s = std::get<Standalone>(loaded);
    std::size_t quarantined = 0;
    for (const auto& server : s.cfg.servers) {
      quarantined += flag(serverObject(s, server), "quarantined");
    }
    std::size_t tools = 0;
    for (const auto& [name, count] : s.tool_counts) tools += count;
    status = json::object{
        {"listen", s.cfg.listen},
        {"config_path", where.config_path.string()},
        {"data_dir", where.data_dir.string()},
        {"routing_mode",
         s.cfg.routing_mode == config::RoutingMode::kDirect ? "direct" : "retrieve_tools"},
        {"servers", json::object{{"total", s.cfg.servers.size()},
                                 {"ready", 0},
                                 {"quarantined", quarantined},
                                 {"failed", 0}}},
        {"tool_count", tools}};
  }
  std::string listen = str(status, "listen");
  if (auto scheme = listen.find("://"); scheme != std::string::npos)
    listen = listen.substr(scheme + 3);
  if (options.common.json) {
    json::object out = status;
    out["running"] = running;
    out["socket"] = where.socket_path.string();
    out["mcp_url"] = "http://" + listen + "/mcp";
    out["api_key"] = std::move(key_info);
    printJson(out);
    return kExitOk;
  }
  const json::value servers = status.contains("servers") ? status.at("servers") : json::value();
  std::printf("daemon:     %s\n",
              running
                  ? ("running" +
                     (str(status, "version").empty() ? std::string()
                                                     : " (" + str(status, "version") + ")") +
                     (str(status, "uptime_s").empty() ? std::string()
                                                      : ", up " + str(status, "uptime_s") + " s"))
                        .c_str()
                  : "not running (start it with `mcpproxy serve`)");
  std::printf("endpoint:   http://%s/mcp%s\n", listen.c_str(), running ? "" : " (when running)");
  std::printf("config:     %s\n", where.config_path.c_str());
  std::printf("data dir:   %s\n", where.data_dir.c_str());
  std::printf("servers:    %s total, %s ready, %s quarantined, %s failed\n",
              str(servers, "total").c_str(), str(servers, "ready").c_str(),
              str(servers, "quarantined").c_str(), str(servers, "failed").c_str());
  std::printf("tools:      %s\n", str(status, "tool_count").c_str());
  if (options.show_key && has_key) {
    std::printf("api key:    %s\n", cfg->api_key.reveal().c_str());
  } else if (has_key) {
    std::printf(
        "api key:    in %s under \"api_key\" (print it with `mcpproxy status --show-key`)\n",
        where.config_path.c_str());
  } else {
    std::printf(
        "api key:    not set yet; `mcpproxy serve` generates one and stores it in %s "
        "under \"api_key\"\n",
        where.config_path.c_str());
  }
  return kExitOk;
}

}  // namespace mcpproxy::app
