// The user-agent side of the authorization-code flow: opening the authorization URL in the
// person's browser and receiving the redirect back.
//
// RedirectHub matches redirects to waiting flows by `state`. Whoever receives the browser's
// request delivers its query string: the daemon's own listener (GET /oauth/callback on the
// proxy's port), or, in --stdio mode, a one-shot loopback listener (net::LoopbackListener).
// openInBrowser runs `$BROWSER URL` when BROWSER is set, else `xdg-open URL`, without a shell,
// and only for http(s) URLs (never javascript:, data:, file:).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace mcpproxy::auth {

using std::chrono::milliseconds;

// What the authorization server sent back (RFC 6749 §4.1.2, RFC 9207 `iss`).
struct RedirectResult {
  std::string code;
  std::string state;
  std::string iss;
  std::string error;
  std::string error_description;
};
RedirectResult parseRedirectQuery(std::string_view query);

class RedirectHub {
 public:
  explicit RedirectHub(boost::asio::any_io_executor executor);
  ~RedirectHub();

  // Announces a flow's `state` before its browser is opened, so a redirect that arrives before
  // wait() is kept. At most kMaxPending states wait at once; older ones are dropped.
  void expect(const std::string& state);

  // Waits for the redirect carrying `state` (expecting it if not done yet). Errors: kTimeout,
  // kCancelled (cancel(state) or the hub destroyed).
  boost::asio::awaitable<Result<RedirectResult>> wait(std::string state, milliseconds timeout);

  void cancel(const std::string& state);

  // A browser request reached the callback: `query` is its query string. Returns the HTTP
  // status and a small HTML page for the browser. Unknown or reused `state` values get 400 (a
  // state is single-use).
  struct Page {
    unsigned status = 200;
    std::string html;
  };
  Page deliver(std::string_view query);

  std::size_t pending() const;
  static constexpr std::size_t kMaxPending = 32;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Accepts only absolute http(s) URLs without user info or control characters; http only for
// loopback hosts unless `allow_insecure_http`.
Result<void> checkBrowserUrl(std::string_view url, bool allow_insecure_http = false);

// Starts the person's browser on `url` (after checkBrowserUrl). Does not wait for the browser.
Result<void> openInBrowser(const std::string& url);

}  // namespace mcpproxy::auth
