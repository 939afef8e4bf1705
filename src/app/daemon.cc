// Wiring of the daemon, in the order a request flows: config -> upstreams -> router ->
// sessions/dispatcher -> downstream transport. Shutdown runs the other way round.
#include "app/daemon.h"

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "app/paths.h"
#include "common/log.h"
#include "config/config.h"
#include "downstream/http_server.h"
#include "downstream/stdio_server.h"
#include "router/router.h"
#include "session/dispatcher.h"
#include "session/session.h"
#include "storage/store.h"
#include "upstream/manager.h"

namespace mcpproxy::app {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxSessions = 1000;

}  // namespace

int runServe(const ServeOptions& options) {
  // 1. Where things live.
  fs::path default_dir = homeDirectory() / ".mcpproxy";
  fs::path config_path = configPath(options.config_path, options.data_dir);

  // 2. The configuration, created with safe defaults on first run.
  std::error_code ec;
  if (!fs::exists(config_path, ec)) {
    if (!options.config_path.empty()) {
      std::fprintf(stderr, "mcpproxy: config file %s does not exist\n", config_path.c_str());
      return 2;
    }
    if (auto dir = ensurePrivateDirectory(config_path.parent_path()); !dir) {
      std::fprintf(stderr, "mcpproxy: %s\n", dir.error().message.c_str());
      return 1;
    }
    if (auto written = config::writeFileAtomic(config_path, config::defaultConfigText());
        !written) {
      std::fprintf(stderr, "mcpproxy: %s\n", written.error().message.c_str());
      return 1;
    }
    std::fprintf(stderr, "mcpproxy: created a default config at %s\n", config_path.c_str());
  }
  std::vector<std::string> warnings;
  auto loaded = config::loadConfigFile(config_path, warnings);
  if (!loaded) {
    std::fprintf(stderr, "mcpproxy: %s\n", loaded.error().message.c_str());
    return 2;
  }
  config::Config cfg = std::move(*loaded);

  // 3. Logging, then everything else may log.
  std::string level_name = options.log_level.empty() ? cfg.log_level : options.log_level;
  auto level = log::parseLevel(level_name);
  if (!level) {
    std::fprintf(stderr, "mcpproxy: unknown log level '%s'\n", level_name.c_str());
    return 2;
  }
  log::init(log::Options{*level, options.log_file});
  for (const auto& warning : warnings) log::warn("config: {}", warning);

  fs::path data_dir = !options.data_dir.empty() ? expandHome(options.data_dir)
                      : !cfg.data_dir.empty()   ? expandHome(cfg.data_dir)
                                                : default_dir;
  if (auto dir = ensurePrivateDirectory(data_dir / "logs"); !dir) {
    log::error("{}", dir.error().message);
    return 1;
  }
  auto listen = config::parseListenAddress(options.listen.empty() ? cfg.listen : options.listen);
  if (!listen) {
    log::error("listen address: {}", listen.error().message);
    return 2;
  }

  ::signal(SIGPIPE, SIG_IGN);  // a client or child going away is an error code, not a crash
  asio::io_context io(1);
  auto executor = io.get_executor();

  // 4. Upstreams -> router -> sessions -> dispatcher.
  session::SessionRegistry sessions(kMaxSessions, cfg.session_idle_timeout);
  std::optional<router::Router> router;
  std::optional<session::Dispatcher> dispatcher;
  upstream::UpstreamOptions upstream_options;
  upstream_options.init_timeout = cfg.init_timeout;
  upstream_options.call_timeout = cfg.call_timeout;
  upstream_options.health_interval = cfg.health_interval;
  upstream_options.log_dir = data_dir / "logs";
  upstream_options.max_json_depth = cfg.max_json_depth;
  // Upstream state changes come in bursts (70 servers starting together): one rebuild per
  // 50 ms window rather than one per event. Each rebuild rescans every tool once a new server's
  // names appear (cross-server findings), so per-event rebuilds made start-up quadratic.
  bool rebuild_pending = false;
  asio::steady_timer rebuild_timer(executor);
  upstream::UpstreamManager upstreams(executor, cfg.servers, upstream_options, [&] {
    if (rebuild_pending) return;
    rebuild_pending = true;
    rebuild_timer.expires_after(std::chrono::milliseconds(50));
    rebuild_timer.async_wait([&](boost::system::error_code ec) {
      rebuild_pending = false;
      if (!ec && router && router->rebuild()) dispatcher->broadcastToolsChanged(sessions);
    });
  });
  router::RouterOptions router_options;
  router_options.page_size = cfg.tools_page_size;
  router_options.tools_limit = cfg.tools_limit;
  router_options.tool_response_limit = cfg.tool_response_limit;
  router.emplace(upstreams, router_options);
  // The database holds statistics and tool history; without it the proxy still serves (a
  // broken disk must not take every MCP server away from the user).
  auto store = storage::Store::open(data_dir / "mcpproxy.db", executor);
  if (store) {
    router->setStore(store->get());
  } else {
    log::error("database: {}; running without statistics", store.error().message);
  }
  dispatcher.emplace(*router, cfg.routing_mode);
  router->setToolsChangedHandler([&] {
    if (router->rebuild()) dispatcher->broadcastToolsChanged(sessions);
  });

  // 5. The downstream transport.
  protocol::Limits limits{cfg.max_request_bytes, cfg.max_json_depth};
  std::optional<downstream::HttpServer> http;
  std::optional<downstream::StdioServer> stdio;
  bool shutting_down = false;
  auto shutdown = [&]() -> asio::awaitable<void> {
    if (shutting_down) co_return;
    shutting_down = true;
    log::info("shutting down");
    // Stop accepting and let in-flight calls finish for 3 s; then stopping the upstreams fails
    // the calls still waiting (each gets a tool error), and 1 s later connections close.
    if (http) co_await http->drain(std::chrono::seconds(3));
    if (stdio) stdio->stop();
    co_await upstreams.stopAll();
    if (http) co_await http->stop(std::chrono::seconds(1));
    router->setStore(nullptr);  // the store closes before the upstreams are destroyed
    log::info("stopped");
    io.stop();
  };

  if (options.stdio) {
    stdio.emplace(executor, *dispatcher, sessions, limits);
    asio::co_spawn(
        executor,
        [&]() -> asio::awaitable<void> {
          co_await stdio->run();
          co_await shutdown();
        },
        asio::detached);
    log::info("serving one client on stdin/stdout");
  } else {
    downstream::HttpServerOptions http_options;
    http_options.host = listen->host;
    http_options.port = listen->port;
    http_options.max_body_bytes = cfg.max_request_bytes;
    http_options.max_json_depth = cfg.max_json_depth;
    http_options.trusted_hosts = cfg.trusted_hosts;
    http.emplace(executor, http_options, *dispatcher, sessions);
    auto port = http->listen();
    if (!port) {
      log::error("{}", port.error().message);
      return 1;
    }
    http->start();
    std::string host =
        listen->host.find(':') != std::string::npos ? "[" + listen->host + "]" : listen->host;
    log::info("listening on http://{}:{} (endpoints /mcp and /mcp/all; config {})", host, *port,
              config_path.string());
  }

  asio::signal_set signals(io, SIGINT, SIGTERM);
  std::function<void(boost::system::error_code, int)> on_signal =
      [&](boost::system::error_code error, int signal) {
        if (error) return;
        log::info("received signal {}", signal);
        asio::co_spawn(executor, shutdown(), asio::detached);
        signals.async_wait(on_signal);  // a second signal during shutdown is logged and ignored
      };
  signals.async_wait(on_signal);

  // Trust decisions first (so no tool is exposed before its pin is known), then the upstreams;
  // afterwards a 1 s poll picks up approvals made by `mcpproxy upstream|tools approve` in
  // another process (the database is the hand-over point; the poll is one indexed read).
  asio::co_spawn(
      executor,
      [&]() -> asio::awaitable<void> {
        if (store) {
          if (auto trust = co_await (*store)->trust(); trust) {
            router->setTrust(std::move(*trust));
          } else {
            log::error("database: cannot read trust decisions: {}", trust.error().message);
          }
        }
        // One upstream per turn of the event loop: spawning 70 children back to back kept
        // the listening socket unanswered for ~250 ms; interleaved, /mcp serves at once.
        for (const auto& upstream : upstreams.all()) {
          upstream->start();
          co_await asio::post(executor, asio::use_awaitable);
        }
        if (!store) co_return;
        asio::steady_timer timer(executor);
        while (!shutting_down) {
          timer.expires_after(std::chrono::seconds(1));
          boost::system::error_code ec;
          co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          if (shutting_down) break;
          auto version = co_await (*store)->trustVersion();
          if (!version || *version == router->trustVersion()) continue;
          auto trust = co_await (*store)->trust();
          if (!trust) continue;
          log::info("trust decisions changed; reloading");
          router->setTrust(std::move(*trust));
          if (router->rebuild()) dispatcher->broadcastToolsChanged(sessions);
        }
      },
      asio::detached);
  log::info("starting {} upstream server(s)", upstreams.all().size());
  io.run();
  return 0;
}

}  // namespace mcpproxy::app
