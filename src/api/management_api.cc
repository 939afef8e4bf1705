// See management_api.h. Every handler answers JSON (errors as {"error":{code,message}} with
// stable codes); nothing a request sends can crash or block the loop: bodies are parsed with the
// same size and depth limits as /mcp, numbers in the query are bounded, file reads are capped.
#include "api/management_api.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <fstream>
#include <map>

#include "api/config_edit.h"
#include "common/time_format.h"
#include "policy/cross_server.h"
#include "policy/scanner.h"
#include "protocol/jsonrpc.h"
#include "storage/store.h"

namespace mcpproxy::api {

namespace {

constexpr std::size_t kMaxLogLines = 5000;
constexpr std::size_t kMaxLogBytes = 4 * 1024 * 1024;  // read from the end of a log at most
constexpr std::size_t kMaxListLimit = 1000;

HttpResponse jsonResponse(const json::value& value, int status = 200) {
  HttpResponse response;
  response.status = status;
  response.body = json::serialize(value);
  return response;
}

HttpResponse fail(const Failure& failure) {
  return errorResponse(failure.code, failure.message);
}

// A query parameter as a bounded count: `fallback` when absent, nullopt when malformed.
std::optional<std::size_t> countParam(const HttpRequest& request, const std::string& name,
                                      std::size_t fallback, std::size_t max) {
  std::string_view text = request.param(name);
  if (text.empty()) return fallback;
  std::size_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0) return std::nullopt;
  return std::min(value, max);
}

// The request body as a JSON object, or the error answer.
std::expected<json::object, HttpResponse> bodyObject(const HttpRequest& request,
                                                     const ApiContext& context) {
  std::string_view type = request.header("content-type");
  std::string lowered(type);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (!request.body.empty() && !lowered.starts_with("application/json")) {
    return std::unexpected(
        errorResponse("unsupported_media_type", "Content-Type must be application/json"));
  }
  if (request.body.empty()) return json::object{};
  auto parsed = protocol::parseJson(
      request.body, protocol::Limits{context.max_body_bytes, context.max_json_depth});
  if (!parsed) {
    return std::unexpected(errorResponse("invalid_request", "the body is not valid JSON"));
  }
  if (!parsed->is_object()) {
    return std::unexpected(errorResponse("invalid_request", "the body must be a JSON object"));
  }
  return std::move(parsed->get_object());
}

std::vector<std::string> splitPath(std::string_view path) {
  std::vector<std::string> parts;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    std::size_t slash = path.find('/');
    parts.emplace_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  return parts;
}

std::string_view eventSeverity(std::string_view kind) {
  if (kind == "scan_block" || kind == "tool_changed") return "high";
  if (kind == "scan_warn" || kind == "tool_pending" || kind == "quarantined") return "medium";
  return "info";
}

std::string_view approvalName(policy::ToolAccess access) {
  return access == policy::ToolAccess::kAllowed ? "allowed" : policy::accessName(access);
}

json::array findingsJson(const policy::ScanResult& result) {
  json::array out;
  for (const auto& f : result.findings) {
    out.push_back(json::object{{"rule", f.rule},
                               {"severity", policy::severityName(f.severity)},
                               {"field", f.field},
                               {"detail", f.explanation}});
  }
  return out;
}

std::string toolName(const json::object& definition) {
  const auto* name = definition.if_contains("name");
  return name && name->is_string() ? std::string(name->get_string()) : std::string();
}

}  // namespace

ManagementApi::ManagementApi(ApiContext context) : context_(std::move(context)) {}

bool ManagementApi::authorized(const HttpRequest& request) const {
  if (request.local) return true;
  const std::string& key = context_.controller->config().api_key.reveal();
  if (key.empty()) return false;
  std::string_view given = request.header("x-api-key");
  if (given.empty()) {
    std::string_view authorization = request.header("authorization");
    if (authorization.size() > 7 &&
        (authorization.substr(0, 7) == "Bearer " || authorization.substr(0, 7) == "bearer ")) {
      given = authorization.substr(7);
    }
  }
  if (given.empty() && request.path == "/events") given = request.param("api_key");
  if (given.size() != key.size()) return false;
  return CRYPTO_memcmp(given.data(), key.data(), key.size()) == 0;
}

