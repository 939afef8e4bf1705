// See http_server.h. One coroutine per connection reads requests and writes responses; GET
// streams and SSE replies are chunked responses fed from per-stream queues. All state is owned
// by the event loop thread, so there are no locks.
#include "downstream/http_server.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <deque>
#include <unordered_set>

#include "api/beast_glue.h"
#include "api/http_types.h"
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

constexpr std::size_t kMaxQueuedEvents = 1000;  // per GET stream; oldest dropped beyond
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

// One open SSE stream (a GET stream): messages queued by the session, written by the
// connection's coroutine. Shared because the session's sink may be called after the stream
// ended; it then writes into a closed queue that nobody reads.
struct EventStream {
  explicit EventStream(asio::any_io_executor ex) : signal(ex) {}
  std::deque<std::string> events;
  asio::steady_timer signal;
  bool closed = false;

  void wake() { signal.cancel(); }
};

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
  std::unordered_set<std::shared_ptr<EventStream>> streams;
  std::size_t in_flight = 0;  // requests being served
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
      parser.header_limit(64 * 1024);
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
    if (message->method == "tools/call")
      co_return co_await replyAsStream(stream, req, session, std::move(*message));
    auto response = co_await dispatcher.handle(session, std::move(*message));
    co_return co_await reply(http::status::ok, protocol::serialize(*response));
  }

  // A request that may run long is answered on an SSE stream: headers go out at once and
  // comment pings keep idle-timeout-happy clients and intermediaries from dropping it.
  asio::awaitable<bool> replyAsStream(beast::tcp_stream& stream, const Request& req,
                                      std::shared_ptr<session::Session> session,
                                      protocol::Message message) {
    struct Outcome {
      explicit Outcome(asio::any_io_executor ex) : signal(ex) {}
      std::optional<protocol::Message> response;
      bool done = false;
      asio::steady_timer signal;
    };
    auto outcome = std::make_shared<Outcome>(executor);
    asio::co_spawn(
        executor,
        [](session::Dispatcher& d, std::shared_ptr<session::Session> s, protocol::Message m,
           std::shared_ptr<Outcome> out) -> asio::awaitable<void> {
          out->response = co_await d.handle(std::move(s), std::move(m));
          out->done = true;
          out->signal.cancel();
        }(dispatcher, session, std::move(message), outcome),
        asio::detached);

    if (!co_await writeStreamHeader(stream, req.version(), {})) co_return false;
    while (!outcome->done) {
      outcome->signal.expires_after(options.keepalive_interval);
      boost::system::error_code ec;
      co_await outcome->signal.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (!outcome->done && !ec) {
        // A dropped connection is not a cancellation (spec); the call finishes unobserved.
        if (!co_await writeChunk(stream, ": keepalive\n\n")) co_return false;
      }
    }
    if (outcome->response) {
      protocol::SseEvent event;
      event.event = "message";
      event.data = protocol::serialize(*outcome->response);
      if (!co_await writeChunk(stream, protocol::formatSseEvent(event))) co_return false;
    }
    boost::system::error_code ec;
    co_await asio::async_write(stream, http::make_chunk_last(),
                               asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
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
    if (session->hasSink()) {
      co_return co_await writeSimple(
          stream, version, http::status::conflict, "application/json",
          errorBody(nullptr, kInvalidRequest, "Conflict: only one GET stream per session"), true);
    }
    auto events = std::make_shared<EventStream>(executor);
    std::weak_ptr<EventStream> weak = events;
    session->setSink([weak](const protocol::Message& message) {
      auto stream = weak.lock();
      if (!stream || stream->closed) return;
      if (stream->events.size() >= kMaxQueuedEvents) stream->events.pop_front();
      protocol::SseEvent event;
      event.event = "message";
      event.data = protocol::serialize(message);
      stream->events.push_back(protocol::formatSseEvent(event));
      stream->wake();
    });
    session->setCloser([weak] {
      if (auto stream = weak.lock()) {
        stream->closed = true;
        stream->wake();
      }
    });
    streams.insert(events);

    bool ok = co_await writeStreamHeader(stream, version, {});
    while (ok && !events->closed && !stopping) {
      if (events->events.empty()) {
        events->signal.expires_after(options.keepalive_interval);
        boost::system::error_code ec;
        co_await events->signal.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (!ec && events->events.empty()) ok = co_await writeChunk(stream, ": keepalive\n\n");
        continue;
      }
      std::string text = std::move(events->events.front());
      events->events.pop_front();
      ok = co_await writeChunk(stream, text);
      session->touch();
    }
    events->closed = true;
    streams.erase(events);
    session->setSink(nullptr);
    session->setCloser(nullptr);
    if (ok) {
      boost::system::error_code ec;
      co_await asio::async_write(stream, http::make_chunk_last(),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return false;  // a stream's connection is not reused
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
  sessions.setOnRemoved([](session::Session& session) { session.closeStream(); });
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
