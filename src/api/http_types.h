// The management API's view of HTTP: a parsed request and the answer to send, as plain structs
// so that only the HTTP server files instantiate Beast (docs/STYLE.md rule 10). The same types
// serve the TCP listener (downstream/http_server.cc) and the Unix socket (api/socket_server.cc).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcpproxy::api {

struct HttpRequest {
  std::string method;                        // "GET", "POST", ...
  std::string path;                          // without the query string; "%xx" escapes decoded
  std::map<std::string, std::string> query;  // decoded parameters
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;
  bool local = false;  // arrived on the Unix socket (its file mode is the authentication)

  // The first header named `name` (lower case), or "".
  std::string_view header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return value;
    }
    return {};
  }
  std::string_view param(const std::string& name) const {
    auto it = query.find(name);
    return it == query.end() ? std::string_view() : std::string_view(it->second);
  }
};

// One subscriber of GET /events: formatted SSE frames queued by the EventHub, written by the
// connection's coroutine. Shared because the hub may publish after the connection ended.
struct EventSubscription {
  explicit EventSubscription(boost::asio::any_io_executor executor) : signal(executor) {}
  std::deque<std::string> frames;
  boost::asio::steady_timer signal;  // cancelled to wake the writer
  bool closed = false;
  void wake() { signal.cancel(); }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  // Set for an SSE stream (GET /events): the body is sent first, then every queued frame until
  // the subscription closes or the client goes away.
  std::shared_ptr<EventSubscription> events;
};

// What the HTTP listeners call for every request that is not an MCP endpoint.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // Answers one request; never throws, never fails (errors are JSON answers).
  virtual boost::asio::awaitable<HttpResponse> handle(HttpRequest request) = 0;
};

// True for the paths the MCP transport serves (/mcp, /mcp/all and the legacy SSE endpoints);
// everything else goes to the management API.
inline bool isMcpPath(std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path == "/mcp" || path == "/mcp/all" || path == "/sse" || path == "/message";
}

// {"error":{"code":"...","message":"..."}} with the HTTP status of the code (docs/api.md).
HttpResponse errorResponse(std::string_view code, std::string_view message);

// Splits "/path?a=1&b=%20" into the decoded path and parameters. A malformed escape is kept
// verbatim.
void parseTarget(std::string_view target, std::string& path,
                 std::map<std::string, std::string>& query);

}  // namespace mcpproxy::api
