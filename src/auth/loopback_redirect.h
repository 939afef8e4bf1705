// The user agent for `mcpproxy serve --stdio` and `mcpproxy auth login` without a daemon: a
// one-shot loopback listener (net::LoopbackListener on 127.0.0.1:0) receives the browser at
// http://127.0.0.1:<port>/oauth/callback and hands the redirect to a RedirectHub. Keep the
// object alive for as long as the flow it serves; destroying it closes the port.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <string>

#include "auth/oauth_client.h"
#include "auth/redirect.h"
#include "net/loopback_listener.h"

namespace mcpproxy::auth {

class LoopbackRedirect {
 public:
  // `open` receives the authorization URL (default: openInBrowser); `timeout` bounds the wait for
  // the person.
  static Result<std::unique_ptr<LoopbackRedirect>> open(
      boost::asio::any_io_executor executor, milliseconds timeout,
      std::function<Result<void>(const std::string&)> open_browser = openInBrowser);

  const UserAgent& agent() const { return agent_; }
  std::string redirectUri() const { return agent_.redirect_uri; }

 private:
  explicit LoopbackRedirect(boost::asio::any_io_executor executor) : hub_(std::move(executor)) {}
  RedirectHub hub_;
  std::unique_ptr<net::LoopbackListener> listener_;
  UserAgent agent_;
};

}  // namespace mcpproxy::auth
