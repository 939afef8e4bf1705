// bench_load_client: the C++ side of `make bench` (bench/run.mjs drives it).
//
//   load     Closed-loop load over MCP Streamable HTTP: N keep-alive connections, each with
//            its own session (initialize + notifications/initialized once), then back-to-back
//            tools/call requests until the time is up. Prints one JSON line: calls/s and the
//            latency percentiles of the calls that started after the warm-up.
//   startup  Spawns a command (the proxy), and measures from just before the exec to the first
//            200 answer of GET /healthz ("serving") and to the moment tools/list on /mcp/all
//            lists tools of at least --expect-servers servers (names "<server>__<tool>";
//            "ready"); then stops the process (SIGTERM,
//            SIGKILL after 10 s) and prints one JSON line. The process is also stopped on
//            every failure.
//
// One thread and one io_context for `load` (coroutines, one per connection): on a 2-core
// machine the client must leave a core to the server under test. Replies may be JSON or an SSE
// stream (mcpproxy answers tools/call on a stream); either way the body must contain the
// echoed text, or the call counts as an error.
//
//   bench_load_client load --url http://127.0.0.1:P/mcp/all --tool echo__echo
//                          [--concurrency 8] [--duration 3] [--warmup 0.5]
//   bench_load_client startup --port P --expect-servers N [--timeout 30] [--log FILE] -- CMD ARGS
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

extern char** environ;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kEchoText = "hello from the load client";

struct Target {
  std::string host = "127.0.0.1";
  std::string port;
  std::string path = "/mcp";
};

std::optional<Target> parseUrl(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "http" || !parsed->has_port()) return std::nullopt;
  Target t;
  t.host = std::string(parsed->host_address());
  t.port = std::string(parsed->port());
  t.path = std::string(parsed->encoded_path());
  if (t.path.empty()) t.path = "/";
  return t;
}

http::request<http::string_body> makePost(const Target& t, std::string body,
                                          const std::string& session) {
  http::request<http::string_body> req{http::verb::post, t.path, 11};
  req.set(http::field::host, t.host + ":" + t.port);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::accept, "application/json, text/event-stream");
  if (!session.empty()) {
    req.set("Mcp-Session-Id", session);
    req.set("MCP-Protocol-Version", "2025-06-18");
  }
  req.body() = std::move(body);
  req.keep_alive(true);
  req.prepare_payload();
  return req;
}

const std::string kInitialize =
    R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18",)"
    R"("capabilities":{},"clientInfo":{"name":"bench-load-client","version":"1.0"}}})";
const std::string kInitialized = R"({"jsonrpc":"2.0","method":"notifications/initialized"})";

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// ---------------------------------------------------------------------------------------------
// load

struct LoadRun {
  Target target;
  std::string tool;
  Clock::time_point measure_from;
  Clock::time_point end;
  std::vector<double> micros;  // latencies of measured calls
  std::size_t all_calls = 0;   // successful calls, warm-up included
  std::size_t errors = 0;
  std::size_t sessions = 0;
  std::string first_error;

  void fail(std::string what) {
    ++errors;
    if (first_error.empty()) first_error = std::move(what);
  }
};

