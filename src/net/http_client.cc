// See http_client.h. Each send() resolves, connects (TLS with SNI and host-name verification),
// writes one request with `Connection: close`, reads the whole response within the size limits,
// and closes. A single deadline covers the whole exchange including redirects: Beast's
// tcp_stream enforces it on connect/read/write, a timer on name resolution. Redirects, when
// enabled, never downgrade https to http and drop credentials when they change origin.
//
// Why not reuse upstream/http_transport.cc: that transport is a long-lived MCP session
// (pooling, SSE streams, session ids); control-plane requests are one-shot and need redirects,
// size limits on plain bodies and address filtering instead.
#include "net/http_client.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cctype>
#include <set>

namespace mcpproxy::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool hasLineBreak(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

// Private, link-local, unique-local, CGNAT, multicast, unspecified. Loopback is separate.
bool isPrivateAddress(const asio::ip::address& address, bool& loopback) {
  loopback = address.is_loopback();
  if (address.is_v6()) {
    auto v6 = address.to_v6();
    if (v6.is_v4_mapped()) {
      return isPrivateAddress(asio::ip::make_address_v4(asio::ip::v4_mapped, v6), loopback);
    }
    auto bytes = v6.to_bytes();
    return v6.is_unspecified() || v6.is_link_local() || v6.is_multicast() ||
           (bytes[0] & 0xfe) == 0xfc;  // fc00::/7
  }
  auto v4 = address.to_v4().to_uint();
  auto in = [&](std::uint32_t net, int bits) {
    std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
    return (v4 & mask) == net;
  };
  return in(0x0A000000, 8) || in(0xAC100000, 12) || in(0xC0A80000, 16) || in(0xA9FE0000, 16) ||
         in(0x64400000, 10) || in(0x00000000, 8) || in(0xE0000000, 4) || in(0xF0000000, 4);
}

struct Connection {
  std::optional<beast::tcp_stream> tcp;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *tcp; }
  void close() {
    boost::system::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
  }
  template <class F>
  auto visit(F&& f) {
    return tls ? f(*tls) : f(*tcp);
  }
};

}  // namespace

struct HttpClient::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor ex, HttpClientOptions opts)
      : executor(std::move(ex)), options(std::move(opts)), ssl_context(ssl::context::tls_client) {
    boost::system::error_code ec;
    ssl_context.set_default_verify_paths(ec);
    ca_error = ec ? "cannot load the system CA certificates: " + ec.message() : "";
    if (!options.extra_ca_file.empty()) {
      ssl_context.load_verify_file(options.extra_ca_file, ec);
      if (ec) ca_error = "cannot load " + options.extra_ca_file + ": " + ec.message();
    }
    ssl_context.set_verify_mode(ssl::verify_peer);
  }

  asio::any_io_executor executor;
  HttpClientOptions options;
  ssl::context ssl_context;
  std::string ca_error;
  bool closed = false;
  std::set<Connection*> active;

  asio::awaitable<Result<HttpResponse>> once(const HttpRequest& request, const UrlParts& url,
                                             std::chrono::steady_clock::time_point deadline);
  asio::awaitable<Result<HttpResponse>> send(HttpRequest request);
};

