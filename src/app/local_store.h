// The daemon's database opened by a command-line process, with a private event loop that runs
// one store operation at a time to completion. For commands that work without a daemon.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>
#include <memory>

#include "storage/store.h"

namespace mcpproxy::app {

class LocalStore {
 public:
  // nullptr when <data_dir>/mcpproxy.db does not exist or cannot be opened (`why` says which).
  static std::unique_ptr<LocalStore> open(const std::filesystem::path& data_dir,
                                          std::string* why = nullptr) {
    auto file = data_dir / "mcpproxy.db";
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
      if (why) *why = "no database at " + file.string();
      return nullptr;
    }
    auto local = std::unique_ptr<LocalStore>(new LocalStore());
    auto store = storage::Store::open(file, local->io_.get_executor());
    if (!store) {
      if (why) *why = store.error().message;
      return nullptr;
    }
    local->store_ = std::move(*store);
    return local;
  }

  storage::Store& store() { return *store_; }

  template <class T>
  T run(boost::asio::awaitable<T> task) {
    auto future = boost::asio::co_spawn(io_, std::move(task), boost::asio::use_future);
    io_.restart();
    io_.run();
    return future.get();
  }

 private:
  LocalStore() = default;
  boost::asio::io_context io_{1};
  std::unique_ptr<storage::Store> store_;  // declared after io_: destroyed before it
};

}  // namespace mcpproxy::app