boost::asio::awaitable<HttpResponse> ManagementApi::handle(HttpRequest request) {
  HttpResponse response = co_await route(request);
  co_return response;
}

boost::asio::awaitable<HttpResponse> ManagementApi::route(const HttpRequest& request) {
  const std::string& method = request.method;
  std::string_view path = request.path;
  if (path == "/ui" || path == "/") {
    HttpResponse redirect;
    redirect.status = 302;
    redirect.content_type.clear();
    redirect.headers.emplace_back("Location", "/ui/");
    co_return redirect;
  }
  if (path.starts_with("/ui/")) {
    if (method != "GET" && method != "HEAD") {
      co_return errorResponse("method_not_allowed", "the web UI answers GET only");
    }
    if (!ui_) co_return errorResponse("not_found", "the web UI is not built into this binary");
    HttpResponse response = ui_(path.substr(4), request.header("if-none-match"));
    co_return response;
  }
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == "/healthz") {
    json::object ok{{"status", "ok"}};
    co_return jsonResponse(ok);
  }
  if (path == "/readyz") co_return readyz();
  bool protected_path = path == "/events" || path == "/metrics" || path.starts_with("/api/");
  if (!protected_path) co_return errorResponse("not_found", "no such endpoint");
  if (!authorized(request)) {
    co_return errorResponse("unauthorized",
                            "a valid API key is required (header X-API-Key; see `mcpproxy "
                            "status`)");
  }
  if (path == "/events") {
    if (method != "GET") co_return errorResponse("method_not_allowed", "use GET");
    co_return events(request);
  }
  if (path == "/metrics") {
    if (method != "GET") co_return errorResponse("method_not_allowed", "use GET");
    co_return metrics();
  }
  auto parts = splitPath(path);
  if (parts.size() < 3 || parts[1] != "v1")
    co_return errorResponse("not_found", "no such endpoint");
  parts.erase(parts.begin(), parts.begin() + 2);  // "api", "v1"
  const std::string resource = parts[0];
  parts.erase(parts.begin());
  if (resource == "status" && parts.empty()) {
    if (method != "GET") co_return errorResponse("method_not_allowed", "use GET");
    co_return status();
  }
  if (resource == "servers") co_return co_await servers(request, parts);
  if (resource == "tools") co_return co_await tools(request, parts);
  if (resource == "activity" && parts.empty()) {
    if (method != "GET") co_return errorResponse("method_not_allowed", "use GET");
    co_return co_await activity(request);
  }
  if (resource == "security" && parts.size() == 1 && parts[0] == "events") {
    if (method != "GET") co_return errorResponse("method_not_allowed", "use GET");
    co_return co_await securityEvents(request);
  }
  if (resource == "security" && parts.size() == 1 && parts[0] == "scan") {
    if (method != "GET") co_return errorResponse("method_not_allowed", "use GET");
    co_return securityScan(request);
  }
  if (resource == "config" && parts.empty()) {
    if (method != "GET") co_return errorResponse("method_not_allowed", "use GET");
    co_return config();
  }
  if (resource == "config" && parts.size() == 1 && parts[0] == "validate") {
    if (method != "POST") co_return errorResponse("method_not_allowed", "use POST");
    co_return validateConfig(request);
  }
  if (resource == "call" && parts.empty()) {
    if (method != "POST") co_return errorResponse("method_not_allowed", "use POST");
    co_return co_await call(request);
  }
  co_return errorResponse("not_found", "no such endpoint");
}