asio::awaitable<void> worker(LoadRun& run, int index) {
  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  boost::system::error_code ec;
  auto endpoints = co_await resolver.async_resolve(run.target.host, run.target.port,
                                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return run.fail("resolve: " + ec.message());
  beast::tcp_stream stream(ex);
  co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return run.fail("connect: " + ec.message());
  stream.socket().set_option(tcp::no_delay(true), ec);
  beast::flat_buffer buffer;

  auto exchange = [&](http::request<http::string_body>& req,
                      http::response<http::string_body>& res) -> asio::awaitable<bool> {
    boost::system::error_code xec;
    co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, xec));
    if (xec) co_return false;
    co_await http::async_read(stream, buffer, res, asio::redirect_error(asio::use_awaitable, xec));
    co_return !xec;
  };

  std::string session;
  {
    auto req = makePost(run.target, kInitialize, "");
    http::response<http::string_body> res;
    if (!co_await exchange(req, res) || res.result() != http::status::ok)
      co_return run.fail("initialize failed: HTTP " + std::to_string(res.result_int()));
    session = std::string(res["Mcp-Session-Id"]);
    auto note = makePost(run.target, kInitialized, session);
    http::response<http::string_body> ack;
    if (!co_await exchange(note, ack) || ack.result_int() >= 300)
      co_return run.fail("notifications/initialized failed: HTTP " +
                         std::to_string(ack.result_int()));
  }
  ++run.sessions;

  const std::string prefix = R"({"jsonrpc":"2.0","id":)";
  const std::string suffix = R"(,"method":"tools/call","params":{"name":")" + run.tool +
                             R"(","arguments":{"message":")" + std::string(kEchoText) + R"("}}})";
  auto req = makePost(run.target, "", session);
  std::uint64_t id = static_cast<std::uint64_t>(index) << 40;
  while (Clock::now() < run.end) {
    req.body() = prefix + std::to_string(++id) + suffix;
    req.prepare_payload();
    http::response<http::string_body> res;
    auto start = Clock::now();
    bool ok = co_await exchange(req, res);
    auto stop = Clock::now();
    if (!ok) co_return run.fail("connection lost");
    if (res.result() != http::status::ok || res.body().find(kEchoText) == std::string::npos ||
        res.body().find(R"("isError":true)") != std::string::npos) {
      run.fail("bad reply: HTTP " + std::to_string(res.result_int()) + " " +
               res.body().substr(0, 300));
      continue;
    }
    ++run.all_calls;
    if (start >= run.measure_from && stop <= run.end)
      run.micros.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

int runLoad(const std::string& url, const std::string& tool, int concurrency, double duration,
            double warmup) {
  auto target = parseUrl(url);
  if (!target) {
    std::fprintf(stderr, "bench_load_client: bad --url %s (http://host:port/path)\n", url.c_str());
    return 2;
  }
  LoadRun run;
  run.target = *target;
  run.tool = tool;
  auto start = Clock::now();
  run.measure_from =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup));
  run.end = run.measure_from +
            std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(duration));
  asio::io_context io(1);
  for (int i = 0; i < concurrency; ++i) asio::co_spawn(io, worker(run, i), asio::detached);
  io.run();
  std::size_t calls = run.micros.size();
  double seconds = std::chrono::duration<double>(run.end - run.measure_from).count();
  std::vector<double>& m = run.micros;
  double p50 = percentile(m, 0.50), p90 = percentile(m, 0.90), p99 = percentile(m, 0.99);
  json::object out{{"concurrency", concurrency},
                   {"sessions", run.sessions},
                   {"calls", calls},
                   {"all_calls", run.all_calls},
                   {"errors", run.errors},
                   {"seconds", seconds},
                   {"calls_per_s", static_cast<double>(calls) / seconds},
                   {"p50_us", p50},
                   {"p90_us", p90},
                   {"p99_us", p99}};
  if (!run.first_error.empty()) out["first_error"] = run.first_error;
  std::printf("%s\n", json::serialize(out).c_str());
  return run.errors == 0 && calls > 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// startup

// One blocking HTTP exchange on a fresh connection (tests readiness; not on a hot path).
std::optional<http::response<http::string_body>> syncRequest(
    asio::io_context& io, const std::string& port, http::request<http::string_body>& req) {
  boost::system::error_code ec;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                               static_cast<unsigned short>(std::stoi(port))),
                 ec);
  if (ec) return std::nullopt;
  socket.set_option(tcp::no_delay(true), ec);
  req.keep_alive(false);
  http::write(socket, req, ec);
  if (ec) return std::nullopt;
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res, ec);
  if (ec && ec != http::error::end_of_stream) return std::nullopt;
  return res;
}

// The JSON-RPC message in a JSON or single-event SSE body.
std::optional<json::value> messageOf(const http::response<http::string_body>& res) {
  std::string_view body = res.body();
  if (res[http::field::content_type].starts_with("text/event-stream")) {
    auto pos = body.find("data: ");
    if (pos == std::string_view::npos) return std::nullopt;
    body = body.substr(pos + 6);
    body = body.substr(0, body.find('\n'));
  }
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return std::nullopt;
  return v;
}

