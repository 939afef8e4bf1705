// See config_watcher.h. The inotify descriptor is read through an Asio stream_descriptor, so
// waiting costs nothing on the event loop; a burst of events (write, chmod, rename) re-arms one
// debounce timer, so a save is reloaded once.
#include "api/config_watcher.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>

#include "common/log.h"

namespace mcpproxy::api {

namespace asio = boost::asio;

namespace {

// Whether a buffer of inotify events names `name` (outside the coroutine: inotify_event ends in
// a flexible array member, which cannot live in a coroutine frame).
bool mentions(const char* data, std::size_t n, const std::string& name) {
  for (std::size_t offset = 0; offset + sizeof(inotify_event) <= n;) {
    inotify_event event;
    std::memcpy(&event, data + offset, sizeof event);
    const char* event_name = data + offset + sizeof(inotify_event);
    if (event.len > 0 && offset + sizeof(inotify_event) + event.len <= n &&
        name == std::string(event_name, strnlen(event_name, event.len))) {
      return true;
    }
    offset += sizeof(inotify_event) + event.len;
  }
  return false;
}

}  // namespace

struct ConfigWatcher::Impl : std::enable_shared_from_this<ConfigWatcher::Impl> {
  Impl(asio::any_io_executor ex, std::filesystem::path f, std::function<void()> cb,
       std::chrono::milliseconds d)
      : executor(ex),
        file(std::move(f)),
        on_change(std::move(cb)),
        debounce(d),
        descriptor(ex),
        timer(ex) {}

  asio::any_io_executor executor;
  std::filesystem::path file;
  std::function<void()> on_change;
  std::chrono::milliseconds debounce;
  asio::posix::stream_descriptor descriptor;
  asio::steady_timer timer;
  bool stopped = false;
  bool pending = false;

  asio::awaitable<void> readLoop() {
    auto self = shared_from_this();
    const std::string name = file.filename().string();
    std::array<char, 16 * 1024> buffer;
    while (!stopped) {
      boost::system::error_code ec;
      std::size_t n = co_await descriptor.async_read_some(
          asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
      if (ec || stopped) break;
      bool relevant = mentions(buffer.data(), n, name);
      if (relevant) arm();
    }
  }

  void arm() {
    timer.expires_after(debounce);
    if (pending) return;  // the running wait sees the new expiry
    pending = true;
    asio::co_spawn(executor, wait(), asio::detached);
  }

  asio::awaitable<void> wait() {
    auto self = shared_from_this();
    // Waits until the timer really expired (re-arming moves the expiry and cancels nothing, but
    // an earlier expiry could already have been queued; check the clock).
    while (!stopped) {
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (stopped) break;
      if (asio::steady_timer::clock_type::now() >= timer.expiry()) break;
    }
    pending = false;
    if (!stopped && on_change) on_change();
  }
};

ConfigWatcher::ConfigWatcher(asio::any_io_executor executor, std::filesystem::path file,
                             std::function<void()> on_change, std::chrono::milliseconds debounce)
    : impl_(std::make_shared<Impl>(executor, std::move(file), std::move(on_change), debounce)) {}

ConfigWatcher::~ConfigWatcher() {
  stop();
}

Result<void> ConfigWatcher::start() {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return makeError(ErrorCode::kIo, std::string("inotify: ") + std::strerror(errno));
  std::filesystem::path dir = impl_->file.parent_path();
  if (dir.empty()) dir = ".";
  if (::inotify_add_watch(fd, dir.c_str(),
                          IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MODIFY) < 0) {
    int saved = errno;
    ::close(fd);
    return makeError(ErrorCode::kIo,
                     "cannot watch " + dir.string() + ": " + std::string(std::strerror(saved)));
  }
  impl_->descriptor.assign(fd);
  asio::co_spawn(impl_->executor, impl_->readLoop(), asio::detached);
  return {};
}

void ConfigWatcher::stop() {
  impl_->stopped = true;
  boost::system::error_code ec;
  impl_->descriptor.close(ec);
  impl_->timer.cancel();
}

}  // namespace mcpproxy::api
