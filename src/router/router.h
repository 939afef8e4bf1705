// Aggregation and routing: the tool table that direct mode exposes (every upstream tool as
// "<prefix><tool>"), merged and paginated tools/list with opaque cursors, tools/call routed by
// name to the owning upstream. Works from the request context alone (no session state), so the
// stateless 2026-07-28 revision can reuse it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "index/search_index.h"
#include "policy/scanner.h"
#include "policy/trust.h"
#include "protocol/jsonrpc.h"
#include "router/response_cache.h"
#include "router/scan_lookup.h"
#include "upstream/manager.h"

namespace mcpproxy::storage {
class Store;
}

namespace mcpproxy::router {

namespace json = boost::json;

// Everything about one downstream request that routing may depend on.
struct RequestContext {
  std::string protocol_version;
  json::object client_capabilities;
  // kDirect: every upstream tool; kRetrieveTools: the proxy tools (retrieve_tools, call_tool_*…).
  config::RoutingMode mode = config::RoutingMode::kDirect;
  // Who is calling, for the activity log: a short session id (never a credential).
  std::string caller;
};

struct RouterOptions {
  std::size_t page_size = 1000;
  std::size_t tools_limit = 15;              // retrieve_tools default limit
  std::size_t tool_response_limit = 20'000;  // characters before a result is paged
};

// One tool as the downstream client sees it.
struct ExposedTool {
  std::string exposed_name;
  std::string server;
  std::string tool;         // the name the upstream knows
  json::object definition;  // the upstream's definition with `name` rewritten
};

class Router {
 public:
  Router(upstream::UpstreamManager& upstreams, RouterOptions options);

  // Recomputes the tool table and the search index from the upstreams. Returns true when what
  // clients see changed (so a notifications/tools/list_changed is due).
  bool rebuild();

  // Where call statistics and activity go; may stay unset (then tools_stat says so).
  void setStore(storage::Store* store) { store_ = store; }
  // Called when the router itself changed what clients see (an agent quarantined a server), so
  // the owner can rebuild and notify clients.
  void setToolsChangedHandler(std::function<void()> handler) {
    on_tools_changed_ = std::move(handler);
  }

  // The stored trust decisions (quarantine, pinned hashes). Call rebuild() afterwards.
  void setTrust(storage::TrustSnapshot snapshot) { trust_.setSnapshot(std::move(snapshot)); }
  std::int64_t trustVersion() const { return trust_.snapshot().version; }
  const policy::TrustPolicy& trust() const { return trust_; }

  // The best tools for a free-text query, best first, as retrieve_tools returns them:
  // {name: "<server>:<tool>", server, tool, score, description, inputSchema, annotations}.
  // Also used by `mcpproxy tools search`.
  json::array findTools(std::string_view query, std::size_t limit) const;

  // Capabilities the proxy states to clients: only what it implements.
  json::object serverCapabilities() const;

  // Serves one request routed to upstreams (tools/list, tools/call). The returned message is a
  // response carrying `request.id`.
  boost::asio::awaitable<protocol::Message> handle(const RequestContext& context,
                                                   const protocol::Message& request);

  // True when handle() serves this method.
  static bool routes(std::string_view method);

  const std::vector<ExposedTool>& tools() const { return tools_; }
  std::uint64_t generation() const { return generation_; }

 private:
  protocol::Message listTools(const protocol::Message& request) const;
  boost::asio::awaitable<protocol::Message> callTool(const RequestContext& context,
                                                     const protocol::Message& request);

  // Calls `tool` on `server` and records the call's statistics. Errors are transport failures;
  // an upstream's JSON-RPC error is a Response with is_error.
  boost::asio::awaitable<Result<upstream::Response>> invokeUpstream(const RequestContext& context,
                                                                    const std::string& server,
                                                                    const std::string& tool,
                                                                    json::object params);

