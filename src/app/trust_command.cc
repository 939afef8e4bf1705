// See trust_command.h.
#include "app/trust_command.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <set>

#include "app/cli_util.h"
#include "app/paths.h"
#include "common/log.h"
#include "common/time_format.h"
#include "config/config.h"
#include "policy/cross_server.h"
#include "policy/scanner.h"
#include "storage/store.h"
#include "storage/tool_hash.h"

namespace mcpproxy::app {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// The database of the data directory the daemon uses with the same flags.
struct Db {
  asio::io_context io;
  std::unique_ptr<storage::Store> store;

  template <class T>
  T run(asio::awaitable<T> task) {
    auto future = asio::co_spawn(io, std::move(task), asio::use_future);
    io.restart();
    io.run();
    return future.get();
  }
};

std::unique_ptr<Db> openDb(const TrustOptions& options) {
  log::init(log::Options{log::Level::kWarn, ""});
  fs::path data_dir;
  if (!options.data_dir.empty()) {
    data_dir = expandHome(options.data_dir);
  } else {
    auto path = configPath(options.config_path, "");
    std::vector<std::string> warnings;
    auto cfg = config::loadConfigFile(path, warnings);
    data_dir = cfg && !cfg->data_dir.empty() ? expandHome(cfg->data_dir) : path.parent_path();
  }
  fs::path file = data_dir / "mcpproxy.db";
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    std::fprintf(stderr,
                 "mcpproxy: no database at %s (has `mcpproxy serve` run with this data dir?)\n",
                 file.c_str());
    return nullptr;
  }
  auto db = std::make_unique<Db>();
  auto store = storage::Store::open(file, db->io.get_executor());
  if (!store) {
    std::fprintf(stderr, "mcpproxy: %s\n", store.error().message.c_str());
    return nullptr;
  }
  db->store = std::move(*store);
  return db;
}

int setState(const TrustOptions& options, const char* state) {
  auto db = openDb(options);
  if (!db) return 1;
  auto tools = db->run(db->store->tools());
  std::size_t known = 0;
  if (tools) {
    for (const auto& t : *tools) known += t.server == options.target && t.present;
  }
  auto done = db->run(db->store->setServerState(options.target, state, "cli"));
  if (!done) {
    std::fprintf(stderr, "mcpproxy: %s\n", done.error().message.c_str());
    return 1;
  }
  if (std::string_view(state) == "approved") {
    std::printf("approved server '%s'; pinned its %zu current tools\n", options.target.c_str(),
                known);
    // The person decides, but should see what the scanner thinks of what was just pinned.
    for (const auto& t : tools ? *tools : std::vector<storage::ToolRecord>{}) {
      if (t.server != options.target || !t.present) continue;
      auto result = policy::scanTool(t.definition);
      if (result.verdict == policy::Verdict::kPass) continue;
      std::printf("  scanner %s (risk %d) on %s:%s — see `mcpproxy security report %s`\n",
                  std::string(policy::verdictName(result.verdict)).c_str(), result.risk,
                  t.server.c_str(), t.name.c_str(), t.server.c_str());
    }
    if (known == 0) {
      std::printf(
          "note: no tool definitions are recorded for it yet (has the daemon connected to "
          "it?); tools it lists later stay pending until `mcpproxy tools approve --all %s`\n",
          options.target.c_str());
    }
  } else {
    std::printf("quarantined server '%s'\n", options.target.c_str());
  }
  return 0;
}

// Splits "server:tool"; prints an error and returns false when malformed.
bool splitTarget(const std::string& target, std::string& server, std::string& tool) {
  auto colon = target.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == target.size()) {
    std::fprintf(stderr, "mcpproxy: expected SERVER:TOOL, got '%s'\n", target.c_str());
    return false;
  }
  server = target.substr(0, colon);
  tool = target.substr(colon + 1);
  return true;
}

// Canonical JSON, one object member per line, so diffs point at the changed field.
std::string pretty(const json::object& definition) {
  std::string out = "{\n";
  std::vector<std::string> keys;
  for (const auto& [key, value] : definition) keys.emplace_back(key);
  std::sort(keys.begin(), keys.end());
  for (std::size_t k = 0; k < keys.size(); ++k) {
    out += "  \"" + keys[k] + "\": " + storage::canonicalJson(definition.at(keys[k])) +
           (k + 1 < keys.size() ? ",\n" : "\n");
  }
  return out + "}";
}

}  // namespace

int runUpstreamApprove(const TrustOptions& options) {
  return setState(options, "approved");
}
int runUpstreamQuarantine(const TrustOptions& options) {
  return setState(options, "quarantined");
}

