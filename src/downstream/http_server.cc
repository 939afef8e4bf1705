// See http_server.h. One coroutine per connection reads requests and writes responses; GET
// streams and SSE replies are chunked responses fed from per-stream queues. All state is owned
// by the event loop thread, so there are no locks.
#include "downstream/http_server.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <charconv>
#include <deque>
#include <unordered_set>

#include "api/beast_glue.h"
#include "api/http_types.h"
#include "common/cancellation.h"
#include "common/fd.h"
#include "common/log.h"
#include "protocol/mcp.h"
#include "protocol/sse.h"

namespace mcpproxy::downstream {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Request = http::request<http::string_body>;
using protocol::rpc_error::kInvalidRequest;

namespace {

constexpr std::uint32_t kMaxHeaderBytes = 64 * 1024;  // request line + headers; more gets 431
constexpr std::size_t kMaxQueuedEvents = 1000;        // kept per stream for replay; oldest dropped
constexpr std::size_t kMaxStreamsPerSession = 16;     // replayable streams kept per session
constexpr std::uint64_t kRetryMs = 1000;  // the reconnect delay suggested in priming events
constexpr std::string_view kSessionHeader = "Mcp-Session-Id";
constexpr std::string_view kVersionHeader = "MCP-Protocol-Version";

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

// "host:port", "[v6]:port" or "host" -> host (lower case, brackets removed).
std::string hostPart(std::string_view authority) {
  if (authority.starts_with("[")) {
    std::size_t close = authority.find(']');
    return lower(
        authority.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  std::size_t colon = authority.find(':');
  return lower(authority.substr(0, colon));
}

bool acceptsBoth(std::string_view accept) {
  std::string a = lower(accept);
  if (a.find("*/*") != std::string::npos) return true;
  return a.find("application/json") != std::string::npos &&
         a.find("text/event-stream") != std::string::npos;
}

std::string errorBody(json::value id, int code, std::string message) {
  return protocol::serialize(protocol::makeError(std::move(id), code, std::move(message)));
}

}  // namespace

// One SSE stream of a session (a POST's reply, the GET stream, or a legacy /sse stream) with
// its recent events kept for replay: a client that lost the connection reconnects with GET and
// Last-Event-ID "<stream>-<seq>" and receives the rest (resumability). Producers append; the
// connection currently attached writes. Shared because producers (a dispatch still running, a
// session sink) may outlive the connection.
struct OutStream {
  OutStream(asio::any_io_executor ex, std::uint64_t stream_id) : signal(ex), id(stream_id) {}
  asio::steady_timer signal;
  std::uint64_t id;
  std::uint64_t next_seq = 1;
  std::deque<std::pair<std::uint64_t, std::string>> history;  // (seq, formatted event)
  // POST streams: the answer, once the dispatch produced it; it becomes the last event.
  std::optional<protocol::Message> response;
  bool done = false;        // `response` is set (or there is none)
  bool finished = false;    // the answer is in `history`: nothing follows
  bool closed = false;      // ended for good without finishing (session gone, server stopping)
  bool attached = false;    // a connection is writing it now
  bool standalone = false;  // the session's GET (or legacy /sse) stream, not a POST reply
  bool resumable = false;   // an SSE reply with event ids: a client may come back for it
  bool grace_timer_running = false;
  bool probe = false;                    // write a keepalive now: the connection is believed gone
  std::shared_ptr<Cancellation> cancel;  // POST replies: ends the request when nobody waits

  void wake() { signal.cancel(); }

  void appendText(std::string_view event_name, std::string data) {
    protocol::SseEvent event;
    event.id = std::to_string(id) + "-" + std::to_string(next_seq);
    event.event = std::string(event_name);
    event.data = std::move(data);
    history.emplace_back(next_seq++, protocol::formatSseEvent(event));
    if (history.size() > kMaxQueuedEvents) history.pop_front();
    wake();
  }
  void append(const protocol::Message& message) {
    if (finished || closed) return;
    appendText("message", protocol::serialize(message));
  }
};

// "12-7" -> {12, 7}.
static std::optional<std::pair<std::uint64_t, std::uint64_t>> parseEventId(std::string_view text) {
  std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::uint64_t stream = 0;
  std::uint64_t seq = 0;
  auto [p1, e1] = std::from_chars(text.data(), text.data() + dash, stream);
  auto [p2, e2] = std::from_chars(text.data() + dash + 1, text.data() + text.size(), seq);
  if (e1 != std::errc() || e2 != std::errc() || p1 != text.data() + dash ||
      p2 != text.data() + text.size()) {
    return std::nullopt;
  }
  return std::make_pair(stream, seq);
}

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::any_io_executor ex, HttpServerOptions opts, session::Dispatcher& d,
       session::SessionRegistry& s)
      : executor(ex),
        options(std::move(opts)),
        dispatcher(d),
        sessions(s),
        acceptor(ex),
        sweep_timer(ex) {
    allowed_hosts = {"localhost", "127.0.0.1", "::1"};
    if (options.host != "0.0.0.0" && options.host != "::")
      allowed_hosts.insert(lower(options.host));
    for (const auto& host : options.trusted_hosts) allowed_hosts.insert(lower(host));
  }

