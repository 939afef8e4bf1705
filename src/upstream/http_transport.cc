// See http_transport.h. One POST per outgoing message (MCP Streamable HTTP): send() returns once
// the request is written (so the server sees messages in the order we send them), and a
// detached coroutine reads the reply — a JSON body or an SSE stream — and delivers every message
// in it. Idle keep-alive connections are pooled; SSE replies hold their connection until the
// stream ends. After initialize a long-lived GET stream carries server-initiated messages and
// reconnects with Last-Event-ID. A POST stream that ends before the response (SEP-1699 polling:
// the server closes it on purpose) is resumed: after the stream's `retry` delay, a GET with
// Last-Event-ID set to the stream's last event id, a bounded number of times, within the
// request's deadline.
//
// Lifetime: detached coroutines share `State`; destroying the transport detaches them (no
// handler is called afterwards) and cancels every socket.
#include "upstream/http_transport.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <cerrno>
#include <optional>
#include <set>
#include <vector>

#include "common/fd.h"
#include "common/log.h"
#include "protocol/jsonrpc.h"
#include "protocol/sse.h"

namespace mcpproxy::upstream {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
// Enough for one connection per concurrent request of a busy client: a smaller pool closes and
// reopens a TCP connection per request under concurrency (measured: 32 concurrent calls through
// a pool of 4 left ~9,000 sockets in TIME_WAIT and cut throughput to ~2,000 calls/s).
constexpr std::size_t kMaxIdleConnections = 64;
constexpr std::size_t kErrorBodyPreview = 200;
constexpr milliseconds kDeleteTimeout{2000};
constexpr milliseconds kGetRetryMin{1000};
constexpr milliseconds kGetRetryMax{30'000};
// Resuming a POST stream that ended before its response (SEP-1699).
constexpr int kMaxResumeAttempts = 3;
constexpr milliseconds kResumeDelayDefault{1000};  // when the server sent no `retry`
constexpr milliseconds kResumeDelayMax{30'000};

struct Endpoint {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;  // path and query
  std::string host_header;
};

Result<Endpoint> parseEndpoint(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return makeError(ErrorCode::kInvalidArgument, "invalid url: " + url);
  Endpoint e;
  auto scheme = parsed->scheme();
  if (scheme == "https") {
    e.tls = true;
  } else if (scheme != "http") {
    return makeError(ErrorCode::kInvalidArgument, "url must start with http:// or https://");
  }
  e.host = std::string(parsed->host_address());
  if (e.host.empty()) return makeError(ErrorCode::kInvalidArgument, "url has no host");
  e.port = parsed->has_port() ? std::string(parsed->port()) : (e.tls ? "443" : "80");
  e.target = std::string(parsed->encoded_path());
  if (e.target.empty()) e.target = "/";
  if (parsed->has_query()) e.target += "?" + std::string(parsed->encoded_query());
  e.host_header = std::string(parsed->encoded_host_and_port());
  return e;
}

bool hasLineBreak(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

// One HTTP/1.1 connection, plain or TLS.
struct Connection;
bool idleConnectionUsable(Connection& conn);

struct Connection {
  std::optional<beast::tcp_stream> tcp;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *tcp; }
  void cancel() {
    boost::system::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
  }
  template <class F>
  auto visit(F&& f) {
    return tls ? f(*tls) : f(*tcp);
  }
};

// A pooled connection is reusable only when the server has not closed it meanwhile (Node's
// http server drops idle keep-alive connections after 5 s) and sent nothing unasked. Peeking
// avoids writing a POST into a dead socket and losing the request.
bool idleConnectionUsable(Connection& conn) {
  auto& socket = conn.lowest().socket();
  if (!socket.is_open()) return false;
  char byte;
  ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// What one exchange produced.
struct Reply {
  unsigned status = 0;
  bool event_stream = false;
  bool answered = false;  // a response carrying the request's id was delivered
  bool keep_alive = false;
  std::string body_preview;               // start of a non-SSE body, for error messages
  std::string error;                      // transport failure, if any
  std::string last_event_id;              // of an SSE stream, for resuming it
  std::optional<std::uint64_t> retry_ms;  // the stream's last `retry` field
};

// Which stream readReply reads: the reply to a POST, the long-lived GET stream, or a GET that
// resumes a POST stream (it stops once the request is answered).
enum class StreamKind { kPost, kStandaloneGet, kResume, kLegacy };

struct State : std::enable_shared_from_this<State> {
  State(asio::any_io_executor ex, HttpOptions opts)
      : executor(ex), options(std::move(opts)), ssl_context(ssl::context::tls_client) {}

  asio::any_io_executor executor;
  HttpOptions options;
  Endpoint endpoint;
  ssl::context ssl_context;
  Transport::Handlers handlers;
  std::string session_id;
  std::string protocol_version;  // sent once initialized
  bool detached = false;
  bool closing = false;
  bool closed_reported = false;
  std::vector<std::shared_ptr<Connection>> idle;
  std::set<std::shared_ptr<Connection>> active;
  std::string get_last_event_id;
  // Legacy HTTP+SSE: the POST target from the `endpoint` event, and start() waiting for it.
  std::string post_target;
  std::optional<asio::steady_timer> endpoint_wait;
  std::string legacy_error;

  std::string name() const {
    return options.server_name.empty() ? endpoint.host_header : options.server_name;
  }
  bool quiet() const { return detached || closing; }

  void deliver(json::value message, const json::value& request_id = nullptr) {
    if (quiet()) return;
    if (!request_id.is_null() && handlers.on_related_message) {
      handlers.on_related_message(std::move(message), request_id);
    } else if (handlers.on_message) {
      handlers.on_message(std::move(message));
    }
  }

  void reportClosed(Error error) {
    if (quiet() || closed_reported) return;
    closed_reported = true;
    if (handlers.on_closed) {
      auto on_closed = handlers.on_closed;
      on_closed(std::move(error));
    }
  }

  // A JSON-RPC error response for a request whose exchange failed, so its caller is not left
  // waiting for the deadline.
  void deliverFailure(const json::value& id, const std::string& message) {
    json::object error{{"code", protocol::rpc_error::kInternalError},
                       {"message", message},
                       {"data", json::object{{"mcpproxy", kTransportFailure}}}};
    deliver(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}});
  }

  asio::awaitable<Result<std::shared_ptr<Connection>>> connect() {
    auto self = shared_from_this();
    auto conn = std::make_shared<Connection>();
    tcp::resolver resolver(executor);
    auto [rec, results] = co_await resolver.async_resolve(endpoint.host, endpoint.port, kAwait);
    if (rec) {
      co_return makeError(ErrorCode::kUnavailable,
                          "cannot resolve " + endpoint.host + ": " + rec.message());
    }
    if (endpoint.tls) {
      conn->tls.emplace(executor, ssl_context);
      // SNI and certificate host-name checks.
      if (!SSL_set_tlsext_host_name(conn->tls->native_handle(), endpoint.host.c_str())) {
        co_return makeError(ErrorCode::kInternal, "cannot set TLS server name");
      }
      conn->tls->set_verify_callback(ssl::host_name_verification(endpoint.host));
    } else {
      conn->tcp.emplace(executor);
    }
    active.insert(conn);
    conn->lowest().expires_after(options.connect_timeout);
    // Endpoint by endpoint, opening each socket ourselves so it is close-on-exec before the
    // connect starts (common/fd.h): a child spawned meanwhile must not inherit it.
    boost::system::error_code cec = asio::error::host_not_found;
    for (const auto& entry : results) {
      auto& socket = conn->lowest().socket();
      boost::system::error_code ignored;
      socket.close(ignored);
      socket.open(entry.endpoint().protocol(), cec);
      if (cec) continue;
      setCloseOnExec(socket.native_handle());
      std::tie(cec) = co_await conn->lowest().async_connect(entry.endpoint(), kAwait);
      if (!cec || cec == beast::error::timeout) break;
    }
    if (!cec && conn->tls) {
      std::tie(cec) = co_await conn->tls->async_handshake(ssl::stream_base::client, kAwait);
    }
    active.erase(conn);
    if (cec) {
      co_return makeError(ErrorCode::kUnavailable,
                          "cannot connect to " + endpoint.host_header + ": " + cec.message());
    }
    conn->lowest().expires_never();
    boost::system::error_code nodelay_ec;  // small JSON-RPC messages: no Nagle delay
    conn->lowest().socket().set_option(tcp::no_delay(true), nodelay_ec);
    co_return conn;
  }

  asio::awaitable<Result<std::shared_ptr<Connection>>> acquire() {
    while (!idle.empty()) {
      auto conn = std::move(idle.back());
      idle.pop_back();
      if (idleConnectionUsable(*conn)) co_return conn;
      conn->cancel();
    }
    co_return co_await connect();
  }

  void release(std::shared_ptr<Connection> conn, bool reusable) {
    active.erase(conn);
    if (reusable && !quiet() && idle.size() < kMaxIdleConnections) {
      conn->buffer.clear();
      idle.push_back(std::move(conn));
    } else {
      conn->cancel();
    }
  }

  http::request<http::string_body> makeRequest(http::verb verb, std::string body) const {
    const std::string& target =
        options.legacy_sse && verb == http::verb::post ? post_target : endpoint.target;
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, endpoint.host_header);
    req.set(http::field::user_agent, "mcpproxy/0.1.0");
    for (const auto& [key, value] : options.headers) req.set(key, value);
    if (verb == http::verb::post) {
      req.set(http::field::content_type, "application/json");
      req.set(http::field::accept, "application/json, text/event-stream");
    } else if (verb == http::verb::get) {
      req.set(http::field::accept, "text/event-stream");
    }
    if (!session_id.empty()) req.set("Mcp-Session-Id", session_id);
    if (!protocol_version.empty()) req.set("MCP-Protocol-Version", protocol_version);
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
  }

  // Writes `req` on a pooled or new connection. Retries once on a fresh connection when a
  // pooled one turns out to be closed by the server.
  asio::awaitable<Result<std::shared_ptr<Connection>>> write(
      const http::request<http::string_body>& req) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool pooled = attempt == 0 && !idle.empty();
      auto conn = co_await acquire();
      if (!conn) co_return std::unexpected(conn.error());
      auto c = *conn;
      active.insert(c);
      c->lowest().expires_after(options.request_timeout);
      auto [ec, n] =
          co_await c->visit([&](auto& stream) { return http::async_write(stream, req, kAwait); });
      if (!ec) co_return c;
      active.erase(c);
      c->cancel();
      if (!pooled || quiet()) {
        co_return makeError(ErrorCode::kUnavailable,
                            "cannot send to " + endpoint.host_header + ": " + ec.message());
      }
    }
    co_return makeError(ErrorCode::kUnavailable, "cannot send to " + endpoint.host_header);
  }

  // Reads one reply on `conn`, delivering JSON-RPC messages from a JSON body or SSE stream.
  // `request_id` is the id of the request we sent (null for notifications and responses).
  asio::awaitable<Reply> readReply(std::shared_ptr<Connection> conn, const json::value& request_id,
                                   StreamKind kind) {
    const bool is_get = kind != StreamKind::kPost;
    auto self = shared_from_this();
    Reply reply;
    http::response_parser<http::buffer_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(boost::none);  // bounded per message below, not per stream
    auto [hec, hn] = co_await conn->visit([&](auto& stream) {
      return http::async_read_header(stream, conn->buffer, parser, kAwait);
    });
    if (hec) {
      reply.error = hec == beast::error::timeout ? "timed out waiting for the reply"
                                                 : "reading the reply failed: " + hec.message();
      co_return reply;
    }
    const auto& head = parser.get();
    reply.status = head.result_int();
    auto content_type = std::string(head[http::field::content_type]);
    std::transform(content_type.begin(), content_type.end(), content_type.begin(), ::tolower);
    reply.event_stream = content_type.starts_with("text/event-stream");
    bool json_body = content_type.starts_with("application/json");
    if (auto sid = head["Mcp-Session-Id"]; !sid.empty() && session_id.empty() && !is_get) {
      if (sid.size() <= 256 && !hasLineBreak(sid)) session_id = std::string(sid);
    }

    protocol::SseParser sse(options.max_message_bytes);
    std::string body;
    bool too_big = false;
    protocol::Limits limits{options.max_message_bytes, options.max_json_depth};
    auto handleMessage = [&](std::string_view text) {
      auto parsed = protocol::parseJson(text, limits);
      if (!parsed || !(parsed->is_object() || parsed->is_array())) {
        log::warn("upstream {}: ignoring a reply that is not JSON-RPC", name());
        return;
      }
      if (!request_id.is_null()) {
        auto matches = [&](const json::value& m) {
          const auto* obj = m.if_object();
          if (!obj || obj->contains("method")) return false;
          const auto* id = obj->if_contains("id");
          return id && *id == request_id;
        };
        if (parsed->is_array()) {
          for (const auto& m : parsed->get_array()) reply.answered = reply.answered || matches(m);
        } else {
          reply.answered = reply.answered || matches(*parsed);
        }
      }
      deliver(std::move(*parsed), request_id);
    };

    std::array<char, 16 * 1024> chunk;
    boost::system::error_code ec;
    while (!parser.is_done() && !quiet()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      // async_read_some, not async_read: the latter only returns once the body buffer is full
      // or the message complete, which would hold back SSE events of a stream that stays open.
      auto [rec, rn] = co_await conn->visit([&](auto& stream) {
        return http::async_read_some(stream, conn->buffer, parser, kAwait);
      });
      ec = rec;
      if (ec == http::error::need_buffer) ec = {};
      std::size_t got = chunk.size() - parser.get().body().size;
      std::string_view data(chunk.data(), got);
      if (reply.status < 300 && reply.event_stream) {
        bool ok = sse.feed(data, [&](protocol::SseEvent&& event) {
          if (kind == StreamKind::kLegacy && event.event == "endpoint") {
            onLegacyEndpoint(event.data);
            return;
          }
          if (!event.event.empty() && event.event != "message") return;
          if (event.data.empty()) return;  // priming events carry an id and no data
          handleMessage(event.data);
        });
        if (kind == StreamKind::kStandaloneGet && !sse.lastEventId().empty()) {
          get_last_event_id = sse.lastEventId();
        }
        reply.last_event_id = sse.lastEventId();
        reply.retry_ms = sse.retryMs();
        if (!ok) {
          reply.error =
              "an SSE event exceeded " + std::to_string(options.max_message_bytes) + " bytes";
          break;
        }
      } else if (body.size() + got > options.max_message_bytes) {
        too_big = true;
        reply.error = "the reply exceeded " + std::to_string(options.max_message_bytes) + " bytes";
        break;
      } else {
        body.append(data);
      }
      if (ec) break;
      // A resumed stream may stay open after replaying our response (it is the server's to
      // close): the response is all we came for.
      if (kind == StreamKind::kResume && reply.answered) break;
    }
    if (kind == StreamKind::kResume && reply.answered) ec = {};
    if (ec && reply.error.empty() && !quiet()) {
      reply.error = ec == beast::error::timeout ? "timed out reading the reply"
                                                : "the reply stream broke: " + ec.message();
    }
    if (reply.status >= 300 || !reply.event_stream) {
      reply.body_preview = body.substr(0, kErrorBodyPreview);
    }
    if (!too_big && reply.error.empty() && !body.empty() && (json_body || reply.status >= 400) &&
        !reply.event_stream) {
      // 2xx JSON replies carry messages; 4xx/5xx JSON bodies may carry a JSON-RPC error for us.
      auto parsed = protocol::parseJson(body, limits);
      if (parsed && (parsed->is_object() || parsed->is_array()) &&
          (reply.status < 300 ||
           (parsed->is_object() && parsed->as_object().contains("error") &&
            parsed->as_object().contains("id") && !parsed->as_object().at("id").is_null()))) {
        handleMessage(body);
      }
    }
    reply.keep_alive = parser.is_done() && head.keep_alive() && reply.error.empty();
    co_return reply;
  }

  std::string statusProblem(const Reply& reply) const {
    std::string text = "HTTP " + std::to_string(reply.status);
    if (reply.status == 401 || reply.status == 403) {
      text += ": the server requires authorization (configure headers for it)";
    } else if (!reply.body_preview.empty()) {
      std::string preview;
      for (char c : reply.body_preview) preview.push_back(c >= 0x20 && c < 0x7f ? c : ' ');
      text += ": " + preview;
    }
    return text;
  }

  // The server no longer knows our session: 404 per the spec; the SDK's example servers (and so
  // server-everything) answer 400 "No valid session ID provided" instead, e.g. after a restart.
  bool sessionGone(const Reply& reply) const {
    if (session_id.empty()) return false;
    if (reply.status == 404) return true;
    if (reply.status != 400) return false;
    std::string body = reply.body_preview;
    std::transform(body.begin(), body.end(), body.begin(), ::tolower);
    return body.find("session") != std::string::npos;
  }

  // The reply phase of a POST, after the request was written.
  asio::awaitable<void> finishPost(std::shared_ptr<Connection> conn, json::value request_id) {
    auto self = shared_from_this();
    const auto deadline = std::chrono::steady_clock::now() + options.request_timeout;
    auto reply = co_await readReply(conn, request_id, StreamKind::kPost);
    release(conn, reply.keep_alive);
    if (quiet()) co_return;
    if (sessionGone(reply)) {
      if (!request_id.is_null()) deliverFailure(request_id, "the server ended the MCP session");
      reportClosed(Error{ErrorCode::kSessionExpired,
                         "the server no longer knows session (HTTP 404); reconnecting"});
      co_return;
    }
    // Legacy SSE: a POST is only accepted here (202, or 200 from some servers); the answer
    // arrives on the SSE stream.
    bool legacy_accepted = options.legacy_sse && reply.error.empty() && reply.status < 300;
    if (request_id.is_null() || reply.answered || legacy_accepted) {
      if (!reply.error.empty() || reply.status >= 300) {
        log::debug("upstream {}: message not accepted: {}", name(),
                   reply.error.empty() ? statusProblem(reply) : reply.error);
      }
      co_return;
    }
    if (reply.error.empty() && reply.status == 200 && reply.event_stream &&
        !reply.last_event_id.empty()) {
      // The server ended the stream before answering, after giving it an event id: resume.
      co_await resumeStream(std::move(request_id), std::move(reply), deadline);
      co_return;
    }
    if (!reply.error.empty()) {
      deliverFailure(request_id, "upstream HTTP exchange failed: " + reply.error);
    } else if (reply.status >= 300) {
      deliverFailure(request_id, "upstream answered " + statusProblem(reply));
    } else if (reply.status != 202) {
      deliverFailure(request_id, "upstream reply ended without a response to the request");
    }
    // 202 for a request: the answer may still arrive on the GET stream; the caller's deadline
    // applies.
  }

  // Resumes the POST stream that `ended` without answering `request_id`: waits the stream's
  // `retry` delay, then GETs with Last-Event-ID; the server replays what followed that event,
  // our response included. At most kMaxResumeAttempts GETs, all within `deadline`.
  asio::awaitable<void> resumeStream(json::value request_id, Reply ended,
                                     std::chrono::steady_clock::time_point deadline) {
    auto self = shared_from_this();
    std::string problem = "the stream ended before the response";
    for (int attempt = 1; attempt <= kMaxResumeAttempts && !quiet(); ++attempt) {
      auto delay =
          ended.retry_ms
              ? milliseconds(std::min<std::uint64_t>(*ended.retry_ms, kResumeDelayMax.count()))
              : kResumeDelayDefault;
      if (std::chrono::steady_clock::now() + delay >= deadline) {
        problem += "; no time left to resume it before the request deadline";
        break;
      }
      log::debug(
          "upstream {}: POST stream ended before the response; resuming after {} ms "
          "(attempt {})",
          name(), delay.count(), attempt);
      asio::steady_timer timer(executor, delay);
      co_await timer.async_wait(kAwait);
      if (quiet()) co_return;
      auto req = makeRequest(http::verb::get, {});
      req.set("Last-Event-ID", ended.last_event_id);
      auto conn = co_await write(req);
      if (!conn) {
        problem = conn.error().message;
        continue;
      }
      (*conn)->lowest().expires_at(deadline);
      auto reply = co_await readReply(*conn, request_id, StreamKind::kResume);
      release(*conn, false);
      if (quiet() || reply.answered) co_return;
      if (sessionGone(reply)) {
        deliverFailure(request_id, "the server ended the MCP session");
        reportClosed(Error{ErrorCode::kSessionExpired,
                           "the server no longer knows session (HTTP 404); reconnecting"});
        co_return;
      }
      if (!reply.error.empty()) {
        problem = reply.error;
        break;  // a broken stream or the deadline: resuming again would not help
      }
      if (reply.status != 200 || !reply.event_stream) {
        problem = "resuming answered " + statusProblem(reply);
        break;
      }
      // The resumed stream ended too without the response: resume from its last event.
      if (!reply.last_event_id.empty()) ended.last_event_id = reply.last_event_id;
      if (reply.retry_ms) ended.retry_ms = reply.retry_ms;
      problem = "the resumed stream ended before the response";
    }
    if (!quiet()) deliverFailure(request_id, "upstream reply stream: " + problem);
  }

  // The `endpoint` event of a legacy SSE stream: a path, or an absolute URL on the same origin
  // (never somewhere else: the server must not redirect our messages to a third party).
  void onLegacyEndpoint(const std::string& data) {
    std::string target;
    if (data.starts_with("/")) {
      target = data;
    } else if (auto absolute = parseEndpoint(data); absolute) {
      if (absolute->tls == endpoint.tls && absolute->host_header == endpoint.host_header) {
        target = absolute->target;
      } else {
        legacy_error = "the SSE endpoint event points to another origin";
      }
    } else {
      // Relative to the SSE URL's directory.
      std::string base = endpoint.target.substr(0, endpoint.target.find('?'));
      target = base.substr(0, base.rfind('/') + 1) + data;
    }
    if (target.empty() || hasLineBreak(target)) {
      if (legacy_error.empty()) legacy_error = "the SSE endpoint event is not a usable URL";
    } else {
      post_target = std::move(target);
    }
    if (endpoint_wait) endpoint_wait->cancel();
  }

  // The one stream of a legacy SSE session; when it ends, so does the session.
  asio::awaitable<void> legacyStream() {
    auto self = shared_from_this();
    auto req = makeRequest(http::verb::get, {});
    auto conn = co_await write(req);
    if (!conn) {
      legacy_error = conn.error().message;
      if (endpoint_wait) endpoint_wait->cancel();
      co_return;
    }
    (*conn)->lowest().expires_never();
    auto reply = co_await readReply(*conn, nullptr, StreamKind::kLegacy);
    release(*conn, false);
    if (quiet()) co_return;
    std::string why = !reply.error.empty() ? reply.error
                      : reply.status != 200 || !reply.event_stream
                          ? "answered " + statusProblem(reply) + " instead of an SSE stream"
                          : std::string("the server closed the stream");
    if (post_target.empty()) {
      legacy_error = why;
      if (endpoint_wait) endpoint_wait->cancel();
      co_return;
    }
    reportClosed(Error{ErrorCode::kUnavailable, "legacy SSE stream ended: " + why});
  }

  asio::awaitable<void> getStream() {
    auto self = shared_from_this();
    milliseconds delay = kGetRetryMin;
    while (!quiet()) {
      auto req = makeRequest(http::verb::get, {});
      if (!get_last_event_id.empty()) req.set("Last-Event-ID", get_last_event_id);
      auto conn = co_await write(req);
      if (conn) {
        (*conn)->lowest().expires_never();
        auto reply = co_await readReply(*conn, nullptr, StreamKind::kStandaloneGet);
        release(*conn, false);
        if (quiet()) co_return;
        if (reply.status == 405 || reply.status == 501) {
          log::debug("upstream {}: no GET stream offered (HTTP {})", name(), reply.status);
          co_return;
        }
        if (sessionGone(reply)) {
          reportClosed(Error{ErrorCode::kSessionExpired,
                             "the server no longer knows session (HTTP 404); reconnecting"});
          co_return;
        }
        if (reply.status == 200 && reply.event_stream) delay = kGetRetryMin;  // it worked
        log::debug("upstream {}: GET stream ended ({}); reopening", name(),
                   reply.error.empty() ? "HTTP " + std::to_string(reply.status) : reply.error);
      }
      asio::steady_timer timer(executor, delay);
      co_await timer.async_wait(kAwait);
      delay = std::min(delay * 2, kGetRetryMax);
    }
  }

  void cancelAll() {
    for (auto& conn : active) conn->cancel();
    active.clear();
    for (auto& conn : idle) conn->cancel();
    idle.clear();
  }
};