HttpResponse ManagementApi::status() const {
  const auto& cfg = context_.controller->config();
  std::size_t ready = 0, quarantined = 0, failed = 0;
  for (const auto& upstream : context_.upstreams->all()) {
    if (upstream->state() == upstream::State::kReady) ++ready;
    if (upstream->state() == upstream::State::kFailed) ++failed;
    if (context_.router->trust().quarantined(upstream->config())) ++quarantined;
  }
  auto uptime =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_)
          .count();
  json::object out{{"version", kVersion},
                   {"listen", context_.listen},
                   {"uptime_s", uptime},
                   {"config_path", context_.controller->configPath().string()},
                   {"data_dir", context_.controller->dataDir().string()},
                   {"routing_mode",
                    cfg.routing_mode == config::RoutingMode::kDirect ? "direct" : "retrieve_tools"},
                   {"servers", json::object{{"total", context_.upstreams->all().size()},
                                            {"ready", ready},
                                            {"quarantined", quarantined},
                                            {"failed", failed}}},
                   {"tool_count", context_.router->tools().size()},
                   {"sessions", context_.sessions ? context_.sessions->size() : 0},
                   {"management_disabled", cfg.disable_management}};
  return jsonResponse(out);
}

HttpResponse ManagementApi::readyz() const {
  json::array waiting;
  for (const auto& upstream : context_.upstreams->all()) {
    const auto& c = upstream->config();
    if (!c.enabled || context_.router->trust().quarantined(c)) continue;
    if (upstream->state() == upstream::State::kConnecting) waiting.emplace_back(c.name);
  }
  if (waiting.empty()) return jsonResponse(json::object{{"status", "ready"}});
  return jsonResponse(json::object{{"status", "starting"}, {"connecting", std::move(waiting)}},
                      503);
}

// --- servers ---

boost::asio::awaitable<HttpResponse> ManagementApi::servers(const HttpRequest& request,
                                                            const std::vector<std::string>& parts) {
  const std::string& method = request.method;
  auto& controller = *context_.controller;
  if (parts.empty()) {
    if (method == "GET") {
      json::object out{{"servers", controller.serversJson()}};
      co_return jsonResponse(out);
    }
    if (method != "POST") co_return errorResponse("method_not_allowed", "use GET or POST");
    auto body = bodyObject(request, context_);
    if (!body) co_return body.error();
    auto added = co_await controller.add(std::move(*body), "api");
    if (!added) co_return fail(added.error());
    json::object out{{"server", std::move(*added)}};
    co_return jsonResponse(out, 201);
  }
  const std::string name = parts[0];
  if (parts.size() == 1) {
    if (method == "GET") {
      auto server = controller.serverJson(name);
      if (!server) co_return fail(server.error());
      json::object out{{"server", std::move(*server)}};
      co_return jsonResponse(out);
    }
    if (method == "PATCH") {
      auto body = bodyObject(request, context_);
      if (!body) co_return body.error();
      auto updated = co_await controller.update(name, std::move(*body), "api");
      if (!updated) co_return fail(updated.error());
      json::object out{{"server", std::move(*updated)}};
      co_return jsonResponse(out);
    }
    if (method == "DELETE") {
      auto removed = co_await controller.remove(name);
      if (!removed) co_return fail(removed.error());
      HttpResponse none;
      none.status = 204;
      none.content_type.clear();
      co_return none;
    }
    co_return errorResponse("method_not_allowed", "use GET, PATCH or DELETE");
  }
  if (parts.size() != 2) co_return errorResponse("not_found", "no such endpoint");
  const std::string action = parts[1];
  if (action == "logs" || action == "tools") {
    if (method != "GET") co_return errorResponse("method_not_allowed", "use GET");
    if (!controller.serverJson(name)) {
      co_return errorResponse("not_found", "no server named '" + name + "'");
    }
    if (action == "logs") co_return logs(name, request);
    std::vector<std::string> tool_parts;
    HttpRequest filtered = request;
    filtered.query["server"] = name;
    co_return co_await tools(filtered, tool_parts);
  }
  if (method != "POST") co_return errorResponse("method_not_allowed", "use POST");
  Outcome<json::object> result;
  if (action == "enable" || action == "disable") {
    json::object patch{{"enabled", action == "enable"}};
    result = co_await controller.update(name, std::move(patch), "api");
  } else if (action == "restart") {
    result = co_await controller.restart(name);
  } else if (action == "approve") {
    result = co_await controller.approve(name, "api");
  } else if (action == "quarantine") {
    result = co_await controller.quarantine(name, "api");
  } else {
    co_return errorResponse("not_found", "no such endpoint");
  }
  if (!result) co_return fail(result.error());
  json::object out{{"server", std::move(*result)}};
  co_return jsonResponse(out);
}

