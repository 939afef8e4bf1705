// See response_cache.h.
#include "router/response_cache.h"

#include "common/random.h"

namespace mcpproxy::router {

std::string ResponseCache::put(std::string text) {
  std::string key = randomHex(12);
  bytes_ += text.size();
  entries_.push_front(Entry{key, std::move(text), Clock::now()});
  by_key_[key] = entries_.begin();
  evict();
  return key;
}

std::optional<std::string_view> ResponseCache::get(const std::string& key) {
  evict();
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return std::nullopt;
  entries_.splice(entries_.begin(), entries_, it->second);  // now most recently used
  return std::string_view(it->second->text);
}

void ResponseCache::evict() {
  auto now = Clock::now();
  // Keep at least the newest entry even if it alone exceeds the byte budget: it was just paged.
  while (entries_.size() > 1 &&
         (entries_.size() > limits_.max_entries || bytes_ > limits_.max_bytes ||
          now - entries_.back().stored > limits_.max_age)) {
    bytes_ -= entries_.back().text.size();
    by_key_.erase(entries_.back().key);
    entries_.pop_back();
  }
  if (entries_.size() == 1 && now - entries_.back().stored > limits_.max_age) {
    bytes_ = 0;
    by_key_.clear();
    entries_.clear();
  }
}

}  // namespace mcpproxy::router