  // The search index holds the tools of servers for which searchable() is true. This is the one
  // place where "which tools may a model discover" is decided (issue 5 adds approval).
  bool searchable(const upstream::Upstream& upstream) const;
  void syncIndex();
  // Applies config trust (baseline pinning), trust_mode auto-approvals, and reports pending
  // and changed tools once each.
  void reconcileTrust(const upstream::Upstream& upstream);
  void rememberTools(const upstream::Upstream& upstream);
  // The scanner's verdict on a tool (cached by server and hash); findings become events.
  policy::ScanResult scan(const std::string& server, const json::object& definition);
  void addShadowingFindings(const std::string& server, const json::object& definition,
                            policy::ScanResult& result);
  void securityEvent(const std::string& kind, const std::string& server, const std::string& tool,
                     const std::string& detail);

  // Resources and prompts of every upstream (passthrough.cc).
  boost::asio::awaitable<Result<json::array>> listEverything(upstream::Upstream& upstream,
                                                             const std::string& method,
                                                             const char* key);
  std::vector<upstream::Upstream*> passthroughUpstreams(const char* capability) const;
  boost::asio::awaitable<protocol::Message> listMerged(const protocol::Message& request,
                                                       const char* capability, const char* key);
  boost::asio::awaitable<protocol::Message> readResource(const protocol::Message& request);
  boost::asio::awaitable<protocol::Message> getPrompt(const protocol::Message& request);
  boost::asio::awaitable<protocol::Message> complete(const protocol::Message& request);
  // Lists once so that resource_owner_ / prompt_owner_ learn names not seen yet.
  boost::asio::awaitable<void> refreshListing(const char* method, const char* capability,
                                              const char* key);

  // Proxy tools (proxy_tools.cc).
  protocol::Message listProxyTools(const protocol::Message& request) const;
  boost::asio::awaitable<protocol::Message> callProxyTool(const RequestContext& context,
                                                          const protocol::Message& request);
  json::object retrieveTools(const json::object& args) const;
  boost::asio::awaitable<json::object> callThrough(const RequestContext& context,
                                                   std::string_view variant,
                                                   const json::object& args);
  json::object describeTool(const json::object& args) const;
  boost::asio::awaitable<json::object> toolsStat();
  json::object readCache(const json::object& args);
  json::object quarantineSecurity(const json::object& args);
  json::object pageIfLarge(json::object result);
  const json::object* findTool(std::string_view server, std::string_view tool) const;
  // Empty when `server:tool` may be called now; otherwise the refusal for the client.
  std::string checkAccess(const std::string& server, const std::string& tool) const;

  upstream::UpstreamManager& upstreams_;
  RouterOptions options_;
  std::vector<ExposedTool> tools_;
  std::unordered_map<std::string, std::size_t> by_name_;
  std::uint64_t generation_ = 0;
  std::set<std::string> reported_collisions_;  // logged once each
  storage::Store* store_ = nullptr;
  index::SearchIndex index_;
  std::unordered_map<std::string, std::size_t> indexed_fingerprints_;  // server -> tools hash
  std::unordered_map<std::string, std::size_t> stored_fingerprints_;   // server -> tools hash
  policy::TrustPolicy trust_;
  std::function<void()> on_tools_changed_;
  std::set<std::string> reported_trust_;  // "kind/server/tool/detail" logged once each
  // Scanner results by "server/hash"; cleared whenever any server's tools change.
  std::unordered_map<std::string, policy::ScanResult> scan_cache_;
  ScanLookup scan_lookup_;  // cross-server name lookups for scan(); reset with scan_cache_
  // Learned from listings: which upstream owns a resource URI, and exposed prompt name ->
  // (server, the upstream's prompt name).
  std::unordered_map<std::string, std::string> resource_owner_;
  std::unordered_map<std::string, std::pair<std::string, std::string>> prompt_owner_;
  ResponseCache cache_;
};

// A tools/call result that reports a failure to the model (isError: true) in plain words.
json::object toolErrorResult(std::string_view text);

// An upstream's answer as the response to the client's request `id`: its result, or its own
// JSON-RPC error passed through unchanged.
protocol::Message relayResponse(const json::value& id, upstream::Response response);

// A tools/call result with one text block (isError: false).
json::object toolTextResult(std::string_view text);

}  // namespace mcpproxy::router
