// An upstream MCP server over Streamable HTTP (2025-03-26+): POST for every message with JSON or
// SSE replies, Mcp-Session-Id, MCP-Protocol-Version after initialize, a GET stream for
// server-initiated messages, DELETE on close, TLS through OpenSSL with peer verification.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "config/config.h"
#include "upstream/transport.h"

namespace mcpproxy::upstream {

struct HttpOptions {
  std::string server_name;    // for logs
  std::string url;            // http:// or https://
  config::KeyValues headers;  // custom headers (may hold secrets: never logged)
  std::size_t max_message_bytes = 16 * 1024 * 1024;
  std::size_t max_json_depth = 64;
  std::chrono::milliseconds connect_timeout{10'000};
  // A single POST exchange (whole SSE stream included) may not take longer than this; callers
  // apply their own, usually shorter, per-request deadline above the transport.
  std::chrono::milliseconds request_timeout{600'000};
  // The HTTP+SSE transport of protocol 2024-11-05: `url` is the SSE endpoint; its first
  // `endpoint` event names where to POST (same origin only), and every message from the server
  // arrives on that one stream.
  bool legacy_sse = false;
};

std::unique_ptr<Transport> makeHttpTransport(boost::asio::any_io_executor executor,
                                             HttpOptions options);

}  // namespace mcpproxy::upstream
