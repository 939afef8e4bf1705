// See import_command.h. Both commands print what they change but never a secret: env and
// header values are shown by key only, URLs without their query, and connect's diff is made
// from redacted copies of the client's file.
#include "app/import_command.h"

#include <sys/stat.h>

#include <boost/json/serialize.hpp>
#include <cstdio>
#include <ctime>
#include <set>

#include "app/client_configs.h"
#include "app/daemon_client.h"
#include "app/local_store.h"
#include "app/paths.h"

namespace mcpproxy::app {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

std::string keysOf(const json::object& entry, const char* field) {
  std::string out;
  if (const auto* object = entry.if_contains(field); object && object->is_object()) {
    for (const auto& [key, value] : object->get_object()) {
      out += (out.empty() ? "" : ",") + std::string(key);
    }
  }
  return out;
}

std::string transportOf(const json::object& entry) {
  if (const auto* protocol = entry.if_contains("protocol"); protocol && protocol->is_string()) {
    return std::string(protocol->get_string());
  }
  return entry.contains("command") ? "stdio" : "http";
}

std::string targetOf(const json::object& entry) {
  if (const auto* url = entry.if_contains("url"); url && url->is_string()) {
    return redactUrl(url->get_string());
  }
  std::string command;
  std::vector<std::string> args;
  if (const auto* c = entry.if_contains("command"); c && c->is_string()) command = c->get_string();
  if (const auto* a = entry.if_contains("args"); a && a->is_array()) {
    for (const auto& arg : a->get_array()) {
      if (arg.is_string()) args.emplace_back(arg.get_string());
    }
  }
  return displayCommand(command, args);
}

std::string timestamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y%m%d-%H%M%S", &tm);
  return buffer;
}

// The Streamable HTTP URL clients should use: the daemon's actual listen address when it runs,
// else the config's.
std::string mcpUrl(const std::string& listen) {
  auto address = config::parseListenAddress(listen);
  std::string host = address ? address->host : "127.0.0.1";
  if (host == "0.0.0.0" || host == "::" || host.empty()) host = "127.0.0.1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  unsigned port = address ? address->port : 8080;
  return "http://" + host + ":" + std::to_string(port) + "/mcp";
}

}  // namespace