int runToolsDiff(const TrustOptions& options) {
  std::string server, tool;
  if (!splitTarget(options.target, server, tool)) return 2;
  auto db = openDb(options);
  if (!db) return 1;
  auto diff = db->run(db->store->toolDiff(server, tool));
  if (!diff) {
    std::fprintf(stderr, "mcpproxy: %s\n", diff.error().message.c_str());
    return 1;
  }
  if (!diff->approved && !diff->current) {
    std::fprintf(stderr, "mcpproxy: no tool '%s' is known\n", options.target.c_str());
    return 1;
  }
  if (options.json) {
    auto record = [](const std::optional<storage::ToolRecord>& r) -> json::value {
      if (!r) return nullptr;
      return json::object{{"hash", r->hash}, {"definition", r->definition}};
    };
    std::printf("%s\n", json::serialize(json::object{{"approved", record(diff->approved)},
                                                     {"current", record(diff->current)},
                                                     {"previous", record(diff->previous)}})
                            .c_str());
    return 0;
  }
  std::printf("--- approved %s\n+++ current  %s\n",
              diff->approved ? diff->approved->hash.substr(0, 12).c_str() : "(none)",
              diff->current ? diff->current->hash.substr(0, 12).c_str() : "(not listed)");
  if (diff->approved && diff->current && diff->approved->hash == diff->current->hash) {
    std::printf("unchanged: the current definition is the approved one\n");
    return 0;
  }
  printLineDiff(diff->approved ? pretty(diff->approved->definition) : "",
                diff->current ? pretty(diff->current->definition) : "");
  return 0;
}

int runToolsApprove(const TrustOptions& options) {
  std::string server, tool;
  std::vector<std::string> names;
  if (!options.all_server.empty()) {
    server = options.all_server;
  } else {
    if (!splitTarget(options.target, server, tool)) return 2;
    names.push_back(tool);
  }
  auto db = openDb(options);
  if (!db) return 1;
  auto pinned = db->run(db->store->approveTools(server, names, "cli"));
  if (!pinned) {
    std::fprintf(stderr, "mcpproxy: %s\n", pinned.error().message.c_str());
    return 1;
  }
  if (*pinned == 0 && !names.empty()) {
    auto diff = db->run(db->store->toolDiff(server, tool));
    if (diff && !diff->current) {
      std::fprintf(stderr, "mcpproxy: '%s' is not listed by the server now\n",
                   options.target.c_str());
      return 1;
    }
    std::printf("'%s' is already approved at its current definition\n", options.target.c_str());
    return 0;
  }
  std::printf("approved %zu tool(s) of '%s'\n", *pinned, server.c_str());
  return 0;
}

int runSecurityEvents(const TrustOptions& options) {
  auto db = openDb(options);
  if (!db) return 1;
  auto events = db->run(db->store->events(options.limit));
  if (!events) {
    std::fprintf(stderr, "mcpproxy: %s\n", events.error().message.c_str());
    return 1;
  }
  json::array out;
  for (const auto& e : *events) {
    if (options.json) {
      out.push_back(json::object{{"time", isoTimeUtc(e.time_ms)},
                                 {"kind", e.kind},
                                 {"server", e.server},
                                 {"tool", e.tool},
                                 {"detail", e.detail}});
    } else {
      std::printf("%s  %-14s %s%s%s  %s\n", isoTimeUtc(e.time_ms).c_str(), e.kind.c_str(),
                  e.server.c_str(), e.tool.empty() ? "" : ":", e.tool.c_str(), e.detail.c_str());
    }
  }
  if (options.json) std::printf("%s\n", json::serialize(json::object{{"events", out}}).c_str());
  return 0;
}

int runActivityList(const TrustOptions& options) {
  auto db = openDb(options);
  if (!db) return 1;
  auto calls = db->run(db->store->recentCalls(options.limit));
  if (!calls) {
    std::fprintf(stderr, "mcpproxy: %s\n", calls.error().message.c_str());
    return 1;
  }
  json::array out;
  for (const auto& c : *calls) {
    if (options.json) {
      out.push_back(json::object{{"time", isoTimeUtc(c.time_ms)},
                                 {"name", c.server + ":" + c.tool},
                                 {"ok", c.ok},
                                 {"duration_ms", c.duration_ms},
                                 {"response_bytes", c.response_bytes},
                                 {"caller", c.caller},
                                 {"args_bytes", c.args_bytes},
                                 {"args_hash", c.args_hash},
                                 {"error", c.error}});
    } else {
      std::printf("%s  %-40s %-5s %8.1f ms %8zu B  %s\n", isoTimeUtc(c.time_ms).c_str(),
                  (c.server + ":" + c.tool).c_str(), c.ok ? "ok" : "error", c.duration_ms,
                  c.response_bytes, c.error.c_str());
    }
  }
  if (options.json) std::printf("%s\n", json::serialize(json::object{{"calls", out}}).c_str());
  return 0;
}

namespace {

// The definitions the daemon recorded, grouped by server (only those `keep` accepts, when given)
// and indexed for the cross-server checks.
struct RecordedUniverse {
  std::map<std::string, std::vector<json::object>> by_server;
  policy::CrossServerIndex index;