  asio::any_io_executor executor;
  HttpServerOptions options;
  session::Dispatcher& dispatcher;
  session::SessionRegistry& sessions;
  tcp::acceptor acceptor;
  asio::steady_timer sweep_timer;
  std::unordered_set<std::string> allowed_hosts;
  std::unordered_set<beast::tcp_stream*> connections;
  std::unordered_set<std::shared_ptr<OutStream>> streams;  // being written now
  // Recent streams per session, for Last-Event-ID replay (bounded per session).
  std::unordered_map<std::string, std::deque<std::shared_ptr<OutStream>>> session_streams;
  std::uint64_t next_stream_id = 1;
  std::unordered_map<std::string, std::uint64_t> standalone_ids;  // session -> its GET stream
  std::unordered_set<std::string> legacy_sessions;                // sessions of GET /sse clients
  std::size_t in_flight = 0;                                      // requests being served
  bool stopping = false;
  api::RequestHandler* management = nullptr;  // the management API (issue 6); may be unset

  bool hostAllowed(std::string_view authority) const {
    std::string host = hostPart(authority);
    if (allowed_hosts.contains(host)) return true;
    // Any literal loopback address (127.0.0.0/8, ::1), but never a *name* that merely starts
    // with "127." such as 127.0.0.1.evil.example (DNS rebinding).
    boost::system::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    return !ec && address.is_loopback();
  }

  // DNS-rebinding defence: a browser page on another origin must not reach the proxy.
  bool originAllowed(const Request& req) const {
    auto host = req.find(http::field::host);
    if (host == req.end() || !hostAllowed(host->value())) return false;
    auto origin = req.find(http::field::origin);
    if (origin == req.end()) return true;  // not a browser, or same-origin navigation
    std::string_view value = origin->value();
    std::size_t scheme_end = value.find("://");
    if (scheme_end == std::string_view::npos) return false;  // "null" and other opaque origins
    std::string_view scheme = value.substr(0, scheme_end);
    if (scheme != "http" && scheme != "https") return false;
    return hostAllowed(value.substr(scheme_end + 3));
  }

