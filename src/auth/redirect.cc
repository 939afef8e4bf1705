// See redirect.h. A waiting flow sleeps on a timer that deliver() cancels; the entry holds the
// result, so a redirect that comes before wait() (a fast headless browser) is not lost.
// openInBrowser double-forks so the browser is reparented to init and never left a zombie, with
// no thread of ours waiting for it.
#include "auth/redirect.h"

#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdlib>
#include <deque>
#include <optional>

#include "net/http_client.h"

namespace mcpproxy::auth {

namespace asio = boost::asio;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

std::string escapeHtml(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20) out.push_back(c);
    }
  }
  return out;
}

std::string page(std::string_view title, std::string_view text) {
  return "<!doctype html><html><head><meta charset=\"utf-8\"><title>mcpproxy: " +
         escapeHtml(title) + "</title></head><body><h1>" + escapeHtml(title) + "</h1><p>" +
         escapeHtml(text) + "</p></body></html>";
}

}  // namespace

RedirectResult parseRedirectQuery(std::string_view query) {
  RedirectResult out;
  for (auto& [name, value] : net::parseQuery(query)) {
    if (name == "code")
      out.code = std::move(value);
    else if (name == "state")
      out.state = std::move(value);
    else if (name == "iss")
      out.iss = std::move(value);
    else if (name == "error")
      out.error = std::move(value);
    else if (name == "error_description")
      out.error_description = std::move(value);
  }
  return out;
}

struct RedirectHub::Impl {
  struct Entry {
    std::optional<RedirectResult> result;
    std::shared_ptr<asio::steady_timer> timer;
    bool cancelled = false;
  };
  explicit Impl(asio::any_io_executor ex) : executor(std::move(ex)) {}
  asio::any_io_executor executor;
  std::map<std::string, Entry> entries;
  std::deque<std::string> order;  // oldest first, for the cap

  Entry& expect(const std::string& state) {
    auto it = entries.find(state);
    if (it != entries.end()) return it->second;
    while (entries.size() >= kMaxPending && !order.empty()) {
      auto old = entries.find(order.front());
      order.pop_front();
      if (old != entries.end()) {
        old->second.cancelled = true;
        if (old->second.timer) old->second.timer->cancel();
        entries.erase(old);
      }
    }
    order.push_back(state);
    return entries[state];
  }
  void forget(const std::string& state) {
    entries.erase(state);
    std::erase(order, state);
  }
};

RedirectHub::RedirectHub(asio::any_io_executor executor)
    : impl_(std::make_shared<Impl>(std::move(executor))) {}

RedirectHub::~RedirectHub() {
  for (auto& [state, entry] : impl_->entries) {
    entry.cancelled = true;
    if (entry.timer) entry.timer->cancel();
  }
}

void RedirectHub::expect(const std::string& state) {
  impl_->expect(state);
}

asio::awaitable<Result<RedirectResult>> RedirectHub::wait(std::string state, milliseconds timeout) {
  auto impl = impl_;  // the hub may be destroyed while we wait
  auto& entry = impl->expect(state);
  if (!entry.result) {
    auto timer = std::make_shared<asio::steady_timer>(impl->executor, timeout);
    entry.timer = timer;
    co_await timer->async_wait(kAwait);
  }
  auto it = impl->entries.find(state);
  if (it == impl->entries.end() || it->second.cancelled) {
    if (it != impl->entries.end()) impl->forget(state);
    co_return makeError(ErrorCode::kCancelled, "the authorization was cancelled");
  }
  if (!it->second.result) {
    impl->forget(state);
    co_return makeError(
        ErrorCode::kTimeout,
        "no authorization redirect arrived in time (the browser step was not completed)");
  }
  RedirectResult result = std::move(*it->second.result);
  impl->forget(state);
  co_return result;
}

void RedirectHub::cancel(const std::string& state) {
  auto it = impl_->entries.find(state);
  if (it == impl_->entries.end()) return;
  it->second.cancelled = true;
  if (it->second.timer) {
    it->second.timer->cancel();
  } else {
    impl_->forget(state);
  }
}

RedirectHub::Page RedirectHub::deliver(std::string_view query) {
  RedirectResult result = parseRedirectQuery(query);
  auto it = impl_->entries.find(result.state);
  if (result.state.empty() || it == impl_->entries.end() || it->second.result ||
      it->second.cancelled) {
    return {400, page("Unknown sign-in",
                      "This sign-in link is unknown, expired or was already "
                      "used. Start the login again from mcpproxy.")};
  }
  bool failed = !result.error.empty();
  std::string error = result.error;
  it->second.result = std::move(result);
  if (it->second.timer) it->second.timer->cancel();
  if (failed) {
    return {200, page("Sign-in failed", "The authorization server answered: " + error +
                                            ". You can close this window.")};
  }
  return {200,
          page("Signed in", "mcpproxy received the authorization. You can close this window.")};
}

std::size_t RedirectHub::pending() const {
  return impl_->entries.size();
}

Result<void> checkBrowserUrl(std::string_view url, bool allow_insecure_http) {
  for (char c : url) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == ' ') {
      return makeError(ErrorCode::kInvalidArgument, "the authorization URL has control characters");
    }
  }
  auto parts = net::parseUrl(url);
  if (!parts) return std::unexpected(parts.error());
  if (parts->scheme == "http" && !allow_insecure_http && !net::isLoopbackHost(parts->host)) {
    return makeError(ErrorCode::kInvalidArgument, "the authorization URL must use https");
  }
  return {};
}

Result<void> openInBrowser(const std::string& url) {
  auto ok = checkBrowserUrl(url);
  if (!ok) return ok;
  const char* browser = std::getenv("BROWSER");
  std::string program = browser && *browser ? browser : "xdg-open";
  pid_t child = ::fork();
  if (child < 0) return makeError(ErrorCode::kIo, "cannot start the browser (fork failed)");
  if (child == 0) {
    // Only async-signal-safe calls until exec.
    pid_t grandchild = ::fork();
    if (grandchild == 0) {
      ::setsid();
      char* argv[] = {const_cast<char*>(program.c_str()), const_cast<char*>(url.c_str()), nullptr};
      ::execvp(argv[0], argv);
      ::_exit(127);
    }
    ::_exit(grandchild < 0 ? 1 : 0);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return makeError(ErrorCode::kIo, "cannot start the browser " + program);
  }
  return {};
}

}  // namespace mcpproxy::auth
