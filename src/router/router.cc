// See router.h. Name collisions are resolved deterministically by configuration order: the
// first server keeps the name, a later one falls back to "<server>__<tool>", and each collision
// is logged once. Nothing is shadowed silently.
#include "router/router.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <set>

#include "common/log.h"
#include "storage/store.h"
#include "storage/tool_hash.h"

namespace mcpproxy::router {

using protocol::rpc_error::kInvalidParams;
using protocol::rpc_error::kMethodNotFound;

json::object toolErrorResult(std::string_view text) {
  return json::object{{"content", json::array{json::object{{"type", "text"}, {"text", text}}}},
                      {"isError", true}};
}

json::object toolTextResult(std::string_view text) {
  return json::object{{"content", json::array{json::object{{"type", "text"}, {"text", text}}}}};
}

Router::Router(upstream::UpstreamManager& upstreams, RouterOptions options)
    : upstreams_(upstreams), options_(options) {}

bool Router::routes(std::string_view method) {
  return method == "tools/list" || method == "tools/call" || method == "resources/list" ||
         method == "resources/templates/list" || method == "resources/read" ||
         method == "prompts/list" || method == "prompts/get" || method == "completion/complete" ||
         method == "resources/subscribe" || method == "resources/unsubscribe";
}

json::object Router::serverCapabilities() const {
  // listChanged: the aggregate changes whenever an upstream comes, goes or changes its lists.
  // Subscriptions are routed to the upstream owning the URI; logging/setLevel is fanned out.
  return json::object{{"tools", json::object{{"listChanged", true}}},
                      {"resources", json::object{{"subscribe", true}, {"listChanged", true}}},
                      {"prompts", json::object{{"listChanged", true}}},
                      {"completions", json::object{}},
                      {"logging", json::object{}}};
}

bool Router::rebuild() {
  std::vector<ExposedTool> tools;
  std::unordered_map<std::string, std::size_t> by_name;
  for (const auto& upstream : upstreams_.all()) {
    if (upstream->state() != upstream::State::kReady) continue;
    rememberTools(*upstream);
    reconcileTrust(*upstream);
    std::string prefix = upstream->config().toolPrefix();
    for (const auto& definition : upstream->tools()) {
      // Quarantined servers, pending and changed tools are never listed (policy/trust.h).
      if (trust_.access(upstream->config(), definition) != policy::ToolAccess::kAllowed) continue;
      std::string tool(definition.at("name").get_string());
      std::string exposed = prefix + tool;
      if (by_name.contains(exposed)) {
        std::string fallback = upstream->name() + "__" + tool;
        std::string key = upstream->name() + "/" + tool;
        bool use_fallback = !by_name.contains(fallback);
        if (reported_collisions_.insert(key).second) {
          log::warn("tool name collision: '{}' from server '{}' is already exposed by '{}'; {}",
                    exposed, upstream->name(), tools[by_name[exposed]].server,
                    use_fallback ? "exposing it as '" + fallback + "'" : "not exposing it");
        }
        if (!use_fallback) continue;
        exposed = fallback;
      }
      // Clients see definitions without invisible, bidi and control characters.
      ExposedTool entry{exposed, upstream->name(), tool, policy::sanitizeTool(definition)};
      entry.definition["name"] = exposed;
      by_name.emplace(exposed, tools.size());
      tools.push_back(std::move(entry));
    }
  }
  bool changed = tools.size() != tools_.size();
  for (std::size_t i = 0; !changed && i < tools.size(); ++i) {
    changed = tools[i].definition != tools_[i].definition || tools[i].server != tools_[i].server;
  }
  tools_ = std::move(tools);
  by_name_ = std::move(by_name);
  if (changed) ++generation_;
  syncIndex();
  return changed;
}

bool Router::searchable(const upstream::Upstream& upstream) const {
  return upstream.config().enabled && upstream.state() == upstream::State::kReady &&
         !trust_.quarantined(upstream.config());
}

void Router::syncIndex() {
  std::set<std::string> live;
  for (const auto& upstream : upstreams_.all()) {
    if (!searchable(*upstream)) continue;
    const std::string& server = upstream->name();
    live.insert(server);
    std::vector<const json::object*> allowed;
    std::string all;
    for (const auto& definition : upstream->tools()) {
      if (trust_.access(upstream->config(), definition) != policy::ToolAccess::kAllowed) continue;
      allowed.push_back(&definition);
      all += json::serialize(definition);
    }
    std::size_t fingerprint = std::hash<std::string>{}(all);
    auto known = indexed_fingerprints_.find(server);
    if (known != indexed_fingerprints_.end() && known->second == fingerprint) continue;
    indexed_fingerprints_[server] = fingerprint;

    std::vector<index::ToolDocument> documents;
    for (const auto* pointer : allowed) {
      const json::object definition = policy::sanitizeTool(*pointer);
      index::ToolDocument doc;
      doc.server = server;
      doc.name = std::string(definition.at("name").get_string());
      auto text = [&](const char* key) {
        const auto* v = definition.if_contains(key);
        return v && v->is_string() ? std::string(v->get_string()) : std::string();
      };
      doc.title = text("title");
      doc.description = text("description");
      if (const auto* v = definition.if_contains("inputSchema")) doc.input_schema = *v;
      if (const auto* v = definition.if_contains("annotations")) doc.annotations = *v;
      documents.push_back(std::move(doc));
    }
    log::debug("search index: {} tools of '{}'", documents.size(), server);
    index_.upsertServer(server, std::move(documents));
  }
  for (auto it = indexed_fingerprints_.begin(); it != indexed_fingerprints_.end();) {
    if (live.contains(it->first)) {
      ++it;
    } else {
      index_.removeServer(it->first);
      it = indexed_fingerprints_.erase(it);
    }
  }
}

void Router::rememberTools(const upstream::Upstream& upstream) {
  std::string all;
  for (const auto& definition : upstream.tools()) all += json::serialize(definition);
  std::size_t fingerprint = std::hash<std::string>{}(all);
  auto& known = stored_fingerprints_[upstream.name()];
  if (known == fingerprint) return;
  known = fingerprint;
  scan_cache_.clear();  // shadowing findings depend on every server's tools
  cross_server_.reset();
  if (!store_) return;
  store_->rememberServerTools(upstream.name(), upstream.tools());
}

policy::ScanResult Router::scan(const std::string& server, const json::object& definition) {
  std::string key = server + "/" + storage::toolHash(definition);
  if (auto it = scan_cache_.find(key); it != scan_cache_.end()) return it->second;
  if (!cross_server_) {
    policy::ToolUniverse universe;
    for (const auto& upstream : upstreams_.all())
      universe.push_back({upstream->name(), upstream->tools()});
    cross_server_.emplace(universe);
  }
  auto result = policy::scanInUniverse(server, definition, *cross_server_);
  if (result.verdict != policy::Verdict::kPass) {
    std::string rules;
    for (const auto& finding : result.findings) {
      if (rules.find(finding.rule) == std::string::npos) {
        rules += (rules.empty() ? "" : ", ") + finding.rule;
      }
    }
    securityEvent(result.verdict == policy::Verdict::kBlock ? "scan_block" : "scan_warn", server,
                  result.name, "risk " + std::to_string(result.risk) + ": " + rules);
  }
  if (scan_cache_.size() > 10'000) scan_cache_.clear();
  return scan_cache_.emplace(key, std::move(result)).first->second;
}

void Router::securityEvent(const std::string& kind, const std::string& server,
                           const std::string& tool, const std::string& detail) {
  if (!reported_trust_.insert(kind + "/" + server + "/" + tool + "/" + detail).second) return;
  log::warn("security: {} {}{}{}: {}", kind, server, tool.empty() ? "" : ":", tool, detail);
  if (store_) store_->recordEvent({0, kind, server, tool, detail});
}

void Router::reconcileTrust(const upstream::Upstream& upstream) {
  const auto& config = upstream.config();
  const std::string& server = upstream.name();
  auto& snapshot = trust_.mutableSnapshot();
  if (!snapshot.server_state.contains(server) && config.quarantined == false) {
    // The person who wrote `"quarantined": false` trusts the server: what it lists now becomes
    // the approved baseline. Applied here at once, persisted in the background.
    snapshot.server_state[server] = "approved";
    std::vector<std::string> pinned;
    for (const auto& definition : upstream.tools()) {
      std::string tool(definition.at("name").get_string());
      // The scanner's block verdict holds a tool back even on a trusted server: only a person
      // approving that tool releases it.
      if (scan(server, definition).verdict == policy::Verdict::kBlock) continue;
      snapshot.approved[{server, tool}] = storage::toolHash(definition);
      pinned.push_back(tool);
    }
    log::info("server '{}' is trusted by the config; pinned {} of its {} tools", server,
              pinned.size(), upstream.tools().size());
    if (store_) {
      store_->queueServerState(server, "approved", "config", /*pin_current=*/false);
      store_->queueApproveTools(server, std::move(pinned), "config");
    }
    return;
  }
  // Every definition is scanned when fetched (cached by hash): findings become security
  // events, and the verdicts feed trust_mode and the config baseline below.
  for (const auto& definition : upstream.tools()) scan(server, definition);
  if (trust_.quarantined(config)) {
    securityEvent("quarantined", server, "",
                  trust_.quarantineReason(config) + "; review it with `mcpproxy upstream approve " +
                      server + "`");
    return;
  }
  std::vector<std::string> auto_approved;
  for (const auto& definition : upstream.tools()) {
    std::string tool(definition.at("name").get_string());
    std::string hash = storage::toolHash(definition);
    auto access = trust_.access(config, tool, hash);
    if (access == policy::ToolAccess::kPending && config.trust_mode != config::TrustMode::kManual) {
      // auto: approve; scan: approve what the scanner passes. A block verdict always waits
      // for a person.
      auto verdict = scan(server, definition).verdict;
      bool approve = config.trust_mode == config::TrustMode::kAuto
                         ? verdict != policy::Verdict::kBlock
                         : verdict == policy::Verdict::kPass;
      if (approve) {
        snapshot.approved[{server, tool}] = hash;
        auto_approved.push_back(tool);
        continue;
      }
    }
    if (access == policy::ToolAccess::kPending) {
      securityEvent("tool_pending", server, tool,
                    "new tool awaits approval (hash " + hash.substr(0, 12) + ")");
    } else if (access == policy::ToolAccess::kChanged) {
      securityEvent("tool_changed", server, tool,
                    "definition changed since approval; blocked (hash " + hash.substr(0, 12) + ")");
    }
  }
  if (!auto_approved.empty() && store_) {
    store_->queueApproveTools(server, std::move(auto_approved), "trust_mode auto");
  }
}

namespace {

// Cursors are "<generation>.<offset>" behind a fixed tag; opaque to clients, validated here.
std::string makeCursor(std::uint64_t generation, std::size_t offset) {
  return "c1." + std::to_string(generation) + "." + std::to_string(offset);
}

std::optional<std::size_t> parseCursor(std::string_view cursor) {
  if (!cursor.starts_with("c1.")) return std::nullopt;
  cursor.remove_prefix(3);
  std::size_t dot = cursor.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::uint64_t generation = 0;
  std::size_t offset = 0;
  auto g = std::from_chars(cursor.data(), cursor.data() + dot, generation);
  auto o = std::from_chars(cursor.data() + dot + 1, cursor.data() + cursor.size(), offset);
  if (g.ec != std::errc() || o.ec != std::errc() || o.ptr != cursor.data() + cursor.size()) {
    return std::nullopt;
  }
  // A cursor from an older generation still pages from its offset: the list may have shifted,
  // which MCP clients must tolerate, and failing the listing would be worse.
  return offset;
}

}  // namespace

protocol::Message Router::listTools(const protocol::Message& request) const {
  std::size_t offset = 0;
  if (const auto* params = request.params.if_object()) {
    if (const auto* cursor = params->if_contains("cursor"); cursor && !cursor->is_null()) {
      auto parsed = cursor->is_string() ? parseCursor(cursor->get_string()) : std::nullopt;
      if (!parsed) return protocol::makeError(request.id, kInvalidParams, "Invalid cursor");
      offset = *parsed;
    }
  }
  json::array page;
  // The upstream_servers proxy tool follows the upstream tools (an upstream tool of that very
  // name keeps it) and is paged like them.
  const bool management = managementAvailable() && !by_name_.contains("upstream_servers");
  const std::size_t total = tools_.size() + (management ? 1 : 0);
  std::size_t end = std::min(total, offset + options_.page_size);
  for (std::size_t i = offset; i < end; ++i) {
    page.push_back(i < tools_.size() ? json::value(tools_[i].definition)
                                     : json::value(upstreamServersTool()));
  }
  json::object result{{"tools", std::move(page)}};
  if (end < total) result["nextCursor"] = makeCursor(generation_, end);
  return protocol::makeResult(request.id, std::move(result));
}

protocol::Message relayResponse(const json::value& id, upstream::Response response) {
  if (!response.is_error) return protocol::makeResult(id, std::move(response.result));
  protocol::Message error;
  error.kind = protocol::MessageKind::kError;
  error.id = id;
  error.error = std::move(response.error);
  return error;
}

boost::asio::awaitable<protocol::Message> Router::callTool(const RequestContext& context,
                                                           const protocol::Message& request) {
  const json::object* params = request.params.if_object();
  const json::value* name = params ? params->if_contains("name") : nullptr;
  if (!name || !name->is_string()) {
    co_return protocol::makeError(request.id, kInvalidParams,
                                  "Invalid params: tools/call needs a string \"name\"");
  }
  if (const auto* arguments = params->if_contains("arguments");
      arguments && !arguments->is_object() && !arguments->is_null()) {
    co_return protocol::makeError(request.id, kInvalidParams,
                                  "Invalid params: \"arguments\" must be an object");
  }
  auto it = by_name_.find(std::string(name->get_string()));
  if (it == by_name_.end() && name->get_string() == "upstream_servers" && admin_) {
    json::object args;
    if (const auto* a = params->if_contains("arguments"); a && a->is_object()) {
      args = a->get_object();
    }
    json::object result = co_await upstreamServers(args);
    co_return protocol::makeResult(request.id, std::move(result));
  }
  if (it == by_name_.end()) {
    co_return protocol::makeError(request.id, kInvalidParams,
                                  "Unknown tool: " + std::string(name->get_string()));
  }
  // Copy what we need: the table may be rebuilt while we wait for the upstream.
  ExposedTool target = tools_[it->second];
  // Pinning is checked against the definition fetched last, right before dispatch.
  if (auto refusal = checkAccess(target.server, target.tool); !refusal.empty()) {
    co_return protocol::makeResult(request.id, toolErrorResult(refusal));
  }
  json::object forwarded = *params;
  forwarded["name"] = target.tool;
  auto response =
      co_await invokeUpstream(context, target.server, target.tool, std::move(forwarded));
  if (!response) {
    log::info("tools/call {} failed: {}", target.exposed_name, response.error().message);
    co_return protocol::makeResult(request.id,
                                   toolErrorResult("mcpproxy: " + response.error().message));
  }
  co_return relayResponse(request.id, std::move(*response));
}

boost::asio::awaitable<Result<upstream::Response>> Router::invokeUpstream(
    const RequestContext& context, const std::string& server, const std::string& tool,
    json::object params) {
  upstream::Upstream* upstream = upstreams_.find(server);
  if (upstream == nullptr) {
    co_return makeError(ErrorCode::kNotFound, "server '" + server + "' was removed");
  }
  // Arguments are recorded only as size and hash: they may hold secrets.
  std::size_t args_bytes = 0;
  std::string args_hash;
  if (const auto* arguments = params.if_contains("arguments")) {
    std::string canonical = storage::canonicalJson(*arguments);
    args_bytes = canonical.size();
    args_hash = storage::sha256Hex(canonical).substr(0, 16);
  }
  auto started = std::chrono::steady_clock::now();
  auto request_options = requestOptions(context, params);
  auto response = co_await upstream->call("tools/call", std::move(params), upstream->callTimeout(),
                                          std::move(request_options));
  if (store_ || on_call_) {
    storage::CallRecord call;
    call.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
    call.server = server;
    call.tool = tool;
    call.caller = context.caller;
    call.args_bytes = args_bytes;
    call.args_hash = std::move(args_hash);
    call.duration_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    if (!response) {
      call.ok = false;
      call.error = response.error().message;
    } else if (response->is_error) {
      call.ok = false;
      const auto* message = response->error.if_contains("message");
      call.error = message && message->is_string() ? std::string(message->get_string())
                                                   : std::string("JSON-RPC error");
    } else {
      const auto* result = response->result.if_object();
      const auto* is_error = result ? result->if_contains("isError") : nullptr;
      call.ok = !(is_error && is_error->is_bool() && is_error->get_bool());
      if (!call.ok) call.error = "tool reported isError";
      call.response_bytes = json::serialize(response->result).size();
    }
    if (on_call_) on_call_(call);
    if (store_) store_->recordCall(std::move(call));
  }
  co_return response;
}

boost::asio::awaitable<json::value> Router::callServerTool(const RequestContext& context,
                                                           std::string server, std::string tool,
                                                           json::object arguments) {
  json::object params{{"name", tool}, {"arguments", std::move(arguments)}};
  auto response = co_await invokeUpstream(context, server, tool, std::move(params));
  if (!response) {
    std::string text = "mcpproxy: " + response.error().message;
    co_return toolErrorResult(text);
  }
  if (response->is_error) co_return json::object{{"error", std::move(response->error)}};
  co_return std::move(response->result);
}

boost::asio::awaitable<protocol::Message> Router::handle(const RequestContext& context,
                                                         const protocol::Message& request) {
  if (context.mode == config::RoutingMode::kRetrieveTools) {
    if (request.method == "tools/list") co_return listProxyTools(request);
    if (request.method == "tools/call") co_return co_await callProxyTool(context, request);
  }
  if (request.method == "tools/list") co_return listTools(request);
  if (request.method == "tools/call") co_return co_await callTool(context, request);
  if (request.method == "resources/list") {
    co_return co_await listMerged(request, "resources", "resources");
  }
  if (request.method == "resources/templates/list") {
    co_return co_await listMerged(request, "resources", "resourceTemplates");
  }
  if (request.method == "resources/read") co_return co_await readResource(context, request);
  if (request.method == "resources/subscribe" || request.method == "resources/unsubscribe") {
    co_return co_await subscription(request);
  }
  if (request.method == "prompts/list")
    co_return co_await listMerged(request, "prompts", "prompts");
  if (request.method == "prompts/get") co_return co_await getPrompt(context, request);
  if (request.method == "completion/complete") co_return co_await complete(context, request);
  co_return protocol::makeError(request.id, kMethodNotFound, "Method not found: " + request.method);
}

}  // namespace mcpproxy::router

namespace mcpproxy::router {

upstream::RequestOptions Router::requestOptions(const RequestContext& context,
                                                json::object& params) {
  upstream::RequestOptions options;
  options.cancel = context.cancel;
  if (!context.channel) return options;
  auto hooks = std::make_shared<upstream::RequestHooks>();
  auto channel = context.channel;
  // The client's progress token never reaches the upstream: each hop gets a token of the
  // proxy's own, so two clients using the same token cannot see each other's progress.
  json::value client_token = nullptr;
  if (auto* meta = params.if_contains("_meta"); meta && meta->is_object()) {
    if (auto* token = meta->as_object().if_contains("progressToken")) {
      client_token = *token;
      hooks->progress_token = "mcpproxy-" + std::to_string(next_progress_token_++);
      *token = hooks->progress_token;
    }
  }
  hooks->on_notification = [channel, client_token](const std::string& method,
                                                   const json::value& notification_params) {
    json::value forwarded = notification_params;
    if (method == "notifications/progress") {
      if (client_token.is_null() || !forwarded.is_object()) return;
      forwarded.as_object()["progressToken"] = client_token;
    }
    channel->notify(protocol::makeNotification(method, std::move(forwarded)));
  };
  hooks->on_request = [channel](std::string method, json::value request_params,
                                std::shared_ptr<Cancellation> cancel) {
    return channel->request(std::move(method), std::move(request_params), std::move(cancel));
  };
  options.hooks = std::move(hooks);
  return options;
}

void Router::notifyUpstreams(const std::string& method) {
  for (const auto& upstream : upstreams_.all()) {
    if (upstream->state() != upstream::State::kReady || trust_.quarantined(upstream->config()))
      continue;
    boost::asio::co_spawn(
        upstreams_.executor(),
        [](std::shared_ptr<upstream::Upstream> target,
           std::string name) -> boost::asio::awaitable<void> {
          co_await target->notify(std::move(name), nullptr);
        }(upstream, method),
        boost::asio::detached);
  }
}

void Router::setUpstreamLogLevel(const std::string& level) {
  if (level == upstream_log_level_) return;
  upstream_log_level_ = level;
  for (const auto& upstream : upstreams_.all()) {
    if (upstream->state() != upstream::State::kReady ||
        !upstream->serverInfo().capabilities.contains("logging"))
      continue;
    boost::asio::co_spawn(
        upstreams_.executor(),
        [](std::shared_ptr<upstream::Upstream> target,
           std::string wanted) -> boost::asio::awaitable<void> {
          json::object params;
          params["level"] = wanted;
          auto answer =
              co_await target->call("logging/setLevel", std::move(params), target->callTimeout());
          if (!answer || answer->is_error) {
            log::debug("upstream {}: logging/setLevel not accepted", target->name());
          }
        }(upstream, level),
        boost::asio::detached);
  }
}

}  // namespace mcpproxy::router
