// See history_command.h. The versions themselves live in storage::Store (tool_versions).
#include "app/history_command.h"

#include <boost/json/serialize.hpp>
#include <cstdio>

#include "app/cli_util.h"
#include "app/local_store.h"
#include "common/log.h"
#include "common/time_format.h"

namespace mcpproxy::app {

namespace json = boost::json;

namespace {

bool splitTarget(const std::string& target, std::string& server, std::string& tool) {
  auto colon = target.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == target.size()) {
    printError("expected SERVER:TOOL, got '" + target + "'");
    return false;
  }
  server = target.substr(0, colon);
  tool = target.substr(colon + 1);
  return true;
}

std::unique_ptr<LocalStore> openStore(const HistoryOptions& options) {
  log::init(log::Options{log::Level::kWarn, ""});
  auto where = resolveLocations(CommonOptions{options.config_path, options.data_dir, false});
  std::string why;
  auto store = LocalStore::open(where.data_dir, &why);
  if (!store) printError(why + " (has `mcpproxy serve` run with this data dir?)");
  return store;
}

json::object versionJson(const storage::ToolVersion& v) {
  return json::object{{"version", v.version},
                      {"hash", v.hash},
                      {"approved_at", isoTimeUtc(v.approved_at_ms)},
                      {"approved_by", v.approved_by},
                      {"note", v.note},
                      {"current", v.current},
                      {"definition", v.definition}};
}

// The hash the server lists now, or "" when it does not list the tool.
std::string listedHash(LocalStore& store, const std::string& server, const std::string& tool) {
  auto diff = store.run(store.store().toolDiff(server, tool));
  return diff && diff->current ? diff->current->hash : std::string();
}

}  // namespace

int runToolsHistory(const HistoryOptions& options) {
  std::string server, tool;
  if (!splitTarget(options.target, server, tool)) return kExitUsage;
  auto store = openStore(options);
  if (!store) return kExitFailure;
  auto history = store->run(store->store().toolHistory(server, tool));
  if (!history) {
    printError(history.error().message);
    return kExitFailure;
  }
  std::string listed = listedHash(*store, server, tool);
  if (history->empty() && listed.empty()) {
    printError("no tool '" + options.target + "' is known");
    return kExitNotFound;
  }
  if (options.json) {
    json::array versions;
    for (const auto& v : *history) versions.push_back(versionJson(v));
    printJson(
        json::object{{"name", options.target},
                     {"versions", std::move(versions)},
                     {"listed_hash", listed.empty() ? json::value(nullptr) : json::value(listed)}});
    return kExitOk;
  }
  if (history->empty()) {
    std::printf("%s has never been approved (it is pending: `mcpproxy tools approve %s`)\n",
                options.target.c_str(), options.target.c_str());
    return kExitOk;
  }
  std::printf("%s: %zu approved version(s), v%lld pinned\n", options.target.c_str(),
              history->size(), static_cast<long long>(history->back().version));
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : *history) {
    rows.push_back({(v.current ? "* v" : "  v") + std::to_string(v.version),
                    isoTimeUtc(v.approved_at_ms), v.approved_by.empty() ? "-" : v.approved_by,
                    v.hash.substr(0, 12), v.note});
  }
  printTable({"  VERSION", "APPROVED", "BY", "HASH", "NOTE"}, rows);
  if (listed.empty()) {
    std::printf("the server does not list it now\n");
  } else if (listed == history->back().hash) {
    std::printf("the server lists the pinned definition now\n");
  } else {
    const storage::ToolVersion* match = nullptr;
    for (const auto& v : *history) {
      if (v.hash == listed) match = &v;
    }
    std::printf("the server lists %s now: blocked until approved (`mcpproxy tools diff %s`)\n",
                match ? ("the definition of v" + std::to_string(match->version)).c_str()
                      : "a definition never approved",
                options.target.c_str());
  }
  return kExitOk;
}

int runToolsRollback(const HistoryOptions& options) {
  std::string server, tool;
  if (!splitTarget(options.target, server, tool)) return kExitUsage;
  auto store = openStore(options);
  if (!store) return kExitFailure;
  auto rolled = store->run(store->store().rollbackTool(server, tool, options.to, "cli"));
  if (!rolled) {
    printError(rolled.error().message);
    return rolled.error().code == ErrorCode::kNotFound ? kExitNotFound : kExitFailure;
  }
  std::string listed = listedHash(*store, server, tool);
  bool blocked = !listed.empty() && listed != rolled->hash;
  if (options.json) {
    auto out = versionJson(*rolled);
    out["name"] = options.target;
    out["listed_blocked"] = blocked;
    printJson(out);
    return kExitOk;
  }
  std::printf("%s: %s, pinned as v%lld\n", options.target.c_str(), rolled->note.c_str(),
              static_cast<long long>(rolled->version));
  if (blocked) {
    std::printf(
        "the server lists another definition now: blocked until a person decides (`mcpproxy "
        "tools diff %s`, `mcpproxy tools approve %s`)\n",
        options.target.c_str(), options.target.c_str());
  } else if (!listed.empty()) {
    std::printf("the server lists this definition now: allowed\n");
  }
  return kExitOk;
}

}  // namespace mcpproxy::app
