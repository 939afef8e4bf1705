// JSON-RPC 2.0 parsing and serialization on Boost.JSON. Untrusted input never throws out of
// here: the non-throwing Boost.JSON overloads are used throughout.
#include "protocol/jsonrpc.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>
#include <cmath>

#include "common/utf8.h"

namespace mcpproxy::protocol {

std::expected<json::value, RpcError> parseJson(std::string_view bytes, const Limits& limits) {
  if (bytes.size() > limits.max_message_bytes) {
    return std::unexpected(RpcError{rpc_error::kParseError,
                                    "Parse error: message of " + std::to_string(bytes.size()) +
                                        " bytes exceeds the limit of " +
                                        std::to_string(limits.max_message_bytes),
                                    nullptr, nullptr});
  }
  json::parse_options options;
  options.max_depth = limits.max_depth;
  boost::system::error_code ec;
  json::value value = json::parse(bytes, ec, json::storage_ptr(), options);
  if (ec) {
    std::string reason;
    if (ec == json::error::too_deep) {
      reason = "nesting deeper than " + std::to_string(limits.max_depth);
    } else {
      // Boost.JSON says only "syntax error"; the offset (and whether the bytes there are not
      // UTF-8 at all) tells a client what to fix.
      json::stream_parser where(json::storage_ptr(), options);
      boost::system::error_code ignored;
      std::size_t consumed = where.write_some(bytes.data(), bytes.size(), ignored);
      auto bad = firstInvalidUtf8(bytes.substr(0, std::min(bytes.size(), consumed + 4)));
      reason = bad ? "invalid UTF-8 at byte " + std::to_string(*bad)
                   : ec.message() + " at byte " + std::to_string(consumed);
    }
    return std::unexpected(
        RpcError{rpc_error::kParseError, "Parse error: " + reason, nullptr, nullptr});
  }
  // Boost.JSON 1.81 reads numbers beyond the double range (1e400) as infinity and would then
  // serialize them as the invalid token Infinity; refuse them here instead of forwarding that.
  std::vector<const json::value*> pending{&value};
  while (!pending.empty()) {
    const json::value* v = pending.back();
    pending.pop_back();
    if (v->is_double() && !std::isfinite(v->get_double())) {
      return std::unexpected(
          RpcError{rpc_error::kParseError, "Parse error: number out of range", nullptr, nullptr});
    }
    if (const json::array* array = v->if_array()) {
      for (const json::value& element : *array) pending.push_back(&element);
    } else if (const json::object* object = v->if_object()) {
      for (const auto& member : *object) pending.push_back(&member.value());
    }
  }
  return value;
}

bool isValidId(const json::value& id) {
  return id.is_string() || id.is_int64() || id.is_uint64();
}

namespace {

std::unexpected<RpcError> invalid(std::string why, json::value id = nullptr) {
  return std::unexpected(RpcError{rpc_error::kInvalidRequest, "Invalid Request: " + std::move(why),
                                  std::move(id), nullptr});
}

}  // namespace

std::expected<Message, RpcError> toMessage(const json::value& value) {
  const json::object* object = value.if_object();
  if (object == nullptr) return invalid("a message must be a JSON object");

  const json::value* id = object->if_contains("id");
  json::value echo_id = (id != nullptr && isValidId(*id)) ? *id : json::value(nullptr);

  const json::value* version = object->if_contains("jsonrpc");
  if (version == nullptr || !version->is_string() || version->get_string() != "2.0") {
    return invalid("\"jsonrpc\" must be \"2.0\"", echo_id);
  }

  Message message;
  if (const json::value* method = object->if_contains("method")) {
    if (!method->is_string()) return invalid("\"method\" must be a string", echo_id);
    message.method = std::string(method->get_string());
    if (const json::value* params = object->if_contains("params")) {
      if (!params->is_object() && !params->is_array()) {
        return invalid("\"params\" must be an object or an array", echo_id);
      }
      message.params = *params;
    }
    if (id == nullptr) {
      message.kind = MessageKind::kNotification;
      return message;
    }
    if (!isValidId(*id)) return invalid("\"id\" must be a string or an integer");
    message.kind = MessageKind::kRequest;
    message.id = *id;
    return message;
  }

  // A response: exactly one of result and error, and an id (null only on error responses).
  const json::value* result = object->if_contains("result");
  const json::value* error = object->if_contains("error");
  if (id == nullptr) return invalid("a message needs a \"method\" or an \"id\"");
  if ((result == nullptr) == (error == nullptr)) {
    return invalid("a response needs exactly one of \"result\" and \"error\"", echo_id);
  }
  if (result != nullptr) {
    if (!isValidId(*id)) return invalid("\"id\" must be a string or an integer");
    message.kind = MessageKind::kResult;
    message.id = *id;
    message.result = *result;
    return message;
  }
  if (!isValidId(*id) && !id->is_null()) return invalid("\"id\" must be a string or an integer");
  const json::object* error_object = error->if_object();
  if (error_object == nullptr || !error_object->contains("code") ||
      !(*error_object).at("code").is_number() || !error_object->contains("message") ||
      !error_object->at("message").is_string()) {
    return invalid("\"error\" must be an object with a numeric code and a message", echo_id);
  }
  message.kind = MessageKind::kError;
  message.id = *id;
  message.error = *error;
  return message;
}

std::expected<Message, RpcError> parseMessage(std::string_view bytes, const Limits& limits) {
  auto value = parseJson(bytes, limits);
  if (!value) return std::unexpected(std::move(value.error()));
  return toMessage(*value);
}

json::value toJson(const Message& message) {
  json::object object;
  object["jsonrpc"] = "2.0";
  switch (message.kind) {
    case MessageKind::kRequest:
      object["id"] = message.id;
      object["method"] = message.method;
      if (!message.params.is_null()) object["params"] = message.params;
      break;
    case MessageKind::kNotification:
      object["method"] = message.method;
      if (!message.params.is_null()) object["params"] = message.params;
      break;
    case MessageKind::kResult:
      object["id"] = message.id;
      object["result"] = message.result;
      break;
    case MessageKind::kError:
      object["id"] = message.id;
      object["error"] = message.error;
      break;
  }
  return object;
}

std::string serialize(const Message& message) {
  return json::serialize(toJson(message));
}

Message makeRequest(json::value id, std::string method, json::value params) {
  Message m;
  m.kind = MessageKind::kRequest;
  m.id = std::move(id);
  m.method = std::move(method);
  m.params = std::move(params);
  return m;
}

Message makeNotification(std::string method, json::value params) {
  Message m;
  m.kind = MessageKind::kNotification;
  m.method = std::move(method);
  m.params = std::move(params);
  return m;
}

Message makeResult(json::value id, json::value result) {
  Message m;
  m.kind = MessageKind::kResult;
  m.id = std::move(id);
  m.result = std::move(result);
  return m;
}

Message makeError(json::value id, int code, std::string message, json::value data) {
  Message m;
  m.kind = MessageKind::kError;
  m.id = std::move(id);
  json::object error{{"code", code}, {"message", std::move(message)}};
  if (!data.is_null()) error["data"] = std::move(data);
  m.error = std::move(error);
  return m;
}

Message makeError(const RpcError& error) {
  return makeError(error.id, error.code, error.message, error.data);
}

std::optional<std::string> stringParam(const Message& request, std::string_view key) {
  const json::object* params = request.params.if_object();
  const json::value* value = params ? params->if_contains(key) : nullptr;
  if (!value || !value->is_string()) return std::nullopt;
  return std::string(value->get_string());
}

}  // namespace mcpproxy::protocol