  asio::awaitable<void> acceptLoop() {
    auto self = shared_from_this();
    while (!stopping) {
      boost::system::error_code ec;
      tcp::socket socket =
          co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) break;
        log::warn("http: accept failed: {}", ec.message());
        continue;
      }
      if (connections.size() >= options.max_connections) {
        log::warn("http: connection limit {} reached; refusing a connection",
                  options.max_connections);
        socket.close(ec);
        continue;
      }
      setCloseOnExec(socket.native_handle());
      socket.set_option(tcp::no_delay(true), ec);
      asio::co_spawn(executor, serveConnection(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> sweepLoop() {
    auto self = shared_from_this();
    while (!stopping) {
      sweep_timer.expires_after(options.session_sweep_interval);
      boost::system::error_code ec;
      co_await sweep_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (stopping) break;
      if (std::size_t n = sessions.expireIdle(); n > 0) log::info("expired {} idle sessions", n);
    }
  }

  asio::awaitable<void> serveConnection(tcp::socket socket) {
    auto self = shared_from_this();
    beast::tcp_stream stream(std::move(socket));
    connections.insert(&stream);
    beast::flat_buffer buffer;
    while (!stopping) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(options.max_body_bytes);
      parser.header_limit(kMaxHeaderBytes);
      stream.expires_after(options.read_timeout);
      boost::system::error_code ec;
      co_await http::async_read(stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec == http::error::body_limit) {
        std::string too_large =
            "Request body exceeds " + std::to_string(options.max_body_bytes) + " bytes";
        std::string_view target = parser.get().target();
        bool for_api = management && !api::isMcpPath(target.substr(0, target.find('?')));
        std::string body = for_api ? api::errorResponse("payload_too_large", too_large).body
                                   : errorBody(nullptr, kInvalidRequest, too_large);
        co_await writeSimple(stream, 11, http::status::payload_too_large, "application/json",
                             std::move(body), false);
        break;
      }
      if (ec == http::error::header_limit) {
        // Answered, not just closed: a client (or a proxy in front) sees what went wrong.
        std::string too_large =
            "Request headers exceed " + std::to_string(kMaxHeaderBytes) + " bytes";
        co_await writeSimple(stream, 11, http::status::request_header_fields_too_large,
                             "application/json", errorBody(nullptr, kInvalidRequest, too_large),
                             false);
        break;
      }
      if (ec) break;  // closed, timed out or malformed: nothing sensible to answer
      stream.expires_never();
      Request req = parser.release();
      ++in_flight;
      bool keep_alive = co_await handle(stream, req);
      --in_flight;
      if (!keep_alive || !req.keep_alive()) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.close();
    connections.erase(&stream);
  }

  // Writes a complete response; returns false when the connection is gone.
  static asio::awaitable<bool> writeSimple(beast::tcp_stream& stream, unsigned version,
                                           http::status status, std::string_view content_type,
                                           std::string body, bool keep_alive,
                                           std::string_view session_id = {}) {
    http::response<http::string_body> res{status, version};
    res.set(http::field::server, "mcpproxy");
    if (!content_type.empty()) res.set(http::field::content_type, content_type);
    if (!session_id.empty()) res.set(kSessionHeader, session_id);
    if (status == http::status::method_not_allowed)
      res.set(http::field::allow, "GET, POST, DELETE");
    res.body() = std::move(body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    boost::system::error_code ec;
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  }

  static asio::awaitable<bool> writeChunk(beast::tcp_stream& stream, const std::string& text) {
    boost::system::error_code ec;
    co_await asio::async_write(stream, http::make_chunk(asio::buffer(text)),
                               asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  }

  static asio::awaitable<bool> writeStreamHeader(beast::tcp_stream& stream, unsigned version,
                                                 std::string_view session_id) {
    http::response<http::empty_body> res{http::status::ok, version};
    res.set(http::field::server, "mcpproxy");
    res.set(http::field::content_type, "text/event-stream");
    res.set(http::field::cache_control, "no-cache");
    if (!session_id.empty()) res.set(kSessionHeader, session_id);
    res.chunked(true);
    http::response_serializer<http::empty_body> serializer{res};
    boost::system::error_code ec;
    co_await http::async_write_header(stream, serializer,
                                      asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  }

  // Returns whether the connection may be kept alive.
  asio::awaitable<bool> handle(beast::tcp_stream& stream, Request& req) {
    std::string_view target = req.target();
    std::string_view path = target.substr(0, target.find('?'));
    if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
    const unsigned version = req.version();
    if (management && !api::isMcpPath(path)) co_return co_await serveManagement(stream, req);
    if (path == "/healthz") {
      co_return co_await writeSimple(stream, version, http::status::ok, "text/plain", "ok\n", true);
    }
    bool legacy_stream = path == "/sse" || path == "/sse/all";
    if (legacy_stream || path == "/message") {
      if (!originAllowed(req)) {
        co_return co_await writeSimple(
            stream, version, http::status::forbidden, "application/json",
            errorBody(nullptr, kInvalidRequest, "Forbidden: Host or Origin not allowed"), false);
      }
      if (!legacy_stream) co_return co_await handleLegacyMessage(stream, req);
      if (req.method() != http::verb::get) {
        co_return co_await writeSimple(
            stream, version, http::status::method_not_allowed, "application/json",
            errorBody(nullptr, kInvalidRequest, "Method not allowed"), true);
      }
      co_return co_await handleLegacySse(stream, req, path == "/sse/all");
    }
    if (path != "/mcp" && path != "/mcp/all") {
      co_return co_await writeSimple(stream, version, http::status::not_found, "application/json",
                                     R"({"error":"not found"})", true);
    }
    if (!originAllowed(req)) {
      log::warn("http: refused a request with Host '{}' Origin '{}'",
                std::string(req[http::field::host]), std::string(req[http::field::origin]));
      co_return co_await writeSimple(
          stream, version, http::status::forbidden, "application/json",
          errorBody(nullptr, kInvalidRequest, "Forbidden: Host or Origin not allowed"), false);
    }
    switch (req.method()) {
      case http::verb::post:
        co_return co_await handlePost(stream, req);
      case http::verb::get:
        co_return co_await handleGet(stream, req);
      case http::verb::delete_:
        co_return co_await handleDelete(stream, req);
      default:
        co_return co_await writeSimple(
            stream, version, http::status::method_not_allowed, "application/json",
            errorBody(nullptr, kInvalidRequest, "Method not allowed"), true);
    }
  }

  // The HTTP+SSE transport of protocol 2024-11-05, for old clients: GET /sse opens the session's
  // only stream (its first event names the POST endpoint), and every answer travels on it.
  asio::awaitable<bool> handleLegacySse(beast::tcp_stream& stream, const Request& req,
                                        bool direct) {
    auto session = sessions.create();
    if (direct) session->setRoutingMode(config::RoutingMode::kDirect);
    legacy_sessions.insert(session->id());
    auto out = std::make_shared<OutStream>(executor, next_stream_id++);
    out->standalone = true;
    attachSink(*session, out);
    out->appendText("endpoint", "/message?sessionId=" + session->id());
    log::info("session {}: legacy SSE client connected", session->id().substr(0, 8));
    bool ok = co_await writeStreamHeader(stream, req.version(), {});
    if (ok) ok = co_await pump(stream, out, 0, session.get());
    detachSink(*session, out);
    legacy_sessions.erase(session->id());
    sessions.remove(session->id());
    log::info("session {}: legacy SSE client disconnected", session->id().substr(0, 8));
    co_return false;
  }

  // POST /message?sessionId=...: one JSON-RPC message of a legacy session, accepted with 202;
  // its answer goes out on the session's SSE stream.
  asio::awaitable<bool> handleLegacyMessage(beast::tcp_stream& stream, const Request& req) {
    const unsigned version = req.version();
    auto reply = [&](http::status status, std::string body) {
      return writeSimple(stream, version, status, "application/json", std::move(body), true);
    };
    if (req.method() != http::verb::post) {
      co_return co_await reply(http::status::method_not_allowed,
                               errorBody(nullptr, kInvalidRequest, "Method not allowed"));
    }
    std::string_view target = req.target();
    std::string id;
    if (auto q = target.find("sessionId="); q != std::string_view::npos) {
      std::string_view rest = target.substr(q + 10);
      id = std::string(rest.substr(0, rest.find('&')));
    }
    auto session = legacy_sessions.contains(id) ? sessions.find(id) : nullptr;
    if (!session) {
      co_return co_await reply(http::status::not_found,
                               errorBody(nullptr, -32001, "Session not found"));
    }
    protocol::Limits limits{options.max_body_bytes, options.max_json_depth};
    auto value = protocol::parseJson(req.body(), limits);
    if (!value) {
      co_return co_await reply(http::status::bad_request,
                               protocol::serialize(protocol::makeError(value.error())));
    }
    auto message = protocol::toMessage(*value);
    if (!message) {
      co_return co_await reply(http::status::bad_request,
                               protocol::serialize(protocol::makeError(message.error())));
    }
    asio::co_spawn(
        executor,
        [](session::Dispatcher& d, std::shared_ptr<session::Session> s,
           protocol::Message m) -> asio::awaitable<void> {
          auto response = co_await d.handle(s, std::move(m));
          if (response) s->push(*response);
        }(dispatcher, session, std::move(*message)),
        asio::detached);
    co_return co_await writeSimple(stream, version, http::status::accepted, "text/plain",
                                   "Accepted", true);
  }

  // The management API, /ui/ and health checks (api/management_api.h), behind the same
  // Host/Origin check as /mcp.
  asio::awaitable<bool> serveManagement(beast::tcp_stream& stream, Request& req) {
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    api::HttpResponse response;
    if (!originAllowed(req)) {
      log::warn("http: refused an API request with Host '{}' Origin '{}'",
                std::string(req[http::field::host]), std::string(req[http::field::origin]));
      response = api::errorResponse("forbidden", "Host or Origin not allowed");
    } else {
      response = co_await management->handle(api::fromBeast(req, /*local=*/false));
    }
    if (response.events) stream.expires_never();
    co_return co_await api::writeResponse(stream, version, std::move(response), keep_alive,
                                          options.keepalive_interval);
  }

  // Resolves the Mcp-Session-Id of a non-initialize request, writing 400/404 when it fails.
  asio::awaitable<std::shared_ptr<session::Session>> requireSession(beast::tcp_stream& stream,
                                                                    const Request& req,
                                                                    bool& keep) {
    auto header = req.find(kSessionHeader);
    if (header == req.end() || header->value().empty()) {
      keep = co_await writeSimple(
          stream, req.version(), http::status::bad_request, "application/json",
          errorBody(nullptr, kInvalidRequest, "Bad Request: Mcp-Session-Id header is required"),
          true);
      co_return nullptr;
    }
    auto session = sessions.find(std::string(header->value()));
    if (!session) {
      // 404 tells a client its session is gone and it must initialize again.
      keep =
          co_await writeSimple(stream, req.version(), http::status::not_found, "application/json",
                               errorBody(nullptr, -32001, "Session not found"), true);
      co_return nullptr;
    }
    co_return session;
  }

  asio::awaitable<bool> handlePost(beast::tcp_stream& stream, Request& req) {
    const unsigned version = req.version();
    auto reply = [&](http::status status, std::string body) {
      return writeSimple(stream, version, status, "application/json", std::move(body), true);
    };
    if (!acceptsBoth(req[http::field::accept])) {
      co_return co_await reply(
          http::status::not_acceptable,
          errorBody(nullptr, kInvalidRequest,
                    "Not Acceptable: Accept must list application/json and text/event-stream"));
    }
    if (!lower(req[http::field::content_type]).starts_with("application/json")) {
      co_return co_await reply(
          http::status::unsupported_media_type,
          errorBody(nullptr, kInvalidRequest,
                    "Unsupported Media Type: Content-Type must be application/json"));
    }
    if (auto header = req.find(kVersionHeader);
        header != req.end() && !protocol::isSupportedVersion(header->value())) {
      co_return co_await reply(
          http::status::bad_request,
          errorBody(nullptr, kInvalidRequest,
                    "Bad Request: Unsupported protocol version: " + std::string(header->value()) +
                        " (supported versions: " + std::string(protocol::supportedVersionsText()) +
                        ")"));
    }
    protocol::Limits limits{options.max_body_bytes, options.max_json_depth};
    auto value = protocol::parseJson(req.body(), limits);
    if (!value)
      co_return co_await reply(http::status::bad_request,
                               protocol::serialize(protocol::makeError(value.error())));
    if (value->is_array()) co_return co_await handleBatch(stream, req, value->get_array());

    auto message = protocol::toMessage(*value);
    if (!message)
      co_return co_await reply(http::status::bad_request,
                               protocol::serialize(protocol::makeError(message.error())));

    if (message->isRequest() && message->method == "initialize") {
      auto session = sessions.create();
      std::string_view target = req.target();
      if (target.substr(0, target.find('?')).starts_with("/mcp/all")) {
        session->setRoutingMode(config::RoutingMode::kDirect);
      }
      auto response = co_await dispatcher.handle(session, std::move(*message));
      bool ok = response && response->kind == protocol::MessageKind::kResult;
      if (!ok) sessions.remove(session->id());
      // A local, not `ok ? id : ""` in the co_await operand: g++ 12 destroys such conditional
      // temporaries even when they were never constructed (double free).
      std::string session_header = ok ? session->id() : std::string();
      co_return co_await writeSimple(stream, version, http::status::ok, "application/json",
                                     protocol::serialize(*response), true, session_header);
    }

    bool keep = true;
    auto session = co_await requireSession(stream, req, keep);
    if (!session) co_return keep;

    if (!message->isRequest()) {
      co_await dispatcher.handle(session, std::move(*message));
      co_return co_await writeSimple(stream, version, http::status::accepted, "", "", true);
    }
    co_return co_await replyToRequest(stream, req, session, std::move(*message));
  }

  // Keeps `out` replayable for the session (Last-Event-ID), dropping the oldest beyond the bound.
  void rememberStream(const session::Session& session, std::shared_ptr<OutStream> out) {
    auto& list = session_streams[session.id()];
    list.push_back(std::move(out));
    while (list.size() > kMaxStreamsPerSession) list.pop_front();
  }

  std::shared_ptr<OutStream> findStream(const std::string& session_id, std::uint64_t id) const {
    auto it = session_streams.find(session_id);
    if (it == session_streams.end()) return nullptr;
    for (const auto& out : it->second) {
      if (out->id == id) return out;
    }
    return nullptr;
  }

  // Clients of 2025-11-25 and later get a priming event (an id and an empty data field) first,
  // so they can resume with Last-Event-ID even before the first real event, and the `retry`
  // delay to use. Older clients may not expect an event without JSON in it.
  static bool wantsPriming(const session::Session& session) {
    return session.protocolVersion() >= "2025-11-25";
  }

  asio::awaitable<bool> writePriming(beast::tcp_stream& stream, const OutStream& out) {
    protocol::SseEvent priming;
    priming.id = std::to_string(out.id) + "-0";
    priming.retry_ms = kRetryMs;
    co_return co_await writeChunk(stream, protocol::formatSseEvent(priming));
  }

  // Writes `out`'s events after `cursor` on this connection until the stream finishes or ends,
  // with keepalive comments while idle. Returns false when the connection failed (the events
  // stay in the stream for a resuming GET).
  asio::awaitable<bool> pump(beast::tcp_stream& stream, std::shared_ptr<OutStream> out,
                             std::uint64_t cursor, session::Session* session) {
    out->attached = true;
    streams.insert(out);
    bool ok = true;
    while (ok) {
      if (out->done && !out->finished && !out->closed) {
        if (out->response) out->append(*out->response);
        out->finished = true;
      }
      if (!out->history.empty() && out->history.back().first > cursor) {
        std::uint64_t first = out->history.front().first;
        std::size_t index = cursor >= first ? static_cast<std::size_t>(cursor - first + 1) : 0;
        auto [seq, text] = out->history[index];  // a copy: writing suspends
        ok = co_await writeChunk(stream, text);
        cursor = seq;
        if (session) session->touch();
        continue;
      }
      // A POST reply still waits for its answer while the server drains; GET streams end.
      if (out->finished || out->closed || (stopping && out->standalone)) break;
      out->signal.expires_after(options.keepalive_interval);
      boost::system::error_code ec;
      co_await out->signal.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      bool idle = !ec && !(out->done || out->closed || (stopping && out->standalone)) &&
                  (out->history.empty() || out->history.back().first <= cursor);
      if (idle || std::exchange(out->probe, false)) {
        ok = co_await writeChunk(stream, ": keepalive\n\n");
      }
    }
    out->attached = false;
    streams.erase(out);
    if (ok) {
      boost::system::error_code ec;
      co_await asio::async_write(stream, http::make_chunk_last(),
                                 asio::redirect_error(asio::use_awaitable, ec));
      ok = !ec;
    }
    co_return ok;
  }

  // A client request. The answer is plain JSON when it is ready before anything else must be
  // sent and within `sse_after`; otherwise the reply becomes an SSE stream that carries the
  // request's progress, log messages and relayed server requests (sampling, elicitation,
  // roots) before the answer, and keepalive comments while a long call runs.
  asio::awaitable<bool> replyToRequest(beast::tcp_stream& stream, const Request& req,
                                       std::shared_ptr<session::Session> session,
                                       protocol::Message message) {
    auto out = std::make_shared<OutStream>(executor, next_stream_id++);
    std::weak_ptr<OutStream> weak = out;
    auto channel =
        std::make_shared<session::RequestChannel>(session, [weak](const protocol::Message& m) {
          if (auto target = weak.lock()) target->append(m);
        });
    auto cancel = std::make_shared<Cancellation>();
    out->cancel = cancel;
    asio::co_spawn(
        executor,
        [](session::Dispatcher& d, std::shared_ptr<session::Session> s, protocol::Message m,
           std::shared_ptr<session::RequestChannel> c, std::shared_ptr<Cancellation> cancel,
           std::shared_ptr<OutStream> target) -> asio::awaitable<void> {
          target->response =
              co_await d.handle(std::move(s), std::move(m), std::move(c), std::move(cancel));
          target->done = true;
          target->wake();
        }(dispatcher, session, std::move(message), std::move(channel), cancel, out),
        asio::detached);
    // A client that goes away while its call runs must not leave the upstream working for
    // nobody (a client-side timeout often ends in a disconnect, not notifications/cancelled).
    auto watcher = watchDisconnect(stream.socket().native_handle(), out);
    struct StopWatching {
      std::shared_ptr<DisconnectWatch> watch;
      ~StopWatching() { watch->stop(); }
    } stop_watching{watcher};

    auto deadline = std::chrono::steady_clock::now() + options.sse_after;
    while (!out->done && out->history.empty() && !stopping &&
           std::chrono::steady_clock::now() < deadline) {
      out->signal.expires_at(deadline);
      boost::system::error_code ec;
      co_await out->signal.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (out->done && out->history.empty()) {
      watcher->stop();
      if (!out->response) {
        co_return co_await writeSimple(stream, req.version(), http::status::accepted, "", "", true);
      }
      co_return co_await writeSimple(stream, req.version(), http::status::ok, "application/json",
                                     protocol::serialize(*out->response), true);
    }
    rememberStream(*session, out);
    out->resumable = true;
    if (!co_await writeStreamHeader(stream, req.version(), {})) co_return false;
    if (wantsPriming(*session) && !co_await writePriming(stream, *out)) co_return false;
    // A dropped connection is not a cancellation by itself (spec): the call goes on and its
    // events wait for a GET with Last-Event-ID, for resume_grace (the watcher decides).
    bool ok = co_await pump(stream, out, 0, session.get());
    watcher->stop();
    if (!ok && !out->done) cancelUnlessResumed(out);
    co_return false;  // an SSE reply's connection is not reused
  }

  // Watches a request's connection for the client closing it: a duplicate of the socket's
  // descriptor waits for readability (the connection itself is not read while a request runs),
  // and end-of-file or an error means the client left. Stopped once the answer is written.
  struct DisconnectWatch {
    explicit DisconnectWatch(asio::any_io_executor ex) : descriptor(ex) {}
    asio::posix::stream_descriptor descriptor;
    bool stopped = false;
    void stop() {
      stopped = true;
      boost::system::error_code ignored;
      descriptor.close(ignored);
    }
  };

  std::shared_ptr<DisconnectWatch> watchDisconnect(int socket_fd, std::shared_ptr<OutStream> out) {
    auto watch = std::make_shared<DisconnectWatch>(executor);
    int fd = ::fcntl(socket_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return watch;
    watch->descriptor.assign(fd);
    asio::co_spawn(
        executor,
        [](std::shared_ptr<Impl> self, std::shared_ptr<DisconnectWatch> watch,
           std::shared_ptr<OutStream> out) -> asio::awaitable<void> {
          boost::system::error_code ec;
          co_await watch->descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                                                asio::redirect_error(asio::use_awaitable, ec));
          if (watch->stopped || ec || out->done) co_return;
          char byte;
          ssize_t n = ::recv(watch->descriptor.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
          if (n > 0) co_return;  // the client sent more (pipelining): it is still there
          if (out->resumable) {
            // The SSE reply's writer is idle between events: end this connection now (its next
            // write fails at once) so the resume grace starts without waiting for a keepalive.
            ::shutdown(watch->descriptor.native_handle(), SHUT_RDWR);
            watch->stop();
            out->probe = true;
            out->wake();
          } else if (out->cancel) {
            watch->stop();
            log::debug("http: client disconnected before its answer; cancelling the request");
            out->cancel->cancel("the client disconnected");
          }
        }(shared_from_this(), watch, std::move(out)),
        asio::detached);
    return watch;
  }

  // After resume_grace, cancels the request unless a GET with Last-Event-ID took the stream
  // up again or the answer came meanwhile (it then waits in the stream for the client).
  void cancelUnlessResumed(std::shared_ptr<OutStream> out) {
    if (out->grace_timer_running || !out->cancel) return;
    out->grace_timer_running = true;
    auto timer = std::make_shared<asio::steady_timer>(executor, options.resume_grace);
    timer->async_wait([timer, out](boost::system::error_code ec) {
      out->grace_timer_running = false;
      if (ec || out->done || out->attached) return;
      log::debug("http: client did not resume its stream; cancelling the request");
      out->cancel->cancel("the client disconnected");
    });
  }

  // JSON-RPC batches exist only in protocol 2025-03-26.
  asio::awaitable<bool> handleBatch(beast::tcp_stream& stream, const Request& req,
                                    const json::array& batch) {
    const unsigned version = req.version();
    bool keep = true;
    auto session = co_await requireSession(stream, req, keep);
    if (!session) co_return keep;
    if (session->protocolVersion() != "2025-03-26") {
      co_return co_await writeSimple(
          stream, version, http::status::bad_request, "application/json",
          errorBody(nullptr, kInvalidRequest,
                    "Invalid Request: batches are only allowed in protocol 2025-03-26"),
          true);
    }
    if (batch.empty()) {
      co_return co_await writeSimple(
          stream, version, http::status::bad_request, "application/json",
          errorBody(nullptr, kInvalidRequest, "Invalid Request: empty batch"), true);
    }
    json::array responses;
    for (const auto& element : batch) {
      auto message = protocol::toMessage(element);
      if (!message) {
        responses.push_back(protocol::toJson(protocol::makeError(message.error())));
        continue;
      }
      if (message->method == "initialize") {
        responses.push_back(protocol::toJson(protocol::makeError(
            message->id, kInvalidRequest, "Invalid Request: initialize cannot be batched")));
        continue;
      }
      auto response = co_await dispatcher.handle(session, std::move(*message));
      if (response) responses.push_back(protocol::toJson(*response));
    }
    if (responses.empty())
      co_return co_await writeSimple(stream, version, http::status::accepted, "", "", true);
    co_return co_await writeSimple(stream, version, http::status::ok, "application/json",
                                   json::serialize(responses), true);
  }

  asio::awaitable<bool> handleGet(beast::tcp_stream& stream, const Request& req) {
    const unsigned version = req.version();
    if (lower(req[http::field::accept]).find("text/event-stream") == std::string::npos) {
      co_return co_await writeSimple(
          stream, version, http::status::not_acceptable, "application/json",
          errorBody(nullptr, kInvalidRequest, "Not Acceptable: Accept must list text/event-stream"),
          true);
    }
    bool keep = true;
    auto session = co_await requireSession(stream, req, keep);
    if (!session) co_return keep;
    // Resumption: Last-Event-ID names a stream of this session and the last event seen.
    if (auto last = req.find("Last-Event-ID"); last != req.end()) {
      auto parsed = parseEventId(last->value());
      auto out = parsed ? findStream(session->id(), parsed->first) : nullptr;
      if (out && !out->attached && !out->closed) {
        log::debug("session {}: resuming stream {} after event {}", session->id().substr(0, 8),
                   parsed->first, parsed->second);
        if (!co_await writeStreamHeader(stream, version, {})) co_return false;
        bool standalone = out->id == standalone_ids[session->id()];
        if (standalone) attachSink(*session, out);
        bool ok = co_await pump(stream, out, parsed->second, session.get());
        if (!ok && !out->done) cancelUnlessResumed(out);
        if (standalone) detachSink(*session, out);
        co_return false;
      }
    }
    if (session->hasSink()) {
      co_return co_await writeSimple(
          stream, version, http::status::conflict, "application/json",
          errorBody(nullptr, kInvalidRequest, "Conflict: only one GET stream per session"), true);
    }
    auto out = std::make_shared<OutStream>(executor, next_stream_id++);
    out->standalone = true;
    standalone_ids[session->id()] = out->id;
    rememberStream(*session, out);
    attachSink(*session, out);
    bool ok = co_await writeStreamHeader(stream, version, {});
    if (ok && wantsPriming(*session)) ok = co_await writePriming(stream, *out);
    if (ok) ok = co_await pump(stream, out, 0, session.get());
    detachSink(*session, out);
    co_return false;  // a stream's connection is not reused
  }

  // Server-initiated messages of the session go to `out` while a connection writes it; while
  // none does they are dropped (they would otherwise pile up for a client that left).
  void attachSink(session::Session& session, const std::shared_ptr<OutStream>& out) {
    std::weak_ptr<OutStream> weak = out;
    session.setSink([weak](const protocol::Message& message) {
      if (auto target = weak.lock()) target->append(message);
    });
    session.setCloser([weak] {
      if (auto target = weak.lock()) {
        target->closed = true;
        target->wake();
      }
    });
  }
  void detachSink(session::Session& session, const std::shared_ptr<OutStream>& out) {
    if (!out->attached) {
      session.setSink(nullptr);
      session.setCloser(nullptr);
    }
  }

  asio::awaitable<bool> handleDelete(beast::tcp_stream& stream, const Request& req) {
    bool keep = true;
    auto session = co_await requireSession(stream, req, keep);
    if (!session) co_return keep;
    sessions.remove(session->id());
    log::info("session {}: ended by the client", session->id().substr(0, 8));
    co_return co_await writeSimple(stream, req.version(), http::status::ok, "", "", true);
  }
};

HttpServer::HttpServer(asio::any_io_executor executor, HttpServerOptions options,
                       session::Dispatcher& dispatcher, session::SessionRegistry& sessions)
    : impl_(std::make_shared<Impl>(executor, std::move(options), dispatcher, sessions)) {
  sessions.setOnRemoved([impl = impl_.get()](session::Session& session) {
    session.closeStream();
    if (auto it = impl->session_streams.find(session.id()); it != impl->session_streams.end()) {
      for (auto& out : it->second) {
        out->closed = true;
        out->wake();
      }
      impl->session_streams.erase(it);
    }
    impl->standalone_ids.erase(session.id());
  });
}

HttpServer::~HttpServer() {
  boost::system::error_code ec;
  impl_->stopping = true;
  impl_->acceptor.close(ec);
}

Result<unsigned short> HttpServer::listen() {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(impl_->options.host, ec);
  if (ec)
    return makeError(ErrorCode::kInvalidArgument,
                     "listen host must be an IP address, got '" + impl_->options.host + "'");
  tcp::endpoint endpoint(address, impl_->options.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) setCloseOnExec(acceptor.native_handle());
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return makeError(ErrorCode::kIo, "cannot listen on " + impl_->options.host + ":" +
                                         std::to_string(impl_->options.port) + ": " + ec.message());
  }
  return acceptor.local_endpoint().port();
}

void HttpServer::setManagement(api::RequestHandler* handler) {
  impl_->management = handler;
}

void HttpServer::start() {
  asio::co_spawn(impl_->executor, impl_->acceptLoop(), asio::detached);
  asio::co_spawn(impl_->executor, impl_->sweepLoop(), asio::detached);
}

asio::awaitable<void> HttpServer::drain(std::chrono::milliseconds grace) {
  auto impl = impl_;
  impl->stopping = true;
  boost::system::error_code ec;
  impl->acceptor.close(ec);
  impl->sweep_timer.cancel();
  for (const auto& stream : impl->streams) {
    if (!stream->standalone) continue;  // POST replies get their answers during the grace
    stream->closed = true;
    stream->wake();
  }
  asio::steady_timer timer(impl->executor);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (impl->in_flight > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> HttpServer::stop(std::chrono::milliseconds grace) {
  auto impl = impl_;
  co_await drain(grace);
  boost::system::error_code ec;
  for (auto* connection : impl->connections) connection->socket().close(ec);
}

}  // namespace mcpproxy::downstream