int runImport(const ImportOptions& options) {
  auto kind = parseClientKind(options.client);
  if (!kind) {
    printError("unknown client '" + options.client + "' (use " + clientNames() + ")");
    return kExitUsage;
  }
  std::optional<fs::path> file;
  if (!options.file.empty()) file = expandHome(options.file);
  std::error_code ec;
  auto scan = readClientServers(*kind, file, fs::current_path(ec));
  if (!scan) {
    printError(scan.error().message);
    return scan.error().code == ErrorCode::kNotFound ? kExitNotFound : kExitFailure;
  }
  Locations where = resolveLocations(options.common);
  auto document = loadConfigDocument(where.config_path);
  if (!document) {
    printError(document.error().message);
    return kExitUsage;
  }
  DaemonClient daemon(where.socket_path);
  bool via_daemon = daemon.running();
  std::set<std::string> existing;
  if (via_daemon) {
    if (auto listed = daemon.request("GET", "/api/v1/servers"); listed && listed->ok()) {
      const auto* servers =
          listed->body.is_object() ? listed->body.get_object().if_contains("servers") : nullptr;
      for (const auto& s : servers && servers->is_array() ? servers->get_array() : json::array{}) {
        if (s.is_object() && s.get_object().contains("name") && s.at("name").is_string()) {
          existing.insert(std::string(s.at("name").get_string()));
        }
      }
    }
  }
  for (const auto& name : document->serverNames()) existing.insert(name);

  struct Row {
    const ImportedServer* server;
    std::string result;  // added | would add | exists | invalid | duplicate | failed
    std::string reason;
  };
  std::vector<Row> rows;
  std::set<std::string> taken = existing;
  bool failed = false;
  std::vector<std::string> added_names;
  for (const auto& server : scan->servers) {
    Row row{&server, "", ""};
    if (!server.invalid.empty()) {
      row.result = "invalid";
      row.reason = server.invalid;
    } else if (existing.contains(server.name)) {
      row.result = "exists";
      row.reason = "a server named '" + server.name + "' is already configured";
    } else if (taken.contains(server.name)) {
      row.result = "duplicate";
      row.reason = "imported once already from another file or project";
    } else {
      taken.insert(server.name);
      row.result = options.dry_run ? "would add" : "added";
      if (server.name != server.original_name) {
        row.reason = "renamed from '" + server.original_name + "'";
      }
      if (!options.dry_run && via_daemon) {
        json::value body = server.entry;
        auto answer = daemon.request("POST", "/api/v1/servers", &body);
        if (!answer) {
          row.result = "failed";
          row.reason = answer.error().message;
          failed = true;
        } else if (answer->status == 409) {
          row.result = "exists";
          row.reason = answer->errorMessage();
        } else if (!answer->ok()) {
          row.result = "failed";
          row.reason = answer->errorMessage();
          failed = true;
        } else {
          added_names.push_back(server.name);
        }
      } else if (!options.dry_run) {
        document->addServer(server.entry);
        added_names.push_back(server.name);
      }
    }
    rows.push_back(std::move(row));
  }

  if (!options.dry_run && !via_daemon && !added_names.empty()) {
    if (auto saved = saveConfigDocument(*document); !saved) {
      printError(saved.error().message);
      return kExitFailure;
    }
    // A stale approval of an earlier server with the same name must not release the new one.
    if (auto store = LocalStore::open(where.data_dir)) {
      auto trust = store->run(store->store().trust());
      for (const auto& name : added_names) {
        if (!trust) break;
        auto state = trust->server_state.find(name);
        if (state != trust->server_state.end() && state->second == "approved") {
          store->run(store->store().setServerState(name, "quarantined", "import"));
        }
      }
    }
  }

  if (options.common.json) {
    json::array servers;
    for (const auto& row : rows) {
      servers.push_back(json::object{{"name", row.server->name},
                                     {"original_name", row.server->original_name},
                                     {"source", row.server->source},
                                     {"protocol", transportOf(row.server->entry)},
                                     {"target", targetOf(row.server->entry)},
                                     {"env_keys", keysOf(row.server->entry, "env")},
                                     {"header_keys", keysOf(row.server->entry, "headers")},
                                     {"result", row.result},
                                     {"reason", row.reason}});
    }
    json::array files, warnings;
    for (const auto& f : scan->files_read) files.emplace_back(f);
    for (const auto& w : scan->warnings) warnings.emplace_back(w);
    printJson(json::object{{"client", clientName(*kind)},
                           {"dry_run", options.dry_run},
                           {"via_daemon", via_daemon},
                           {"config_path", where.config_path.string()},
                           {"files", std::move(files)},
                           {"servers", std::move(servers)},
                           {"warnings", std::move(warnings)}});
    return failed ? kExitFailure : kExitOk;
  }

  for (const auto& f : scan->files_read) std::printf("read %s\n", f.c_str());
  if (rows.empty()) {
    std::printf("no MCP servers found\n");
  } else {
    std::vector<std::vector<std::string>> table;
    for (const auto& row : rows) {
      std::string env = keysOf(row.server->entry, "env");
      std::string headers = keysOf(row.server->entry, "headers");
      std::string secrets = env.empty() ? headers : headers.empty() ? env : env + "," + headers;
      table.push_back({row.server->name, transportOf(row.server->entry),
                       targetOf(row.server->entry), secrets.empty() ? "-" : secrets,
                       row.result + (row.reason.empty() ? "" : " (" + row.reason + ")")});
    }
    printTable({"NAME", "TRANSPORT", "COMMAND / URL", "ENV/HEADER KEYS", "RESULT"}, table);
  }
  for (const auto& w : scan->warnings) std::printf("warning: %s\n", w.c_str());
  std::size_t count = added_names.size();
  if (options.dry_run) {
    std::printf("dry run: nothing written\n");
  } else if (count > 0) {
    std::printf(
        "added %zu server(s), quarantined, %s\n", count,
        via_daemon ? "through the running daemon" : ("to " + where.config_path.string()).c_str());
    std::printf("review and approve each with `mcpproxy upstream approve NAME`\n");
  } else {
    std::printf("nothing added\n");
  }
  return failed ? kExitFailure : kExitOk;
}

