// See manager.h.
#include "upstream/manager.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.h"

namespace mcpproxy::upstream {

namespace asio = boost::asio;

UpstreamManager::UpstreamManager(asio::any_io_executor executor,
                                 const std::vector<config::ServerConfig>& servers,
                                 UpstreamOptions options, std::function<void()> on_change)
    : executor_(executor) {
  for (const auto& server : servers) {
    upstreams_.push_back(
        std::make_shared<Upstream>(executor, server, options, [on_change](Upstream&) {
          if (on_change) on_change();
        }));
  }
}

void UpstreamManager::startAll() {
  for (auto& upstream : upstreams_) upstream->start();
}

asio::awaitable<void> UpstreamManager::stopAll() {
  auto remaining = std::make_shared<std::size_t>(upstreams_.size());
  asio::steady_timer all_done(executor_);
  all_done.expires_at(asio::steady_timer::time_point::max());
  for (auto& upstream : upstreams_) {
    asio::co_spawn(executor_, upstream->stop(), [remaining, &all_done](std::exception_ptr) {
      if (--*remaining == 0) all_done.cancel();
    });
  }
  while (*remaining > 0) {
    boost::system::error_code ec;
    co_await all_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

Upstream* UpstreamManager::find(std::string_view name) const {
  for (const auto& upstream : upstreams_) {
    if (upstream->name() == name) return upstream.get();
  }
  return nullptr;
}

}  // namespace mcpproxy::upstream
