// See loopback_redirect.h. Only GET /oauth/callback is answered (with the hub's page); anything
// else on the port gets 404.
#include "auth/loopback_redirect.h"

namespace mcpproxy::auth {

Result<std::unique_ptr<LoopbackRedirect>> LoopbackRedirect::open(
    boost::asio::any_io_executor executor, milliseconds timeout,
    std::function<Result<void>(const std::string&)> open_browser) {
  std::unique_ptr<LoopbackRedirect> self(new LoopbackRedirect(executor));
  RedirectHub* hub = &self->hub_;
  auto listener = net::LoopbackListener::open(
      executor, 0, [hub](std::string_view path, std::string_view query) {
        if (path != "/oauth/callback") return std::pair<unsigned, std::string>(404, "not found");
        auto page = hub->deliver(query);
        return std::pair<unsigned, std::string>(page.status, std::move(page.html));
      });
  if (!listener) return std::unexpected(listener.error());
  self->listener_ = std::move(*listener);
  self->agent_ = hubUserAgent(self->hub_, self->listener_->baseUrl() + "/oauth/callback", timeout,
                              std::move(open_browser));
  return self;
}

}  // namespace mcpproxy::auth
