// JSON-RPC 2.0 codec with limits. Parses untrusted bytes into a Message, or into the JSON-RPC
// error that must be sent back; serializes messages. All JSON-RPC error codes the proxy produces
// are defined here (DESIGN convention 2).
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcpproxy::protocol {

namespace json = boost::json;

namespace rpc_error {
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
// Implementation-defined range (-32000..-32099).
inline constexpr int kRequestTimeout = -32001;
inline constexpr int kResourceNotFound = -32002;
}  // namespace rpc_error

// Named limits for untrusted input (DESIGN convention 4).
struct Limits {
  std::size_t max_message_bytes = 4 * 1024 * 1024;
  std::size_t max_depth = 64;
};

enum class MessageKind { kRequest, kNotification, kResult, kError };

struct Message {
  MessageKind kind = MessageKind::kNotification;
  json::value id;      // string or integer for requests and responses; null otherwise
  std::string method;  // requests and notifications
  json::value params;  // object, array or null
  json::value result;  // kResult
  json::value error;   // kError: {code, message, data?}

  bool isRequest() const { return kind == MessageKind::kRequest; }
  bool isNotification() const { return kind == MessageKind::kNotification; }
  bool isResponse() const { return kind == MessageKind::kResult || kind == MessageKind::kError; }
};

// A protocol-level failure to report back to the peer as a JSON-RPC error response.
struct RpcError {
  int code = rpc_error::kInternalError;
  std::string message;
  json::value id;  // the request id when it could be read, else null
  json::value data;
};

// The string parameter `key` of a request (params.<key>), if it is there and a string.
std::optional<std::string> stringParam(const Message& request, std::string_view key);

// Parses bytes into a JSON value, enforcing size and depth limits. Errors are -32700.
std::expected<json::value, RpcError> parseJson(std::string_view bytes, const Limits& limits);

// Validates one JSON value as a JSON-RPC 2.0 message. Errors are -32600 with the id echoed when
// the id itself is valid.
std::expected<Message, RpcError> toMessage(const json::value& value);

// Parses one message (not a batch). Convenience for parseJson + toMessage.
std::expected<Message, RpcError> parseMessage(std::string_view bytes, const Limits& limits);

// True when an id is a valid JSON-RPC id for a request (string or integer; null is not allowed
// for requests by MCP).
bool isValidId(const json::value& id);

json::value toJson(const Message& message);
std::string serialize(const Message& message);

Message makeRequest(json::value id, std::string method, json::value params);
Message makeNotification(std::string method, json::value params);
Message makeResult(json::value id, json::value result);
Message makeError(json::value id, int code, std::string message, json::value data = nullptr);
Message makeError(const RpcError& error);

}  // namespace mcpproxy::protocol
