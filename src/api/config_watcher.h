// Hot reload (issue 6): watches the config file's directory with inotify (editors replace files
// by rename, so watching the file itself would lose it), waits until events stop for a short
// debounce, then asks the ConfigController to reload. The controller ignores the proxy's own
// writes by content hash.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>

#include "common/result.h"

namespace mcpproxy::api {

class ConfigWatcher {
 public:
  // `on_change` runs on the executor after the file settled for `debounce`.
  ConfigWatcher(boost::asio::any_io_executor executor, std::filesystem::path file,
                std::function<void()> on_change,
                std::chrono::milliseconds debounce = std::chrono::milliseconds(200));
  ~ConfigWatcher();

  Result<void> start();
  void stop();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace mcpproxy::api
