// All upstreams of the running configuration: started in parallel, stopped in parallel, looked
// up by name. Changes of any upstream (state or tools) are reported through one callback.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "upstream/upstream.h"

namespace mcpproxy::upstream {

class UpstreamManager {
 public:
  UpstreamManager(boost::asio::any_io_executor executor,
                  const std::vector<config::ServerConfig>& servers, UpstreamOptions options,
                  std::function<void()> on_change);

  // Starts every upstream's supervision at once: slow servers do not delay the others.
  void startAll();
  // Stops all upstreams concurrently and returns when every one has stopped.
  boost::asio::awaitable<void> stopAll();

  Upstream* find(std::string_view name) const;
  boost::asio::any_io_executor executor() const { return executor_; }
  // In configuration order (the order that resolves tool-name collisions).
  const std::vector<std::shared_ptr<Upstream>>& all() const { return upstreams_; }

 private:
  boost::asio::any_io_executor executor_;
  std::vector<std::shared_ptr<Upstream>> upstreams_;
};

}  // namespace mcpproxy::upstream
