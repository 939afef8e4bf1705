// See tools_command.h. Upstreams are started exactly as `serve` starts them (same config, same
// supervision), so what this prints is what a client of the daemon would see.
#include "app/tools_command.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <optional>

#include "app/paths.h"
#include "common/log.h"
#include "config/config.h"
#include "router/router.h"
#include "storage/store.h"
#include "upstream/manager.h"

namespace mcpproxy::app {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

std::string firstLine(std::string_view text, std::size_t max = 100) {
  auto line = text.substr(0, text.find('\n'));
  if (line.size() > max) return std::string(line.substr(0, max - 3)) + "...";
  return std::string(line);
}

// Loads the config, runs every enabled upstream until each is ready or failed, calls
// `use(router, upstreams)`, then stops them. Returns the exit code.
template <class Use>
int withUpstreams(const ToolsOptions& options, Use use) {
  auto path = configPath(options.config_path, options.data_dir);
  std::vector<std::string> warnings;
  auto cfg = config::loadConfigFile(path, warnings);
  if (!cfg) {
    std::fprintf(stderr, "mcpproxy: %s\n", cfg.error().message.c_str());
    return 2;
  }
  log::init(log::Options{log::Level::kError, ""});
  auto data_dir = !options.data_dir.empty() ? expandHome(options.data_dir)
                  : !cfg->data_dir.empty()  ? expandHome(cfg->data_dir)
                                            : path.parent_path();
  if (auto dir = ensurePrivateDirectory(data_dir / "logs"); !dir) {
    std::fprintf(stderr, "mcpproxy: %s\n", dir.error().message.c_str());
    return 1;
  }

  // The daemon's trust decisions, so quarantined servers and unapproved tools stay hidden here
  // too (read only: this command never approves anything). Own event loop: nothing else runs.
  std::optional<storage::TrustSnapshot> trust;
  std::error_code exists_ec;
  if (fs::exists(data_dir / "mcpproxy.db", exists_ec)) {
    asio::io_context store_io(1);
    if (auto store = storage::Store::open(data_dir / "mcpproxy.db", store_io.get_executor());
        store) {
      auto future = asio::co_spawn(store_io, (*store)->trust(), asio::use_future);
      store_io.run();
      if (auto loaded = future.get(); loaded) trust = std::move(*loaded);
    }
  }

  asio::io_context io(1);
  upstream::UpstreamOptions upstream_options;
  upstream_options.init_timeout = cfg->init_timeout;
  upstream_options.call_timeout = cfg->call_timeout;
  upstream_options.health_interval = std::chrono::milliseconds(0);
  upstream_options.log_dir = data_dir / "logs";
  upstream_options.max_json_depth = cfg->max_json_depth;
  bool settled = false;
  std::optional<upstream::UpstreamManager> upstreams;
  auto allSettled = [&] {
    for (const auto& u : upstreams->all()) {
      if (u->state() == upstream::State::kConnecting) return false;
    }
    return true;
  };
  upstreams.emplace(io.get_executor(), cfg->servers, upstream_options, [&] {
    if (upstreams && !settled && allSettled()) {
      settled = true;
      io.stop();
    }
  });
  upstreams->startAll();
  if (!allSettled()) io.run_for(cfg->init_timeout + std::chrono::seconds(2));
  io.restart();

  router::RouterOptions router_options;
  router_options.tools_limit = cfg->tools_limit;
  router::Router router(*upstreams, router_options);
  if (trust) router.setTrust(std::move(*trust));
  router.rebuild();
  std::size_t ready = 0;
  for (const auto& u : upstreams->all()) {
    if (u->state() == upstream::State::kReady) {
      ++ready;
    } else if (u->state() != upstream::State::kDisabled) {
      std::fprintf(stderr, "mcpproxy: server '%s' is %s\n", u->name().c_str(),
                   u->describeState().c_str());
    }
  }
  int code = use(router, *upstreams, *cfg, ready);

  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { co_await upstreams->stopAll(); },
      [&](std::exception_ptr) { io.stop(); });
  io.run_for(std::chrono::seconds(15));
  return code;
}

}  // namespace

int runToolsSearch(const ToolsOptions& options) {
  return withUpstreams(options, [&](router::Router& router, upstream::UpstreamManager&,
                                    const config::Config& cfg, std::size_t ready) {
    if (ready == 0) {
      std::fprintf(stderr, "mcpproxy: no server is ready; nothing to search\n");
      return 1;
    }
    std::size_t limit =
        options.limit > 0 ? std::min<std::size_t>(options.limit, 100) : cfg.tools_limit;
    auto found = router.findTools(options.query, limit);
    if (options.json) {
      std::printf("%s\n", json::serialize(json::object{{"tools", found}}).c_str());
      return 0;
    }
    if (found.empty()) std::printf("no tools match \"%s\"\n", options.query.c_str());
    for (const auto& entry : found) {
      const auto& e = entry.as_object();
      std::printf("%-48s %7.3f  %s\n", std::string(e.at("name").as_string()).c_str(),
                  e.at("score").to_number<double>(),
                  firstLine(e.at("description").as_string()).c_str());
    }
    return 0;
  });
}

int runToolsList(const ToolsOptions& options) {
  return withUpstreams(options, [&](router::Router&, upstream::UpstreamManager& upstreams,
                                    const config::Config&, std::size_t) {
    json::array all;
    for (const auto& u : upstreams.all()) {
      if (u->state() != upstream::State::kReady) continue;
      if (!options.server.empty() && u->name() != options.server) continue;
      for (const auto& definition : u->tools()) {
        std::string name = u->name() + ":" + std::string(definition.at("name").as_string());
        if (options.json) {
          json::object entry = definition;
          entry["name"] = name;
          entry["server"] = u->name();
          entry["tool"] = definition.at("name");
          all.push_back(std::move(entry));
        } else {
          const auto* description = definition.if_contains("description");
          std::printf("%-48s %s\n", name.c_str(),
                      description && description->is_string()
                          ? firstLine(description->get_string()).c_str()
                          : "");
        }
      }
    }
    if (options.json) std::printf("%s\n", json::serialize(json::object{{"tools", all}}).c_str());
    return 0;
  });
}

}  // namespace mcpproxy::app