class HttpTransport final : public Transport {
 public:
  HttpTransport(asio::any_io_executor executor, HttpOptions options)
      : state_(std::make_shared<State>(executor, std::move(options))) {}

  ~HttpTransport() override {
    state_->detached = true;
    state_->cancelAll();
  }

  asio::awaitable<Result<void>> start(Handlers handlers) override {
    auto& s = *state_;
    s.handlers = std::move(handlers);
    auto endpoint = parseEndpoint(s.options.url);
    if (!endpoint) co_return std::unexpected(endpoint.error());
    s.endpoint = std::move(*endpoint);
    for (const auto& [key, value] : s.options.headers) {
      if (key.empty() || hasLineBreak(key) || hasLineBreak(value)) {
        co_return makeError(ErrorCode::kInvalidArgument,
                            "header '" + key + "' contains a line break or is empty");
      }
    }
    if (s.endpoint.tls) {
      boost::system::error_code ec;
      s.ssl_context.set_default_verify_paths(ec);
      if (ec)
        log::warn("upstream {}: cannot load system CA certificates: {}", s.name(), ec.message());
      s.ssl_context.set_verify_mode(ssl::verify_peer);
    }
    if (s.options.legacy_sse) {
      s.endpoint_wait.emplace(s.executor);
      s.endpoint_wait->expires_after(s.options.connect_timeout);
      asio::co_spawn(s.executor, s.legacyStream(), asio::detached);
      auto state = state_;  // the transport may be destroyed while we wait
      auto [waited] = co_await state->endpoint_wait->async_wait(kAwait);
      (void)waited;  // cancelled when the endpoint (or a failure) arrived, else timed out
      if (state->post_target.empty()) {
        co_return makeError(
            ErrorCode::kUnavailable,
            "legacy SSE: " + (state->legacy_error.empty() ? std::string("no endpoint event in time")
                                                          : state->legacy_error));
      }
      log::debug("upstream {}: legacy SSE session, posting to {}", state->name(),
                 state->post_target.substr(0, state->post_target.find('?')));
    }
    co_return Result<void>{};
  }

