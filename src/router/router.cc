// See router.h. Name collisions are resolved deterministically by configuration order: the
// first server keeps the name, a later one falls back to "<server>__<tool>", and each collision
// is logged once. Nothing is shadowed silently.
#include "router/router.h"

#include <boost/json/serialize.hpp>
#include <charconv>
#include <set>

#include "common/log.h"

namespace mcpproxy::router {

using protocol::rpc_error::kInvalidParams;
using protocol::rpc_error::kMethodNotFound;

json::object toolErrorResult(std::string_view text) {
  return json::object{{"content", json::array{json::object{{"type", "text"}, {"text", text}}}},
                      {"isError", true}};
}

Router::Router(upstream::UpstreamManager& upstreams, RouterOptions options)
    : upstreams_(upstreams), options_(options) {}

bool Router::routes(std::string_view method) {
  return method == "tools/list" || method == "tools/call";
}

json::object Router::serverCapabilities() const {
  // listChanged: the aggregate changes whenever an upstream comes, goes or changes its tools.
  return json::object{{"tools", json::object{{"listChanged", true}}}};
}

bool Router::rebuild() {
  std::vector<ExposedTool> tools;
  std::unordered_map<std::string, std::size_t> by_name;
  for (const auto& upstream : upstreams_.all()) {
    if (upstream->state() != upstream::State::kReady) continue;
    std::string prefix = upstream->config().toolPrefix();
    for (const auto& definition : upstream->tools()) {
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
      ExposedTool entry{exposed, upstream->name(), tool, definition};
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
  return changed;
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
  std::size_t end = std::min(tools_.size(), offset + options_.page_size);
  for (std::size_t i = offset; i < end; ++i) page.push_back(tools_[i].definition);
  json::object result{{"tools", std::move(page)}};
  if (end < tools_.size()) result["nextCursor"] = makeCursor(generation_, end);
  return protocol::makeResult(request.id, std::move(result));
}

boost::asio::awaitable<protocol::Message> Router::callTool(const protocol::Message& request) {
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
  if (it == by_name_.end()) {
    co_return protocol::makeError(request.id, kInvalidParams,
                                  "Unknown tool: " + std::string(name->get_string()));
  }
  // Copy what we need: the table may be rebuilt while we wait for the upstream.
  ExposedTool target = tools_[it->second];
  upstream::Upstream* upstream = upstreams_.find(target.server);
  if (upstream == nullptr) {
    co_return protocol::makeResult(
        request.id, toolErrorResult("mcpproxy: server '" + target.server + "' was removed"));
  }
  json::object forwarded = *params;
  forwarded["name"] = target.tool;
  auto response =
      co_await upstream->call("tools/call", std::move(forwarded), upstream->callTimeout());
  if (!response) {
    log::info("tools/call {} failed: {}", target.exposed_name, response.error().message);
    co_return protocol::makeResult(request.id,
                                   toolErrorResult("mcpproxy: " + response.error().message));
  }
  if (response->is_error) {
    // The upstream's own JSON-RPC error passes through with the client's id.
    protocol::Message error;
    error.kind = protocol::MessageKind::kError;
    error.id = request.id;
    error.error = std::move(response->error);
    co_return error;
  }
  co_return protocol::makeResult(request.id, std::move(response->result));
}

boost::asio::awaitable<protocol::Message> Router::handle(const RequestContext& context,
                                                         const protocol::Message& request) {
  if (request.method == "tools/list") co_return listTools(request);
  if (request.method == "tools/call") co_return co_await callTool(request);
  co_return protocol::makeError(request.id, kMethodNotFound, "Method not found: " + request.method);
}

}  // namespace mcpproxy::router
