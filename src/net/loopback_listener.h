// A tiny HTTP/1.1 listener on 127.0.0.1 for OAuth redirects when the proxy has no listener of
// its own (`mcpproxy serve --stdio`, `mcpproxy auth login` without a daemon): the browser is
// sent to http://127.0.0.1:<port>/oauth/callback and the handler answers with a small page.
// GET only, one request per connection, bounded headers, a per-connection deadline; Beast stays
// in the .cc.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.h"

namespace mcpproxy::net {

class LoopbackListener {
 public:
  // (path, query) -> (status, HTML body).
  using Handler = std::function<std::pair<unsigned, std::string>(std::string_view path,
                                                                 std::string_view query)>;

  // Binds 127.0.0.1:`port` (0: any free port) and starts accepting at once.
  static Result<std::unique_ptr<LoopbackListener>> open(boost::asio::any_io_executor executor,
                                                        unsigned short port, Handler handler);
  ~LoopbackListener();  // closes

  unsigned short port() const;
  std::string baseUrl() const;  // http://127.0.0.1:<port>
  void close();

 private:
  struct State;
  explicit LoopbackListener(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;  // shared with the accept loop, which may outlive this object
};

}  // namespace mcpproxy::net
