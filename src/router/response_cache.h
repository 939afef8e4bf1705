// Keeps the full text of tool results that were too long for the model's context, so that
// read_cache can page through them. Bounded by entries and bytes (least recently used go
// first) and by age. Keys are random: one client cannot guess another's entries.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mcpproxy::router {

class ResponseCache {
 public:
  struct Limits {
    std::size_t max_entries = 64;
    std::size_t max_bytes = 64 * 1024 * 1024;
    std::chrono::seconds max_age{3600};
  };

  ResponseCache() : ResponseCache(Limits{}) {}
  explicit ResponseCache(Limits limits) : limits_(limits) {}

  // Stores `text` and returns its key.
  std::string put(std::string text);
  // The text for `key`, or nothing when unknown or expired.
  std::optional<std::string_view> get(const std::string& key);

  std::size_t size() const { return entries_.size(); }

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    std::string key;
    std::string text;
    Clock::time_point stored;
  };
  void evict();

  Limits limits_;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> by_key_;
  std::size_t bytes_ = 0;
};

}  // namespace mcpproxy::router
