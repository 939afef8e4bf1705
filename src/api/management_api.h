// The management API (docs/api.md): REST endpoints under /api/v1, GET /events (SSE), GET
// /metrics (Prometheus), /healthz, /readyz, the redirect from / and the hand-off of /ui/ to the
// embedded web UI. Reached through the HTTP listener (API key required) and the Unix socket
// (no key: the socket's file mode is the authentication). Beast-free: the listeners convert.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "api/controller.h"
#include "api/event_hub.h"
#include "api/http_types.h"
#include "api/metrics.h"
#include "session/session.h"

namespace mcpproxy::api {

inline constexpr std::string_view kVersion = "0.1.0";

struct ApiContext {
  ConfigController* controller = nullptr;
  router::Router* router = nullptr;
  upstream::UpstreamManager* upstreams = nullptr;
  storage::Store* store = nullptr;  // may be null
  session::SessionRegistry* sessions = nullptr;
  EventHub* events = nullptr;
  Metrics* metrics = nullptr;
  std::string listen;  // the bound address, "127.0.0.1:8080"
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  std::size_t max_json_depth = 64;
};

// The web UI's answer for GET /ui/<path> (path relative to /ui/), given If-None-Match. Set by
// the daemon when the UI is built in (src/ui); unset, /ui/ answers 404.
using UiHandler = std::function<HttpResponse(std::string_view path, std::string_view etag)>;

class ManagementApi : public RequestHandler {
 public:
  explicit ManagementApi(ApiContext context);

  boost::asio::awaitable<HttpResponse> handle(HttpRequest request) override;
  void setUiHandler(UiHandler handler) { ui_ = std::move(handler); }

  // Whether `request` carries the API key (X-API-Key, Authorization: Bearer, or ?api_key= for
  // GET /events), compared in constant time. Requests on the Unix socket need none.
  bool authorized(const HttpRequest& request) const;

 private:
  boost::asio::awaitable<HttpResponse> route(const HttpRequest& request);
  boost::asio::awaitable<HttpResponse> servers(const HttpRequest& request,
                                               const std::vector<std::string>& parts);
  boost::asio::awaitable<HttpResponse> tools(const HttpRequest& request,
                                             const std::vector<std::string>& parts);
  boost::asio::awaitable<HttpResponse> activity(const HttpRequest& request);
  boost::asio::awaitable<HttpResponse> securityEvents(const HttpRequest& request);
  HttpResponse securityScan(const HttpRequest& request);
  HttpResponse status() const;
  HttpResponse readyz() const;
  HttpResponse config() const;
  HttpResponse validateConfig(const HttpRequest& request) const;
  boost::asio::awaitable<HttpResponse> call(const HttpRequest& request);
  HttpResponse logs(const std::string& name, const HttpRequest& request) const;
  HttpResponse events(const HttpRequest& request);
  HttpResponse metrics() const;

  ApiContext context_;
  UiHandler ui_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace mcpproxy::api
