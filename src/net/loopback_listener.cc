// See loopback_listener.h. The accept loop and each connection are coroutines sharing State;
// close() closes the acceptor and every open socket so nothing outlives the listener's owner
// by more than one event-loop turn.
#include "net/loopback_listener.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <set>

namespace mcpproxy::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kConnectionDeadline{10};
constexpr std::size_t kMaxOpenConnections = 16;
}  // namespace

struct LoopbackListener::State : std::enable_shared_from_this<State> {
  State(asio::any_io_executor ex, Handler h) : executor(ex), acceptor(ex), handler(std::move(h)) {}
  asio::any_io_executor executor;
  tcp::acceptor acceptor;
  Handler handler;
  bool closed = false;
  unsigned short port = 0;
  std::set<beast::tcp_stream*> open;

  asio::awaitable<void> serve(tcp::socket socket) {
    auto self = shared_from_this();
    beast::tcp_stream stream(std::move(socket));
    open.insert(&stream);
    stream.expires_after(kConnectionDeadline);
    beast::flat_buffer buffer(8 * 1024);
    http::request_parser<http::empty_body> parser;
    parser.header_limit(8 * 1024);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kAwait);
    http::response<http::string_body> res;
    res.version(11);
    res.set(http::field::content_type, "text/html; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.set("X-Frame-Options", "DENY");
    res.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    res.set(http::field::connection, "close");
    if (!ec && !closed) {
      const auto& req = parser.get();
      std::string_view target = req.target();
      auto q = target.find('?');
      std::string_view path = target.substr(0, q);
      std::string_view query =
          q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
      if (req.method() != http::verb::get) {
        res.result(http::status::method_not_allowed);
        res.body() = "method not allowed";
      } else {
        auto [status, body] = handler(path, query);
        res.result(static_cast<http::status>(status));
        res.body() = std::move(body);
      }
      res.prepare_payload();
      co_await http::async_write(stream, res, kAwait);
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
    open.erase(&stream);
  }

  asio::awaitable<void> acceptLoop() {
    auto self = shared_from_this();
    while (!closed) {
      auto [ec, socket] = co_await acceptor.async_accept(kAwait);
      if (ec || closed) break;
      if (open.size() >= kMaxOpenConnections) continue;  // the socket closes as it goes
      asio::co_spawn(executor, serve(std::move(socket)), asio::detached);
    }
  }

  void close() {
    if (closed) return;
    closed = true;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    for (auto* stream : open) stream->socket().close(ignored);
  }
};

Result<std::unique_ptr<LoopbackListener>> LoopbackListener::open(asio::any_io_executor executor,
                                                                 unsigned short port,
                                                                 Handler handler) {
  auto state = std::make_shared<State>(executor, std::move(handler));
  boost::system::error_code ec;
  tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), port);
  state->acceptor.open(endpoint.protocol(), ec);
  if (!ec) state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(endpoint, ec);
  if (!ec) state->acceptor.listen(8, ec);
  if (ec) {
    return makeError(ErrorCode::kIo,
                     "cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + ec.message());
  }
  state->port = state->acceptor.local_endpoint(ec).port();
  asio::co_spawn(executor, state->acceptLoop(), asio::detached);
  return std::unique_ptr<LoopbackListener>(new LoopbackListener(std::move(state)));
}

LoopbackListener::LoopbackListener(std::shared_ptr<State> state) : state_(std::move(state)) {}
LoopbackListener::~LoopbackListener() {
  state_->close();
}

unsigned short LoopbackListener::port() const {
  return state_->port;
}

std::string LoopbackListener::baseUrl() const {
  return "http://127.0.0.1:" + std::to_string(port());
}

void LoopbackListener::close() {
  state_->close();
}

}  // namespace mcpproxy::net
