// See manager.h.
#include "upstream/manager.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.h"

namespace mcpproxy::upstream {

namespace asio = boost::asio;

UpstreamManager::UpstreamManager(asio::any_io_executor executor,
                                 const std::vector<config::ServerConfig>& servers,
                                 UpstreamOptions options, std::function<void()> on_change)
    : executor_(executor), options_(std::move(options)), on_change_(std::move(on_change)) {
  for (const auto& server : servers) add(server);
}

std::shared_ptr<Upstream> UpstreamManager::add(const config::ServerConfig& server) {
  auto upstream =
      std::make_shared<Upstream>(executor_, server, options_,
                                 [on_change = on_change_, observer = observer_](Upstream& changed) {
                                   if (*observer) (*observer)(changed);
                                   if (on_change) on_change();
                                 });
  upstreams_.push_back(upstream);
  return upstream;
}

std::shared_ptr<Upstream> UpstreamManager::detach(std::string_view name) {
  for (auto it = upstreams_.begin(); it != upstreams_.end(); ++it) {
    if ((*it)->name() != name) continue;
    auto upstream = *it;
    upstreams_.erase(it);
    return upstream;
  }
  return nullptr;
}

void UpstreamManager::reorder(const std::vector<std::string>& names) {
  std::vector<std::shared_ptr<Upstream>> ordered;
  for (const auto& name : names) {
    for (auto& upstream : upstreams_) {
      if (upstream && upstream->name() == name) ordered.push_back(std::move(upstream));
    }
  }
  for (auto& upstream : upstreams_) {
    if (upstream) ordered.push_back(std::move(upstream));
  }
  upstreams_ = std::move(ordered);
}

void UpstreamManager::startAll() {
  for (auto& upstream : upstreams_) upstream->start();
}

asio::awaitable<void> UpstreamManager::startAllInTurns() {
  // A copy: add/detach/reorder during a turn must not invalidate what we iterate.
  std::vector<std::shared_ptr<Upstream>> snapshot = upstreams_;
  for (auto& upstream : snapshot) {
    if (find(upstream->name()) != upstream.get()) continue;  // replaced or removed meanwhile
    upstream->start();
    co_await asio::post(executor_, asio::use_awaitable);
  }
}

asio::awaitable<void> UpstreamManager::stopAll() {
  co_await stopMany(upstreams_);
}

asio::awaitable<void> UpstreamManager::stopMany(std::vector<std::shared_ptr<Upstream>> upstreams) {
  if (upstreams.empty()) co_return;
  auto remaining = std::make_shared<std::size_t>(upstreams.size());
  asio::steady_timer all_done(executor_);
  all_done.expires_at(asio::steady_timer::time_point::max());
  for (auto& upstream : upstreams) {
    asio::co_spawn(executor_, upstream->stop(), [remaining, &all_done](std::exception_ptr) {
      if (--*remaining == 0) all_done.cancel();
    });
  }
  while (*remaining > 0) {
    boost::system::error_code ec;
    co_await all_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

std::shared_ptr<Upstream> UpstreamManager::findShared(std::string_view name) const {
  for (const auto& upstream : upstreams_) {
    if (upstream->name() == name) return upstream;
  }
  return nullptr;
}

Upstream* UpstreamManager::find(std::string_view name) const {
  for (const auto& upstream : upstreams_) {
    if (upstream->name() == name) return upstream.get();
  }
  return nullptr;
}

}  // namespace mcpproxy::upstream