asio::awaitable<Result<HttpResponse>> HttpClient::Impl::once(
    const HttpRequest& request, const UrlParts& url,
    std::chrono::steady_clock::time_point deadline) {
  auto self = shared_from_this();
  const bool tls = url.scheme == "https";
  if (tls && !ca_error.empty()) co_return makeError(ErrorCode::kUnavailable, ca_error);

  // Name resolution has no deadline of its own: a timer cancels it.
  tcp::resolver resolver(executor);
  asio::steady_timer resolve_timer(executor);
  resolve_timer.expires_at(
      std::min(deadline, std::chrono::steady_clock::now() + options.connect_timeout));
  bool resolve_timed_out = false;
  resolve_timer.async_wait([&resolver, &resolve_timed_out](boost::system::error_code ec) {
    if (!ec) {
      resolve_timed_out = true;
      resolver.cancel();
    }
  });
  auto [rec, results] = co_await resolver.async_resolve(url.host, url.port, kAwait);
  resolve_timer.cancel();
  if (closed) co_return makeError(ErrorCode::kCancelled, "the HTTP client was closed");
  if (resolve_timed_out) co_return makeError(ErrorCode::kTimeout, "resolving " + url.host);
  if (rec) co_return makeError(ErrorCode::kUnavailable, "cannot resolve " + url.host);

  std::vector<tcp::endpoint> endpoints;
  for (const auto& entry : results) {
    bool loopback = false;
    bool is_private = isPrivateAddress(entry.endpoint().address(), loopback);
    if (options.block_private_addresses && (is_private || (loopback && !options.allow_loopback))) {
      continue;
    }
    endpoints.push_back(entry.endpoint());
  }
  if (endpoints.empty()) {
    co_return makeError(ErrorCode::kInvalidArgument,
                        url.host + " resolves only to private addresses, which are not allowed");
  }

  Connection conn;
  if (tls) {
    conn.tls.emplace(executor, ssl_context);
    if (!SSL_set_tlsext_host_name(conn.tls->native_handle(), url.host.c_str())) {
      co_return makeError(ErrorCode::kInternal, "cannot set the TLS server name");
    }
    conn.tls->set_verify_callback(ssl::host_name_verification(url.host));
  } else {
    conn.tcp.emplace(executor);
  }
  active.insert(&conn);
  struct Unregister {
    Impl* impl;
    Connection* conn;
    ~Unregister() {
      impl->active.erase(conn);
      conn->close();
    }
  } unregister{this, &conn};

  auto timed_out = [&](const boost::system::error_code& ec) {
    return ec == beast::error::timeout || std::chrono::steady_clock::now() >= deadline;
  };
  conn.lowest().expires_at(
      std::min(deadline, std::chrono::steady_clock::now() + options.connect_timeout));
  auto [cec, connected] = co_await conn.lowest().async_connect(endpoints, kAwait);
  (void)connected;
  if (!cec && tls) {
    std::tie(cec) = co_await conn.tls->async_handshake(ssl::stream_base::client, kAwait);
  }
  if (closed) co_return makeError(ErrorCode::kCancelled, "the HTTP client was closed");
  if (cec) {
    if (timed_out(cec)) co_return makeError(ErrorCode::kTimeout, "connecting to " + url.host);
    co_return makeError(ErrorCode::kUnavailable,
                        "cannot connect to " + url.origin() + ": " + cec.message());
  }

  std::string target = url.path.empty() ? "/" : url.path;
  if (!url.query.empty()) target += "?" + url.query;
  http::request<http::string_body> req;
  auto verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown) {
    co_return makeError(ErrorCode::kInvalidArgument, "unknown HTTP method " + request.method);
  }
  req.method(verb);
  req.target(target);
  req.version(11);
  std::string host_header =
      url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  if (!url.default_port) host_header += ":" + url.port;
  req.set(http::field::host, host_header);
  req.set(http::field::user_agent, options.user_agent);
  req.set(http::field::connection, "close");
  for (const auto& [name, value] : request.headers) req.set(name, value);
  if (!request.body.empty() || verb == http::verb::post || verb == http::verb::put) {
    req.body() = request.body;
    req.prepare_payload();
  }

  conn.lowest().expires_at(deadline);
  auto [wec, written] =
      co_await conn.visit([&](auto& stream) { return http::async_write(stream, req, kAwait); });
  (void)written;
  if (closed) co_return makeError(ErrorCode::kCancelled, "the HTTP client was closed");
  if (wec) {
    if (timed_out(wec)) co_return makeError(ErrorCode::kTimeout, "sending to " + url.host);
    co_return makeError(ErrorCode::kUnavailable, "cannot send to " + url.origin());
  }

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
  parser.body_limit(options.max_response_bytes);
  auto [ec, read] = co_await conn.visit(
      [&](auto& stream) { return http::async_read(stream, buffer, parser, kAwait); });
  (void)read;
  if (closed) co_return makeError(ErrorCode::kCancelled, "the HTTP client was closed");
  // A TLS peer that closes without close_notify after a complete Connection: close response is
  // common; the parser knows whether the message was complete.
  if (ec && !(parser.is_done() &&
              (ec == ssl::error::stream_truncated || ec == http::error::end_of_stream))) {
    if (ec == http::error::body_limit) {
      co_return makeError(ErrorCode::kLimitExceeded,
                          "the response from " + url.origin() + " exceeded " +
                              std::to_string(options.max_response_bytes) + " bytes");
    }
    if (ec == http::error::header_limit) {
      co_return makeError(ErrorCode::kLimitExceeded,
                          "the response headers from " + url.origin() + " are too large");
    }
    if (timed_out(ec)) {
      co_return makeError(ErrorCode::kTimeout, "waiting for " + url.origin());
    }
    co_return makeError(ErrorCode::kUnavailable,
                        "reading the response from " + url.origin() + " failed: " + ec.message());
  }
  auto message = parser.release();
  HttpResponse response;
  response.status = message.result_int();
  for (const auto& field : message) {
    response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  response.body = std::move(message.body());
  co_return response;
}