  RecordedUniverse(const std::vector<storage::ToolRecord>& records,
                   const std::function<bool(const std::string&)>& keep,
                   const std::pair<std::string, const json::array*>& extra = {}) {
    for (const auto& record : records) {
      if (record.present && (!keep || keep(record.server))) {
        by_server[record.server].push_back(record.definition);
      }
    }
    if (extra.second) {
      auto& tools = by_server[extra.first];
      for (const auto& t : *extra.second) tools.push_back(t.get_object());
    }
    policy::ToolUniverse universe;
    for (const auto& [server, definitions] : by_server) universe.push_back({server, definitions});
    index = policy::CrossServerIndex(universe);
  }
};

}  // namespace

int runSecurityScanWithConfig(const TrustOptions& options, const std::string& tools_file) {
  log::init(log::Options{log::Level::kWarn, ""});
  auto path = configPath(options.config_path, options.data_dir);
  std::vector<std::string> warnings;
  auto cfg = config::loadConfigFile(path, warnings);
  if (!cfg) {
    std::fprintf(stderr, "mcpproxy: %s\n", cfg.error().message.c_str());
    return 1;
  }
  json::array file_tools;
  std::string candidate;
  if (!tools_file.empty()) {
    std::string why;
    if (!policy::loadToolsFile(tools_file, file_tools, why)) {
      std::fprintf(stderr, "mcpproxy security scan: %s\n", why.c_str());
      return 2;
    }
    candidate = fs::path(tools_file).stem().string();
  }
  std::set<std::string> configured;
  for (const auto& server : cfg->servers) {
    if (server.enabled) configured.insert(server.name);  // the daemon starts only these
  }
  if (!candidate.empty()) {
    while (configured.contains(candidate)) candidate += "-file";
  }
  auto db = openDb(options);
  if (!db) return 1;
  auto tools = db->run(db->store->tools());
  if (!tools) {
    std::fprintf(stderr, "mcpproxy: cannot read the database\n");
    return 1;
  }
  RecordedUniverse universe(*tools,
                            [&](const std::string& server) { return configured.contains(server); },
                            {candidate, candidate.empty() ? nullptr : &file_tools});
  std::vector<policy::ScanResult> results;
  for (const auto& [server, definitions] : universe.by_server) {
    if (!candidate.empty() && server != candidate) continue;
    for (const auto& definition : definitions) {
      results.push_back(policy::scanInUniverse(server, definition, universe.index));
      results.back().name = server + ":" + results.back().name;
    }
  }
  for (const auto& server : configured) {
    if (!universe.by_server.contains(server)) {
      std::fprintf(stderr,
                   "mcpproxy: no recorded tools for '%s' (it has not listed its tools to the "
                   "daemon yet)\n",
                   server.c_str());
    }
  }
  policy::printScanResults(results, options.json);
  return 0;
}

int runSecurityReport(const TrustOptions& options) {
  auto db = openDb(options);
  if (!db) return 1;
  auto tools = db->run(db->store->tools());
  auto trust = db->run(db->store->trust());
  if (!tools || !trust) {
    std::fprintf(stderr, "mcpproxy: cannot read the database\n");
    return 1;
  }
  RecordedUniverse universe(*tools, nullptr);  // every recorded server: cross-server findings
  json::array out;
  std::size_t shown = 0;
  for (const auto& record : *tools) {
    if (!record.present || (!options.target.empty() && record.server != options.target)) continue;
    auto result = policy::scanInUniverse(record.server, record.definition, universe.index);
    auto state = trust->server_state.find(record.server);
    auto pin = trust->approved.find({record.server, record.name});
    std::string status = state == trust->server_state.end() || state->second != "approved"
                             ? "quarantined"
                         : pin == trust->approved.end() ? "pending"
                         : pin->second == record.hash   ? "approved"
                                                        : "changed";
    ++shown;
    if (options.json) {
      json::object entry = policy::toJson(result);
      entry["name"] = record.server + ":" + record.name;
      entry["status"] = status;
      out.push_back(std::move(entry));
      continue;
    }
    std::printf("%-44s %-11s %-5s risk %3d\n", (record.server + ":" + record.name).c_str(),
                status.c_str(), std::string(policy::verdictName(result.verdict)).c_str(),
                result.risk);
    for (const auto& f : result.findings) {
      std::printf("    %-8s %-26s %s: %s\n", std::string(policy::severityName(f.severity)).c_str(),
                  f.rule.c_str(), f.field.c_str(), f.explanation.c_str());
    }
  }
  if (options.json) {
    std::printf("%s\n", json::serialize(json::object{{"tools", out}}).c_str());
  } else if (shown == 0) {
    std::printf("no recorded tool definitions%s\n",
                options.target.empty() ? "" : (" for '" + options.target + "'").c_str());
  }
  return 0;
}

}  // namespace mcpproxy::app