HttpResponse ManagementApi::logs(const std::string& name, const HttpRequest& request) const {
  auto lines = countParam(request, "lines", 100, kMaxLogLines);
  if (!lines) return errorResponse("invalid_request", "lines must be a positive integer");
  json::array out;
  std::ifstream in(context_.controller->dataDir() / "logs" / (name + ".log"), std::ios::binary);
  if (in) {
    in.seekg(0, std::ios::end);
    std::streamoff size = in.tellg();
    std::streamoff start = std::max<std::streamoff>(0, size - std::streamoff(kMaxLogBytes));
    in.seekg(start);
    std::string text(static_cast<std::size_t>(size - start), '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    std::vector<std::string_view> all;
    std::string_view rest = text;
    if (start > 0) {  // the first line is cut
      std::size_t nl = rest.find('\n');
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
    while (!rest.empty()) {
      std::size_t nl = rest.find('\n');
      all.push_back(rest.substr(0, nl));
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
    std::size_t from = all.size() > *lines ? all.size() - *lines : 0;
    for (std::size_t i = from; i < all.size(); ++i) out.emplace_back(all[i]);
  }
  return jsonResponse(json::object{{"lines", std::move(out)}});
}

// --- tools ---

boost::asio::awaitable<HttpResponse> ManagementApi::tools(const HttpRequest& request,
                                                          const std::vector<std::string>& parts) {
  const std::string& method = request.method;
  const auto& trust = context_.router->trust();
  if (parts.size() == 1 && parts[0] == "search") {
    if (method != "GET") co_return errorResponse("method_not_allowed", "use GET");
    std::string query(request.param("q"));
    if (query.empty()) co_return errorResponse("invalid_request", "the parameter q is required");
    auto limit = countParam(request, "limit", 15, 100);
    if (!limit) co_return errorResponse("invalid_request", "limit must be a positive integer");
    json::array results;
    for (const auto& found : context_.router->findTools(query, *limit)) {
      const auto& hit = found.as_object();
      json::object entry{{"server", hit.at("server")}, {"name", hit.at("tool")}};
      const auto* description = hit.if_contains("description");
      entry["description"] = description ? *description : json::value("");
      entry["score"] = hit.at("score");
      results.push_back(std::move(entry));
    }
    json::object out{{"results", std::move(results)}};
    co_return jsonResponse(out);
  }
  if (parts.size() == 3 && parts[2] == "approve") {
    if (method != "POST") co_return errorResponse("method_not_allowed", "use POST");
    auto* upstream = context_.upstreams->find(parts[0]);
    if (!upstream) co_return errorResponse("not_found", "no server named '" + parts[0] + "'");
    bool listed = false;
    for (const auto& definition : upstream->tools())
      listed = listed || toolName(definition) == parts[1];
    if (!listed) {
      co_return errorResponse(
          "not_found", "'" + parts[0] + ":" + parts[1] + "' is not listed by the server now");
    }
    auto approved = co_await context_.controller->approveTool(parts[0], parts[1], "api");
    if (!approved) co_return fail(approved.error());
    std::vector<std::string> single{parts[0], parts[1]};
    HttpRequest get = request;
    get.method = "GET";
    co_return co_await tools(get, single);
  }
  if (parts.size() == 3 && parts[2] == "diff") {
    if (method != "GET") co_return errorResponse("method_not_allowed", "use GET");
    if (!context_.store) co_return errorResponse("unavailable", "no database");
    auto diff = co_await context_.store->toolDiff(parts[0], parts[1]);
    if (!diff) co_return errorResponse("internal", diff.error().message);
    if (!diff->approved && !diff->current) {
      co_return errorResponse("not_found", "no tool '" + parts[0] + ":" + parts[1] + "' is known");
    }
    auto record = [](const std::optional<storage::ToolRecord>& r) -> json::value {
      if (!r) return nullptr;
      return json::object{{"hash", r->hash}, {"definition", r->definition}};
    };
    json::object out{{"server", parts[0]},
                     {"tool", parts[1]},
                     {"approved", record(diff->approved)},
                     {"current", record(diff->current)}};
    co_return jsonResponse(out);
  }
  if (parts.size() > 2) co_return errorResponse("not_found", "no such endpoint");
  if (method != "GET") co_return errorResponse("method_not_allowed", "use GET");

  // A list (optionally of one server) or one tool with its statistics.
  std::string only_server = parts.empty() ? std::string(request.param("server")) : parts[0];
  if (!only_server.empty() && !context_.upstreams->find(only_server)) {
    co_return errorResponse("not_found", "no server named '" + only_server + "'");
  }
  std::map<std::pair<std::string, std::string>, storage::ToolStats> stats;
  std::vector<storage::ToolRecord> records;
  if (context_.store) {
    if (auto s = co_await context_.store->toolStats(); s) {
      for (auto& entry : *s) stats[{entry.server, entry.tool}] = std::move(entry);
    }
    if (auto r = co_await context_.store->tools(); r) records = std::move(*r);
  }
  json::array out;
  for (const auto& upstream : context_.upstreams->all()) {
    const auto& c = upstream->config();
    if (!only_server.empty() && c.name != only_server) continue;
    // Live definitions when connected; otherwise what the database recorded last.
    std::vector<json::object> definitions = upstream->tools();
    if (definitions.empty()) {
      for (const auto& record : records) {
        if (record.server == c.name && record.present) definitions.push_back(record.definition);
      }
    }
    for (const auto& definition : definitions) {
      std::string name = toolName(definition);
      if (parts.size() == 2 && name != parts[1]) continue;
      const auto* description = definition.if_contains("description");
      const auto* schema = definition.if_contains("inputSchema");
      json::object tool{
          {"server", c.name},
          {"name", name},
          {"description", description && description->is_string() ? *description : json::value("")},
          {"input_schema", schema ? *schema : json::value(json::object{})},
          {"approval", approvalName(trust.access(c, definition))},
          {"findings", findingsJson(policy::scanTool(definition))}};
      if (const auto* annotations = definition.if_contains("annotations")) {
        tool["annotations"] = *annotations;
      }
      json::object s{{"calls", 0}, {"errors", 0}, {"p50_ms", 0.0}, {"last_used", ""}};
      if (auto it = stats.find({c.name, name}); it != stats.end()) {
        s = json::object{{"calls", it->second.calls},
                         {"errors", it->second.errors},
                         {"p50_ms", it->second.p50_ms},
                         {"last_used", isoTimeUtc(it->second.last_used_ms)}};
      }
      tool["stats"] = std::move(s);
      out.push_back(std::move(tool));
    }
  }
  if (parts.size() == 2) {
    if (out.empty()) {
      co_return errorResponse("not_found", "no tool '" + parts[0] + ":" + parts[1] + "' is known");
    }
    json::object one{{"tool", std::move(out[0])}};
    co_return jsonResponse(one);
  }
  json::object all{{"tools", std::move(out)}};
  co_return jsonResponse(all);
}

// --- activity and security ---

boost::asio::awaitable<HttpResponse> ManagementApi::activity(const HttpRequest& request) {
  auto limit = countParam(request, "limit", 50, kMaxListLimit);
  if (!limit) co_return errorResponse("invalid_request", "limit must be a positive integer");
  std::string server(request.param("server")), tool(request.param("tool")),
      wanted(request.param("status"));
  if (!wanted.empty() && wanted != "ok" && wanted != "error") {
    co_return errorResponse("invalid_request", "status must be ok or error");
  }
  if (!context_.store) co_return errorResponse("unavailable", "no database");
  bool filtered = !server.empty() || !tool.empty() || !wanted.empty();
  auto calls = co_await context_.store->recentCalls(filtered ? 10'000 : *limit);
  if (!calls) co_return errorResponse("internal", calls.error().message);
  json::array out;
  for (const auto& c : *calls) {
    if (out.size() >= *limit) break;
    if (!server.empty() && c.server != server) continue;
    if (!tool.empty() && c.tool != tool) continue;
    if (!wanted.empty() && (wanted == "ok") != c.ok) continue;
    out.push_back(json::object{{"time", isoTimeUtc(c.time_ms)},
                               {"server", c.server},
                               {"tool", c.tool},
                               {"status", c.ok ? "ok" : "error"},
                               {"duration_ms", c.duration_ms},
                               {"caller", c.caller},
                               {"error", c.error}});
  }
  json::object result{{"activity", std::move(out)}};
  co_return jsonResponse(result);
}

boost::asio::awaitable<HttpResponse> ManagementApi::securityEvents(const HttpRequest& request) {
  auto limit = countParam(request, "limit", 50, kMaxListLimit);
  if (!limit) co_return errorResponse("invalid_request", "limit must be a positive integer");
  std::string server(request.param("server")), kind(request.param("kind"));
  if (!context_.store) co_return errorResponse("unavailable", "no database");
  bool filtered = !server.empty() || !kind.empty();
  auto events = co_await context_.store->events(filtered ? 10'000 : *limit);
  if (!events) co_return errorResponse("internal", events.error().message);
  json::array out;
  for (const auto& e : *events) {
    if (out.size() >= *limit) break;
    if (!server.empty() && e.server != server) continue;
    if (!kind.empty() && e.kind != kind) continue;
    out.push_back(json::object{{"time", isoTimeUtc(e.time_ms)},
                               {"server", e.server},
                               {"tool", e.tool},
                               {"kind", e.kind},
                               {"severity", eventSeverity(e.kind)},
                               {"detail", e.detail}});
  }
  json::object result{{"events", std::move(out)}};
  co_return jsonResponse(result);
}

HttpResponse ManagementApi::securityScan(const HttpRequest& request) {
  std::string only(request.param("server"));
  if (!only.empty() && !context_.upstreams->find(only)) {
    return errorResponse("not_found", "no server named '" + only + "'");
  }
  json::array findings;
  const auto& all = context_.upstreams->all();
  policy::ToolUniverse universe;  // every server together: cross-server findings
  for (const auto& upstream : all) universe.push_back({upstream->name(), upstream->tools()});
  policy::CrossServerIndex index(universe);
  for (const auto& upstream : all) {
    if (!only.empty() && upstream->name() != only) continue;
    for (const auto& definition : upstream->tools()) {
      auto result = policy::scanInUniverse(upstream->name(), definition, index);
      for (const auto& f : result.findings) {
        findings.push_back(json::object{{"server", upstream->name()},
                                        {"tool", result.name},
                                        {"rule", f.rule},
                                        {"severity", policy::severityName(f.severity)},
                                        {"field", f.field},
                                        {"verdict", policy::verdictName(result.verdict)},
                                        {"detail", f.explanation}});
      }
    }
  }
  return jsonResponse(json::object{{"findings", std::move(findings)}});
}

// --- config ---

HttpResponse ManagementApi::config() const {
  auto document = parseDocument(context_.controller->appliedText());
  if (!document) return errorResponse("internal", document.error().message);
  return jsonResponse(json::object{{"path", context_.controller->configPath().string()},
                                   {"config", redactDocument(std::move(*document))}});
}

HttpResponse ManagementApi::validateConfig(const HttpRequest& request) const {
  auto body = bodyObject(request, context_);  // media type and JSON syntax first
  if (!body) return body.error();
  std::vector<std::string> warnings;
  auto parsed = config::parseConfig(request.body, warnings);
  json::array warning_list;
  for (const auto& w : warnings) warning_list.emplace_back(w);
  if (!parsed) {
    return jsonResponse(json::object{{"valid", false},
                                     {"errors", json::array{json::value(parsed.error().message)}},
                                     {"warnings", std::move(warning_list)}});
  }
  return jsonResponse(json::object{{"valid", true}, {"warnings", std::move(warning_list)}});
}

// --- call ---

boost::asio::awaitable<HttpResponse> ManagementApi::call(const HttpRequest& request) {
  auto body = bodyObject(request, context_);
  if (!body) co_return body.error();
  const auto* server = body->if_contains("server");
  const auto* tool = body->if_contains("tool");
  const auto* arguments = body->if_contains("arguments");
  if (!server || !server->is_string() || !tool || !tool->is_string()) {
    co_return errorResponse("invalid_request", "the body needs string \"server\" and \"tool\"");
  }
  if (arguments && !arguments->is_object() && !arguments->is_null()) {
    co_return errorResponse("invalid_request", "\"arguments\" must be an object");
  }
  std::string server_name(server->get_string()), tool_name(tool->get_string());
  auto* upstream = context_.upstreams->find(server_name);
  if (!upstream) co_return errorResponse("not_found", "no server named '" + server_name + "'");
  if (context_.router->trust().quarantined(upstream->config())) {
    co_return errorResponse("forbidden",
                            policy::TrustPolicy::refusal(policy::ToolAccess::kServerQuarantined,
                                                         server_name, tool_name));
  }
  if (upstream->state() == upstream::State::kReady) {
    bool listed = false;
    for (const auto& d : upstream->tools()) listed = listed || toolName(d) == tool_name;
    if (!listed) {
      co_return errorResponse("not_found",
                              "server '" + server_name + "' has no tool '" + tool_name + "'");
    }
  }
  if (auto refusal = context_.router->accessRefusal(server_name, tool_name); !refusal.empty()) {
    co_return errorResponse("forbidden", refusal);
  }
  json::object args;
  if (arguments && arguments->is_object()) args = arguments->get_object();
  router::RequestContext call_context;
  call_context.mode = config::RoutingMode::kDirect;
  call_context.caller = "api";
  json::value result = co_await context_.router->callServerTool(call_context, server_name,
                                                                tool_name, std::move(args));
  co_return jsonResponse(result);
}

// --- streams ---

HttpResponse ManagementApi::events(const HttpRequest& request) {
  auto subscription = context_.events->subscribe();
  if (!subscription) return errorResponse("unavailable", "too many event streams are open");
  HttpResponse response;
  response.content_type = "text/event-stream";
  response.events = std::move(subscription);
  response.body = "retry: 2000\n: connected\n\n";
  return response;
}

HttpResponse ManagementApi::metrics() const {
  MetricsSnapshot snapshot;
  for (const auto& upstream : context_.upstreams->all()) {
    snapshot.upstreams.push_back(
        {upstream->name(), std::string(upstream::stateName(upstream->state()))});
  }
  snapshot.sessions = context_.sessions ? context_.sessions->size() : 0;
  snapshot.tools = context_.router->tools().size();
  snapshot.resident_bytes = residentMemoryBytes();
  HttpResponse response;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.body = context_.metrics->render(snapshot);
  return response;
}

}  // namespace mcpproxy::api
