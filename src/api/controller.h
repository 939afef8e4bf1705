// The running configuration and every change to it at run time (issue 6). The REST API, the
// upstream_servers proxy tool and config-file reloads all end here:
//   1. the change is made to the config file's JSON document (api/config_edit.h) and the whole
//      document is validated by the same parser as at start-up;
//   2. the file is replaced atomically (write temp, fsync, rename) and the content's hash is
//      remembered, so the watcher recognises the proxy's own write and does not reload it;
//   3. the difference to the running configuration is applied: upstreams added, removed or
//      restarted (only when connection fields changed), settings updated in place, the router
//      rebuilt and clients told when their tool list changed.
// Trust decisions go through the same Store calls as `mcpproxy upstream approve|quarantine`.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <expected>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "api/event_hub.h"
#include "config/config.h"
#include "router/router.h"
#include "upstream/manager.h"

namespace mcpproxy::storage {
class Store;
}

namespace mcpproxy::api {

namespace json = boost::json;

// A refused change: `code` is one of the API's stable error codes (docs/api.md).
struct Failure {
  std::string code;
  std::string message;
};
template <class T>
using Outcome = std::expected<T, Failure>;

struct ControllerContext {
  boost::asio::any_io_executor executor;
  std::filesystem::path config_path;
  std::filesystem::path data_dir;
  upstream::UpstreamManager* upstreams = nullptr;
  router::Router* router = nullptr;
  storage::Store* store = nullptr;  // may be null (no database)
  EventHub* events = nullptr;
  // Rebuilds the router and notifies clients if their view changed (the daemon's handler).
  std::function<void()> refresh;
  // Sends tools/list_changed to every client unconditionally (the proxy tools changed).
  std::function<void()> broadcast;
  bool log_level_from_cli = false;  // --log-level wins over the config's log_level
};

class ConfigController : public router::ServerAdmin {
 public:
  // `config` was parsed from `text`, the content of context.config_path.
  ConfigController(ControllerContext context, config::Config config, std::string text);

  const config::Config& config() const { return config_; }
  const std::filesystem::path& configPath() const { return context_.config_path; }
  const std::filesystem::path& dataDir() const { return context_.data_dir; }
  // The document as last applied (what the file held when the proxy read or wrote it).
  const std::string& appliedText() const { return applied_text_; }

  // First run: when the config has no api_key, generates one (32 random bytes, hex) and stores
  // it in the config file. The key is never logged.
  void ensureApiKey();

  // --- Servers. `by` says who acted ("api", "agent"); it goes into the security log. ---
  json::array serversJson() const;
  Outcome<json::object> serverJson(const std::string& name) const;
  // A config-file entry. Quarantined unless the entry says "quarantined": false.
  boost::asio::awaitable<Outcome<json::object>> add(json::object entry, std::string by);
  // Changes the given fields (JSON merge patch; null removes a field). Restarts the upstream
  // when a connection field changed.
  boost::asio::awaitable<Outcome<json::object>> update(std::string name, json::object patch,
                                                       std::string by);
  boost::asio::awaitable<Outcome<void>> remove(std::string name);
  boost::asio::awaitable<Outcome<json::object>> restart(std::string name);
  // Releases the quarantine and pins the server's current tools (as `upstream approve`).
  boost::asio::awaitable<Outcome<json::object>> approve(std::string name, std::string by);
  boost::asio::awaitable<Outcome<json::object>> quarantine(std::string name, std::string by);
  // Pins the current definition of one tool (as `tools approve`).
  boost::asio::awaitable<Outcome<void>> approveTool(std::string server, std::string tool,
                                                    std::string by);

  // Re-reads the config file (the watcher calls this): the proxy's own writes and unchanged
  // content are ignored; a broken file is rejected (logged, `config.error` event) and the
  // running configuration stays; a valid one is applied (`config.reloaded` event).
  boost::asio::awaitable<void> reloadFromDisk();

  // --- router::ServerAdmin (the upstream_servers tool; always on behalf of an agent) ---
  bool managementDisabled() const override { return config_.disable_management; }
  json::array listServers() const override { return serversJson(); }
  boost::asio::awaitable<Result<json::object>> addServer(json::object entry) override;
  boost::asio::awaitable<Result<json::object>> updateServer(std::string name,
                                                            json::object patch) override;
  boost::asio::awaitable<Result<void>> removeServer(std::string name) override;
  boost::asio::awaitable<Result<json::object>> setServerEnabled(std::string name,
                                                                bool enabled) override;
  boost::asio::awaitable<Result<json::object>> restartServer(std::string name) override;

 private:
  json::object serverJson(const upstream::Upstream& upstream) const;
  // Validates `document` as a whole config and writes it; returns the parsed config.
  Outcome<config::Config> write(const json::object& document);
  // Applies the synchronous part of a new configuration; returns the upstreams to stop.
  std::vector<std::shared_ptr<upstream::Upstream>> apply(config::Config next, bool& changed);
  boost::asio::awaitable<void> finish(std::vector<std::shared_ptr<upstream::Upstream>> stopping);
  boost::asio::awaitable<void> setStoredState(const std::string& name, const std::string& state,
                                              const std::string& by);
  boost::asio::awaitable<void> reloadTrust();
  Outcome<json::object> currentDocument() const;

  ControllerContext context_;
  config::Config config_;
  std::string applied_text_;
  std::size_t applied_hash_ = 0;
  std::size_t rejected_hash_ = 0;  // a broken file is reported once, not on every event
};

}  // namespace mcpproxy::api