// Servers with tools listed on /mcp/all now (every page), or -1 when the proxy does not answer.
long countServers(asio::io_context& io, const Target& t) {
  auto init = makePost(t, kInitialize, "");
  auto res = syncRequest(io, t.port, init);
  if (!res || res->result() != http::status::ok) return -1;
  std::string session((*res)["Mcp-Session-Id"]);
  auto note = makePost(t, kInitialized, session);
  syncRequest(io, t.port, note);
  std::set<std::string> servers;
  std::string cursor;
  for (int page = 0; page < 1000; ++page) {
    std::string params =
        cursor.empty() ? "{}" : R"({"cursor":)" + json::serialize(json::value(cursor)) + "}";
    auto list = makePost(
        t, R"({"jsonrpc":"2.0","id":1,"method":"tools/list","params":)" + params + "}", session);
    auto lres = syncRequest(io, t.port, list);
    if (!lres) return -1;
    auto msg = messageOf(*lres);
    if (!msg || !msg->is_object()) return -1;
    const auto* result = msg->as_object().if_contains("result");
    if (!result || !result->is_object()) return -1;
    if (const auto* tools = result->as_object().if_contains("tools"); tools && tools->is_array()) {
      for (const auto& tool : tools->as_array()) {
        const auto* name = tool.is_object() ? tool.as_object().if_contains("name") : nullptr;
        if (!name || !name->is_string()) continue;
        std::string_view n = name->as_string();
        servers.emplace(n.substr(0, n.find("__")));
      }
    }
    const auto* next = result->as_object().if_contains("nextCursor");
    if (!next || !next->is_string()) break;
    cursor = std::string(next->as_string());
  }
  auto del = makePost(t, "", session);
  del.method(http::verb::delete_);
  syncRequest(io, t.port, del);
  return static_cast<long>(servers.size());
}

void stopChild(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  auto deadline = Clock::now() + std::chrono::seconds(10);
  int status = 0;
  while (Clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
}

int runStartup(const std::string& port, long expect_servers, double timeout, const std::string& log,
               std::vector<std::string> command) {
  std::vector<char*> argv;
  for (auto& a : command) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  auto t0 = Clock::now();
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    std::fprintf(stderr, "bench_load_client: cannot start %s: %s\n", argv[0], std::strerror(rc));
    return 1;
  }
  auto deadline =
      t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout));
  auto ms = [&](Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(t - t0).count();
  };
  asio::io_context io(1);
  Target health{"127.0.0.1", port, "/healthz"};
  std::optional<double> serving_ms;
  while (Clock::now() < deadline) {
    http::request<http::string_body> get{http::verb::get, "/healthz", 11};
    get.set(http::field::host, "127.0.0.1:" + port);
    auto res = syncRequest(io, port, get);
    if (res && res->result() == http::status::ok) {
      serving_ms = ms(Clock::now());
      break;
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      std::fprintf(stderr, "bench_load_client: the process exited during start-up (see %s)\n",
                   log.c_str());
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  std::optional<double> ready_ms;
  long last = -1;
  Target all{"127.0.0.1", port, "/mcp/all"};
  while (serving_ms && expect_servers > 0 && Clock::now() < deadline) {
    last = countServers(io, all);
    if (last >= expect_servers) {
      ready_ms = ms(Clock::now());
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stopChild(pid);
  json::object out{{"pid", pid}, {"servers", last}};
  if (serving_ms) out["serving_ms"] = *serving_ms;
  if (ready_ms) out["ready_ms"] = *ready_ms;
  std::printf("%s\n", json::serialize(out).c_str());
  bool ok = serving_ms && (expect_servers <= 0 || ready_ms);
  if (!ok)
    std::fprintf(stderr, "bench_load_client: not ready within %.0f s (see %s)\n", timeout,
                 log.c_str());
  return ok ? 0 : 1;
}

int usage() {
  std::fprintf(stderr,
               "usage: bench_load_client load --url URL --tool NAME [--concurrency N] "
               "[--duration S] [--warmup S]\n"
               "       bench_load_client startup --port P [--expect-servers N] [--timeout S] "
               "[--log FILE] -- CMD ARGS...\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string mode = argv[1];
  std::string url, tool = "echo", port, log = "/dev/null";
  int concurrency = 1;
  double duration = 3, warmup = 0.5, timeout = 30;
  long expect_servers = 0;
  std::vector<std::string> command;
  for (int i = 2; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--") {
      for (int k = i + 1; k < argc; ++k) command.emplace_back(argv[k]);
      break;
    }
    if (i + 1 >= argc) return usage();
    std::string value = argv[++i];
    if (flag == "--url")
      url = value;
    else if (flag == "--tool")
      tool = value;
    else if (flag == "--concurrency")
      concurrency = std::stoi(value);
    else if (flag == "--duration")
      duration = std::stod(value);
    else if (flag == "--warmup")
      warmup = std::stod(value);
    else if (flag == "--port")
      port = value;
    else if (flag == "--expect-servers")
      expect_servers = std::stol(value);
    else if (flag == "--timeout")
      timeout = std::stod(value);
    else if (flag == "--log")
      log = value;
    else
      return usage();
  }
  if (mode == "load" && !url.empty() && concurrency > 0) {
    return runLoad(url, tool, concurrency, duration, warmup);
  }
  if (mode == "startup" && !port.empty() && !command.empty()) {
    return runStartup(port, expect_servers, timeout, log, std::move(command));
  }
  return usage();
}