int runConnect(const ConnectOptions& options) {
  auto kind = parseClientKind(options.client);
  if (!kind) {
    printError("unknown client '" + options.client + "' (use " + clientNames() + ")");
    return kExitUsage;
  }
  Locations where = resolveLocations(options.common);
  std::vector<std::string> warnings;
  std::string listen = "127.0.0.1:8080";
  std::error_code ec;
  if (fs::exists(where.config_path, ec)) {
    auto cfg = config::loadConfigFile(where.config_path, warnings);
    if (!cfg) {
      printError(cfg.error().message);
      return kExitUsage;
    }
    listen = cfg->listen;
  }
  DaemonClient daemon(where.socket_path);
  if (auto status = daemon.request("GET", "/api/v1/status", nullptr, std::chrono::seconds(5));
      status && status->ok() && status->body.is_object()) {
    if (const auto* l = status->body.get_object().if_contains("listen"); l && l->is_string()) {
      listen = std::string(l->get_string());
      if (auto scheme = listen.find("://"); scheme != std::string::npos) {
        listen = listen.substr(scheme + 3);
      }
    }
  }
  ConnectTarget target;
  target.entry_name = options.name;
  target.url = mcpUrl(listen);
  target.executable = selfExecutable();
  target.stdio_args = {"serve", "--stdio"};
  if (!options.common.config_path.empty()) {
    target.stdio_args.push_back("--config");
    target.stdio_args.push_back(fs::absolute(where.config_path, ec).string());
  }
  if (!options.common.data_dir.empty()) {
    target.stdio_args.push_back("--data-dir");
    target.stdio_args.push_back(fs::absolute(where.data_dir, ec).string());
  }
  target.force_stdio = options.stdio;
  std::optional<fs::path> file;
  if (!options.file.empty()) file = expandHome(options.file);
  auto plan = planConnect(*kind, file, target);
  if (!plan) {
    printError(plan.error().message);
    return plan.error().code == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailure;
  }
  bool changed = plan->after != plan->before;
  std::string backup;
  if (changed && !options.dry_run) {
    fs::perms mode = fs::perms::owner_read | fs::perms::owner_write;
    if (plan->existed) {
      mode = fs::status(plan->file, ec).permissions();
      backup = plan->file.string() + ".bak-" + timestamp();
      fs::copy_file(plan->file, backup, fs::copy_options::overwrite_existing, ec);
      if (ec) {
        printError("cannot back up " + plan->file.string() + ": " + ec.message());
        return kExitFailure;
      }
    }
    if (auto written = config::writeFileAtomic(plan->file, plan->after); !written) {
      printError(written.error().message);
      return kExitFailure;
    }
    fs::permissions(plan->file, mode, ec);
  }
  if (options.common.json) {
    json::array warning_list;
    for (const auto& w : plan->warnings) warning_list.emplace_back(w);
    printJson(json::object{{"client", clientName(*kind)},
                           {"file", plan->file.string()},
                           {"entry", options.name},
                           {"connection", plan->entry_summary},
                           {"changed", changed},
                           {"dry_run", options.dry_run},
                           {"backup", backup},
                           {"warnings", std::move(warning_list)}});
    return kExitOk;
  }
  for (const auto& w : plan->warnings) std::printf("warning: %s\n", w.c_str());
  if (!changed) {
    std::printf("%s already has the '%s' entry (%s); nothing to do\n", plan->file.c_str(),
                options.name.c_str(), plan->entry_summary.c_str());
    return kExitOk;
  }
  std::printf("%s %s: '%s' -> %s\n", options.dry_run ? "would update" : "updated",
              plan->file.c_str(), options.name.c_str(), plan->entry_summary.c_str());
  std::printf("--- %s\n+++ %s\n", plan->existed ? plan->file.c_str() : "/dev/null",
              plan->file.c_str());
  printLineDiff(plan->redacted_before, plan->redacted_after, 3);
  if (options.dry_run) {
    std::printf("dry run: nothing written\n");
  } else {
    if (!backup.empty()) std::printf("backup: %s\n", backup.c_str());
    std::printf("restart %s to pick the change up\n", std::string(clientName(*kind)).c_str());
  }
  return kExitOk;
}

}  // namespace mcpproxy::app
