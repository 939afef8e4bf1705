// See controller.h. Everything runs on the event loop; a change is validated, written and its
// synchronous part applied without a suspension in between, so two changes never interleave
// (only stopping replaced upstreams is awaited afterwards).
#include "api/controller.h"

#include <fstream>
#include <functional>
#include <sstream>

#include "api/config_edit.h"
#include "common/log.h"
#include "common/random.h"
#include "common/redact.h"
#include "storage/store.h"

namespace mcpproxy::api {

namespace fs = std::filesystem;

namespace {

std::size_t hashText(std::string_view text) {
  return std::hash<std::string_view>{}(text);
}

std::string_view trustModeName(config::TrustMode mode) {
  switch (mode) {
    case config::TrustMode::kManual:
      return "manual";
    case config::TrustMode::kScan:
      return "scan";
    case config::TrustMode::kAuto:
      return "auto";
  }
  return "manual";
}

// Fields whose change needs a new connection (a restart of the upstream).
bool sameConnection(const config::ServerConfig& a, const config::ServerConfig& b) {
  return a.command == b.command && a.args == b.args && a.env == b.env &&
         a.working_dir == b.working_dir && a.url == b.url && a.headers == b.headers &&
         a.protocol == b.protocol && a.enabled == b.enabled;
}

bool sameSettings(const config::ServerConfig& a, const config::ServerConfig& b) {
  return a.quarantined == b.quarantined && a.trust_mode == b.trust_mode && a.prefix == b.prefix &&
         a.call_timeout == b.call_timeout && a.unknown == b.unknown;
}

const config::ServerConfig* findServer(const config::Config& config, std::string_view name) {
  for (const auto& server : config.servers) {
    if (server.name == name) return &server;
  }
  return nullptr;
}

Result<json::object> toResult(Outcome<json::object> outcome) {
  if (outcome) return std::move(*outcome);
  ErrorCode code = outcome.error().code == "not_found"  ? ErrorCode::kNotFound
                   : outcome.error().code == "internal" ? ErrorCode::kInternal
                                                        : ErrorCode::kInvalidArgument;
  return makeError(code, outcome.error().message);
}

}  // namespace

ConfigController::ConfigController(ControllerContext context, config::Config config,
                                   std::string text)
    : context_(std::move(context)),
      config_(std::move(config)),
      applied_text_(std::move(text)),
      applied_hash_(hashText(applied_text_)) {}

Outcome<json::object> ConfigController::currentDocument() const {
  auto document = parseDocument(applied_text_);
  if (!document) return std::unexpected(Failure{"internal", document.error().message});
  return std::move(*document);
}

void ConfigController::ensureApiKey() {
  if (!config_.api_key.empty()) return;
  std::string key = randomHex(32);
  config_.api_key = Secret(key);
  auto document = currentDocument();
  if (!document) {
    log::warn("api key: generated for this run only ({})", document.error().message);
    return;
  }
  (*document)["api_key"] = key;
  std::string text = prettyJson(*document);
  if (auto written = config::writeFileAtomic(context_.config_path, text); !written) {
    log::warn("api key: generated for this run only; cannot store it: {}", written.error().message);
    return;
  }
  applied_text_ = std::move(text);
  applied_hash_ = hashText(applied_text_);
  log::info("api key: generated (first run)");
}

// --- server objects ---

json::object ConfigController::serverJson(const upstream::Upstream& upstream) const {
  const auto& c = upstream.config();
  json::array args, env_keys, header_keys;
  for (const auto& arg : c.args) args.emplace_back(arg);
  for (const auto& [key, value] : c.env) env_keys.emplace_back(key);
  for (const auto& [key, value] : c.headers) header_keys.emplace_back(key);
  return json::object{{"name", c.name},
                      {"enabled", c.enabled},
                      {"quarantined", context_.router->trust().quarantined(c)},
                      {"state", upstream::stateName(upstream.state())},
                      {"tool_count", upstream.tools().size()},
                      {"last_error", upstream.lastError()},
                      {"protocol", config::protocolName(c.effectiveProtocol())},
                      {"command", c.command},
                      {"args", std::move(args)},
                      {"url", redactUrl(c.url)},
                      {"working_dir", c.working_dir},
                      {"env_keys", std::move(env_keys)},
                      {"header_keys", std::move(header_keys)},
                      {"trust_mode", trustModeName(c.trust_mode)},
                      {"prefix", c.toolPrefix()},
                      {"call_timeout_ms", upstream.callTimeout().count()}};
}

json::array ConfigController::serversJson() const {
  json::array out;
  for (const auto& server : config_.servers) {
    if (auto* upstream = context_.upstreams->find(server.name))
      out.push_back(serverJson(*upstream));
  }
  return out;
}

Outcome<json::object> ConfigController::serverJson(const std::string& name) const {
  auto* upstream = context_.upstreams->find(name);
  if (!upstream) return std::unexpected(Failure{"not_found", "no server named '" + name + "'"});
  return serverJson(*upstream);
}

// --- writing and applying ---

Outcome<config::Config> ConfigController::write(const json::object& document) {
  std::string text = prettyJson(document);
  std::vector<std::string> warnings;
  auto parsed = config::parseConfig(text, warnings);
  if (!parsed) return std::unexpected(Failure{"invalid_request", parsed.error().message});
  if (auto written = config::writeFileAtomic(context_.config_path, text); !written) {
    log::error("cannot write the config file: {}", written.error().message);
    return std::unexpected(Failure{"internal", "cannot write the config file"});
  }
  // Remembered before the watcher can see the rename: our own write is not reloaded.
  applied_text_ = std::move(text);
  applied_hash_ = hashText(applied_text_);
  return std::move(*parsed);
}

std::vector<std::shared_ptr<upstream::Upstream>> ConfigController::apply(config::Config next,
                                                                         bool& changed) {
  auto& upstreams = *context_.upstreams;
  config::Config old = std::move(config_);
  config_ = std::move(next);
  changed = false;

  // Settings that change live.
  upstream::UpstreamOptions options = upstreams.options();
  options.init_timeout = config_.init_timeout;
  options.call_timeout = config_.call_timeout;
  options.health_interval = config_.health_interval;
  upstreams.setOptions(options);
  context_.router->setRetrievalLimits(config_.tools_limit, config_.tool_response_limit);
  if (config_.log_level != old.log_level && !context_.log_level_from_cli) {
    if (auto level = log::parseLevel(config_.log_level)) log::setLevel(*level);
  }
  if (config_.disable_management != old.disable_management && context_.broadcast) {
    context_.broadcast();  // upstream_servers appeared or disappeared
  }

  std::vector<std::shared_ptr<upstream::Upstream>> stopping, starting;
  for (const auto& server : old.servers) {
    if (findServer(config_, server.name)) continue;
    if (auto upstream = upstreams.detach(server.name)) stopping.push_back(std::move(upstream));
    log::info("server '{}' removed", server.name);
    changed = true;
  }
  std::vector<std::string> order;
  for (const auto& server : config_.servers) {
    order.push_back(server.name);
    const auto* before = findServer(old, server.name);
    auto* running = upstreams.find(server.name);
    if (before && running && sameConnection(*before, server)) {
      if (!sameSettings(*before, server)) {
        running->updateSettings(server);
        changed = true;
      }
      continue;
    }
    if (running) {
      if (auto upstream = upstreams.detach(server.name)) stopping.push_back(std::move(upstream));
      log::info("server '{}' changed; restarting it", server.name);
    } else {
      log::info("server '{}' added", server.name);
    }
    starting.push_back(upstreams.add(server));
    changed = true;
  }
  upstreams.reorder(order);
  for (auto& upstream : starting) upstream->start();
  if (context_.refresh) context_.refresh();
  return stopping;
}

boost::asio::awaitable<void> ConfigController::finish(
    std::vector<std::shared_ptr<upstream::Upstream>> stopping) {
  if (context_.events) context_.events->publish("servers.changed", json::object{});
  if (stopping.empty()) co_return;
  co_await context_.upstreams->stopMany(std::move(stopping));
  if (context_.refresh) context_.refresh();
}

boost::asio::awaitable<void> ConfigController::reloadTrust() {
  if (context_.store) {
    auto trust = co_await context_.store->trust();
    if (trust) {
      context_.router->setTrust(std::move(*trust));
    } else {
      log::error("database: cannot read trust decisions: {}", trust.error().message);
    }
  }
  if (context_.refresh) context_.refresh();
}

boost::asio::awaitable<void> ConfigController::setStoredState(const std::string& name,
                                                              const std::string& state,
                                                              const std::string& by) {
  if (context_.store) {
    auto done = co_await context_.store->setServerState(name, state, by);
    if (!done)
      log::error("database: cannot store the state of '{}': {}", name, done.error().message);
    co_await reloadTrust();
    co_return;
  }
  // Without a database the decision lives in memory until the proxy stops.
  storage::TrustSnapshot snapshot = context_.router->trust().snapshot();
  snapshot.server_state[name] = state;
  context_.router->setTrust(std::move(snapshot));
  if (context_.refresh) context_.refresh();
}

// --- changes ---

boost::asio::awaitable<Outcome<json::object>> ConfigController::add(json::object entry,
                                                                    std::string by) {
  const auto* name_value = entry.if_contains("name");
  if (!name_value || !name_value->is_string() || name_value->get_string().empty()) {
    co_return std::unexpected(Failure{"invalid_request", "a server needs a \"name\""});
  }
  std::string name(name_value->get_string());
  if (by == "agent") entry["quarantined"] = true;  // an agent never adds a trusted server
  const auto* quarantined = entry.if_contains("quarantined");
  bool trusted = quarantined && quarantined->is_bool() && !quarantined->get_bool();
  {
    auto document = currentDocument();
    if (!document) co_return std::unexpected(document.error());
    if (findServer(config_, name) || findServerEntry(*document, name)) {
      co_return std::unexpected(Failure{"conflict", "a server named '" + name + "' exists"});
    }
    // Validate before touching the trust store.
    upsertServerEntry(*document, entry);
    std::vector<std::string> warnings;
    if (auto parsed = config::parseConfig(prettyJson(*document), warnings); !parsed) {
      co_return std::unexpected(Failure{"invalid_request", parsed.error().message});
    }
  }
  // A stale approval of an earlier server with this name must not carry over.
  if (!trusted) co_await setStoredState(name, "quarantined", by);
  auto document = currentDocument();
  if (!document) co_return std::unexpected(document.error());
  if (findServer(config_, name)) {
    co_return std::unexpected(Failure{"conflict", "a server named '" + name + "' exists"});
  }
  upsertServerEntry(*document, std::move(entry));
  auto next = write(*document);
  if (!next) co_return std::unexpected(next.error());
  bool changed = false;
  auto stopping = apply(std::move(*next), changed);
  log::info("server '{}' added by {}{}", name, by, trusted ? "" : " (quarantined)");
  auto result = serverJson(name);
  co_await finish(std::move(stopping));
  co_return result;
}

boost::asio::awaitable<Outcome<json::object>> ConfigController::update(std::string name,
                                                                       json::object patch,
                                                                       std::string by) {
  if (const auto* n = patch.if_contains("name");
      n && !(n->is_string() && n->get_string() == name)) {
    co_return std::unexpected(
        Failure{"invalid_request", "a server cannot be renamed; remove it and add it again"});
  }
  auto document = currentDocument();
  if (!document) co_return std::unexpected(document.error());
  auto entry = findServerEntry(*document, name);
  const auto* before = findServer(config_, name);
  if (!entry || !before) {
    co_return std::unexpected(Failure{"not_found", "no server named '" + name + "'"});
  }
  json::object merged = mergeEntry(*entry, patch);
  if (by == "agent") {
    // The quarantine flag is a person's decision: an agent's patch never changes it.
    if (const auto* q = entry->if_contains("quarantined")) {
      merged["quarantined"] = *q;
    } else {
      merged.erase("quarantined");
    }
  }
  upsertServerEntry(*document, merged);
  std::vector<std::string> warnings;
  auto candidate = config::parseConfig(prettyJson(*document), warnings);
  if (!candidate) co_return std::unexpected(Failure{"invalid_request", candidate.error().message});
  const auto* after = findServer(*candidate, name);
  if (by == "agent" && after && !sameConnection(*before, *after) &&
      (before->command != after->command || before->args != after->args ||
       before->url != after->url || before->env != after->env ||
       before->headers != after->headers || before->working_dir != after->working_dir ||
       before->protocol != after->protocol)) {
    // A different program or endpoint under a reviewed name is a new server: back to review.
    co_await setStoredState(name, "quarantined", by);
    document = currentDocument();
    if (!document) co_return std::unexpected(document.error());
    entry = findServerEntry(*document, name);
    if (!entry) co_return std::unexpected(Failure{"not_found", "no server named '" + name + "'"});
    merged = mergeEntry(*entry, patch);
    if (const auto* q = entry->if_contains("quarantined")) {
      merged["quarantined"] = *q;
    } else {
      merged.erase("quarantined");
    }
    upsertServerEntry(*document, merged);
  }
  auto next = write(*document);
  if (!next) co_return std::unexpected(next.error());
  bool changed = false;
  auto stopping = apply(std::move(*next), changed);
  auto result = serverJson(name);
  co_await finish(std::move(stopping));
  co_return result;
}

boost::asio::awaitable<Outcome<void>> ConfigController::remove(std::string name) {
  auto document = currentDocument();
  if (!document) co_return std::unexpected(document.error());
  if (!findServer(config_, name) || !removeServerEntry(*document, name)) {
    co_return std::unexpected(Failure{"not_found", "no server named '" + name + "'"});
  }
  auto next = write(*document);
  if (!next) co_return std::unexpected(next.error());
  bool changed = false;
  auto stopping = apply(std::move(*next), changed);
  co_await finish(std::move(stopping));
  co_return Outcome<void>{};
}

boost::asio::awaitable<Outcome<json::object>> ConfigController::restart(std::string name) {
  const auto* server = findServer(config_, name);
  if (!server) co_return std::unexpected(Failure{"not_found", "no server named '" + name + "'"});
  auto& upstreams = *context_.upstreams;
  std::vector<std::shared_ptr<upstream::Upstream>> stopping;
  if (auto old = upstreams.detach(name)) stopping.push_back(std::move(old));
  auto fresh = upstreams.add(*server);
  std::vector<std::string> order;
  for (const auto& s : config_.servers) order.push_back(s.name);
  upstreams.reorder(order);
  fresh->start();
  log::info("server '{}' restarted", name);
  if (context_.refresh) context_.refresh();
  auto result = serverJson(name);
  co_await finish(std::move(stopping));
  co_return result;
}

boost::asio::awaitable<Outcome<json::object>> ConfigController::approve(std::string name,
                                                                        std::string by) {
  if (!findServer(config_, name)) {
    co_return std::unexpected(Failure{"not_found", "no server named '" + name + "'"});
  }
  if (context_.store) {
    // Tool definitions recorded by the router are written before this (one queue), so the
    // approval pins what the server lists now. Rebuilding first records a listing that arrived
    // within the debounce window of upstream changes (daemon.cc), which would otherwise be
    // missed and leave the tools "new, not approved".
    if (context_.refresh) context_.refresh();
    auto done = co_await context_.store->setServerState(name, "approved", by);
    if (!done) co_return std::unexpected(Failure{"internal", done.error().message});
    co_await reloadTrust();
  } else {
    co_await setStoredState(name, "approved", by);
  }
  log::info("server '{}' approved by {}", name, by);
  if (context_.events) context_.events->publish("servers.changed", json::object{});
  co_return serverJson(name);
}

boost::asio::awaitable<Outcome<json::object>> ConfigController::quarantine(std::string name,
                                                                           std::string by) {
  if (!findServer(config_, name)) {
    co_return std::unexpected(Failure{"not_found", "no server named '" + name + "'"});
  }
  co_await setStoredState(name, "quarantined", by);
  log::info("server '{}' quarantined by {}", name, by);
  if (context_.events) context_.events->publish("servers.changed", json::object{});
  co_return serverJson(name);
}

boost::asio::awaitable<Outcome<void>> ConfigController::approveTool(std::string server,
                                                                    std::string tool,
                                                                    std::string by) {
  if (!context_.store) co_return std::unexpected(Failure{"unavailable", "no database"});
  std::vector<std::string> names{tool};
  auto pinned = co_await context_.store->approveTools(server, std::move(names), by);
  if (!pinned) co_return std::unexpected(Failure{"internal", pinned.error().message});
  co_await reloadTrust();
  if (context_.events) {
    json::object data{{"server", server}};
    context_.events->publish("tools.changed", data);
  }
  co_return Outcome<void>{};
}

// --- reload ---

boost::asio::awaitable<void> ConfigController::reloadFromDisk() {
  const std::string path = context_.config_path.string();
  std::ifstream in(context_.config_path, std::ios::binary);
  if (!in) co_return;  // mid-rename or deleted: the next event brings the new file
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  std::size_t hash = hashText(text);
  if (hash == applied_hash_ || hash == rejected_hash_) co_return;
  std::vector<std::string> warnings;
  auto parsed = config::parseConfig(text, warnings);
  if (!parsed) {
    rejected_hash_ = hash;
    log::error("config reload rejected, keeping the running configuration: {}: {}", path,
               parsed.error().message);
    if (context_.events) {
      json::object data{{"path", path}, {"message", parsed.error().message}};
      context_.events->publish("config.error", data);
    }
    co_return;
  }
  for (const auto& warning : warnings) log::warn("config: {}", warning);
  rejected_hash_ = 0;
  std::vector<std::string> restart_needed;
  const auto& next = *parsed;
  if (next.listen != config_.listen) restart_needed.push_back("listen");
  if (next.data_dir != config_.data_dir) restart_needed.push_back("data_dir");
  if (next.routing_mode != config_.routing_mode) restart_needed.push_back("routing_mode");
  if (next.max_request_bytes != config_.max_request_bytes) {
    restart_needed.push_back("max_request_bytes");
  }
  if (next.max_json_depth != config_.max_json_depth) restart_needed.push_back("max_json_depth");
  if (next.trusted_hosts != config_.trusted_hosts) restart_needed.push_back("trusted_hosts");
  if (next.tools_page_size != config_.tools_page_size) restart_needed.push_back("tools_page_size");
  if (next.session_idle_timeout != config_.session_idle_timeout) {
    restart_needed.push_back("session_idle_timeout");
  }
  applied_text_ = std::move(text);
  applied_hash_ = hash;
  bool changed = false;
  auto stopping = apply(std::move(*parsed), changed);
  json::array restart;
  std::string names;
  for (const auto& key : restart_needed) {
    restart.emplace_back(key);
    names += (names.empty() ? "" : ", ") + key;
  }
  if (restart_needed.empty()) {
    log::info("config reloaded from {}", path);
  } else {
    log::warn("config reloaded from {}; changes to {} take effect after a restart", path, names);
  }
  if (context_.events) {
    json::object data{{"path", path}, {"restart_required", std::move(restart)}};
    context_.events->publish("config.reloaded", data);
  }
  co_await finish(std::move(stopping));
}

// --- router::ServerAdmin ---

boost::asio::awaitable<Result<json::object>> ConfigController::addServer(json::object entry) {
  entry["quarantined"] = true;
  co_return toResult(co_await add(std::move(entry), "agent"));
}

boost::asio::awaitable<Result<json::object>> ConfigController::updateServer(std::string name,
                                                                            json::object patch) {
  patch.erase("quarantined");
  co_return toResult(co_await update(std::move(name), std::move(patch), "agent"));
}

boost::asio::awaitable<Result<void>> ConfigController::removeServer(std::string name) {
  auto removed = co_await remove(std::move(name));
  if (!removed) co_return makeError(ErrorCode::kNotFound, removed.error().message);
  co_return Result<void>{};
}

boost::asio::awaitable<Result<json::object>> ConfigController::setServerEnabled(std::string name,
                                                                                bool enabled) {
  json::object patch{{"enabled", enabled}};
  co_return toResult(co_await update(std::move(name), std::move(patch), "agent"));
}

boost::asio::awaitable<Result<json::object>> ConfigController::restartServer(std::string name) {
  co_return toResult(co_await restart(std::move(name)));
}

}  // namespace mcpproxy::api
