// See socket_server.h. Beast over asio::local::stream_protocol, one coroutine per connection,
// like the TCP listener in downstream/http_server.cc (the shared request/response conversion is
// api/beast_glue.h). This is the third file that instantiates Beast (docs/STYLE.md rule 10).
#include "api/socket_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <unordered_set>

#include "api/beast_glue.h"
#include "common/fd.h"
#include "common/log.h"

namespace mcpproxy::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using local = asio::local::stream_protocol;
using LocalStream = beast::basic_stream<local>;

// Request line and headers together; longer ones get 431.
constexpr std::uint32_t kMaxHeaderBytes = 64 * 1024;

struct SocketServer::Impl : std::enable_shared_from_this<SocketServer::Impl> {
  Impl(asio::any_io_executor ex, std::filesystem::path p, RequestHandler& h, SocketServerOptions o)
      : executor(ex), path(std::move(p)), handler(h), options(o), acceptor(ex) {}

  asio::any_io_executor executor;
  std::filesystem::path path;
  RequestHandler& handler;
  SocketServerOptions options;
  local::acceptor acceptor;
  std::unordered_set<LocalStream*> connections;
  bool stopping = false;
  bool owns_file = false;

  asio::awaitable<void> acceptLoop() {
    auto self = shared_from_this();
    while (!stopping) {
      boost::system::error_code ec;
      local::socket socket =
          co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) break;
        log::warn("api socket: accept failed: {}", ec.message());
        continue;
      }
      setCloseOnExec(socket.native_handle());
      if (connections.size() >= options.max_connections) {
        socket.close(ec);
        continue;
      }
      asio::co_spawn(executor, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(local::socket socket) {
    auto self = shared_from_this();
    LocalStream stream(std::move(socket));
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
        HttpResponse too_large = errorResponse(
            "payload_too_large",
            "Request body exceeds " + std::to_string(options.max_body_bytes) + " bytes");
        co_await writeResponse(stream, 11, std::move(too_large), false, options.keepalive_interval);
        break;
      }
      if (ec == http::error::header_limit) {
        HttpResponse too_large =
            errorResponse("headers_too_large",
                          "Request headers exceed " + std::to_string(kMaxHeaderBytes) + " bytes");
        co_await writeResponse(stream, 11, std::move(too_large), false, options.keepalive_interval);
        break;
      }
      if (ec) break;
      stream.expires_never();
      auto req = parser.release();
      const unsigned version = req.version();
      const bool keep_alive = req.keep_alive();
      HttpRequest request = fromBeast(req, /*local=*/true);
      HttpResponse response = co_await handler.handle(std::move(request));
      bool reuse = co_await writeResponse(stream, version, std::move(response), keep_alive,
                                          options.keepalive_interval);
      if (!reuse) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(local::socket::shutdown_send, ignored);
    stream.close();
    connections.erase(&stream);
  }

  void removeFile() {
    if (!owns_file) return;
    owns_file = false;
    ::unlink(path.c_str());
  }
};

SocketServer::SocketServer(asio::any_io_executor executor, std::filesystem::path path,
                           RequestHandler& handler, SocketServerOptions options)
    : impl_(std::make_shared<Impl>(executor, std::move(path), handler, options)) {}

SocketServer::~SocketServer() {
  stop();
}

Result<void> SocketServer::listen() {
  const std::string file = impl_->path.string();
  if (file.size() >= sizeof(sockaddr_un::sun_path)) {
    return makeError(ErrorCode::kInvalidArgument,
                     "socket path too long for a Unix socket: " + file);
  }
  boost::system::error_code ec;
  std::error_code fs_ec;
  if (std::filesystem::exists(impl_->path, fs_ec)) {
    // A live daemon answers a connect; a file left by a crash refuses it and is replaced.
    local::socket probe(impl_->executor);
    probe.open(local(), ec);
    if (!ec) setCloseOnExec(probe.native_handle());
    probe.connect(local::endpoint(file), ec);
    if (!ec) {
      return makeError(ErrorCode::kUnavailable,
                       "another mcpproxy serves on " + file + "; not taking it over");
    }
    ::unlink(file.c_str());
  }
  auto& acceptor = impl_->acceptor;
  acceptor.open(local(), ec);
  if (!ec) setCloseOnExec(acceptor.native_handle());
  // The socket is created with the process umask; narrow it to the user before anyone can
  // connect (listen() comes after the chmod).
  mode_t old_mask = ::umask(0177);
  if (!ec) acceptor.bind(local::endpoint(file), ec);
  ::umask(old_mask);
  if (!ec && ::chmod(file.c_str(), 0600) != 0) {
    ec = boost::system::error_code(errno, boost::system::system_category());
  }
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor.close(ec);
    return makeError(ErrorCode::kIo, "cannot listen on " + file + ": " + ec.message());
  }
  impl_->owns_file = true;
  return {};
}

void SocketServer::start() {
  asio::co_spawn(impl_->executor, impl_->acceptLoop(), asio::detached);
}

void SocketServer::stop() {
  impl_->stopping = true;
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  for (auto* connection : impl_->connections) connection->socket().close(ec);
  impl_->removeFile();
}

}  // namespace mcpproxy::api
