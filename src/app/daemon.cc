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
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "api/config_watcher.h"
#include "api/controller.h"
#include "api/event_hub.h"
#include "api/management_api.h"
#include "api/metrics.h"
#include "api/socket_server.h"
#include "app/paths.h"
#include "common/crash.h"
#include "common/fd.h"
#include "common/log.h"
#include "common/time_format.h"
#include "config/config.h"
#include "downstream/http_server.h"
#include "downstream/stdio_server.h"
#include "router/router.h"
#include "session/dispatcher.h"
#include "session/session.h"
#include "storage/store.h"
#include "ui/assets.h"
#include "upstream/manager.h"

namespace mcpproxy::app {

namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr std::size_t kMaxSessions = 1000;

}  // namespace

int runServe(const ServeOptions& options) {
  closeOnExecInherited();  // nothing the daemon holds travels on to an upstream (common/fd.h)
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
  // The text is kept: run-time changes edit this document (api/config_edit.h).
  std::string config_text;
  {
    std::ifstream in(config_path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "mcpproxy: cannot read config file %s\n", config_path.c_str());
      return 2;
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    config_text = buffer.str();
  }
  std::vector<std::string> warnings;
  auto loaded = config::parseConfig(config_text, warnings);
  if (!loaded) {
    std::fprintf(stderr, "mcpproxy: config file %s: %s\n", config_path.c_str(),
                 loaded.error().message.c_str());
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
  installFatalSignalHandlers();  // a crash leaves its reason and a backtrace in the log
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
  // The proxy relays these to its clients (only to clients that declared them).
  upstream_options.client_capabilities =
      json::object{{"sampling", json::object{}},
                   {"elicitation", json::object{{"form", json::object{}}, {"url", json::object{}}}},
                   {"roots", json::object{{"listChanged", true}}}};
  upstream_options.on_notification = [&](upstream::Upstream& upstream, const std::string& method,
                                         const json::value& params) {
    if (!dispatcher) return;
    dispatcher->onUpstreamNotification(upstream.name(), method, params);
  };
  upstream_options.on_request = [&](upstream::Upstream& upstream, std::string method,
                                    json::value params, std::shared_ptr<Cancellation> cancel) {
    return dispatcher->relayUnclaimed(std::move(method), std::move(params), std::move(cancel));
  };
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
  dispatcher->setSessions(&sessions);
  router->setToolsChangedHandler([&] {
    if (router->rebuild()) dispatcher->broadcastToolsChanged(sessions);
  });

  // 4b. Management (issue 6): run-time changes, live events, metrics.
  api::EventHub events(executor);
  api::Metrics metrics;
  api::ControllerContext control_context;
  control_context.executor = executor;
  control_context.config_path = fs::absolute(config_path, ec);
  control_context.data_dir = data_dir;
  control_context.upstreams = &upstreams;
  control_context.router = &*router;
  control_context.store = store ? store->get() : nullptr;
  control_context.events = &events;
  control_context.refresh = [&] {
    if (router->rebuild()) dispatcher->broadcastToolsChanged(sessions);
  };
  control_context.broadcast = [&] { dispatcher->broadcastToolsChanged(sessions); };
  control_context.log_level_from_cli = !options.log_level.empty();
  api::ConfigController controller(std::move(control_context), cfg, config_text);
  router->setServerAdmin(&controller);
  router->setCallObserver([&](const storage::CallRecord& call) {
    metrics.recordCall(call.server, call.ok, call.duration_ms / 1000.0);
    json::object data{{"time", isoTimeUtc(call.time_ms)},
                      {"server", call.server},
                      {"tool", call.tool},
                      {"status", call.ok ? "ok" : "error"},
                      {"duration_ms", call.duration_ms},
                      {"caller", call.caller},
                      {"error", call.error}};
    events.publish("activity", data);
  });
  // The last state published per server, and by which Upstream object (a restart replaces it).
  std::map<std::string, std::pair<const upstream::Upstream*, upstream::State>, std::less<>>
      published_states;
  upstreams.setObserver([&](upstream::Upstream& changed) {
    if (upstreams.find(changed.name()) != &changed) return;  // replaced or removed: old news
    auto& last = published_states[changed.name()];
    if (last.first != &changed || last.second != changed.state()) {
      last = {&changed, changed.state()};
      json::object data{{"name", changed.name()},
                        {"state", upstream::stateName(changed.state())},
                        {"last_error", changed.lastError()}};
      events.publish("server.state", data);
    } else {
      json::object data{{"server", changed.name()}};
      events.publish("tools.changed", data);
    }
  });
  api::ConfigWatcher watcher(executor, fs::absolute(config_path, ec), [&] {
    asio::co_spawn(executor, controller.reloadFromDisk(), asio::detached);
  });
  if (auto watching = watcher.start(); !watching) {
    log::warn("config: hot reload is off: {}", watching.error().message);
  }
  std::optional<api::ManagementApi> management;
  std::optional<api::SocketServer> socket_server;

  // 5. The downstream transport.
  protocol::Limits limits{cfg.max_request_bytes, cfg.max_json_depth};
  std::optional<downstream::HttpServer> http;
  std::optional<downstream::StdioServer> stdio;
  bool shutting_down = false;
  auto shutdown = [&]() -> asio::awaitable<void> {
    if (shutting_down) co_return;
    shutting_down = true;
    log::info("shutting down");
    watcher.stop();
    events.closeAll();
    if (socket_server) socket_server->stop();
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
    std::string host =
        listen->host.find(':') != std::string::npos ? "[" + listen->host + "]" : listen->host;
    controller.ensureApiKey();
    api::ApiContext api_context;
    api_context.controller = &controller;
    api_context.router = &*router;
    api_context.upstreams = &upstreams;
    api_context.store = store ? store->get() : nullptr;
    api_context.sessions = &sessions;
    api_context.events = &events;
    api_context.metrics = &metrics;
    api_context.listen = host + ":" + std::to_string(*port);
    api_context.max_body_bytes = cfg.max_request_bytes;
    api_context.max_json_depth = cfg.max_json_depth;
    management.emplace(api_context);
    // GET /ui/*: the embedded web UI (ui/assets.h sets content type, ETag, no-cache and CSP).
    management->setUiHandler([](std::string_view path, std::string_view if_none_match) {
      ui::Response asset = ui::serve(path, if_none_match);
      api::HttpResponse response;
      response.status = asset.status;
      response.content_type.clear();
      for (const auto& [name, value] : asset.headers) {
        if (name == "Content-Type") {
          response.content_type = value;
        } else {
          response.headers.emplace_back(name, value);
        }
      }
      response.body = asset.body;
      return response;
    });
    http->setManagement(&*management);
    api::SocketServerOptions socket_options;
    socket_options.max_body_bytes = cfg.max_request_bytes;
    socket_server.emplace(executor, data_dir / "mcpproxy.sock", *management, socket_options);
    if (auto listening = socket_server->listen(); listening) {
      socket_server->start();
      log::info("management API on {} (no key needed there)",
                (data_dir / "mcpproxy.sock").string());
    } else {
      log::warn("management socket: {}", listening.error().message);
      socket_server.reset();
    }
    http->start();
    log::info("listening on http://{}:{} (endpoints /mcp and /mcp/all; config {})", host, *port,
              config_path.string());
    log::info("api key: stored in {} (\"api_key\"; `mcpproxy status` shows how to use it)",
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
        co_await upstreams.startAllInTurns();
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
  log::shutdown();
  return 0;
}

}  // namespace mcpproxy::app