  asio::awaitable<Result<void>> send(json::value message) override {
    auto state = state_;
    if (state->closing) co_return makeError(ErrorCode::kUnavailable, "transport closed");
    json::value request_id = nullptr;
    if (const auto* obj = message.if_object(); obj && obj->contains("method")) {
      if (const auto* id = obj->if_contains("id")) request_id = *id;
    }
    auto req = state->makeRequest(http::verb::post, json::serialize(message));
    auto conn = co_await state->write(req);
    if (!conn) co_return std::unexpected(conn.error());
    if (request_id.is_null()) {
      // Notifications and responses get 202 at once: wait for it, so that messages reach the
      // server in order (initialized before the next request).
      co_await state->finishPost(*conn, nullptr);
    } else {
      asio::co_spawn(state->executor, state->finishPost(*conn, std::move(request_id)),
                     asio::detached);
    }
    co_return Result<void>{};
  }

  void onInitialized(std::string_view protocol_version) override {
    state_->protocol_version = std::string(protocol_version);
    // The GET stream exists since 2025-03-26 and only with a session.
    if (!state_->options.legacy_sse && !state_->session_id.empty() &&
        protocol_version >= "2025-03-26") {
      asio::co_spawn(state_->executor, state_->getStream(), asio::detached);
    }
  }

