// A cancellation flag that several parties can watch: the downstream request a client cancels
// (notifications/cancelled), the upstream request made on its behalf, and a server->client
// request relayed for it. Single-threaded (the event loop), so no atomics.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mcpproxy {

class Cancellation {
 public:
  bool cancelled() const { return cancelled_; }
  const std::string& reason() const { return reason_; }

  // Runs `callback` once when cancel() is called (at once when it already was). Returns a
  // handle for forget(); callbacks must not outlive what they capture, so owners forget them.
  std::size_t onCancel(std::function<void()> callback) {
    if (cancelled_) {
      callback();
      return 0;
    }
    callbacks_.emplace_back(++next_handle_, std::move(callback));
    return next_handle_;
  }
  void forget(std::size_t handle) {
    std::erase_if(callbacks_, [handle](const auto& entry) { return entry.first == handle; });
  }

  void cancel(std::string reason) {
    if (cancelled_) return;
    cancelled_ = true;
    reason_ = std::move(reason);
    auto callbacks = std::move(callbacks_);
    callbacks_.clear();
    for (auto& [handle, callback] : callbacks) callback();
  }

 private:
  bool cancelled_ = false;
  std::string reason_;
  std::size_t next_handle_ = 0;
  std::vector<std::pair<std::size_t, std::function<void()>>> callbacks_;
};

}  // namespace mcpproxy