asio::awaitable<Result<HttpResponse>> HttpClient::Impl::send(HttpRequest request) {
  auto self = shared_from_this();
  const auto deadline = std::chrono::steady_clock::now() + options.request_timeout;
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || hasLineBreak(name) || hasLineBreak(value)) {
      co_return makeError(ErrorCode::kInvalidArgument,
                          "header '" + name + "' is empty or contains a line break");
    }
  }
  std::string current = request.url;
  for (int hop = 0;; ++hop) {
    auto url = parseUrl(current);
    if (!url) co_return std::unexpected(url.error());
    if (url->scheme == "http" && !options.allow_insecure_http && !isLoopbackHost(url->host)) {
      co_return makeError(ErrorCode::kInvalidArgument,
                          "refusing plain http:// to " + url->host + " (use https://)");
    }
    auto response = co_await once(request, *url, deadline);
    if (!response) co_return response;
    response->url = current;
    const unsigned status = response->status;
    const bool redirect =
        status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    auto location = response->header("Location");
    if (!redirect || options.max_redirects <= 0 || !location) co_return response;
    if (hop >= options.max_redirects) {
      co_return makeError(ErrorCode::kLimitExceeded,
                          "more than " + std::to_string(options.max_redirects) + " redirects");
    }
    auto base = boost::urls::parse_uri(current);
    auto ref = boost::urls::parse_uri_reference(*location);
    if (!base || !ref) {
      co_return makeError(ErrorCode::kProtocol, "a redirect with an invalid Location");
    }
    boost::urls::url next;
    if (auto resolved = boost::urls::resolve(*base, *ref, next); !resolved) {
      co_return makeError(ErrorCode::kProtocol, "a redirect with an invalid Location");
    }
    auto next_parts = parseUrl(next.buffer());
    if (!next_parts) co_return std::unexpected(next_parts.error());
    if (url->scheme == "https" && next_parts->scheme != "https") {
      co_return makeError(ErrorCode::kInvalidArgument, "refusing a redirect from https to http");
    }
    if (next_parts->origin() != url->origin()) {
      std::erase_if(request.headers, [](const auto& header) {
        return iequals(header.first, "authorization") || iequals(header.first, "cookie");
      });
    }
    if (status == 303 || ((status == 301 || status == 302) && request.method == "POST")) {
      request.method = "GET";
      request.body.clear();
      std::erase_if(request.headers,
                    [](const auto& header) { return iequals(header.first, "content-type"); });
    }
    current = std::string(next.buffer());
  }
}

HttpClient::HttpClient(asio::any_io_executor executor, HttpClientOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options))) {}

HttpClient::~HttpClient() {
  impl_->closed = true;
  for (Connection* conn : impl_->active) conn->close();
}

asio::awaitable<Result<HttpResponse>> HttpClient::send(HttpRequest request) {
  auto impl = impl_;
  co_return co_await impl->send(std::move(request));
}

Fetch HttpClient::fetcher() {
  return [this](HttpRequest request) { return send(std::move(request)); };
}

const HttpClientOptions& HttpClient::options() const {
  return impl_->options;
}

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return std::nullopt;
}

std::vector<std::string> HttpResponse::headerValues(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) out.push_back(value);
  }
  return out;
}

std::string UrlParts::origin() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return scheme + "://" + h + (default_port ? "" : ":" + port);
}

Result<UrlParts> parseUrl(std::string_view text) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return makeError(ErrorCode::kInvalidArgument, "not a valid URL");
  UrlParts url;
  url.scheme = lower(parsed->scheme());
  if (url.scheme != "http" && url.scheme != "https") {
    return makeError(ErrorCode::kInvalidArgument, "the URL must start with http:// or https://");
  }
  if (parsed->has_userinfo()) {
    return makeError(ErrorCode::kInvalidArgument, "URLs with user:password@ are not accepted");
  }
  url.host = lower(parsed->host_address());
  if (url.host.empty()) return makeError(ErrorCode::kInvalidArgument, "the URL has no host");
  const std::string default_port = url.scheme == "https" ? "443" : "80";
  url.port =
      parsed->has_port() && !parsed->port().empty() ? std::string(parsed->port()) : default_port;
  url.default_port = url.port == default_port;
  url.path = std::string(parsed->encoded_path());
  if (parsed->has_query()) url.query = std::string(parsed->encoded_query());
  if (parsed->has_fragment()) url.fragment = std::string(parsed->encoded_fragment());
  return url;
}

bool isLoopbackHost(std::string_view host) {
  std::string h = lower(host);
  if (h.starts_with("[") && h.ends_with("]")) h = h.substr(1, h.size() - 2);
  if (h == "localhost" || h.ends_with(".localhost") || h == "::1") return true;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(h, ec);
  return !ec && address.is_loopback();
}

std::string percentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string formEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    out += percentEncode(name);
    out.push_back('=');
    out += percentEncode(value);
  }
  return out;
}

namespace {
int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
std::string percentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && hexValue(text[i + 1]) >= 0 &&
               hexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hexValue(text[i + 1]) * 16 + hexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}
}  // namespace

std::vector<std::pair<std::string, std::string>> parseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    out.emplace_back(percentDecode(part.substr(0, eq)), eq == std::string_view::npos
                                                            ? std::string()
                                                            : percentDecode(part.substr(eq + 1)));
  }
  return out;
}

}  // namespace mcpproxy::net
