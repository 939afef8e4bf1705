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
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "index/search_index.h"
#include "policy/cross_server.h"
#include "policy/scanner.h"
#include "policy/trust.h"
#include "protocol/jsonrpc.h"
#include "router/client_channel.h"
#include "router/response_cache.h"
#include "upstream/manager.h"

namespace mcpproxy::storage {
class Store;
struct CallRecord;
}  // namespace mcpproxy::storage

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
  // Where progress, log messages and server->client requests for this request go (may be null:
  // then upstream messages about it are dropped or answered with an error).
  std::shared_ptr<ClientChannel> channel;
  // Fires when the client cancels the request (notifications/cancelled); may be null.
  std::shared_ptr<Cancellation> cancel;
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

// The server management behind the upstream_servers proxy tool (issue 6), implemented by
// api::ConfigController. Every method acts for an agent: servers it adds are quarantined, and
// nothing here can release a quarantine. Results are the API's server objects.
class ServerAdmin {
 public:
  virtual ~ServerAdmin() = default;
  // config `disable_management`: the tool is neither listed nor callable.
  virtual bool managementDisabled() const = 0;
  virtual json::array listServers() const = 0;
  // `entry` is a config-file server entry; it is stored with "quarantined": true.
  virtual boost::asio::awaitable<Result<json::object>> addServer(json::object entry) = 0;
  // Changes the given fields (never the quarantine flag).
  virtual boost::asio::awaitable<Result<json::object>> updateServer(std::string name,
                                                                    json::object patch) = 0;
  virtual boost::asio::awaitable<Result<void>> removeServer(std::string name) = 0;
  virtual boost::asio::awaitable<Result<json::object>> setServerEnabled(std::string name,
                                                                        bool enabled) = 0;
  virtual boost::asio::awaitable<Result<json::object>> restartServer(std::string name) = 0;
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

  // Management for the upstream_servers proxy tool; unset: the tool does not exist.
  void setServerAdmin(ServerAdmin* admin) { admin_ = admin; }
  // Told about every upstream tool call after it finished (metrics, the API's event stream).
  void setCallObserver(std::function<void(const storage::CallRecord&)> observer) {
    on_call_ = std::move(observer);
  }
  // Retrieval settings that a config reload may change.
  void setRetrievalLimits(std::size_t tools_limit, std::size_t tool_response_limit) {
    options_.tools_limit = tools_limit;
    options_.tool_response_limit = tool_response_limit;
  }
  // For the management API's POST /call: empty when `server:tool` may be called now, else the
  // refusal (quarantined server, pending or changed tool, unknown tool).
  std::string accessRefusal(const std::string& server, const std::string& tool) const {
    return checkAccess(server, tool);
  }
  // Calls `server:tool` like a client's tools/call (statistics recorded with `context.caller`);
  // the answer is the tools/call result, or an isError result for transport failures.
  boost::asio::awaitable<json::value> callServerTool(const RequestContext& context,
                                                     std::string server, std::string tool,
                                                     json::object arguments);

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

  // Sends a notification to every ready upstream (notifications/roots/list_changed).
  void notifyUpstreams(const std::string& method);
  // Sets the log level of every ready upstream that supports logging (the most verbose level
  // any client asked for; clients' own levels are applied when messages are forwarded).
  void setUpstreamLogLevel(const std::string& level);
  // resources/subscribe and resources/unsubscribe, routed to the upstream owning the URI.
  boost::asio::awaitable<protocol::Message> subscription(const protocol::Message& request);

  // How an upstream request made for `context` reports back: progress tokens mapped per hop
  // (the client's token is replaced in `params._meta` by one of the proxy's own), related
  // notifications and server requests sent to the client's channel, cancellation passed on.
  upstream::RequestOptions requestOptions(const RequestContext& context, json::object& params);

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
  void securityEvent(const std::string& kind, const std::string& server, const std::string& tool,
                     const std::string& detail);

  // Resources and prompts of every upstream (passthrough.cc).
  boost::asio::awaitable<Result<json::array>> listEverything(upstream::Upstream& upstream,
                                                             const std::string& method,
                                                             const char* key);
  // Shared: the callers await between uses, and a config change may remove an upstream then.
  std::vector<std::shared_ptr<upstream::Upstream>> passthroughUpstreams(
      const char* capability) const;
  boost::asio::awaitable<protocol::Message> listMerged(const protocol::Message& request,
                                                       const char* capability, const char* key);
  boost::asio::awaitable<protocol::Message> readResource(const RequestContext& context,
                                                         const protocol::Message& request);
  boost::asio::awaitable<protocol::Message> getPrompt(const RequestContext& context,
                                                      const protocol::Message& request);
  boost::asio::awaitable<protocol::Message> complete(const RequestContext& context,
                                                     const protocol::Message& request);
  // The upstream that listed `uri` (listing once more when unknown); null when none did.
  boost::asio::awaitable<upstream::Upstream*> resourceOwner(const std::string& uri);
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
  // upstream_servers (issue 6): list/add/remove/update/enable/disable/restart through admin_.
  boost::asio::awaitable<json::object> upstreamServers(const json::object& args);
  bool managementAvailable() const { return admin_ && !admin_->managementDisabled(); }
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
  // Every server's tools for the scanner's cross-server checks; rebuilt on the first scan after
  // any server's tools change (reset with scan_cache_).
  std::optional<policy::CrossServerIndex> cross_server_;
  // Learned from listings: which upstream owns a resource URI, and exposed prompt name ->
  // (server, the upstream's prompt name).
  std::unordered_map<std::string, std::string> resource_owner_;
  std::unordered_map<std::string, std::pair<std::string, std::string>> prompt_owner_;
  ResponseCache cache_;
  std::uint64_t next_progress_token_ = 1;
  std::string upstream_log_level_;  // last level fanned out to upstreams
  ServerAdmin* admin_ = nullptr;
  std::function<void(const storage::CallRecord&)> on_call_;
};

// The upstream_servers tool definition (proxy_tools.cc).
const json::object& upstreamServersTool();

// A tools/call result that reports a failure to the model (isError: true) in plain words.
json::object toolErrorResult(std::string_view text);

// An upstream's answer as the response to the client's request `id`: its result, or its own
// JSON-RPC error passed through unchanged.
protocol::Message relayResponse(const json::value& id, upstream::Response response);

// A tools/call result with one text block (isError: false).
json::object toolTextResult(std::string_view text);

}  // namespace mcpproxy::router
