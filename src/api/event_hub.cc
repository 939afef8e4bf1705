// See event_hub.h. Runs on the event loop thread only.
#include "api/event_hub.h"

#include <algorithm>
#include <boost/json/serialize.hpp>

#include "common/redact.h"
#include "protocol/sse.h"

namespace mcpproxy::api {

void EventHub::prune() {
  std::erase_if(subscribers_, [](const auto& s) { return s->closed; });
}

std::shared_ptr<EventSubscription> EventHub::subscribe() {
  prune();
  if (subscribers_.size() >= kMaxSubscribers) return nullptr;
  auto subscription = std::make_shared<EventSubscription>(executor_);
  subscribers_.push_back(subscription);
  return subscription;
}

void EventHub::publish(std::string_view name, const boost::json::object& data) {
  prune();
  if (subscribers_.empty()) return;
  protocol::SseEvent event;
  event.event = std::string(name);
  // Events reach browsers and scripts: the one redaction rule applies (common/redact.h).
  event.data = redactText(boost::json::serialize(data));
  std::string frame = protocol::formatSseEvent(event);
  for (auto& subscriber : subscribers_) {
    if (subscriber->frames.size() >= kMaxQueuedFrames) subscriber->frames.pop_front();
    subscriber->frames.push_back(frame);
    subscriber->wake();
  }
}

void EventHub::closeAll() {
  for (auto& subscriber : subscribers_) {
    subscriber->closed = true;
    subscriber->wake();
  }
  subscribers_.clear();
}

}  // namespace mcpproxy::api
