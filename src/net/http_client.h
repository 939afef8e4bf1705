// A small one-shot HTTP(S) client for control-plane requests: OAuth metadata, token and
// registration endpoints, JWKS, the MCP registry. One request per connection (no pooling, no
// streaming): the whole response body is read, within a size limit, and returned. TLS verifies
// the peer against the system CA store (plus an optional extra bundle) with host-name checks;
// plain http:// is refused except to loopback hosts unless the caller allows it. Redirects are
// not followed unless asked for (OAuth endpoints must not be redirected silently).
//
// Beast stays in http_client.cc: callers see only these plain structs.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace mcpproxy::net {

using std::chrono::milliseconds;
using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute http:// or https:// URL
  Headers headers;  // may hold secrets (Authorization): never logged
  std::string body;
};

struct HttpResponse {
  unsigned status = 0;
  Headers headers;  // in arrival order, names as the server wrote them
  std::string body;
  std::string url;  // the URL that produced this response (after redirects, if followed)

  // The first header with this name (case-insensitive), if any.
  std::optional<std::string> header(std::string_view name) const;
  // Every header with this name, in order (WWW-Authenticate may come several times).
  std::vector<std::string> headerValues(std::string_view name) const;
};

struct HttpClientOptions {
  milliseconds connect_timeout{10'000};
  // The whole exchange (resolve, connect, TLS, write, read, every redirect) ends by then.
  milliseconds request_timeout{30'000};
  std::size_t max_response_bytes = 4 * 1024 * 1024;  // body; more is an error
  std::size_t max_header_bytes = 64 * 1024;
  int max_redirects = 0;  // 0: a 3xx is returned as it is
  // http:// to a host that is not loopback (127.0.0.0/8, ::1, localhost). Off: refused.
  bool allow_insecure_http = false;
  // Refuse to connect when the host resolves to a private, link-local or unique-local address
  // (SSRF protection for URLs an untrusted server handed us). Loopback stays allowed when
  // `allow_loopback` is set (local servers and tests).
  bool block_private_addresses = false;
  bool allow_loopback = true;
  std::string extra_ca_file;  // PEM bundle trusted besides the system store (tests, private CAs)
  std::string user_agent = "mcpproxy/0.1.0";
};

// The seam the OAuth code uses to reach the network; unit tests substitute a fake.
using Fetch = std::function<boost::asio::awaitable<Result<HttpResponse>>(HttpRequest)>;

class HttpClient {
 public:
  HttpClient(boost::asio::any_io_executor executor, HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `request` and reads the whole response. Any status is a successful Result (a 404 is an
  // answer); errors are transport failures: kInvalidArgument (bad URL, header with a line break,
  // http:// refused), kUnavailable (resolve/connect/TLS/read failed), kTimeout, kLimitExceeded
  // (body or headers too large, too many redirects). The client may be destroyed while a request
  // runs: the request then fails with kCancelled.
  boost::asio::awaitable<Result<HttpResponse>> send(HttpRequest request);

  // A Fetch bound to this client (the client must outlive it).
  Fetch fetcher();

  const HttpClientOptions& options() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with running requests, which may outlive the client
};

// --- URL and form helpers (no I/O) ---

struct UrlParts {
  std::string scheme;  // lowercase
  std::string host;    // lowercase, without brackets
  std::string port;    // explicit or the scheme's default
  bool default_port = true;
  std::string path;   // encoded, "" when absent
  std::string query;  // encoded, without '?'
  std::string fragment;
  // scheme://host[:port] with the port only when it is not the default.
  std::string origin() const;
};
Result<UrlParts> parseUrl(std::string_view url);

// 127.0.0.0/8, ::1, "localhost" (and *.localhost).
bool isLoopbackHost(std::string_view host);

// RFC 3986 unreserved characters kept, everything else %XX.
std::string percentEncode(std::string_view text);
// application/x-www-form-urlencoded (spaces as %20, which every server accepts).
std::string formEncode(const std::vector<std::pair<std::string, std::string>>& fields);
// Parses "a=1&b=2" (form or query string); '+' is a space. Later duplicates are kept in order.
std::vector<std::pair<std::string, std::string>> parseQuery(std::string_view query);

}  // namespace mcpproxy::net
