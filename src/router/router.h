// Aggregation and routing: the tool table that direct mode exposes (every upstream tool as
// "<prefix><tool>"), merged and paginated tools/list with opaque cursors, tools/call routed by
// name to the owning upstream. Works from the request context alone (no session state), so the
// stateless 2026-07-28 revision can reuse it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "protocol/jsonrpc.h"
#include "upstream/manager.h"

namespace mcpproxy::router {

namespace json = boost::json;

// Everything about one downstream request that routing may depend on.
struct RequestContext {
  std::string protocol_version;
  json::object client_capabilities;
};

struct RouterOptions {
  std::size_t page_size = 1000;
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

  // Recomputes the tool table from the upstreams. Returns true when what clients see changed
  // (so a notifications/tools/list_changed is due).
  bool rebuild();

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
  boost::asio::awaitable<protocol::Message> callTool(const protocol::Message& request);

  upstream::UpstreamManager& upstreams_;
  RouterOptions options_;
  std::vector<ExposedTool> tools_;
  std::unordered_map<std::string, std::size_t> by_name_;
  std::uint64_t generation_ = 0;
  std::set<std::string> reported_collisions_;  // logged once each
};

// A tools/call result that reports a failure to the model (isError: true) in plain words.
json::object toolErrorResult(std::string_view text);

}  // namespace mcpproxy::router
