// bench_echo_server: a minimal MCP server over Streamable HTTP (JSON replies, keep-alive,
// TCP_NODELAY) with one tool, `echo`, for the throughput benchmark.
//
// Why HTTP and not stdio: the load client must be able to talk to this upstream directly, with
// the same transport, client code and connection pattern it uses against the proxy; the
// difference between "client -> echo" and "client -> mcpproxy -> echo" is then exactly the
// proxy's own cost (downstream HTTP parse, session and routing, upstream HTTP client, relay).
// With a stdio upstream the direct baseline would need a different client and transport.
//
// It is deliberately cheap: one thread, one coroutine per connection, a string search instead
// of a full JSON-RPC stack for the fixed shapes the benchmark sends (the request is still
// parsed with Boost.JSON so ids and arguments are echoed faithfully). Sessions are accepted
// without bookkeeping: initialize hands out an id, every later request is answered.
//
//   bench_echo_server [--port N]   (127.0.0.1 only; prints "listening on 127.0.0.1:<port>")
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

std::uint64_t g_sessions = 0;

json::object toolList() {
  json::object message_prop{{"type", "string"}, {"description", "Message to echo"}};
  json::object schema{{"type", "object"},
                      {"properties", json::object{{"message", message_prop}}},
                      {"required", json::array{"message"}}};
  json::object tool{{"name", "echo"},
                    {"description", "Echoes back the input"},
                    {"inputSchema", std::move(schema)}};
  return json::object{{"tools", json::array{std::move(tool)}}};
}

// The JSON body answering `request`, or empty for a notification (202).
std::string answer(const json::object& request, std::string& session_out) {
  const json::value* id = request.if_contains("id");
  if (id == nullptr) return {};
  std::string_view method;
  if (const auto* m = request.if_contains("method"); m && m->is_string()) method = m->get_string();
  static const json::object kEmpty;
  const auto* pv = request.if_contains("params");
  const json::object& params = pv && pv->is_object() ? pv->get_object() : kEmpty;
  json::object reply{{"jsonrpc", "2.0"}, {"id", *id}};
  if (method == "initialize") {
    std::string version = "2025-06-18";
    if (const auto* v = params.if_contains("protocolVersion"); v && v->is_string())
      version = std::string(v->get_string());
    json::object result{{"protocolVersion", version},
                        {"capabilities", json::object{{"tools", json::object{}}}},
                        {"serverInfo", json::object{{"name", "bench-echo"}, {"version", "1.0"}}}};
    reply["result"] = std::move(result);
    session_out = "echo-session-" + std::to_string(++g_sessions);
  } else if (method == "tools/list") {
    reply["result"] = toolList();
  } else if (method == "tools/call") {
    std::string text = "Echo: ";
    if (const auto* args = params.if_contains("arguments"); args && args->is_object()) {
      if (const auto* msg = args->as_object().if_contains("message"); msg && msg->is_string())
        text += msg->get_string();
    }
    json::object block{{"type", "text"}, {"text", text}};
    reply["result"] = json::object{{"content", json::array{std::move(block)}}};
  } else if (method == "ping") {
    reply["result"] = json::object{};
  } else {
    reply["error"] = json::object{{"code", -32601}, {"message", "Method not found"}};
  }
  return json::serialize(reply);
}

asio::awaitable<void> serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    boost::system::error_code ec;
    co_await http::async_read(stream, buffer, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::server, "bench-echo");
    if (req.method() != http::verb::post) {
      // No server-initiated stream (GET) and nothing to clean up (DELETE).
      res.result(req.method() == http::verb::delete_ ? http::status::ok
                                                     : http::status::method_not_allowed);
    } else {
      json::value parsed = json::parse(req.body(), ec);
      if (ec || !parsed.is_object()) {
        res.result(http::status::bad_request);
        res.set(http::field::content_type, "application/json");
        res.body() =
            R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}})";
      } else {
        std::string session;
        std::string body = answer(parsed.get_object(), session);
        if (body.empty()) {
          res.result(http::status::accepted);
        } else {
          res.set(http::field::content_type, "application/json");
          res.body() = std::move(body);
        }
        if (!session.empty()) res.set("Mcp-Session-Id", session);
      }
    }
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !req.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

asio::awaitable<void> acceptLoop(tcp::acceptor& acceptor) {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket =
        co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = 0;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--port" && i + 1 < argc) {
      port = static_cast<unsigned short>(std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: bench_echo_server [--port N]\n");
      return 2;
    }
  }
  asio::io_context io(1);
  boost::system::error_code ec;
  tcp::acceptor acceptor(io);
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "bench_echo_server: cannot listen: %s\n", ec.message().c_str());
    return 1;
  }
  std::fprintf(stderr, "listening on 127.0.0.1:%u\n", acceptor.local_endpoint().port());
  std::fflush(stderr);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) {
    acceptor.close();
    io.stop();
  });
  asio::co_spawn(io, acceptLoop(acceptor), asio::detached);
  io.run();
  return 0;
}
