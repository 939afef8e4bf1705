// The seam between an MCP client session and the wire. Implementations: StdioTransport (a child
// process speaking newline-delimited JSON) and HttpTransport (Streamable HTTP). The MCP logic
// (ids, initialize, timeouts) lives in UpstreamClient above this interface, so tests can fake it.
//
// Threading: a transport is used from one executor (the event loop); handlers are invoked there.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace mcpproxy::upstream {

namespace json = boost::json;

// Marks a JSON-RPC error that a transport synthesized for a request whose exchange failed (as
// `"data": {"mcpproxy": kTransportFailure}`), so the client treats it as a transport failure —
// a failed health check, an isError tool result — and never as the server's own answer.
inline constexpr const char* kTransportFailure = "transport-failure";

class Transport {
 public:
  struct Handlers {
    // Every JSON-RPC message (or batch array) the server sends, in arrival order, already
    // parsed within limits. Garbage is logged and dropped by the transport, never delivered.
    std::function<void(json::value message)> on_message;
    // Optional: messages that arrived in the reply to one of our requests (an HTTP POST's SSE
    // stream), with that request's id, so progress, log messages and server->client requests
    // can be tied to the call that caused them. Without it they go to on_message.
    std::function<void(json::value message, const json::value& request_id)> on_related_message;
    // The connection ended for good (process exited, stream failed, HTTP session expired with
    // code kSessionExpired). Called at most once per start(), never after close() was called.
    std::function<void(Error error)> on_closed;
  };

  virtual ~Transport() = default;

  // Opens the connection: spawns the process (stdio) or prepares the client (HTTP).
  virtual boost::asio::awaitable<Result<void>> start(Handlers handlers) = 0;

  // Sends one message. Completes once the message is handed to the wire (written to the pipe,
  // or the HTTP POST issued). For HTTP, whatever the server returns for this POST (a JSON body
  // or an SSE stream) arrives through on_message; if the POST of a *request* fails, the
  // transport delivers a synthesized JSON-RPC error response with the request's id, so a caller
  // waiting for that id is never left hanging.
  virtual boost::asio::awaitable<Result<void>> send(json::value message) = 0;

  // Told after a successful initialize: HTTP starts sending MCP-Protocol-Version and opens the
  // GET stream for server-initiated messages. stdio ignores it.
  virtual void onInitialized(std::string_view protocol_version) {}

  // Closes gracefully and releases everything: stdio closes stdin, waits, then SIGTERM and
  // SIGKILL to the process group and reaps; HTTP sends DELETE for its session and cancels its
  // streams. Idempotent; never fails.
  virtual boost::asio::awaitable<void> close() = 0;

  // A short description for logs and errors, e.g. "stdio: npx -y server" (never secrets).
  virtual std::string describe() const = 0;
};

}  // namespace mcpproxy::upstream
