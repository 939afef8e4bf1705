// The live event stream behind GET /events: publishers (upstream state changes, config reloads,
// tool calls) hand over an event name and a JSON object; every subscriber gets it as an SSE
// frame. Bounded: a slow subscriber loses its oldest frames, and the number of subscribers is
// capped.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>
#include <memory>
#include <string_view>
#include <vector>

#include "api/http_types.h"

namespace mcpproxy::api {

class EventHub {
 public:
  static constexpr std::size_t kMaxSubscribers = 64;
  static constexpr std::size_t kMaxQueuedFrames = 1000;  // per subscriber

  explicit EventHub(boost::asio::any_io_executor executor) : executor_(executor) {}

  // A new subscriber, or nullptr when kMaxSubscribers are connected.
  std::shared_ptr<EventSubscription> subscribe();
  // Queues `event: <name>` with `data: <json>` for every subscriber.
  void publish(std::string_view name, const boost::json::object& data);
  // Ends every stream (shutdown).
  void closeAll();
  std::size_t subscribers() const { return subscribers_.size(); }

 private:
  void prune();
  boost::asio::any_io_executor executor_;
  std::vector<std::shared_ptr<EventSubscription>> subscribers_;
};

}  // namespace mcpproxy::api
