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
  // The same, one upstream per turn of the event loop (spawning 70 children back to back kept
  // the listening socket unanswered for ~250 ms). The list may change between turns (a config
  // change through the API right after start-up): upstreams that were replaced or removed
  // meanwhile are skipped, and ones already started by whoever added them are left alone.
  boost::asio::awaitable<void> startAllInTurns();
  // Stops all upstreams concurrently and returns when every one has stopped.
  boost::asio::awaitable<void> stopAll();

  Upstream* find(std::string_view name) const;
  // The same, for callers that hold it across a suspension.
  std::shared_ptr<Upstream> findShared(std::string_view name) const;
  boost::asio::any_io_executor executor() const { return executor_; }

  // --- Runtime changes (the management API and config reload, issue 6) ---
  // Creates an upstream for `server` at the end of the list (not started: call start() on it).
  // The name must not exist yet.
  std::shared_ptr<Upstream> add(const config::ServerConfig& server);
  // Takes the upstream out of the list (nullptr when unknown); the caller stops it. Calls in
  // flight keep it alive until they finish.
  std::shared_ptr<Upstream> detach(std::string_view name);
  // Orders the list like `names` (the config order, which resolves tool-name collisions);
  // upstreams not named keep their relative order at the end.
  void reorder(const std::vector<std::string>& names);
  // Options for upstreams created from now on (timeouts changed by a config reload).
  void setOptions(UpstreamOptions options) { options_ = std::move(options); }
  const UpstreamOptions& options() const { return options_; }
  // Stops the given upstreams concurrently; returns when all have stopped.
  boost::asio::awaitable<void> stopMany(std::vector<std::shared_ptr<Upstream>> upstreams);
  // Also told about every change, with the upstream that changed (events, metrics).
  void setObserver(std::function<void(Upstream&)> observer) { *observer_ = std::move(observer); }
  // In configuration order (the order that resolves tool-name collisions).
  const std::vector<std::shared_ptr<Upstream>>& all() const { return upstreams_; }

 private:
  boost::asio::any_io_executor executor_;
  std::vector<std::shared_ptr<Upstream>> upstreams_;
  UpstreamOptions options_;
  std::function<void()> on_change_;
  // Shared with every upstream's change handler, so setObserver reaches existing upstreams.
  std::shared_ptr<std::function<void(Upstream&)>> observer_ =
      std::make_shared<std::function<void(Upstream&)>>();
};

}  // namespace mcpproxy::upstream
