// See stdio_server.h. stdin and stdout are pipes or terminals in every real use; a regular file
// cannot be registered with epoll, so for those we fall back to plain blocking reads/writes
// (only tests and scripts do that, and a file never blocks for long).
#include "downstream/stdio_server.h"

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <deque>

#include "common/log.h"
#include "protocol/line_framer.h"

namespace mcpproxy::downstream {

namespace asio = boost::asio;
namespace json = boost::json;

struct StdioServer::Impl : std::enable_shared_from_this<StdioServer::Impl> {
  Impl(asio::any_io_executor ex, session::Dispatcher& d, session::SessionRegistry& s,
       protocol::Limits l)
      : executor(ex), dispatcher(d), sessions(s), limits(l), in(ex), out(ex), idle(ex) {}

  asio::any_io_executor executor;
  session::Dispatcher& dispatcher;
  session::SessionRegistry& sessions;
  protocol::Limits limits;
  asio::posix::stream_descriptor in;
  asio::posix::stream_descriptor out;
  bool in_async = false;
  bool out_async = false;
  std::deque<std::string> outgoing;
  bool writing = false;
  bool stopped = false;
  std::size_t in_flight = 0;
  asio::steady_timer idle;  // cancelled when in_flight drops to 0
  std::shared_ptr<session::Session> session;

  void send(const protocol::Message& message) {
    std::string line = protocol::serialize(message);
    line.push_back('\n');
    if (!out_async) {
      std::string_view rest = line;
      while (!rest.empty()) {
        ssize_t n = ::write(STDOUT_FILENO, rest.data(), rest.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        rest.remove_prefix(static_cast<std::size_t>(n));
      }
      return;
    }
    outgoing.push_back(std::move(line));
    if (!writing) {
      writing = true;
      asio::co_spawn(executor, drain(), asio::detached);
    }
  }

  asio::awaitable<void> drain() {
    auto self = shared_from_this();
    while (!outgoing.empty()) {
      std::string line = std::move(outgoing.front());
      outgoing.pop_front();
      boost::system::error_code ec;
      co_await asio::async_write(out, asio::buffer(line),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        log::warn("stdio: cannot write to stdout: {}", ec.message());
        outgoing.clear();
        stopped = true;
        break;
      }
    }
    writing = false;
  }

  void onLine(std::string_view line) {
    auto value = protocol::parseJson(line, limits);
    if (!value) {
      send(protocol::makeError(value.error()));
      return;
    }
    if (value->is_array()) {
      // Batches exist only in 2025-03-26; every element is served on its own.
      if (session->protocolVersion() != "2025-03-26" || value->get_array().empty()) {
        send(protocol::makeError(
            nullptr, protocol::rpc_error::kInvalidRequest,
            "Invalid Request: batches are only allowed in protocol 2025-03-26"));
        return;
      }
      for (const auto& element : value->get_array()) dispatch(element);
      return;
    }
    dispatch(*value);
  }

  void dispatch(const json::value& value) {
    auto message = protocol::toMessage(value);
    if (!message) {
      send(protocol::makeError(message.error()));
      return;
    }
    ++in_flight;
    asio::co_spawn(
        executor,
        [](std::shared_ptr<Impl> self, protocol::Message m) -> asio::awaitable<void> {
          auto response = co_await self->dispatcher.handle(self->session, std::move(m));
          if (response) self->send(*response);
          if (--self->in_flight == 0) self->idle.cancel();
        }(shared_from_this(), std::move(*message)),
        asio::detached);
  }

  asio::awaitable<void> run() {
    auto self = shared_from_this();
    session = sessions.create();
    session->setSink([this](const protocol::Message& m) { send(m); });

    boost::system::error_code ec;
    int in_fd = ::dup(STDIN_FILENO);
    in.assign(in_fd, ec);
    in_async = !ec;
    if (ec) ::close(in_fd);
    int out_fd = ::dup(STDOUT_FILENO);
    out.assign(out_fd, ec);
    out_async = !ec;
    if (ec) ::close(out_fd);

    protocol::LineFramer framer(limits.max_message_bytes);
    std::vector<char> buffer(64 * 1024);
    auto on_oversize = [this](std::size_t bytes) {
      send(protocol::makeError(nullptr, protocol::rpc_error::kParseError,
                               "Parse error: message of " + std::to_string(bytes) +
                                   " bytes exceeds the limit of " +
                                   std::to_string(limits.max_message_bytes)));
    };
    while (!stopped) {
      std::size_t n = 0;
      if (in_async) {
        n = co_await in.async_read_some(asio::buffer(buffer),
                                        asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
      } else {
        ssize_t r = ::read(STDIN_FILENO, buffer.data(), buffer.size());
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n = static_cast<std::size_t>(r);
      }
      framer.feed(
          std::string_view(buffer.data(), n), [this](std::string_view line) { onLine(line); },
          on_oversize);
    }
    log::info("stdio: input closed; finishing {} request(s) in flight", in_flight);
    while (in_flight > 0) {
      idle.expires_after(std::chrono::seconds(1));
      co_await idle.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    // Let queued output reach the client before returning.
    asio::steady_timer flush(executor);
    while (writing) {
      flush.expires_after(std::chrono::milliseconds(5));
      co_await flush.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    session->setSink(nullptr);
    sessions.remove(session->id());
  }
};

StdioServer::StdioServer(asio::any_io_executor executor, session::Dispatcher& dispatcher,
                         session::SessionRegistry& sessions, protocol::Limits limits)
    : impl_(std::make_shared<Impl>(executor, dispatcher, sessions, limits)) {}

StdioServer::~StdioServer() = default;

asio::awaitable<void> StdioServer::run() {
  co_await impl_->run();
}

void StdioServer::stop() {
  impl_->stopped = true;
  boost::system::error_code ec;
  impl_->in.cancel(ec);
}

}  // namespace mcpproxy::downstream
