// See daemon_client.h. Beast over asio::local::stream_protocol; this is the only CLI file that
// includes Beast (docs/STYLE.md rule 10). The exchange runs on a private io_context with
// run_for(), so a daemon that accepts but never answers cannot hang a command.
#include "app/daemon_client.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/fd.h"

namespace mcpproxy::app {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

namespace {

constexpr std::size_t kMaxResponseBytes = 64 * 1024 * 1024;

}  // namespace

std::string DaemonResponse::errorMessage() const {
  if (body.is_object()) {
    if (const auto* error = body.get_object().if_contains("error"); error && error->is_object()) {
      if (const auto* message = error->get_object().if_contains("message");
          message && message->is_string()) {
        return std::string(message->get_string());
      }
    }
  }
  return "the daemon answered HTTP " + std::to_string(status);
}

std::string DaemonResponse::errorCode() const {
  if (body.is_object()) {
    if (const auto* error = body.get_object().if_contains("error"); error && error->is_object()) {
      if (const auto* code = error->get_object().if_contains("code"); code && code->is_string()) {
        return std::string(code->get_string());
      }
    }
  }
  return "";
}

Result<DaemonResponse> DaemonClient::request(std::string_view method, std::string_view target,
                                             const json::value* body,
                                             std::chrono::milliseconds timeout) const {
  asio::io_context io(1);
  asio::local::stream_protocol::socket socket(io);
  boost::system::error_code ec;
  socket.open(asio::local::stream_protocol(), ec);
  if (!ec) setCloseOnExec(socket.native_handle());
  if (!ec) socket.connect(asio::local::stream_protocol::endpoint(socket_path_.string()), ec);
  if (ec) {
    if (ec == asio::error::connection_refused || ec == asio::error::not_found ||
        ec.value() == ENOENT) {
      return makeError(ErrorCode::kUnavailable,
                       "the daemon is not running (no answer on " + socket_path_.string() + ")");
    }
    return makeError(ErrorCode::kUnavailable,
                     "cannot connect to " + socket_path_.string() + ": " + ec.message());
  }

  http::request<http::string_body> req;
  req.method(http::string_to_verb(method));
  req.target(beast::string_view(target.data(), target.size()));
  req.version(11);
  req.set(http::field::host, "localhost");
  req.set(http::field::user_agent, "mcpproxy-cli");
  req.set(http::field::accept, "application/json");
  req.set(http::field::connection, "close");
  if (body) {
    req.set(http::field::content_type, "application/json");
    req.body() = json::serialize(*body);
  }
  req.prepare_payload();

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBytes);
  bool done = false;
  boost::system::error_code result;
  http::async_write(socket, req, [&](boost::system::error_code write_ec, std::size_t) {
    if (write_ec) {
      result = write_ec;
      done = true;
      return;
    }
    http::async_read(socket, buffer, parser, [&](boost::system::error_code read_ec, std::size_t) {
      result = read_ec;
      done = true;
    });
  });
  io.run_for(timeout);
  if (!done) {
    socket.close(ec);
    io.restart();
    io.run_for(std::chrono::seconds(1));  // let the cancelled handlers finish
    return makeError(ErrorCode::kTimeout, "the daemon did not answer " + std::string(method) + " " +
                                              std::string(target) + " in time");
  }
  if (result) {
    return makeError(ErrorCode::kProtocol, "talking to the daemon: " + result.message());
  }
  DaemonResponse response;
  response.status = static_cast<int>(parser.get().result_int());
  const std::string& text = parser.get().body();
  if (!text.empty()) {
    json::value parsed = json::parse(text, ec);
    if (ec) {
      return makeError(ErrorCode::kProtocol, "the daemon answered HTTP " +
                                                 std::to_string(response.status) +
                                                 " with a body that is not JSON");
    }
    response.body = std::move(parsed);
  }
  return response;
}

bool DaemonClient::running() const {
  auto response = request("GET", "/api/v1/status", nullptr, std::chrono::seconds(5));
  return response && response->status == 200;
}

std::string urlEncode(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace mcpproxy::app