  asio::awaitable<void> close() override {
    auto state = state_;
    if (state->closing) co_return;
    state->closing = true;
    state->cancelAll();
    if (state->session_id.empty()) co_return;
    // Tell the server the session is over; servers may answer 405 (not allowed), which is fine.
    auto req = state->makeRequest(http::verb::delete_, {});
    auto conn = co_await state->connect();
    if (!conn) co_return;
    auto c = *conn;
    c->lowest().expires_after(kDeleteTimeout);
    auto [ec, n] =
        co_await c->visit([&](auto& stream) { return http::async_write(stream, req, kAwait); });
    if (!ec) {
      http::response<http::string_body> res;
      co_await c->visit(
          [&](auto& stream) { return http::async_read(stream, c->buffer, res, kAwait); });
    }
    c->cancel();
  }

  std::string describe() const override {
    auto endpoint = parseEndpoint(state_->options.url);
    return "http: " + (endpoint ? (endpoint->tls ? "https://" : "http://") + endpoint->host_header +
                                      endpoint->target.substr(0, endpoint->target.find('?'))
                                : std::string("(invalid url)"));
  }

 private:
  std::shared_ptr<State> state_;
};

}  // namespace

std::unique_ptr<Transport> makeHttpTransport(asio::any_io_executor executor, HttpOptions options) {
  return std::make_unique<HttpTransport>(std::move(executor), std::move(options));
}

}  // namespace mcpproxy::upstream
